""".arch tokens and expressions: the lexer, a token cursor, and the expression reader that
the statement reader (`arch_parser`) builds on.

Takes `.arch` text; `tokenize` hands out parallel lists of kinds, texts and offsets. `TokenReader`
walks them, reads expressions into small nodes (`ExprNode`) by precedence climbing, and converts
a node to its plain-dict value top-down, marking the offsets of every path it writes, with the
expression depth limit and each fault checked in the order the text gives them. Where the text
breaks the grammar it raises `SyntaxFault` (the caller asks lark how).
"""

from __future__ import annotations

import math
import re
from sys import intern
from typing import Any, Callable

from ..errors import DataPath, Diagnostic, SpecError, did_you_mean
from ..expr import FUNCTIONS, MAX_INTEGER_DIGITS, SIZE_NAMES, integer_literal
from ..source import KEYWORDS, MAX_EXPRESSION_DEPTH, Positions

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


class SyntaxFault(Exception):
    """The text breaks the grammar here; lark says how."""



class ExprNode:
    """One expression node: its kind (the grammar's rule name), its own extent and the extent of
    the parentheses around it (a parent's extent starts and ends at its children's outer ones)."""

    __slots__ = ("kind", "start", "end", "outer_start", "outer_end", "text", "children", "detail")

    def __init__(self, kind: str, start: int, end: int, text: str = "", children: tuple = (), detail: Any = None):
        self.kind, self.start, self.end, self.text, self.children, self.detail = kind, start, end, text, children, detail
        self.outer_start, self.outer_end = start, end



_END_PADDING = 4  # more than `peek` looks ahead (2), also after `$END` is taken


def tokenize(text: str) -> tuple[list[str], list[str], list[int], list[int], list[int]]:
    """Parallel lists of the tokens' kinds, texts, start and end offsets, ending with `$END`
    (repeated, so the reader may look ahead past the end without a bounds check); and the start
    offset of each comment."""
    comments: list[int] = []
    kinds: list[str] = []
    values: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    keywords, by_text = KEYWORDS, _BY_TEXT
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        if start != position:
            raise SyntaxFault  # a character no terminal starts with
        position = end
        kind = match.lastgroup
        if kind == "space":
            continue
        if kind == "comment":
            comments.append(start)
            continue
        value = match.group()
        if kind == "NAME":
            if value in keywords:
                kind = value
            else:
                value = intern(value)  # a large spec names a few kinds many times: one string each
        elif kind in by_text:
            kind = value
        kinds.append(kind)  # type: ignore[arg-type]
        values.append(value)
        starts.append(start)
        ends.append(end)
    if position != len(text):
        raise SyntaxFault
    kinds += [END] * _END_PADDING
    values += [""] * _END_PADDING
    starts += [len(text)] * _END_PADDING
    ends += [len(text)] * _END_PADDING
    return kinds, values, starts, ends, comments


class TokenReader:
    """A cursor over the tokens, and the expression reader."""

    def __init__(self, text: str, file: str):
        self.file, self.text = file, text
        self.kinds, self.values, self.starts, self.ends, self.comment_starts = tokenize(text)
        self.index = 0
        self.offsets: dict[DataPath, tuple[int, int]] = {}

    # -- tokens

    def peek(self, ahead: int = 0) -> str:
        return self.kinds[self.index + ahead]

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

    def fault(self, message: str, start: int, end: int, hint: str | None = None) -> SpecError:
        span = Positions(self.file, self.text, {}).span_between(start, end)
        return SpecError([Diagnostic("error", message, span, hint)])

    def bracketed(self, close: str, item: Callable[[], Any]) -> list[Any]:
        """`( item, item, )` up to `close`: commas between, one trailing comma allowed, none alone."""
        items: list[Any] = []
        while self.peek() != close:
            if items:
                self.take(",")
                if self.peek() == close:
                    break
            items.append(item())
        self.take(close)
        return items

    def ref_name(self) -> int:
        if self.peek() == "input":
            return self.take("input")
        return self.take("NAME")

    # -- expressions: read into nodes, then converted top-down

    def expression(self, strength: int = 0) -> ExprNode:
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
                left = ExprNode("compare", left.outer_start, right.outer_end, operator, (left, right))
                if self.kinds[self.index] == "COMPARE":
                    raise SyntaxFault  # comparisons do not chain
                continue
            binding = _BINARY.get(kind)
            if binding is None or binding[0] < strength:
                return left
            self.index += 1
            right = self.expression(binding[0] + 1)
            left = ExprNode(binding[1], left.outer_start, right.outer_end, "", (left, right))

    def negation(self) -> ExprNode:
        """`not not x`: read as a loop, so a long run of `not`s cannot exhaust the stack."""
        starts = []
        while self.kinds[self.index] == "not":
            starts.append(self.starts[self.index])
            self.index += 1
        node = self.expression(_COMPARISON)
        for start in reversed(starts):
            node = ExprNode("not_op", start, node.outer_end, "", (node,))
        return node

    def unary(self) -> ExprNode:
        starts = []
        while self.kinds[self.index] == "-":
            starts.append(self.starts[self.index])
            self.index += 1
        node = self.atom()
        for start in reversed(starts):
            node = ExprNode("neg_op", start, node.outer_end, "", (node,))
        return node

    def atom(self) -> ExprNode:
        index, kind = self.index, self.kinds[self.index]
        start, end = self.starts[index], self.ends[index]
        if kind in _LITERALS:
            self.index += 1
            return ExprNode(_LITERALS[kind], start, end, self.values[index])
        if kind in _CONSTANTS:
            self.index += 1
            return ExprNode(_CONSTANTS[kind][0], start, end, kind)
        if kind == "NAME":
            self.index += 1
            if self.kinds[self.index] != "(":
                return ExprNode("name", start, end, self.values[index])
            return self.function_call(index)
        if kind == "in":
            return self.received_size()
        if kind == "@":
            return self.tap_size()
        if kind == "[":
            self.index += 1
            items = self.bracketed("]", self.expression)
            return ExprNode("list_literal", start, self.last_end(), "", tuple(items))
        if kind == "(":
            return self.parenthesized()
        raise SyntaxFault

    def parenthesized(self) -> ExprNode:
        start = self.starts[self.take("(")]
        node = self.expression()
        self.take(")")
        node.outer_start, node.outer_end = start, self.last_end()
        return node

    def function_call(self, name: int) -> ExprNode:
        self.take("(")
        arguments = [self.expression()]
        while self.take_if(",") is not None:
            arguments.append(self.expression())
        self.take(")")
        return ExprNode("function_call", self.starts[name], self.last_end(), self.values[name], tuple(arguments))

    def received_size(self) -> ExprNode:
        start = self.starts[self.take("in")]
        self.take(".")
        size = self.take("NAME")
        return ExprNode("received_size", start, self.ends[size], self.values[size])

    def tap_size(self) -> ExprNode:
        start = self.starts[self.take("@")]
        tap = self.ref_name()
        self.take(".")
        size = self.take("NAME")
        return ExprNode("tap_size", start, self.ends[size], self.values[size], detail=(self.values[tap], size))

    def count(self) -> ExprNode:
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

    def convert(self, node: ExprNode, path: DataPath, scope: set[str], depth: int = 0) -> Any:
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

    def number(self, node: ExprNode) -> int | float:
        token = node.text
        if node.kind == "int_literal" and len(token.lstrip("0")) <= MAX_INTEGER_DIGITS:
            return int(token)
        if node.kind == "float_literal" and math.isfinite(value := float(token)):
            return value
        raise self.fault(f"the number {token[:20]}{'...' if len(token) > 20 else ''} is out of range", node.start, node.end,
                         f"integers have at most {MAX_INTEGER_DIGITS} digits; numbers must be finite")

    def shape(self, node: ExprNode) -> list[int]:
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
