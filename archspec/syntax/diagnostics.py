"""Syntax diagnostics: lark's parse errors said as a person would, with a fitting hint.

Takes a lark `UnexpectedInput` and the text; hands out one located `Diagnostic`.
"""

from __future__ import annotations

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..errors import Diagnostic, Span
from ..source import KEYWORDS, code_characters

TOKEN_DESCRIPTIONS = {
    "NAME": "a name", "INT": "an integer", "FLOAT": "a number", "SHAPE": "a shape like 32x32x3",
    "STRING": "a string", "LPAR": "`(`", "RPAR": "`)`", "LBRACE": "`{`", "RBRACE": "`}`",
    "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`", "EQUAL": "`=`", "STAR": "`*`", "AT": "`@`",
    "COMPARE": "a comparison", "CONCAT": "`concat`", "INPUT_KW": "`input`", "$END": "the end of the file",
}


def _describe_token(name: str) -> str:
    if name in TOKEN_DESCRIPTIONS:
        return TOKEN_DESCRIPTIONS[name]
    if name.isupper() and name.lower() in KEYWORDS:
        return f"`{name.lower()}`"
    pattern = {"MINUS": "-", "PLUS": "+", "SLASH": "/", "PERCENT": "%", "DOUBLESLASH": "//", "__ANON_0": "//"}.get(name)
    return f"`{pattern}`" if pattern else name.lower()


def syntax_diagnostic(error: UnexpectedInput, text: str, file: str) -> Diagnostic:
    line, column = max(error.line, 1), max(error.column, 1)
    hint = None
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
        message = f"unexpected character {char!r}"
        if char in "\"'":
            message = "unterminated string"
            hint = "strings end on the line they start; there are no escapes"
        span = Span(file, line, column, line, column + 1)
        return Diagnostic("error", message, span, hint)
    if isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        lines = text.rstrip("\n").split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        expected = sorted(getattr(error, "expected", ()) or ())
        message = "the file ends too early"
        opening = _unclosed_bracket(text)
        if opening is not None:
            char, open_line, open_column = opening
            closer = {"{": "}", "(": ")", "[": "]"}[char]
            return Diagnostic("error", f"this `{char}` is never closed with `{closer}`",
                              Span(file, open_line, open_column, open_line, open_column + 1),
                              "the file ends before its matching bracket")
        if "RBRACE" in expected:
            hint = "a `{` is never closed with `}`"
        elif "INPUT_KW" in expected:
            hint = "declare the input shape, e.g. `input 32x32x3`"
        elif expected:
            message += f"; expected {_expected_list(expected)}"
        return Diagnostic("error", message, Span(file, line, column, line, column + 1), hint)
    assert isinstance(error, UnexpectedToken)
    token = error.token
    expected = sorted(error.expected)
    value = str(token)
    span = Span(file, token.line, token.column, token.end_line or token.line, token.end_column or token.column + 1)
    message = f"unexpected `{value}`; expected {_expected_list(expected)}"
    if value == "block":
        hint = "block definitions go after the `input` line and before the first layer"
    elif value == "allow":
        hint = "`allow CODE` lines go right after the `network` line, or first in a block's body"
    elif value == "branch":
        hint = "`branch { ... }` goes inside `concat { ... }`"
    elif value in KEYWORDS and "NAME" in expected:
        hint = (f"`{value}` names the network's input and cannot name anything else" if value == "input"
                else f"`{value}` is a keyword and cannot be used as a name")
    elif value == "input" and "INPUT_KW" not in expected:
        hint = "the network has one `input` line, right after the `network` line"
    elif value == "=" and "RPAR" in expected:
        hint = "a keyword argument needs a name on its left: `name=value`"
    elif token.type == "NAME" and "INPUT_KW" in expected:
        hint = "declare the input shape first, e.g. `input 32x32x3`"
    elif token.type == "NAME" and "NETWORK" in expected:
        hint = "a spec starts with `network NAME`"
    elif token.type in ("INT", "FLOAT", "SHAPE") and "RPAR" in expected:
        hint = "separate arguments with commas"
    elif value == "," and "RPAR" in expected:
        hint = "a pair is written [3, 3] or 3x3"
    elif value == "(" and "NAME" in expected:
        hint = "only layers and blocks take arguments in parentheses"
    return Diagnostic("error", message, span, hint)


def _unclosed_bracket(text: str) -> tuple[str, int, int] | None:
    """The innermost bracket still open at the end of the text, skipping comments and strings."""
    stack: list[tuple[str, int, int]] = []
    pairs = {"}": "{", ")": "(", "]": "["}
    for number, line in enumerate(text.split("\n"), start=1):
        for index, char in code_characters(line):
            if char in "{([":
                stack.append((char, number, index + 1))
            elif char in pairs and stack and stack[-1][0] == pairs[char]:
                stack.pop()
    return stack[-1] if stack else None


def _expected_list(expected: list[str]) -> str:
    if "NAME" in expected and {"NETWORK", "OUTPUT"} <= set(expected):  # only a code's words take every keyword
        return "a warning code such as `rf-misaligned`"
    names = sorted({_describe_token(name) for name in expected})
    if len(names) > 6:
        return "a layer, a block or a statement" if "a name" in names and "`}`" in names else "one of " + ", ".join(names[:6]) + ", ..."
    return names[0] if len(names) == 1 else "one of " + ", ".join(names)
