"""Source texts: the `Source` record every stage locates its faults in, and the lexical facts of
the `.arch` language that both the front end and the `.arch` printer need.

The front end (`archspec.syntax`) makes a `Source` from a file or text; later stages read its
plain dict, ask it for the span of a JSON path, and make diagnostics through it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from .errors import DataPath, Diagnostic, Span, json_path_text

GRAMMAR_FILE = Path(__file__).with_name("grammar.lark")
# The language's keywords are the words the grammar spells out, so a new statement's keyword
# is reserved by writing its grammar rule.
KEYWORDS = frozenset(re.findall(r'"([a-z_]+)"', GRAMMAR_FILE.read_text(encoding="utf-8")))
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# How deep a spec may nest, the same in both forms (the .arch front end refuses while building
# its tree, the JSON one before validating): statements inside statements, operations inside operations.
MAX_NESTING = 64
MAX_EXPRESSION_DEPTH = 100
ARCH, JSON = "arch", "json"  # the two source formats


class SizeLimits(NamedTuple):
    """How large a spec may be, counted before any tree is built, all scaled from the number of
    layers it may expand to. The default answers every input within about 2 s and 300 MB
    (benchmarks/worst_cases.py), ten times the largest keras.applications model (NASNetLarge,
    1,041 layers); the largest bundled spec has 141 lines and 2,000 words. A larger flat spec
    (an imported model, a scaling test) asks for more: `--max-layers`, `load(..., size=...)`;
    time and memory then grow linearly (about 5 s and 300 MB for 100,000 layers)."""

    layers: int = 10_000

    @property
    def lines(self) -> int:
        return 2 * self.layers

    @property
    def words(self) -> int:  # names and numbers outside comments, an upper bound of the statements
        return 3 * self.layers

    @property
    def statements(self) -> int:  # a JSON spec's statements
        return 2 * self.layers


DEFAULT_SIZE = SizeLimits()


class Comment(NamedTuple):
    line: int
    column: int
    text: str
    trailing: bool  # code precedes it on its line


@dataclass
class Source:
    """One parsed spec: the plain dict, where each part came from, and the raw text."""

    data: dict
    text: str
    file: str
    format: str  # ARCH or JSON
    comments: tuple[Comment, ...] = ()
    _spans: dict[DataPath, Span] | None = field(default=None, repr=False)
    schema_pointer: str | None = None  # a JSON spec's "$schema", which fmt writes back
    # Finds the spans when first asked (JSON positions are needed only for diagnostics).
    locate: Callable[[], dict[DataPath, Span]] | None = field(default=None, repr=False, compare=False)
    # .arch: where each path's text lies, as offsets; lines and columns are worked out per span asked for.
    positions: "Positions | None" = field(default=None, repr=False, compare=False)
    size: SizeLimits = field(default=DEFAULT_SIZE, repr=False, compare=False)  # the limits it was read under

    def span(self, path: DataPath) -> Span | None:
        """The span of `path`, or of its nearest ancestor that has one."""
        if self._spans is None and self.positions is not None:
            return self.positions.span(path)
        spans = self.spans
        path = tuple(path)
        while path:
            if path in spans:
                return spans[path]
            path = path[:-1]
        return spans.get(())

    @property
    def spans(self) -> dict[DataPath, Span]:
        if self._spans is None:
            if self.positions is not None:
                self._spans = self.positions.all_spans()
            else:
                self._spans = self.locate() if self.locate is not None else {}
        return self._spans

    def diagnostic(self, severity: str, message: str, path: DataPath, hint: str | None = None, code: str | None = None) -> Diagnostic:
        json_path = json_path_text(path) if self.format == JSON else None
        return Diagnostic(severity, message, self.span(path), hint, code, json_path)


class Positions:
    """The text offsets (start, end) of each path a parser wrote. A span's line and column are
    worked out when it is asked for: a large spec asks for a few thousand of its many paths."""

    def __init__(self, file: str, text: str, offsets: dict[DataPath, tuple[int, int]]):
        self.file, self.text, self.offsets = file, text, offsets
        self._line_starts: list[int] | None = None

    def span(self, path: DataPath) -> Span | None:
        """The span of `path`, or of its nearest ancestor that has one."""
        offsets, path = self.offsets, tuple(path)
        while path:
            if path in offsets:
                return self.span_between(*offsets[path])
            path = path[:-1]
        return self.span_between(*offsets[()]) if () in offsets else None

    def all_spans(self) -> dict[DataPath, Span]:
        return {path: self.span_between(start, end) for path, (start, end) in self.offsets.items()}

    def span_between(self, start: int, end: int) -> Span:
        line_starts = self._line_starts
        if line_starts is None:  # lines end at \n, as lark counts
            line_starts = self._line_starts = [0, *(match.end() for match in re.finditer("\n", self.text))]
        line = bisect_right(line_starts, start)
        # most spans lie on one line: the end's line is found only when the span leaves it
        end_line = line if line == len(line_starts) or end < line_starts[line] else bisect_right(line_starts, end, lo=line - 1)
        return Span(self.file, line, start - line_starts[line - 1] + 1, end_line, end - line_starts[end_line - 1] + 1)


def line_column(text: str | bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column of `offset` in `text` (lines end at \\n, as lark counts)."""
    newline = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(newline, 0, offset) + 1
    return line, offset - (text.rfind(newline, 0, offset) + 1) + 1  # type: ignore[arg-type]


def point_span(file: str, text: str | bytes, offset: int) -> Span:
    """A one-character span at `offset`."""
    line, column = line_column(text, offset)
    return Span(file, line, column, line, column + 1)


def code_characters(line: str) -> Iterator[tuple[int, str]]:
    """The characters of one `.arch` line outside string literals, with their indices, up to
    and including a comment's `#` (strings end on their line and have no escapes)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
            yield index, char
        else:
            yield index, char
            if char == "#":
                return
