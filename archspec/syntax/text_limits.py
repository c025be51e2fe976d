"""Size limits of `.arch` text, checked before any tree is built: lines, bracket depth, and
names and numbers outside comments (source.py holds the limits, shared with the JSON form), so
a flood is refused in milliseconds, at the place it passes the limit.
"""

from __future__ import annotations

import re

from ..errors import Diagnostic, SpecError
from ..source import DEFAULT_SIZE, MAX_EXPRESSION_DEPTH, MAX_NESTING, SizeLimits, point_span

_CODE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_COMMENT = re.compile(r"#[^\n]*")
_BRACKETS = re.compile(r"[()\[\]{}]")


def refuse_oversized_text(text: str, file: str, size: SizeLimits = DEFAULT_SIZE) -> None:
    """Count lines and words before parsing: a flood of statements or comments is refused in
    milliseconds instead of being parsed for seconds."""
    lines = text.count("\n") + 1
    if lines > size.lines:
        offset = _nth_newline(text, size.lines)
        raise SpecError([Diagnostic("error", f"the spec has {lines:,} lines, more than the limit of {size.lines:,}",
                                    point_span(file, text, offset + 1), "split it into blocks, or use repeat; a larger flat spec needs `--max-layers`")], {file: text})
    code = _COMMENT.sub(lambda comment: " " * len(comment.group()), text)  # same length: offsets stay the text's
    depth, limit = 0, MAX_NESTING + MAX_EXPRESSION_DEPTH
    for bracket in _BRACKETS.finditer(code):  # a scan of the brackets alone: milliseconds
        depth += 1 if bracket.group() in "([{" else -1
        if depth > limit:
            raise SpecError([Diagnostic("error", f"brackets are nested more than {limit} deep", point_span(file, text, bracket.start()),
                                        "flatten the expression or the nesting")], {file: text})
    words = _CODE_WORD.finditer(code)
    for count, word in enumerate(words, start=1):
        if count > size.words:
            raise SpecError([Diagnostic("error", f"the spec has more than {size.words:,} names and numbers",
                                        point_span(file, text, word.start()),
                                        "write repeated layers with `repeat` or `* n`, not one by one; a larger flat spec needs `--max-layers`")], {file: text})


def _nth_newline(text: str, count: int) -> int:
    offset = -1
    for _ in range(count):
        offset = text.index("\n", offset + 1)
    return offset
