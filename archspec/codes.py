"""Diagnostic codes: the catalogue of what archspec warns about or refuses by code, each code's
long explanation (package files `explanations/CODE.md`, shown by `archspec explain CODE`), and
the policy that allows (silences) or denies (turns into errors) warnings by code.

Takes diagnostics from the stages; hands out the ones a user asked to see, errors among them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, NamedTuple, Sequence

from .errors import Diagnostic, did_you_mean


class Code(NamedTuple):
    name: str
    severity: str  # "warning" (can be allowed or denied) or "error"
    title: str  # one line: what it is about


CODES: dict[str, Code] = {code.name: code for code in (
    Code("rf-misaligned", "warning", "a merge adds or stacks features centred on different pixels"),
    Code("unused-layers", "warning", "layers that never reach the output are left out"),
    Code("input-sequence", "warning", "a square two-axis input is read as a sequence, not an image"),
    Code("map-output", "warning", "a head for a flat vector is applied to a map, so the network outputs a map"),
    Code("budget", "error", "the network is over the build budget of parameters or memory"),
)}
WARNING_CODES = tuple(name for name, code in CODES.items() if code.severity == "warning")


def explanation(name: str) -> str:
    """The long explanation of a code, as Markdown text; KeyError for an unknown code."""
    if name not in CODES:
        raise KeyError(name)
    from importlib import resources  # only `explain` reads them (importlib.resources costs a cold start ~10 ms)

    return resources.files(__package__).joinpath("explanations", f"{name}.md").read_text(encoding="utf-8")


def unknown_code_message(name: str, choices: Sequence[str] = tuple(CODES)) -> str:
    """What to say of a code archspec does not have, with the closest one."""
    hint = did_you_mean(name, choices)
    return f"no diagnostic code `{name}`; the codes are {', '.join(choices)}" + (f" ({hint})" if hint else "")


@dataclass(frozen=True)
class WarningPolicy:
    """Which warning codes to leave out (`--allow`) and which to report as errors (`--deny`)."""

    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in sorted(self.allow | self.deny):
            if name not in CODES:
                raise ValueError(unknown_code_message(name, WARNING_CODES))
            if CODES[name].severity != "warning":
                raise ValueError(f"`{name}` is an error, not a warning: it cannot be allowed or denied")
        both = self.allow & self.deny
        if both:
            raise ValueError(f"`{sorted(both)[0]}` is both allowed and denied")

    def apply(self, diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
        """The diagnostics less the allowed warnings, with the denied ones made errors."""
        kept = []
        for diagnostic in diagnostics:
            if diagnostic.is_error or diagnostic.code not in self.allow | self.deny:
                kept.append(diagnostic)
            elif diagnostic.code in self.deny:
                kept.append(diagnostic._replace(severity="error", note=_joined(diagnostic.note, f"denied with --deny {diagnostic.code}")))
        return tuple(kept)


def _joined(*parts: str | None) -> str:
    return "; ".join(part for part in parts if part)


def warnings_summary(diagnostics: Sequence[Diagnostic]) -> str | None:
    """`3 warnings: rf-misaligned x3 (archspec explain rf-misaligned)`, or None without warnings."""
    counts = Counter(d.code or "other" for d in diagnostics if not d.is_error)
    total = sum(counts.values())
    if not total:
        return None
    parts = ", ".join(f"{code} \u00d7{count}" for code, count in counts.items())
    named = [code for code in counts if code in CODES]
    pointer = f"`archspec explain {named[0]}`" if len(named) == 1 else "`archspec explain CODE`"
    return f"{total} warning{'s' if total > 1 else ''}: {parts} ({pointer} says why; --allow CODE silences one)"
