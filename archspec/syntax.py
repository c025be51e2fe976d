"""The front end: source text to the JSON form's plain dict, and back.

Takes `.arch` or `.json` text; hands out a `Source` holding the plain dict (the same shape for
both forms), a map from JSON paths to source spans, and the comments of an `.arch` file.
`to_arch` prints a dict as canonical `.arch` text (used by `fmt` and `convert`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .errors import DataPath, Diagnostic, Span, SpecError, json_path_text
from .expr import PRECEDENCE, render
from .layers import MAX_DIMENSION, REGISTRY

MAX_SOURCE_BYTES = 4 * 1024 * 1024
MAX_NESTING = 64
MAX_EXPRESSION_DEPTH = 100

KEYWORDS = frozenset(
    "network input block repeat concat branch residual shortcut if else as true false none and or not".split()
)
BINARY_OPS = {
    "add_op": "+", "sub_op": "-", "mul_op": "*", "div_op": "/", "floordiv_op": "//",
    "mod_op": "%", "and_op": "and", "or_op": "or",
}
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Comment:
    line: int
    column: int
    text: str
    trailing: bool  # code precedes it on its line


@dataclass
class Source:
    """One parsed spec file: the plain dict, where each part came from, and the raw text."""

    data: dict
    text: str
    file: str
    kind: str  # "arch" or "json"
    comments: tuple[Comment, ...] = ()
    _spans: dict[DataPath, Span] | None = field(default=None, repr=False)
    schema_pointer: str | None = None  # a JSON spec's "$schema", which fmt writes back

    def span(self, path: DataPath) -> Span | None:
        """The span of `path`, or of its nearest ancestor that has one."""
        spans = self.spans
        path = tuple(path)
        while path:
            if path in spans:
                return spans[path]
            path = path[:-1]
        return spans.get(())

    @property
    def spans(self) -> dict[DataPath, Span]:
        if self._spans is None:  # JSON positions are found only when a diagnostic needs them
            self._spans = _json_spans(self.text, self.file)
        return self._spans

    def diagnostic(self, severity: str, message: str, path: DataPath, hint: str | None = None, code: str | None = None) -> Diagnostic:
        json_path = json_path_text(path) if self.kind == "json" else None
        return Diagnostic(severity, message, self.span(path), hint, code, json_path)


# ---------------------------------------------------------------------------------------------
# Reading files


def read_source(path: str | Path, display_name: str | None = None) -> Source:
    """Read and parse a `.arch` or `.json` file ("-" reads standard input as `.arch` or JSON)."""
    import sys

    name = display_name or str(path)
    if str(path) == "-":
        raw = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
        name = display_name or "<stdin>"
    else:
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_SOURCE_BYTES + 1)
        except OSError as error:
            raise SpecError([Diagnostic("error", f"cannot read '{path}': {error.strerror or error}")]) from None
    if len(raw) > MAX_SOURCE_BYTES:
        raise SpecError([Diagnostic("error", f"'{name}' is larger than the {MAX_SOURCE_BYTES // (1024 * 1024)} MiB limit for a spec file")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        span = Span(name, line, column, line, column + 1)
        shown = raw.decode("utf-8", "replace")  # the excerpt shows the bad bytes as U+FFFD
        raise SpecError([Diagnostic("error", f"the file is not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})", span,
                                    "save the file as UTF-8")], {name: shown}) from None
    is_json = name.endswith(".json") or (str(path) == "-" and text.lstrip().startswith("{"))
    return parse_json(text, name) if is_json else parse_arch(text, name)


def parse_text(text: str, file: str = "<text>") -> Source:
    """Parse text in either form, deciding by its first character."""
    return parse_json(text, file) if text.lstrip().startswith("{") else parse_arch(text, file)


# ---------------------------------------------------------------------------------------------
# .arch


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark.open(
        "grammar.lark", rel_to=__file__, parser="lalr", lexer="basic", propagate_positions=True,
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


def parse_arch(text: str, file: str = "<text>") -> Source:
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    if "\x00" in text:
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise SpecError([Diagnostic("error", "the file contains a NUL byte", Span(file, line, column, line, column + 1))], {file: text})
    comments: list[Comment] = []
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as error:
        raise SpecError([_syntax_diagnostic(error, text, file)], {file: text}) from None
    comments = _collect_comments(text)
    builder = _TreeToDict(file)
    try:
        data = builder.module(tree)
    except _NestingTooDeep as error:
        raise SpecError([Diagnostic("error", f"braces are nested more than {MAX_NESTING} levels deep", error.span,
                                        "flatten the nesting, or move inner parts into blocks")], {file: text}) from None
    return Source(data, text, file, "arch", tuple(comments), builder.spans)


def _collect_comments(text: str) -> list[Comment]:
    """Comments with their positions; found by the lexer's rules (strings cannot hold '#' here
    because a comment inside a string literal would need a quote before it on the line)."""
    comments = []
    for number, line in enumerate(text.split("\n"), start=1):  # lark counts lines by \n alone
        index = _comment_start(line)
        if index is not None:
            comments.append(Comment(number, index + 1, line[index:].rstrip(), bool(line[:index].strip())))
    return comments


def _comment_start(line: str) -> int | None:
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            return index
    return None


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
    pattern = {"MINUS": "-", "PLUS": "+", "SLASH": "/", "PERCENT": "%", "DOUBLESLASH": "//"}.get(name)
    return f"`{pattern}`" if pattern else name.lower()


def _syntax_diagnostic(error: UnexpectedInput, text: str, file: str) -> Diagnostic:
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
        quote = None
        for index, char in enumerate(line):
            if quote:
                quote = None if char == quote else quote
            elif char in "\"'":
                quote = char
            elif char == "#":
                break
            elif char in "{([":
                stack.append((char, number, index + 1))
            elif char in pairs and stack and stack[-1][0] == pairs[char]:
                stack.pop()
    return stack[-1] if stack else None


def _expected_list(expected: list[str]) -> str:
    names = sorted({_describe_token(name) for name in expected})
    if len(names) > 6:
        return "a layer, a block or a statement" if "a name" in names and "`}`" in names else "one of " + ", ".join(names[:6]) + ", ..."
    return names[0] if len(names) == 1 else "one of " + ", ".join(names)


class _NestingTooDeep(Exception):
    def __init__(self, span: Span):
        self.span = span


class _TreeToDict:
    """Turns the lark tree into the plain dict, recording a span for every path it writes.

    Names are resolved lexically here: an identifier that names a parameter in scope becomes
    `{"ref": name}`; any other identifier is a plain string (`same`, `relu`).
    """

    def __init__(self, file: str):
        self.file = file
        self.spans: dict[DataPath, Span] = {}

    def span_of(self, node: Tree | Token) -> Span:
        if isinstance(node, Token):
            return Span(self.file, node.line, node.column, node.end_line, node.end_column)
        meta = node.meta
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def mark(self, path: DataPath, node: Tree | Token) -> None:
        if isinstance(node, Token) or not node.meta.empty:
            self.spans[path] = self.span_of(node)

    # -- top level

    def module(self, tree: Tree) -> dict:
        header, input_decl, *rest = tree.children
        data: dict[str, Any] = {}
        name, *param_list = header.children
        data["network"] = str(name)
        self.mark((), header)
        self.mark(("network",), name)
        scope: set[str] = set()
        if param_list:
            data["params"] = self.params(param_list[0], ("params",), scope)
            scope = {param["name"] for param in data["params"]}
        self.mark(("input",), input_decl)
        data["input"] = self.expr(input_decl.children[0], ("input",), scope)
        blocks = [child for child in rest if isinstance(child, Tree) and child.data == "block_def"]
        body = [child for child in rest if not (isinstance(child, Tree) and child.data == "block_def")]
        if blocks:
            data["blocks"] = [self.block(block, ("blocks", index), scope) for index, block in enumerate(blocks)]
        data["body"] = self.statements(body, ("body",), scope, depth=0)
        return data

    def params(self, tree: Tree, path: DataPath, outer: set[str]) -> list[dict]:
        params = []
        scope = set(outer)
        for index, param in enumerate(tree.children):
            name, *default = param.children
            entry: dict[str, Any] = {"name": str(name)}
            self.mark(path + (index,), param)
            self.mark(path + (index, "name"), name)
            if default:
                entry["default"] = self.expr(default[0], path + (index, "default"), scope)
            params.append(entry)
            scope.add(str(name))
        return params

    def block(self, tree: Tree, path: DataPath, network_scope: set[str]) -> dict:
        name, *rest = tree.children
        self.mark(path, tree)
        self.mark(path + ("name",), name)
        block: dict[str, Any] = {"name": str(name)}
        scope = set(network_scope)
        if rest and isinstance(rest[0], Tree) and rest[0].data == "param_list":
            block["params"] = self.params(rest[0], path + ("params",), network_scope)
            scope |= {p["name"] for p in block["params"]}
            rest = rest[1:]
        block["body"] = self.statements(rest, path + ("body",), scope, depth=1)
        return block

    # -- statements

    def statements(self, trees: list, path: DataPath, scope: set[str], depth: int) -> list[dict]:
        return [self.statement(tree, path + (index,), scope, depth) for index, tree in enumerate(trees)]

    def statement(self, tree: Tree, path: DataPath, scope: set[str], depth: int) -> dict:
        if depth > MAX_NESTING:
            raise _NestingTooDeep(self.span_of(tree))
        self.mark(path, tree)
        return getattr(self, tree.data)(tree, path, scope, depth + 1)

    def call_stmt(self, tree: Tree, path: DataPath, scope: set[str], depth: int) -> dict:
        callee, *rest = tree.children
        repeat = next((part for part in rest if part.data == "repeat_suffix"), None)
        # `call * n` is sugar for a repeat whose body is that one call: the call's parts are
        # recorded under the body's path from the start.
        call_path = path + ("body", 0) if repeat is not None else path
        self.mark(call_path, tree)
        statement: dict[str, Any] = {"call": str(callee.children[0])}
        self.mark(call_path + ("call",), callee)
        for part in rest:
            if part.data == "arg_list":
                statement.update(self.arguments(part, call_path, scope))
            elif part.data == "alias":
                statement["as"] = str(part.children[0])
                self.mark(call_path + ("as",), part.children[0])
        if repeat is None:
            return statement
        self.mark(path + ("repeat",), repeat.children[0])
        return {"repeat": self.expr(repeat.children[0], path + ("repeat",), scope), "body": [statement]}

    def arguments(self, tree: Tree, path: DataPath, scope: set[str]) -> dict:
        args, kwargs, inputs = [], {}, []
        for argument in tree.children:
            if argument.data == "positional":
                self.mark(path + ("args", len(args)), argument)
                args.append(self.expr(argument.children[0], path + ("args", len(args)), scope))
            elif argument.data == "keyword":
                key, value = argument.children
                if str(key) in kwargs:
                    raise SpecError([Diagnostic("error", f"argument `{key}` is given twice", self.span_of(argument))])
                kwargs[str(key)] = self.expr(value, path + ("kwargs", str(key)), scope)
                # The whole `name=value`, so a fault in either is shown with its name.
                self.mark(path + ("kwargs", str(key)), argument)
            else:
                self.mark(path + ("inputs", len(inputs)), argument)
                inputs.append(str(argument.children[0].children[0]))
        result: dict[str, Any] = {}
        if inputs:
            result["inputs"] = inputs
        if args:
            result["args"] = args
        if kwargs:
            result["kwargs"] = kwargs
        return result

    def _alias(self, statement: dict, tree: Tree, path: DataPath) -> dict:
        alias = [c for c in tree.children if isinstance(c, Tree) and c.data == "alias"]
        if alias:
            statement["as"] = str(alias[0].children[0])
            self.mark(path + ("as",), alias[0].children[0])
        return statement

    def _body_of(self, tree: Tree) -> list:
        return [c for c in tree.children if isinstance(c, Tree) and c.data not in ("alias", "shortcut", "branch")]

    def repeat_stmt(self, tree: Tree, path: DataPath, scope: set[str], depth: int) -> dict:
        count, *rest = tree.children
        body = [c for c in rest if c.data != "alias"]
        self.mark(path + ("repeat",), count)
        statement = {"repeat": self.expr(count, path + ("repeat",), scope), "body": self.statements(body, path + ("body",), scope, depth)}
        return self._alias(statement, tree, path)

    def concat_stmt(self, tree: Tree, path: DataPath, scope: set[str], depth: int) -> dict:
        branches = [c for c in tree.children if isinstance(c, Tree) and c.data == "branch"]
        result = []
        for index, branch in enumerate(branches):
            self.mark(path + ("concat", index), branch)
            result.append(self.statements(list(branch.children), path + ("concat", index), scope, depth))
        return self._alias({"concat": result}, tree, path)

    def residual_stmt(self, tree: Tree, path: DataPath, scope: set[str], depth: int) -> dict:
        body = self._body_of(tree)
        statement: dict[str, Any] = {"residual": self.statements(body, path + ("residual",), scope, depth)}
        for shortcut in (c for c in tree.children if isinstance(c, Tree) and c.data == "shortcut"):
            self.mark(path + ("shortcut",), shortcut)
            children = list(shortcut.children)
            if children and not (isinstance(children[0], Tree) and children[0].data in _STATEMENT_RULES):
                condition = children.pop(0)
                self.mark(path + ("shortcut_if",), condition)
                statement["shortcut_if"] = self.expr(condition, path + ("shortcut_if",), scope)
            statement["shortcut"] = self.statements(children, path + ("shortcut",), scope, depth)
        return self._alias(statement, tree, path)

    def if_stmt(self, tree: Tree, path: DataPath, scope: set[str], depth: int) -> dict:
        condition, *rest = tree.children
        self.mark(path + ("if",), condition)
        else_part = rest.pop() if rest and rest[-1].data in ("else_block", "else_if") else None
        statement: dict[str, Any] = {"if": self.expr(condition, path + ("if",), scope), "then": self.statements(rest, path + ("then",), scope, depth)}
        if else_part is not None:
            self.mark(path + ("else",), else_part)
            if else_part.data == "else_if":
                nested = else_part.children[0]
                statement["else"] = [self.statement(nested, path + ("else", 0), scope, depth)]
            else:
                statement["else"] = self.statements(list(else_part.children), path + ("else",), scope, depth)
        return statement

    def tap_stmt(self, tree: Tree, path: DataPath, scope: set[str], depth: int) -> dict:
        name = tree.children[0].children[0]
        self.mark(path + ("tap",), name)
        return {"tap": str(name)}

    # -- expressions

    def expr(self, tree: Tree | Token, path: DataPath, scope: set[str], depth: int = 0) -> Any:
        if depth > MAX_EXPRESSION_DEPTH:
            raise SpecError([Diagnostic("error", f"the expression is nested more than {MAX_EXPRESSION_DEPTH} operations deep",
                                        self.span_of(tree), "split it with block parameters")])
        self.mark(path, tree)
        kind = tree.data
        if kind in ("int_literal", "float_literal"):
            return self.number(tree)
        if kind == "shape_literal":
            return [int(part) for part in str(tree.children[0]).split("x")]
        if kind == "string_literal":
            return str(tree.children[0])[1:-1]
        if kind == "true_literal":
            return True
        if kind == "false_literal":
            return False
        if kind == "none_literal":
            return None
        if kind == "name":
            name = str(tree.children[0])
            return {"ref": name} if name in scope else name
        if kind == "list_literal":
            return [self.expr(child, path + (index,), scope, depth + 1) for index, child in enumerate(tree.children)]
        if kind == "neg_op":
            operand = self.expr(tree.children[0], path + ("args", 0), scope, depth + 1)
            if isinstance(operand, (int, float)) and not isinstance(operand, bool):
                return -operand  # fold `-1` into a literal so the JSON form stays plain
            return {"op": "neg", "args": [operand]}
        if kind == "not_op":
            return {"op": "not", "args": [self.expr(tree.children[0], path + ("args", 0), scope, depth + 1)]}
        if kind == "compare":
            left, operator, right = tree.children
            return {"op": str(operator), "args": [self.expr(left, path + ("args", 0), scope, depth + 1),
                                                  self.expr(right, path + ("args", 1), scope, depth + 1)]}
        operator = BINARY_OPS[kind]
        left, right = tree.children
        return {"op": operator, "args": [self.expr(left, path + ("args", 0), scope, depth + 1), self.expr(right, path + ("args", 1), scope, depth + 1)]}

    def number(self, tree: Tree) -> int | float:
        token = str(tree.children[0])
        if tree.data == "int_literal" and len(token.lstrip("0")) <= 18:
            return int(token)
        if tree.data == "float_literal" and math.isfinite(value := float(token)):
            return value
        raise SpecError([Diagnostic("error", f"the number {token[:20]}{'...' if len(token) > 20 else ''} is out of range",
                                    self.span_of(tree), "integers have at most 18 digits; numbers must be finite")])


_STATEMENT_RULES = {"call_stmt", "repeat_stmt", "concat_stmt", "residual_stmt", "if_stmt", "tap_stmt"}


# ---------------------------------------------------------------------------------------------
# .json


def parse_json(text: str, file: str = "<json>") -> Source:
    text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SpecError([_json_error(error, text, file)], {file: text}) from None
    except RecursionError:
        raise SpecError([Diagnostic("error", "the JSON is nested too deeply")], {file: text}) from None
    if not isinstance(data, dict):
        raise SpecError([Diagnostic("error", f"a JSON spec is an object; received {type(data).__name__}", Span(file, 1, 1, 1, 2))], {file: text})
    pointer = data.pop("$schema", None)  # editors' schema pointer: not part of the spec, kept for fmt
    return Source(data, text, file, "json", schema_pointer=pointer if isinstance(pointer, str) else None)


def _json_error(error: json.JSONDecodeError, text: str, file: str) -> Diagnostic:
    position = error.pos
    before = position - 1
    while before >= 0 and text[before].isspace():
        before -= 1
    if before >= 0 and text[before] == "," and text[position:position + 1] in ("]", "}"):
        line = text.count("\n", 0, before) + 1
        column = before - (text.rfind("\n", 0, before) + 1) + 1
        return Diagnostic("error", f"invalid JSON: a trailing comma before `{text[position]}`", Span(file, line, column, line, column + 1),
                          "JSON allows no comma after the last item")
    span = Span(file, error.lineno, error.colno, error.lineno, error.colno + 1)
    return Diagnostic("error", f"invalid JSON: {error.msg[:1].lower()}{error.msg[1:]}", span)


_JSON_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([{}\[\],:])|(-?[0-9][0-9.eE+-]*|true|false|null))', re.S)


def _json_spans(text: str, file: str) -> dict[DataPath, Span]:
    """Spans of every value in a JSON text that `json.loads` accepted, keyed by JSON path."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(offset: int) -> tuple[int, int]:
        import bisect

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


# ---------------------------------------------------------------------------------------------
# Printing: dict -> canonical .arch text


# Layers that begin a new line when no source layout is known: the course's CBAPD rows start at
# a layer with weights (or a reshape, a merge) and continue with its B, A, P and D.
LINE_STARTERS = frozenset(name for name, entry in REGISTRY.items() if entry.cls.starts_line)


@dataclass
class _Line:
    indent: int
    text: str
    source_lines: list[int] = field(default_factory=list)
    blank_before: bool = False


class ArchPrinter:
    """Prints the plain dict as `.arch` text.

    With a `Source` of the same text, line breaks between statements follow the source (a CBAPD
    unit written on one line stays on one line), blank lines between statements are kept (one at
    most), and comments are re-attached; without one, a new line starts at each layer with
    weights, block call or group.
    """

    def __init__(self, data: dict, source: Source | None = None, known_layers: frozenset[str] = frozenset()):
        self.data = data
        self.source = source if source is not None and source.kind == "arch" else None
        self.known_layers = known_layers
        self.block_names = {block["name"] for block in data.get("blocks", [])}
        self.lines: list[_Line] = []
        self.source_text_lines = self.source.text.split("\n") if self.source else []

    # -- layout helpers

    def start_line(self, path: DataPath) -> int | None:
        if self.source is None:
            return None
        span = self.source.spans.get(tuple(path))
        return span.line if span else None

    def end_line(self, path: DataPath) -> int | None:
        if self.source is None:
            return None
        span = self.source.spans.get(tuple(path))
        return span.end_line if span else None

    def blank_before(self, line: int | None) -> bool:
        if line is None or line < 2:
            return False
        previous = line - 1
        while previous >= 1 and self.source_text_lines[previous - 1].strip().startswith("#"):
            previous -= 1
        return previous >= 1 and not self.source_text_lines[previous - 1].strip()

    # -- output

    def emit(self, indent: int, text: str, source_line: int | None, blank: bool = False) -> _Line:
        line = _Line(indent, text, [source_line] if source_line else [], blank)
        self.lines.append(line)
        return line

    def print(self) -> str:
        data = self.data
        header = f"network {data['network']}{self.param_list(data.get('params', []), set())}"
        self.emit(0, header, self.start_line(("network",)) or (1 if self.source else None))
        network_scope = {p["name"] for p in data.get("params", [])}
        self.emit(0, f"input {self.expr(data['input'], network_scope)}", self.start_line(("input",)))
        for index, block in enumerate(data.get("blocks", [])):
            path = ("blocks", index)
            scope = network_scope | {p["name"] for p in block.get("params", [])}
            start = self.emit(0, f"block {block['name']}{self.param_list(block.get('params', []), network_scope)} {{", self.start_line(path), blank=True)
            self.body(block.get("body", []), path + ("body",), 1, scope)
            self.close(0, path, start)
        body = data.get("body", [])
        if body:
            first = len(self.lines)
            self.body(body, ("body",), 0, network_scope)
            self.lines[first].blank_before = True
        return self.render()

    def close(self, indent: int, path: DataPath, opening: _Line, prefix: str = "}", line: int | None = None) -> _Line:
        """Print a closing brace (with what follows it); `line` is its source line if known."""
        source_line = line or self.end_line(path)
        if self.lines[-1] is opening:  # an empty body closes on the same line
            opening.text += prefix.replace("}", " }", 1) if opening.text.endswith("{") else prefix
            if source_line:
                opening.source_lines.append(source_line)
            return opening
        return self.emit(indent, prefix, source_line)

    def param_list(self, params: list[dict], outer_scope: set[str]) -> str:
        if not params:
            return ""
        parts, scope = [], set(outer_scope)
        for param in params:
            if "default" in param:
                parts.append(f"{param['name']}={self.expr(param['default'], scope)}")
            else:
                parts.append(param["name"])
            scope.add(param["name"])
        return "(" + ", ".join(parts) + ")"

    def body(self, statements: list[dict], path: DataPath, indent: int, scope: set[str]) -> None:
        previous_line: int | None = None
        for index, statement in enumerate(statements):
            statement_path = path + (index,)
            line = self.start_line(statement_path)
            simple = self.inline_text(statement, scope)
            current = self.lines[-1] if self.lines else None
            joins = (
                index > 0 and simple is not None and current is not None and current.indent == indent
                and not current.text.endswith("{") and not current.text.startswith("}") and current.text != "}"
                and self.continues_line(statement, line, previous_line)
            )
            if joins:
                current.text += " " + simple
                if line:
                    current.source_lines.append(line)
            elif simple is not None:
                self.emit(indent, simple, line, blank=index > 0 and self.blank_before(line))
            else:
                self.group(statement, statement_path, indent, scope, blank=index > 0 and self.blank_before(line))
            previous_line = self.end_line(statement_path) or line

    def continues_line(self, statement: dict, line: int | None, previous_line: int | None) -> bool:
        if self.source is not None:
            return line is not None and previous_line is not None and line == previous_line
        callee = statement.get("call")
        return callee is not None and callee not in LINE_STARTERS and callee not in self.block_names

    def inline_text(self, statement: dict, scope: set[str]) -> str | None:
        """One-line text of a call, a tap, or a repeated single call; None for groups."""
        if "call" in statement:
            return self.call_text(statement, scope)
        if "tap" in statement:
            return f"@{statement['tap']}"
        if "repeat" in statement and len(statement["body"]) == 1 and "call" in statement["body"][0] and "as" not in statement:
            count = self.expr(statement["repeat"], scope, PRECEDENCE["neg"] + 1)
            return f"{self.call_text(statement['body'][0], scope)} * {count}"
        return None

    def call_text(self, call: dict, scope: set[str]) -> str:
        parts = [f"@{name}" for name in call.get("inputs", [])]
        parts += [self.expr(arg, scope) for arg in call.get("args", [])]
        parts += [f"{key}={self.expr(value, scope)}" for key, value in call.get("kwargs", {}).items()]
        text = call["call"] + (f"({', '.join(parts)})" if parts else "")
        if "as" in call:
            text += f" as {call['as']}"
        return text

    def group(self, statement: dict, path: DataPath, indent: int, scope: set[str], blank: bool) -> None:
        alias = f" as {statement['as']}" if "as" in statement else ""
        line = self.start_line(path)
        if "repeat" in statement:
            opening = self.emit(indent, f"repeat {self.expr(statement['repeat'], scope)} {{", line, blank)
            self.body(statement["body"], path + ("body",), indent + 1, scope)
            self.close(indent, path, opening, "}" + alias)
        elif "concat" in statement:
            opening = self.emit(indent, "concat {", line, blank)
            for index, branch in enumerate(statement["concat"]):
                branch_path = path + ("concat", index)
                one_line = self.one_line_body(branch, branch_path, scope)
                if one_line is not None:
                    self.emit(indent + 1, f"branch {{ {one_line} }}" if one_line else "branch { }", self.start_line(branch_path))
                    continue
                branch_open = self.emit(indent + 1, "branch {", self.start_line(branch_path))
                self.body(branch, branch_path, indent + 2, scope)
                self.close(indent + 1, branch_path, branch_open)
            self.close(indent, path, opening, "}" + alias)
        elif "residual" in statement:
            opening = self.emit(indent, "residual {", line, blank)
            self.body(statement["residual"], path + ("residual",), indent + 1, scope)
            if "shortcut" in statement:
                condition = f" if {self.expr(statement['shortcut_if'], scope)}" if "shortcut_if" in statement else ""
                closing = self.close(indent, path + ("shortcut",), opening, f"}} shortcut{condition} {{", self.start_line(path + ("shortcut",)))
                self.body(statement["shortcut"], path + ("shortcut",), indent + 1, scope)
                self.close(indent, path, closing, "}" + alias)
            else:
                self.close(indent, path, opening, "}" + alias)
        elif "if" in statement:
            self.if_chain(statement, path, indent, scope, f"if {self.expr(statement['if'], scope)} {{", blank)
        else:
            raise ValueError(f"not a statement: {statement!r}")

    def one_line_body(self, statements: list[dict], path: DataPath, scope: set[str]) -> str | None:
        """A branch body on one line: as written in the source, or when short and simple."""
        texts = [self.inline_text(statement, scope) for statement in statements]
        if any(text is None for text in texts):
            return None
        joined = " ".join(texts)  # type: ignore[arg-type]
        if self.source is not None:
            start, end = self.start_line(path), self.end_line(path)
            return joined if start is not None and start == end else None
        return joined if len(joined) <= 60 else None

    def if_chain(self, statement: dict, path: DataPath, indent: int, scope: set[str], opening_text: str, blank: bool = False) -> None:
        opening = self.emit(indent, opening_text, self.start_line(path), blank)
        self.body(statement["then"], path + ("then",), indent + 1, scope)
        self.else_rest(statement, path, indent, scope, opening)

    def else_rest(self, statement: dict, path: DataPath, indent: int, scope: set[str], opening: _Line) -> None:
        """Close an `if` body: nothing more, `} else if ... {` (printed flat), or `} else {`."""
        if "else" not in statement:
            self.close(indent, path, opening)
            return
        otherwise = statement["else"]
        if len(otherwise) == 1 and "if" in otherwise[0]:
            nested = otherwise[0]
            closing = self.close(indent, path + ("else",), opening, f"}} else if {self.expr(nested['if'], scope)} {{",
                                 self.start_line(path + ("else",)))
            self.body(nested["then"], path + ("else", 0, "then"), indent + 1, scope)
            self.else_rest(nested, path + ("else", 0), indent, scope, closing)
            return
        closing = self.close(indent, path + ("else",), opening, "} else {", self.start_line(path + ("else",)))
        self.body(otherwise, path + ("else",), indent + 1, scope)
        self.close(indent, path, closing)

    # -- expressions

    def expr(self, value: Any, scope: set[str], context: int = 0) -> str:
        return render(value, lambda leaf, leaf_context: self.leaf(leaf, scope, leaf_context), context)

    def leaf(self, value: Any, scope: set[str], context: int) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "none"
        if isinstance(value, int):
            return str(value) if value >= 0 or context <= PRECEDENCE["neg"] else f"({value})"
        if isinstance(value, float):
            text = repr(value)
            if text in ("inf", "-inf", "nan"):
                raise ValueError(f"{text} has no .arch spelling")
            return text if value >= 0 or context <= PRECEDENCE["neg"] else f"({text})"
        if isinstance(value, str):
            return self.string(value, scope)
        if isinstance(value, list):
            if len(value) >= 2 and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):  # 0x1 would read as hex
                return "x".join(str(v) for v in value)
            return "[" + ", ".join(self.expr(v, scope) for v in value) + "]"
        if isinstance(value, dict) and "ref" in value:
            return value["ref"]
        raise ValueError(f"not an expression: {value!r}")

    def string(self, value: str, scope: set[str]) -> str:
        if NAME_PATTERN.match(value) and value not in KEYWORDS and value not in scope:
            return value
        if "\n" in value or ('"' in value and "'" in value):
            raise ValueError(f"the string {value!r} has no .arch spelling")
        return f"'{value}'" if '"' in value else f'"{value}"'

    # -- comments and final text

    def render(self) -> str:
        comments = list(self.source.comments) if self.source else []
        trailing = [c for c in comments if c.trailing]
        leading = [c for c in comments if not c.trailing]
        notes: dict[int, list[str]] = {}
        for comment in trailing:
            notes.setdefault(self.trailing_holder(comment.line), []).append(comment.text)
        out: list[str] = []
        pending = 0
        for number, line in enumerate(self.lines):
            anchor = min(line.source_lines) if line.source_lines else None
            own_comments = []
            while pending < len(leading) and anchor is not None and leading[pending].line < anchor:
                own_comments.append(leading[pending])
                pending += 1
            if number > 0 and line.blank_before and out and out[-1] != "":
                out.append("")
            # Comments just before a closing brace belong to the body it closes.
            indent = line.indent + 1 if line.text.startswith("}") else line.indent
            out += ["  " * indent + comment.text for comment in own_comments]
            text = "  " * line.indent + line.text
            if number in notes:
                text += "  " + " ".join(notes[number])
            out.append(text)
        out += [comment.text for comment in leading[pending:]]
        return "\n".join(out) + "\n"

    def trailing_holder(self, source_line: int) -> int:
        """The output line for a comment that follows code on `source_line`: the last line
        printing code from that source line, else the nearest line printed from before it."""
        holding = [index for index, line in enumerate(self.lines) if source_line in line.source_lines]
        if holding:
            return holding[-1]
        before = [index for index, line in enumerate(self.lines) if line.source_lines and max(line.source_lines) <= source_line]
        return before[-1] if before else 0


def to_arch(data: dict, source: Source | None = None) -> str:
    """Canonical `.arch` text of a plain spec dict (see `ArchPrinter`)."""
    return ArchPrinter(data, source).print()


def to_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def parse_value(text: str) -> Any:
    """A command-line value (`--set K=V`): a number, true/false/none, a shape, a list or a word."""
    stripped = text.strip()
    lowered = {"true": True, "false": False, "none": None, "null": None}
    if stripped in lowered:
        return lowered[stripped]
    if re.fullmatch(r"-?[0-9][0-9_]*", stripped):
        return int(stripped)
    if re.fullmatch(r"[0-9]+(x[0-9]+)+", stripped):
        return tuple(int(part) for part in stripped.split("x"))
    try:
        value = float(stripped)
    except ValueError:
        pass
    else:
        if value == value and abs(value) != float("inf"):
            return value
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            raise ValueError(f"cannot read {text!r} as a list") from None
        return _tuples(parsed)
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
        return stripped[1:-1]
    return stripped


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def parse_shape(text: str) -> tuple[int, ...]:
    """`HxWxC` or `N` from the command line."""
    if not re.fullmatch(r"[0-9]+(x[0-9]+)*", text.strip()):
        raise ValueError(f"expected a shape like 32x32x3; received {text!r}")
    shape = tuple(int(part) for part in text.strip().split("x"))
    if len(shape) not in (1, 3) or not all(1 <= n <= MAX_DIMENSION for n in shape):
        raise ValueError(f"expected HxWxC (or one length) with sizes from 1 to {MAX_DIMENSION}; received {text!r}")
    return shape
