""".arch tokens to the JSON form's plain dict in one pass, with the text offsets of every path.

Takes `.arch` text; hands out the plain dict a `.json` spec loads to (names of parameters in
scope become `{"ref": name}`) and a dict of (start, end) offsets per JSON path. It builds no
parse tree: statements are read straight into dicts, and only expressions, which are small,
become nodes first (their depth limit and their faults are checked top-down, in the order the
text gives them).

`grammar.lark` is the language's definition; this reader accepts exactly the texts it accepts
(tests/test_arch_parser.py holds the two to that). Where the text breaks the grammar, it
raises `SyntaxFault` and the caller asks lark for the diagnostic; lark is imported only then.
Faults of meaning (an unknown function, an argument given twice) are `SpecError`s.
"""

from __future__ import annotations

import math
import re
from sys import intern
from typing import Any

from ..errors import DataPath, Diagnostic, SpecError, did_you_mean
from ..expr import FUNCTIONS, MAX_INTEGER_DIGITS, SIZE_NAMES, integer_literal
from ..source import KEYWORDS, MAX_EXPRESSION_DEPTH, MAX_NESTING, Comment, Positions

# The grammar's terminals, in lark's order of preference: SHAPE and FLOAT (priority 2) before
# INT, comparisons before `=`, `//` before `/`. A name that spells a keyword is that keyword.
_TOKEN = re.compile(r"""
    (?P<space>[ \t\f\r\n]+)
  | (?P<comment>\#[^\n]*)
  | (?P<SHAPE>[0-9]+(?:x[0-9]+)+(?![A-Za-z0-9_]))
  | (?P<FLOAT>[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+|\.[0-9]+(?:[eE][-+]?[0-9]+)?)
  | (?P<INT>[0-9]+)
  | (?P<NAME>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<STRING>"[^"\n\\]*"|'[^'\n\\]*')
  | (?P<COMPARE>==|!=|<=|>=|<|>)
  | (?P<punctuation>//|[-+*/%=(){}\[\],@.])
""", re.VERBOSE)
_SKIPPED = frozenset(("space", "comment"))
_BY_TEXT = frozenset(("punctuation",))
END = "$END"
# Binary operators by binding strength (or 1 ... product 6); comparisons (4) do not chain.
_BINARY = {"or": (1, "or_op"), "and": (2, "and_op"), "+": (5, "add_op"), "-": (5, "sub_op"),
           "*": (6, "mul_op"), "/": (6, "div_op"), "//": (6, "floordiv_op"), "%": (6, "mod_op")}
_COMPARISON = 4
_NOT = 3
BINARY_OPS = {"add_op": "+", "sub_op": "-", "mul_op": "*", "div_op": "/", "floordiv_op": "//",
              "mod_op": "%", "and_op": "and", "or_op": "or"}
_LITERALS = {"INT": "int_literal", "FLOAT": "float_literal", "SHAPE": "shape_literal", "STRING": "string_literal"}
_CONSTANTS = {"true": ("true_literal", True), "false": ("false_literal", False), "none": ("none_literal", None)}
_STATEMENT_STARTS = frozenset(("NAME", "concat", "repeat", "residual", "if", "@"))


class SyntaxFault(Exception):
    """The text breaks the grammar here; lark says how."""


class NestingTooDeep(Exception):
    def __init__(self, start: int):
        self.start = start  # the offset of the statement past the limit


class _Expr:
    """One expression node: its kind (the grammar's rule name), its own extent and the extent of
    the parentheses around it (a parent's extent starts and ends at its children's outer ones)."""

    __slots__ = ("kind", "start", "end", "outer_start", "outer_end", "text", "children", "detail")

    def __init__(self, kind: str, start: int, end: int, text: str = "", children: tuple = (), detail: Any = None):
        self.kind, self.start, self.end, self.text, self.children, self.detail = kind, start, end, text, children, detail
        self.outer_start, self.outer_end = start, end


def tokenize(text: str) -> tuple[list[str], list[str], list[int], list[int], list[int]]:
    """Parallel lists of the tokens' kinds, texts, start and end offsets, ending with `$END`;
    and the start offset of each comment."""
    comments: list[int] = []
    kinds: list[str] = []
    values: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() != position:
            raise SyntaxFault  # a character no terminal starts with
        position = match.end()
        kind = match.lastgroup
        if kind in _SKIPPED:
            if kind == "comment":
                comments.append(match.start())
            continue
        value = match.group()
        if kind in _BY_TEXT or (kind == "NAME" and value in KEYWORDS):
            kind = value
        elif kind == "NAME":
            value = intern(value)  # a large spec names a few kinds many times: one string each
        kinds.append(kind)  # type: ignore[arg-type]
        values.append(value)
        starts.append(match.start())
        ends.append(position)
    if position != len(text):
        raise SyntaxFault
    kinds.append(END)
    values.append("")
    starts.append(len(text))
    ends.append(len(text))
    return kinds, values, starts, ends, comments


class ArchParser:
    """Reads the tokens into the plain dict. Names are resolved lexically: an identifier that
    names a parameter in scope becomes `{"ref": name}`; any other is a plain string (`same`)."""

    def __init__(self, text: str, file: str):
        self.file, self.text = file, text
        self.kinds, self.values, self.starts, self.ends, self.comment_starts = tokenize(text)
        self.index = 0
        self.offsets: dict[DataPath, tuple[int, int]] = {}

    # -- tokens

    def peek(self, ahead: int = 0) -> str:
        return self.kinds[min(self.index + ahead, len(self.kinds) - 1)]

    def take(self, kind: str) -> int:
        """The index of the next token, which must be of `kind`."""
        index = self.index
        if self.kinds[index] != kind:
            raise SyntaxFault
        self.index = index + 1
        return index

    def take_if(self, kind: str) -> int | None:
        return self.take(kind) if self.kinds[self.index] == kind else None

    def last_end(self) -> int:
        return self.ends[self.index - 1]

    def mark(self, path: DataPath, start: int, end: int) -> None:
        self.offsets[path] = (start, end)

    def mark_token(self, path: DataPath, index: int) -> None:
        self.offsets[path] = (self.starts[index], self.ends[index])

    def comments(self) -> list[Comment]:
        """The comments with their positions, for `fmt`: each runs to the end of its line."""
        positions = Positions(self.file, self.text, {})
        comments = []
        for start in self.comment_starts:
            end = self.text.find("\n", start)
            span = positions.span_between(start, start)
            line_start = start - span.column + 1
            comments.append(Comment(span.line, span.column, self.text[start:len(self.text) if end < 0 else end].rstrip(),
                                    bool(self.text[line_start:start].strip())))
        return comments

    def fault(self, message: str, start: int, end: int, hint: str | None = None) -> SpecError:
        span = Positions(self.file, self.text, {}).span_between(start, end)
        return SpecError([Diagnostic("error", message, span, hint)])

    # -- top level

    def module(self) -> tuple[dict, dict[DataPath, tuple[int, int]]]:
        data: dict[str, Any] = {}
        start = self.starts[self.take("network")]
        name = self.take("NAME")
        data["network"] = self.values[name]
        params = self.param_list() if self.peek() == "(" else None
        self.mark((), start, self.last_end())
        self.mark_token(("network",), name)
        scope: set[str] = set()
        if params is not None:
            data["params"] = self.params(params, ("params",), scope, allow_taps=False)
            scope = {param["name"] for param in data["params"]}
        self.inputs(data, scope)
        blocks = []
        while self.peek() == "block":
            blocks.append(self.block(("blocks", len(blocks)), scope))
        if blocks:
            data["blocks"] = blocks
        data["body"] = self.statements(("body",), scope, depth=0)
        if self.peek() == "output":
            self.outputs(data)
        self.take(END)
        return data, self.offsets

    def inputs(self, data: dict, scope: set[str]) -> None:
        """The first `input` is the network's input (`as NAME` optional); each further one is a
        named input (`input 10 as meta`) that the body reads as a tap."""
        count = 0
        while self.peek() == "input":
            start = self.starts[self.take("input")]
            shape = self.expression()
            alias = self.alias()
            end = self.last_end()
            if count == 0:
                self.mark(("input",), start, end)
                data["input"] = self.convert(shape, ("input",), scope)
                if alias is not None:
                    self.mark(("input_name",), self.starts[alias - 1], self.ends[alias])
                    data["input_name"] = self.values[alias]
            else:
                path = ("inputs", count - 1)
                if alias is None:
                    raise self.fault("a further input needs a name, which the body reads as a tap", start, end,
                                     "e.g. `input 10 as meta`, read in the body as `@meta`")
                self.mark(path, start, end)
                self.mark(path + ("name",), self.starts[alias - 1], self.ends[alias])
                data.setdefault("inputs", []).append({"name": self.values[alias], "shape": self.convert(shape, path + ("shape",), scope)})
            count += 1
        if count == 0:
            raise SyntaxFault

    def param_list(self) -> list[tuple]:
        """`(a, b=1, @x)` read as (kind, name token, default, start, end) items, converted later."""
        self.take("(")
        items: list[tuple] = []
        while self.peek() != ")":
            if items:
                self.take(",")
                if self.peek() == ")":
                    break
            if self.peek() == "@":
                start = self.starts[self.take("@")]
                name = self.take("NAME")
                items.append(("tap", name, None, start, self.ends[name]))
                continue
            name = self.take("NAME")
            default = self.expression() if self.take_if("=") is not None else None
            items.append(("param", name, default, self.starts[name], self.last_end()))
        self.take(")")
        return items

    def params(self, items: list[tuple], path: DataPath, outer: set[str], allow_taps: bool) -> list[dict]:
        params = []
        scope = set(outer)
        for kind, name, default, start, end in items:
            if kind == "tap":
                if allow_taps:
                    continue
                raise self.fault("only a block takes tensors (`@name` parameters)", start, end,
                                 "a network's further inputs are `input SHAPE as NAME` lines")
            index = len(params)
            entry: dict[str, Any] = {"name": self.values[name]}
            self.mark(path + (index,), start, end)
            self.mark_token(path + (index, "name"), name)
            if default is not None:
                entry["default"] = self.convert(default, path + (index, "default"), scope)
            params.append(entry)
            scope.add(self.values[name])
        return params

    def block(self, path: DataPath, network_scope: set[str]) -> dict:
        start = self.starts[self.take("block")]
        name = self.take("NAME")
        block: dict[str, Any] = {"name": self.values[name]}
        self.mark_token(path + ("name",), name)
        scope = set(network_scope)
        if self.peek() == "(":
            items = self.param_list()
            params = self.params(items, path + ("params",), network_scope, allow_taps=True)
            if params:
                block["params"] = params
                scope |= {param["name"] for param in params}
            for index, (_, tap, _, tap_start, tap_end) in enumerate(item for item in items if item[0] == "tap"):
                self.mark(path + ("taps", index), tap_start, tap_end)  # `@p`: a tensor the call passes
                block.setdefault("taps", []).append(self.values[tap])
        block["body"] = self.braced_statements(path + ("body",), scope, depth=1)
        self.mark(path, start, self.last_end())
        return block

    def outputs(self, data: dict) -> None:
        self.take("output")
        data["outputs"] = []
        while True:
            self.take("@")
            name = self.ref_name()
            self.mark_token(("outputs", len(data["outputs"])), name)
            data["outputs"].append(self.values[name])
            if self.take_if(",") is None:
                return

    def ref_name(self) -> int:
        if self.peek() == "input":
            return self.take("input")
        return self.take("NAME")

    def alias(self) -> int | None:
        """`as NAME`: the name token's index."""
        if self.take_if("as") is None:
            return None
        return self.take("NAME")

    def mark_alias(self, statement: dict, alias: int | None, path: DataPath) -> dict:
        if alias is not None:
            statement["as"] = self.values[alias]
            self.mark_token(path + ("as",), alias)
        return statement

    # -- statements

    def statements(self, path: DataPath, scope: set[str], depth: int) -> list[dict]:
        result: list[dict] = []
        while self.kinds[self.index] in _STATEMENT_STARTS:
            result.append(self.statement(path + (len(result),), scope, depth))
        return result

    def braced_statements(self, path: DataPath, scope: set[str], depth: int) -> list[dict]:
        self.take("{")
        result = self.statements(path, scope, depth)
        self.take("}")
        return result

    def statement(self, path: DataPath, scope: set[str], depth: int) -> dict:
        start = self.starts[self.index]
        if depth > MAX_NESTING:
            raise NestingTooDeep(start)
        kind = self.kinds[self.index]
        if kind == "concat" and self.peek(1) == "{":
            rule = self.concat_stmt
        else:
            rule = getattr(self, _STATEMENT_RULES.get(kind, "call_stmt"))
        statement = rule(path, scope, depth + 1)
        self.mark(path, start, self.last_end())
        return statement

    def call_stmt(self, path: DataPath, scope: set[str], depth: int) -> dict:
        start = self.starts[self.index]
        callee = self.index
        if self.kinds[callee] not in ("NAME", "concat"):
            raise SyntaxFault
        self.index += 1
        arguments = self.argument_list() if self.peek() == "(" else None
        alias = self.alias()
        count = self.count() if self.take_if("*") is not None else None
        # `call * n` is sugar for a repeat whose body is that one call: the call's parts are
        # recorded under the body's path from the start.
        call_path = path + ("body", 0) if count is not None else path
        self.mark(call_path, start, self.last_end())
        statement: dict[str, Any] = {"call": self.values[callee]}
        self.mark_token(call_path + ("call",), callee)
        if arguments is not None:
            statement.update(self.arguments(arguments, call_path, scope))
        self.mark_alias(statement, alias, call_path)
        if count is None:
            return statement
        return {"repeat": self.convert(count, path + ("repeat",), scope), "body": [statement]}

    def argument_list(self) -> list[tuple]:
        """`(16, 3, padding=same, @skip)` as (kind, name token, expression, start, end) items."""
        self.take("(")
        items: list[tuple] = []
        while self.peek() != ")":
            if items:
                self.take(",")
                if self.peek() == ")":
                    break
            start = self.starts[self.index]
            if self.peek() == "@" and self.peek(2) != ".":
                self.take("@")
                name = self.ref_name()
                items.append(("tap", name, None, start, self.ends[name]))
            elif self.peek() == "NAME" and self.peek(1) == "=":
                name = self.take("NAME")
                self.take("=")
                value = self.expression()
                items.append(("keyword", name, value, start, value.outer_end))
            else:
                value = self.expression()
                items.append(("positional", None, value, value.outer_start, value.outer_end))
        self.take(")")
        return items

    def arguments(self, items: list[tuple], path: DataPath, scope: set[str]) -> dict:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        inputs: list[str] = []
        for kind, name, value, start, end in items:
            if kind == "positional":
                args.append(self.convert(value, path + ("args", len(args)), scope))
            elif kind == "keyword":
                key = self.values[name]
                if key in kwargs:
                    raise self.fault(f"argument `{key}` is given twice", start, end)
                kwargs[key] = self.convert(value, path + ("kwargs", key), scope)
                # The whole `name=value`, so a fault in either is shown with its name.
                self.mark(path + ("kwargs", key), start, end)
            else:
                self.mark(path + ("inputs", len(inputs)), start, end)
                inputs.append(self.values[name])
        result: dict[str, Any] = {}
        if inputs:
            result["inputs"] = inputs
        if args:
            result["args"] = args
        if kwargs:
            result["kwargs"] = kwargs
        return result

    def repeat_stmt(self, path: DataPath, scope: set[str], depth: int) -> dict:
        self.take("repeat")
        count = self.expression()
        statement: dict[str, Any] = {"repeat": self.convert(count, path + ("repeat",), scope)}
        inner = scope
        if self.take_if("with") is not None:  # `repeat n with i`: i counts the copies from 0, a value in the body
            index = self.take("NAME")
            self.mark_token(path + ("index",), index)
            statement["index"] = self.values[index]
            inner = scope | {self.values[index]}
        statement["body"] = self.braced_statements(path + ("body",), inner, depth)
        return self.mark_alias(statement, self.alias(), path)

    def concat_stmt(self, path: DataPath, scope: set[str], depth: int) -> dict:
        self.take("concat")
        self.take("{")
        branches = []
        while self.peek() == "branch":
            branch_path = path + ("concat", len(branches))
            start = self.starts[self.take("branch")]
            branches.append(self.braced_statements(branch_path, scope, depth))
            self.mark(branch_path, start, self.last_end())
        self.take("}")
        return self.mark_alias({"concat": branches}, self.alias(), path)

    def residual_stmt(self, path: DataPath, scope: set[str], depth: int) -> dict:
        self.take("residual")
        options = self.residual_options() if self.peek() == "(" else []
        statement: dict[str, Any] = {"residual": self.braced_statements(path + ("residual",), scope, depth)}
        for option in options:
            self.residual_option(statement, option, path, scope)
        if self.peek() == "shortcut":
            start = self.starts[self.take("shortcut")]
            condition = self.expression() if self.take_if("if") is not None else None
            if condition is not None:
                statement["shortcut_if"] = self.convert(condition, path + ("shortcut_if",), scope)
            statement["shortcut"] = self.braced_statements(path + ("shortcut",), scope, depth)
            self.mark(path + ("shortcut",), start, self.last_end())
        return self.mark_alias(statement, self.alias(), path)

    def residual_options(self) -> list[tuple]:
        self.take("(")
        options = [self.residual_option_text()]
        while self.take_if(",") is not None:
            if self.peek() == ")":
                break
            options.append(self.residual_option_text())
        self.take(")")
        return options

    def residual_option_text(self) -> tuple:
        name = self.take("NAME")
        self.take("=")
        value = self.expression()
        return name, value, self.starts[name], value.outer_end

    def residual_option(self, statement: dict, option: tuple, path: DataPath, scope: set[str]) -> None:
        """`merge=KIND` (a kind's name) or `scale=EXPR` (the body's factor before an add)."""
        name, value, start, end = option
        key = self.values[name]
        if key in statement:
            raise self.fault(f"residual option `{key}` is given twice", start, end)
        if key == "merge":
            if value.kind != "name":
                raise self.fault("residual's merge is a layer kind's name", value.start, value.end,
                                 "e.g. `residual(merge=multiply) { ... }`")
            self.mark(path + ("merge",), value.start, value.end)
            statement["merge"] = value.text
        elif key == "scale":
            statement["scale"] = self.convert(value, path + ("scale",), scope)
        else:
            raise self.fault(f"residual has no option `{key}`", start, end,
                             did_you_mean(key, ["merge", "scale"])
                             or "its options are the merge and a scale: `residual(merge=multiply) { ... }`, "
                                "`residual(scale=0.17) { ... }`")

    def if_stmt(self, path: DataPath, scope: set[str], depth: int) -> dict:
        self.take("if")
        condition = self.expression()
        statement: dict[str, Any] = {"if": self.convert(condition, path + ("if",), scope)}
        statement["then"] = self.braced_statements(path + ("then",), scope, depth)
        if self.peek() == "else":
            start = self.starts[self.take("else")]
            if self.peek() == "if":
                statement["else"] = [self.statement(path + ("else", 0), scope, depth)]
            else:
                statement["else"] = self.braced_statements(path + ("else",), scope, depth)
            self.mark(path + ("else",), start, self.last_end())
        return statement

    def tap_stmt(self, path: DataPath, scope: set[str], depth: int) -> dict:
        self.take("@")
        name = self.ref_name()
        self.mark_token(path + ("tap",), name)
        return {"tap": self.values[name]}

    # -- expressions: read into nodes, then converted top-down

    def expression(self, strength: int = 0) -> _Expr:
        """An expression whose operators bind at least as tightly as `strength` (precedence
        climbing over the grammar's levels: or, and, not, comparison, sum, product, unary)."""
        left = self.negation() if self.kinds[self.index] == "not" and strength <= _NOT else self.unary()
        while True:
            kind = self.kinds[self.index]
            if kind == "COMPARE":
                if strength > _COMPARISON:
                    return left
                operator = self.values[self.index]
                self.index += 1
                right = self.expression(_COMPARISON + 1)
                left = _Expr("compare", left.outer_start, right.outer_end, operator, (left, right))
                if self.kinds[self.index] == "COMPARE":
                    raise SyntaxFault  # comparisons do not chain
                continue
            binding = _BINARY.get(kind)
            if binding is None or binding[0] < strength:
                return left
            self.index += 1
            right = self.expression(binding[0] + 1)
            left = _Expr(binding[1], left.outer_start, right.outer_end, "", (left, right))

    def negation(self) -> _Expr:
        """`not not x`: read as a loop, so a long run of `not`s cannot exhaust the stack."""
        starts = []
        while self.kinds[self.index] == "not":
            starts.append(self.starts[self.index])
            self.index += 1
        node = self.expression(_COMPARISON)
        for start in reversed(starts):
            node = _Expr("not_op", start, node.outer_end, "", (node,))
        return node

    def unary(self) -> _Expr:
        starts = []
        while self.kinds[self.index] == "-":
            starts.append(self.starts[self.index])
            self.index += 1
        node = self.atom()
        for start in reversed(starts):
            node = _Expr("neg_op", start, node.outer_end, "", (node,))
        return node

    def atom(self) -> _Expr:
        index, kind = self.index, self.kinds[self.index]
        start, end = self.starts[index], self.ends[index]
        if kind in _LITERALS:
            self.index += 1
            return _Expr(_LITERALS[kind], start, end, self.values[index])
        if kind in _CONSTANTS:
            self.index += 1
            return _Expr(_CONSTANTS[kind][0], start, end, kind)
        if kind == "NAME":
            self.index += 1
            if self.kinds[self.index] != "(":
                return _Expr("name", start, end, self.values[index])
            return self.function_call(index)
        if kind == "in":
            return self.received_size()
        if kind == "@":
            return self.tap_size()
        if kind == "[":
            self.index += 1
            items: list[_Expr] = []
            while self.kinds[self.index] != "]":
                if items:
                    self.take(",")
                    if self.kinds[self.index] == "]":
                        break
                items.append(self.expression())
            self.take("]")
            return _Expr("list_literal", start, self.last_end(), "", tuple(items))
        if kind == "(":
            return self.parenthesized()
        raise SyntaxFault

    def parenthesized(self) -> _Expr:
        start = self.starts[self.take("(")]
        node = self.expression()
        self.take(")")
        node.outer_start, node.outer_end = start, self.last_end()
        return node

    def function_call(self, name: int) -> _Expr:
        self.take("(")
        arguments = [self.expression()]
        while self.take_if(",") is not None:
            arguments.append(self.expression())
        self.take(")")
        return _Expr("function_call", self.starts[name], self.last_end(), self.values[name], tuple(arguments))

    def received_size(self) -> _Expr:
        start = self.starts[self.take("in")]
        self.take(".")
        size = self.take("NAME")
        return _Expr("received_size", start, self.ends[size], self.values[size])

    def tap_size(self) -> _Expr:
        start = self.starts[self.take("@")]
        tap = self.ref_name()
        self.take(".")
        size = self.take("NAME")
        return _Expr("tap_size", start, self.ends[size], self.values[size], detail=(self.values[tap], size))

    def count(self) -> _Expr:
        """A repeat suffix's count, `* n`: a narrower set of atoms than an expression's."""
        kind = self.kinds[self.index]
        if kind == "INT" or kind == "NAME":
            return self.atom()  # an integer, a name or a function call
        if kind == "in":
            return self.received_size()
        if kind == "@":
            return self.tap_size()
        if kind == "(":
            return self.parenthesized()
        raise SyntaxFault

    def convert(self, node: _Expr, path: DataPath, scope: set[str], depth: int = 0) -> Any:
        """A node's plain-dict value, marking every path it writes; faults in text order."""
        if depth > MAX_EXPRESSION_DEPTH:
            raise self.fault(f"the expression is nested more than {MAX_EXPRESSION_DEPTH} operations deep",
                             node.start, node.end, "split it with block parameters")
        self.offsets[path] = (node.start, node.end)
        kind = node.kind
        if kind == "int_literal" or kind == "float_literal":
            return self.number(node)
        if kind == "name":
            return {"ref": node.text} if node.text in scope else node.text
        if kind == "shape_literal":
            return self.shape(node)
        if kind == "string_literal":
            return node.text[1:-1]
        if kind in ("true_literal", "false_literal", "none_literal"):
            return _CONSTANTS[node.text][1]
        if kind == "received_size":
            if node.text not in SIZE_NAMES:
                raise self.fault(f"`in` has no size `{node.text}`", node.start, node.end,
                                 did_you_mean(node.text, SIZE_NAMES) or f"its sizes are {', '.join(SIZE_NAMES)}")
            return {"in": node.text}
        if kind == "tap_size":
            tap_name, size = node.detail
            if node.text not in SIZE_NAMES:
                raise self.fault(f"a tap has no size `{node.text}`", self.starts[size], self.ends[size],
                                 did_you_mean(node.text, SIZE_NAMES) or f"its sizes are {', '.join(SIZE_NAMES)}")
            return {"in": node.text, "tap": tap_name}
        if kind == "function_call":
            if node.text not in FUNCTIONS:
                raise self.fault(f"unknown function `{node.text}`", node.start, node.end,
                                 did_you_mean(node.text, FUNCTIONS) or f"the functions are {', '.join(FUNCTIONS)}")
            return {"op": node.text, "args": [self.convert(argument, path + ("args", index), scope, depth + 1)
                                              for index, argument in enumerate(node.children)]}
        if kind == "list_literal":
            return [self.convert(child, path + (index,), scope, depth + 1) for index, child in enumerate(node.children)]
        if kind == "neg_op":
            operand = self.convert(node.children[0], path + ("args", 0), scope, depth + 1)
            if isinstance(operand, (int, float)) and not isinstance(operand, bool):
                return -operand  # fold `-1` into a literal so the JSON form stays plain
            return {"op": "neg", "args": [operand]}
        if kind == "not_op":
            return {"op": "not", "args": [self.convert(node.children[0], path + ("args", 0), scope, depth + 1)]}
        operator = node.text if kind == "compare" else BINARY_OPS[kind]
        left, right = node.children
        return {"op": operator, "args": [self.convert(left, path + ("args", 0), scope, depth + 1),
                                         self.convert(right, path + ("args", 1), scope, depth + 1)]}

    def number(self, node: _Expr) -> int | float:
        token = node.text
        if node.kind == "int_literal" and len(token.lstrip("0")) <= MAX_INTEGER_DIGITS:
            return int(token)
        if node.kind == "float_literal" and math.isfinite(value := float(token)):
            return value
        raise self.fault(f"the number {token[:20]}{'...' if len(token) > 20 else ''} is out of range", node.start, node.end,
                         f"integers have at most {MAX_INTEGER_DIGITS} digits; numbers must be finite")

    def shape(self, node: _Expr) -> list[int]:
        text = node.text
        try:
            sizes = [integer_literal(part) for part in text.split("x")]
        except ValueError as error:
            raise self.fault(f"the shape {text[:24]}{'...' if len(text) > 24 else ''} is out of range",
                             node.start, node.end, str(error)) from None
        if 0 in sizes:  # `0x10` is not hexadecimal, and no shape has a size 0
            raise self.fault(f"`{text}` is not a shape: sizes start at 1", node.start, node.end,
                             f"for a list, write [{', '.join(map(str, sizes))}]")
        return sizes


# The statement a token starts (a name starts a call; `concat` too unless a `{` follows).
_STATEMENT_RULES = {"repeat": "repeat_stmt", "residual": "residual_stmt", "if": "if_stmt", "@": "tap_stmt"}
