""".arch text to the JSON form's plain dict, with a span for every path it writes.

Takes `.arch` text; refuses floods before reading (`text_limits`), reads it in one pass with
`arch_parser` (no parse tree; the offsets of every path, turned into lines and columns only for
the spans asked for), and collects the comments for `fmt`. Hands out a `Source`, or a
`SpecError`. Where the text breaks the grammar, the LALR parser of `grammar.lark` (lark, imported
only then) says where and what was expected.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from ..errors import Diagnostic, Span, SpecError
from ..source import ARCH, DEFAULT_SIZE, GRAMMAR_FILE, MAX_NESTING, Positions, SizeLimits, Source, point_span
from .arch_parser import ArchParser, NestingTooDeep, SyntaxFault
from .text_limits import refuse_oversized_text

GRAMMAR = GRAMMAR_FILE
# Python frames per nested bracket or brace while reading; the text's limits bound the nesting.
_READING_RECURSION = 10_000


def parse_arch(text: str, file: str = "<text>", size: SizeLimits = DEFAULT_SIZE) -> Source:
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    if "\x00" in text:
        raise SpecError([Diagnostic("error", "the file contains a NUL byte", point_span(file, text, text.index("\x00")))], {file: text})
    refuse_oversized_text(text, file, size)
    try:
        with _recursion_limit(_READING_RECURSION):
            reader = ArchParser(text, file)
            data, offsets = reader.module()
    except SyntaxFault:
        raise SpecError([_grammar_fault(text, file) or _disagreement(file)], {file: text}) from None
    except NestingTooDeep as error:
        # The grammar's faults come first, wherever they are: lark reads the whole text.
        diagnostic = _grammar_fault(text, file) or Diagnostic(
            "error", f"braces are nested more than {MAX_NESTING} levels deep", _statement_span(text, file, error.start),
            "flatten the nesting, or move inner parts into blocks")
        raise SpecError([diagnostic], {file: text}) from None
    except SpecError as error:  # faults of meaning: give them the source for their excerpt
        fault = _grammar_fault(text, file)
        raise SpecError([fault] if fault else error.diagnostics, {file: text}) from None
    return Source(data, text, file, ARCH, tuple(reader.comments()), positions=Positions(file, text, offsets), size=size)


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


@lru_cache(maxsize=1)
def _parser() -> Any:
    """lark's LALR parser of grammar.lark: the language's definition, asked only about faulty
    text (it says what was expected where) and so imported only then."""
    from lark import Lark

    return Lark.open(
        str(GRAMMAR), parser="lalr", lexer="basic", propagate_positions=True,
        maybe_placeholders=False, cache=_grammar_cache_path(),
    )


def _grammar_cache_path() -> str | bool:
    """Lark caches the built LALR tables; a per-user file in the temp folder keeps start-up fast."""
    import getpass
    import tempfile

    try:
        user = re.sub(r"[^A-Za-z0-9_]", "_", getpass.getuser())
    except Exception:  # no user name (containers): fall back to lark's own cache naming
        return True
    return str(Path(tempfile.gettempdir()) / f"archspec-grammar-{user}.lark-cache")


def _grammar_fault(text: str, file: str) -> Diagnostic | None:
    """lark's account of where the text breaks the grammar, or None where it does not."""
    from lark.exceptions import UnexpectedInput

    from .diagnostics import syntax_diagnostic

    try:
        with _recursion_limit(_READING_RECURSION):
            _parser().parse(text)
    except UnexpectedInput as error:
        return syntax_diagnostic(error, text, file)
    return None


def _disagreement(file: str) -> Diagnostic:
    return Diagnostic("error", "archspec's reader refused text that the grammar accepts", Span(file, 1, 1, 1, 2),
                      "this is a bug in archspec: please report it with the spec")


def _statement_span(text: str, file: str, start: int) -> Span:
    """The whole statement starting at `start` (it may run over many lines), as lark delimits it."""
    tree = _parser().parse(text)
    ends = [node.meta.end_pos for node in tree.iter_subtrees()
            if not node.meta.empty and node.meta.start_pos == start and node.data.endswith("_stmt")]
    return Positions(file, text, {}).span_between(start, max(ends, default=start + 1))
