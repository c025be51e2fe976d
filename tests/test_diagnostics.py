"""Golden diagnostics: every spec under tests/cases/errors/ has one or more mistakes, and its
`.expected` file holds exactly what `archspec check tests/cases/errors/<file>` prints to stderr,
followed by a line `exit: N`.

Run from the repository root so paths in diagnostics are relative and stable. Refresh the golden
files with `pytest tests/test_diagnostics.py --update-goldens` and review the diff.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import CASES, ROOT, run_cli

ERRORS = CASES / "errors"
SUFFIXES = (".arch", ".json")
CASE_FILES = sorted(path for path in ERRORS.iterdir() if path.suffix in SUFFIXES)

SUMMARY = re.compile(r"^\d+ errors$")
EXIT_LINE = re.compile(r"^exit: \d+$")


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _header(relative: str) -> re.Pattern:
    """A diagnostic's first line: `FILE:LINE:COL: error: ...` (or `error[code]:`)."""
    return re.compile(rf"^{re.escape(relative)}:(\d+):(\d+): error(\[[\w-]+\])?: \S")


@pytest.mark.parametrize("case", CASE_FILES, ids=lambda path: path.name)
def test_diagnostics_match_golden(case: Path, golden, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    relative = _relative(case)
    result = run_cli("check", relative)
    actual = result.err + f"exit: {result.code}\n"

    assert "Traceback" not in actual
    assert result.code == 1, f"{relative} should fail the check; got exit {result.code}"
    assert result.out == "", "a failing check prints nothing on stdout"

    header = _header(relative)
    lines = result.err.splitlines()
    located = unlocated = 0
    for index, line in enumerate(lines):
        if not line or line[0].isspace() or SUMMARY.match(line):
            continue  # excerpt, caret, hint and `= at` lines are indented
        match = header.match(line)
        if match is None:
            assert line.startswith("archspec: error"), f"not a diagnostic header: {line!r}"
            unlocated += 1
            continue
        located += 1
        line_no, column = int(match.group(1)), int(match.group(2))
        # The excerpt shows the source line and a caret under the reported column.
        assert index + 2 < len(lines), f"{line!r} has no source excerpt"
        source, caret = lines[index + 1], lines[index + 2]
        gutter, bar, text = source.partition(" | ")
        assert bar and gutter.strip() == str(line_no), f"excerpt of {line!r} shows the wrong line: {source!r}"
        assert caret.startswith(" " * len(gutter) + " | "), f"no caret line under {line!r}"
        if not text.startswith("..."):  # long lines are windowed around the caret
            marks = caret[len(gutter) + 3:]
            assert marks.index("^") + 1 == column, f"caret of {line!r} is not at column {column}"
            assert marks.strip().lstrip("^").strip("~") == ""
            expected_line = (ROOT / relative).read_text(encoding="utf-8").splitlines()[line_no - 1]
            assert text == expected_line.replace("\t", " ")
    total = located + unlocated
    assert total >= 1, f"{relative} printed no diagnostic"
    if total > 1:
        assert lines[-1] == f"{total} errors", "several errors end with their count"

    golden(case.with_suffix(".expected"), actual)


def test_every_golden_has_a_case() -> None:
    expected = {path.stem for path in ERRORS.glob("*.expected")}
    cases = {path.stem for path in CASE_FILES}
    assert expected <= cases, f"golden files without a case: {sorted(expected - cases)}"
    assert all(EXIT_LINE.match(path.read_text(encoding="utf-8").splitlines()[-1]) for path in ERRORS.glob("*.expected"))


def test_case_count_and_distinctness() -> None:
    stems = [path.stem for path in CASE_FILES]
    assert len(set(stems)) == len(stems), "two cases share a name"
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+", stem) for stem in stems), "cases are named NN_short_name"
    numbers = [stem[:2] for stem in stems]
    assert len(set(numbers)) == len(numbers), "two cases share a number"
    texts = {path.read_text(encoding="utf-8") for path in CASE_FILES}
    assert len(texts) == len(CASE_FILES), "two cases have the same text"
    goldens = {path.with_suffix(".expected").read_text(encoding="utf-8") for path in CASE_FILES if path.with_suffix(".expected").exists()}
    assert len(goldens) == len(CASE_FILES), "two cases print the same diagnostics"
    assert len(CASE_FILES) >= 25
    assert sum(path.suffix == ".json" for path in CASE_FILES) >= 4, "the JSON form has its own cases"
