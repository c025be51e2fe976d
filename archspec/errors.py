"""Diagnostics: source spans, located messages, and their rendering.

Takes positions from the front end and messages from every later stage; hands out
`Diagnostic` values, the `SpecError` exception that carries them, and the text a user
reads (`file:line:col: error: message`, the source line, a caret under the span).
"""

from __future__ import annotations

from typing import Iterable, Mapping, NamedTuple, Sequence

DataPath = tuple  # a JSON path into the spec dict: ("body", 3, "kwargs", "padding")


class Span(NamedTuple):
    """A region of one source file; lines and columns count from 1, `end_column` is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def location(self) -> str:
        return f"{printable(self.file)}:{self.line}:{self.column}"


def printable(text: str) -> str:
    """`text` with its control characters and line separators escaped (`\\n`, `\\u2028`), so a file
    name holding a newline cannot split a `file:line:col` line or fake one."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


def quoted(path: object) -> str:
    """A path (or a name) as a message shows it: in single quotes, control characters escaped."""
    return f"'{printable(str(path))}'"


class Diagnostic(NamedTuple):
    severity: str  # "error" or "warning"
    message: str
    span: Span | None = None
    hint: str | None = None
    code: str | None = None
    json_path: str | None = None  # "$.body[3].kwargs.padding" for .json sources
    note: str | None = None  # context, e.g. the block call that expanded the faulty line
    detail: str | None = None  # the long form of a warning's message (its figures), shown in full renderings

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str | None:
        return self.span.location() if self.span else None


class SpecError(Exception):
    """Raised for a spec with errors; `diagnostics` holds every one found, `sources` the texts."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: Mapping[str, str] | None = None):
        self.diagnostics = tuple(diagnostics)
        self.sources = dict(sources or {})
        super().__init__(self.render())

    def render(self) -> str:
        return render_all(self.diagnostics, self.sources)


class DiagnosticSink:
    """Collects diagnostics during one stage so independent errors are all reported."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, message: str, span: Span | None = None, hint: str | None = None, **extra) -> None:
        self.add(Diagnostic("error", message, span, hint, **extra))

    def add(self, diagnostic: Diagnostic) -> None:
        # A repeated block reports the same fault once per expansion; say it once.
        if diagnostic not in self.items:
            self.items.append(diagnostic)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def raise_if_errors(self, sources: Mapping[str, str]) -> None:
        if self.has_errors:
            raise SpecError(self.items, sources)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest known spelling, or None when nothing is close."""
    import difflib  # only a faulty spec asks (not on a clean run's start-up)

    matches = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None


def json_path_text(path: Sequence) -> str:
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def render(diagnostic: Diagnostic, sources: Mapping[str, str]) -> str:
    head = f"{diagnostic.severity}: {diagnostic.message}"
    if diagnostic.code:
        head = f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}"
    span = diagnostic.span
    if span is None:
        lines = [f"archspec: {head}"]
    else:
        lines = [f"{span.location()}: {head}"]
        lines += _excerpt(span, sources.get(span.file))
    gutter = " " * _gutter_width(span)
    if diagnostic.json_path:
        lines.append(f"{gutter} = at {diagnostic.json_path}")
    if diagnostic.note:
        lines.append(f"{gutter} = note: {diagnostic.note}")
    if diagnostic.detail:
        lines.append(f"{gutter} = detail: {diagnostic.detail}")
    if diagnostic.hint:
        lines.append(f"{gutter} = hint: {diagnostic.hint}")
    return "\n".join(lines)


def render_brief(diagnostic: Diagnostic) -> str:
    """One line: `file:line:col: warning[code]: message (note)`, for warnings in a listing."""
    head = f"{diagnostic.severity}[{diagnostic.code}]" if diagnostic.code else diagnostic.severity
    where = diagnostic.location() or "archspec"
    return f"{where}: {head}: {diagnostic.message}" + (f" ({diagnostic.note})" if diagnostic.note else "")


def render_all(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    return "\n".join(render(d, sources) for d in diagnostics)


def _gutter_width(span: Span | None) -> int:
    return max(4, len(str(span.line)) + 1) if span else 4


def _excerpt(span: Span, text: str | None) -> list[str]:
    if text is None:
        return []
    source_lines = text.splitlines()
    if not 1 <= span.line <= len(source_lines):
        return []
    line = source_lines[span.line - 1].replace("\t", " ")
    if len(line) > 200:  # keep very long lines readable: show a window around the caret
        start = max(0, span.column - 80)
        line = ("..." if start else "") + line[start : start + 160]
        column = span.column - start + (3 if start else 0)
    else:
        column = span.column
    end = span.end_column if span.end_line == span.line else len(line) + 1
    end = max(end, column + 1)
    width = _gutter_width(span)
    caret = "^" + "~" * (min(end, len(line) + 1) - column - 1)
    return [
        f"{str(span.line).rjust(width)} | {line}",
        f"{' ' * width} | {' ' * (column - 1)}{caret}",
    ]


def describe_validation_error(error: Mapping) -> tuple[str, str | None]:
    """Rephrase one pydantic error as (message, hint) in "expected ...; received ..." form."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    received = _received(error.get("input"))
    expectations = {
        "int_type": "an integer", "int_parsing": "an integer", "float_type": "a number",
        "bool_type": "true or false", "string_type": "a string", "tuple_type": "a list",
        "list_type": "a list", "dict_type": "an object", "model_type": "an object",
        "model_attributes_type": "an object", "none_required": "none",
    }
    if kind in expectations:
        return f"expected {expectations[kind]}; received {received}", None
    bounds = {
        "greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<=",
    }
    if kind in bounds:
        limit = next(iter(context.values()), "?")
        return f"expected a value {bounds[kind]} {limit}; received {received}", None
    if kind == "finite_number":
        return f"expected a finite number; received {received}", None
    if kind == "literal_error":
        allowed = [a.strip().strip("'") for a in str(context.get("expected", "")).replace(" or ", ", ").split(",")]
        value = error.get("input")
        hint = did_you_mean(value, allowed) if isinstance(value, str) else None
        return f"expected one of {', '.join(a for a in allowed if a)}; received {received}", hint
    if kind == "string_pattern_mismatch":
        return f"expected a name (letters, digits and `_`, not starting with a digit); received {received}", None
    if kind in ("too_long", "too_short"):
        return f"{error.get('msg', 'wrong length').rstrip('.').lower()}; received {received}", None
    if kind == "missing":
        return "a required value is missing", None
    message = str(error.get("msg", "invalid value"))
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    elif message.startswith("Assertion failed, "):
        message = message[len("Assertion failed, "):]
    return message[:1].lower() + message[1:], None


def _received(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_received(v) for v in value) + "]" if len(value) < 8 else f"a list of {len(value)} items"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def show_value(value) -> str:
    """A value as the language writes it, for messages: none, true, [3, 3], 'same', 0.5."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)
