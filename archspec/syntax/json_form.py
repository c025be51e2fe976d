"""JSON text to the plain dict, with the span of every value found when a diagnostic needs it.

Takes JSON text; hands out a `Source` whose spans are located lazily by a small tokenizer over
the text `json.loads` accepted, keyed by JSON path.
"""

from __future__ import annotations

import bisect
import json
import re

from ..errors import DataPath, Diagnostic, Span, SpecError
from ..expr import MAX_INTEGER_DIGITS, integer_literal
from ..source import DEFAULT_SIZE, JSON, SizeLimits, Source, point_span


def parse_json(text: str, file: str = "<json>", size: SizeLimits = DEFAULT_SIZE) -> Source:
    text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text, parse_int=integer_literal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise SpecError([_json_error(error, text, file)], {file: text}) from None
    except _NotJson as error:  # Python's json reads NaN and Infinity; JSON has neither
        raise SpecError([Diagnostic("error", f"invalid JSON: {error} is not a JSON number", _token_span(text, file, str(error)),
                                    "numbers must be finite")], {file: text}) from None
    except ValueError as error:  # an integer of more digits than any form accepts
        raise SpecError([Diagnostic("error", "a number in the JSON is out of range", _long_integer_span(text, file),
                                    str(error))], {file: text}) from None
    except RecursionError:
        raise SpecError([Diagnostic("error", "the JSON is nested too deeply")], {file: text}) from None
    if not isinstance(data, dict):
        raise SpecError([Diagnostic("error", f"a JSON spec is an object; received {type(data).__name__}", Span(file, 1, 1, 1, 2))], {file: text})
    pointer = data.pop("$schema", None)  # editors' schema pointer: not part of the spec, kept for fmt
    return Source(data, text, file, JSON, schema_pointer=pointer if isinstance(pointer, str) else None,
                  locate=lambda: _json_spans(text, file), size=size)


class _NotJson(ValueError):
    pass


def _refuse_constant(name: str) -> None:
    raise _NotJson(name)


def _token_span(text: str, file: str, token: str) -> Span | None:
    """Where the first `token` (NaN, Infinity) stands outside strings."""
    for match in _JSON_TOKEN.finditer(text):
        if match.group(3) and match.group(3).lstrip("-") == token.lstrip("-"):
            return point_span(file, text, match.start(3))
    return None


def _long_integer_span(text: str, file: str) -> Span | None:
    """Where the first integer literal of too many digits is (outside strings)."""
    for match in _JSON_TOKEN.finditer(text):
        number = match.group(3)
        if number and not number.isalpha() and len(number.lstrip("-").split(".")[0].split("e")[0].split("E")[0].lstrip("0")) > MAX_INTEGER_DIGITS:
            return point_span(file, text, match.start(3))
    return None


def _json_error(error: json.JSONDecodeError, text: str, file: str) -> Diagnostic:
    position = error.pos
    before = position - 1
    while before >= 0 and text[before].isspace():
        before -= 1
    if before >= 0 and text[before] == "," and text[position:position + 1] in ("]", "}"):
        return Diagnostic("error", f"invalid JSON: a trailing comma before `{text[position]}`", point_span(file, text, before),
                          "JSON allows no comma after the last item")
    span = Span(file, error.lineno, error.colno, error.lineno, error.colno + 1)
    return Diagnostic("error", f"invalid JSON: {error.msg[:1].lower()}{error.msg[1:]}", span)


_JSON_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([{}\[\],:])|(-?[0-9][0-9.eE+-]*|true|false|null|NaN|-?Infinity))', re.S)


def _json_spans(text: str, file: str) -> dict[DataPath, Span]:
    """Spans of every value in a JSON text that `json.loads` accepted, keyed by JSON path."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(offset: int) -> tuple[int, int]:  # many lookups: a bisect, not a count
        line = bisect.bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1] + 1

    spans: dict[DataPath, Span] = {}
    tokens = [(m.group(1) or m.group(2) or m.group(3), m.start(m.lastindex), m.end()) for m in _JSON_TOKEN.finditer(text) if m.lastindex]
    index = 0

    def make_span(start: int, end: int) -> Span:
        line, column = position(start)
        end_line, end_column = position(end)
        return Span(file, line, column, end_line, end_column)

    def value(path: DataPath, key_start: int | None = None) -> None:
        nonlocal index
        token, start, end = tokens[index]
        index += 1
        if token in "{[" and len(token) == 1:
            closing = "}" if token == "{" else "]"
            position_in_list = 0
            while tokens[index][0] != closing:
                if tokens[index][0] == ",":
                    index += 1
                    continue
                if token == "{":
                    key, key_begin, _ = tokens[index]
                    index += 2  # the key and the colon
                    value(path + (json.loads(key),), key_begin)
                else:
                    value(path + (position_in_list,))
                    position_in_list += 1
            end = tokens[index][2]
            index += 1
        spans[path] = make_span(key_start if key_start is not None else start, end)

    if tokens:
        try:
            value(())
        except (IndexError, ValueError, RecursionError):
            pass  # a partial map still locates what it can
    return spans
