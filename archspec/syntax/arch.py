""".arch text to the JSON form's plain dict, with a span for every path it writes.

Takes `.arch` text; parses it with the LALR grammar in `grammar.lark`, turns the tree into the
plain dict a `.json` spec loads to (names of parameters in scope become `{"ref": name}`), and
collects the comments for `fmt`. Hands out a `Source`, or a `SpecError` with a syntax diagnostic.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from ..errors import DataPath, Diagnostic, Span, SpecError, did_you_mean
from ..expr import FUNCTIONS, MAX_INTEGER_DIGITS, SIZE_NAMES, integer_literal
from ..source import (
    ARCH,
    GRAMMAR_FILE,
    MAX_EXPRESSION_DEPTH,
    MAX_NESTING,
    Comment,
    Source,
    code_characters,
    point_span,
)
from .diagnostics import syntax_diagnostic
from .text_limits import refuse_oversized_text

BINARY_OPS = {
    "add_op": "+", "sub_op": "-", "mul_op": "*", "div_op": "/", "floordiv_op": "//",
    "mod_op": "%", "and_op": "and", "or_op": "or",
}
GRAMMAR = GRAMMAR_FILE


@lru_cache(maxsize=1)
def _parser() -> Lark:
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


def parse_arch(text: str, file: str = "<text>") -> Source:
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    if "\x00" in text:
        raise SpecError([Diagnostic("error", "the file contains a NUL byte", point_span(file, text, text.index("\x00")))], {file: text})
    refuse_oversized_text(text, file)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as error:
        raise SpecError([syntax_diagnostic(error, text, file)], {file: text}) from None
    comments = _collect_comments(text)
    builder = _TreeToDict(file)
    try:
        data = builder.module(tree)
    except _NestingTooDeep as error:
        raise SpecError([Diagnostic("error", f"braces are nested more than {MAX_NESTING} levels deep", error.span,
                                        "flatten the nesting, or move inner parts into blocks")], {file: text}) from None
    except SpecError as error:  # the transformer's own faults: give them the source for their excerpt
        raise SpecError(error.diagnostics, {file: text}) from None
    return Source(data, text, file, ARCH, tuple(comments), builder.spans)


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
    return next((index for index, char in code_characters(line) if char == "#"), None)


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
        header, *rest = tree.children
        input_decls = [child for child in rest if isinstance(child, Tree) and child.data == "input_decl"]
        output_decls = [child for child in rest if isinstance(child, Tree) and child.data == "output_decl"]
        rest = [child for child in rest if not (isinstance(child, Tree) and child.data in ("input_decl", "output_decl"))]
        data: dict[str, Any] = {}
        name, *param_list = header.children
        data["network"] = str(name)
        self.mark((), header)
        self.mark(("network",), name)
        scope: set[str] = set()
        if param_list:
            data["params"] = self.params(param_list[0], ("params",), scope)
            scope = {param["name"] for param in data["params"]}
        self.inputs(data, input_decls, scope)
        blocks = [child for child in rest if isinstance(child, Tree) and child.data == "block_def"]
        body = [child for child in rest if not (isinstance(child, Tree) and child.data == "block_def")]
        if blocks:
            data["blocks"] = [self.block(block, ("blocks", index), scope) for index, block in enumerate(blocks)]
        data["body"] = self.statements(body, ("body",), scope, depth=0)
        for output in output_decls:
            data["outputs"] = []
            for index, name in enumerate(output.children):
                self.mark(("outputs", index), name)
                data["outputs"].append(str(name.children[0]) if isinstance(name, Tree) else str(name))
        return data

    def inputs(self, data: dict, declarations: list[Tree], scope: set[str]) -> None:
        """The first `input` is the network's input (`as NAME` optional); each further one is a
        named input (`input 10 as meta`) that the body reads as a tap."""
        first, *more = declarations
        self.mark(("input",), first)
        data["input"] = self.expr(first.children[0], ("input",), scope)
        if len(first.children) > 1:
            self.mark(("input_name",), first.children[1])
            data["input_name"] = str(first.children[1].children[0])
        for index, declaration in enumerate(more):
            path = ("inputs", index)
            if len(declaration.children) < 2:
                raise SpecError([Diagnostic("error", "a further input needs a name, which the body reads as a tap",
                                            self.span_of(declaration), "e.g. `input 10 as meta`, read in the body as `@meta`")])
            self.mark(path, declaration)
            self.mark(path + ("name",), declaration.children[1])
            self.mark(path + ("shape",), declaration.children[0])
            data.setdefault("inputs", []).append({"name": str(declaration.children[1].children[0]),
                                                  "shape": self.expr(declaration.children[0], path + ("shape",), scope)})

    def params(self, tree: Tree, path: DataPath, outer: set[str]) -> list[dict]:
        params = []
        scope = set(outer)
        for index, param in enumerate(tree.children):
            if param.data == "tap_param":
                raise SpecError([Diagnostic("error", "only a block takes tensors (`@name` parameters)", self.span_of(param),
                                            "a network's further inputs are `input SHAPE as NAME` lines")])
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
            taps = [param for param in rest[0].children if param.data == "tap_param"]
            rest[0].children = [param for param in rest[0].children if param.data != "tap_param"]
            if rest[0].children:
                block["params"] = self.params(rest[0], path + ("params",), network_scope)
                scope |= {p["name"] for p in block["params"]}
            for index, tap in enumerate(taps):  # `@p`: a tensor the call passes
                self.mark(path + ("taps", index), tap)
                block.setdefault("taps", []).append(str(tap.children[0]))
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
        return [c for c in tree.children if isinstance(c, Tree) and c.data not in ("alias", "shortcut", "branch", "residual_options")]

    def repeat_stmt(self, tree: Tree, path: DataPath, scope: set[str], depth: int) -> dict:
        count, *rest = tree.children
        body = [c for c in rest if c.data not in ("alias", "repeat_index")]
        index = next((c.children[0] for c in rest if c.data == "repeat_index"), None)
        self.mark(path + ("repeat",), count)
        statement: dict[str, Any] = {"repeat": self.expr(count, path + ("repeat",), scope)}
        if index is not None:  # `repeat n with i`: i counts the copies from 0, a value in the body
            self.mark(path + ("index",), index)
            statement["index"] = str(index)
        inner = scope | {str(index)} if index is not None else scope
        statement["body"] = self.statements(body, path + ("body",), inner, depth)
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
        for options in (c for c in tree.children if isinstance(c, Tree) and c.data == "residual_options"):
            for option in options.children:
                self.residual_option(statement, option, path, scope)
        for shortcut in (c for c in tree.children if isinstance(c, Tree) and c.data == "shortcut"):
            self.mark(path + ("shortcut",), shortcut)
            children = list(shortcut.children)
            if children and not (isinstance(children[0], Tree) and children[0].data.endswith(_STATEMENT_RULE)):
                condition = children.pop(0)
                self.mark(path + ("shortcut_if",), condition)
                statement["shortcut_if"] = self.expr(condition, path + ("shortcut_if",), scope)
            statement["shortcut"] = self.statements(children, path + ("shortcut",), scope, depth)
        return self._alias(statement, tree, path)

    def residual_option(self, statement: dict, option: Tree, path: DataPath, scope: set[str]) -> None:
        """`merge=KIND` (a kind's name) or `scale=EXPR` (the body's factor before an add)."""
        key, value = option.children
        if str(key) in statement:
            raise SpecError([Diagnostic("error", f"residual option `{key}` is given twice", self.span_of(option))])
        if str(key) == "merge":
            if not (isinstance(value, Tree) and value.data == "name" and len(value.children) == 1):
                raise SpecError([Diagnostic("error", "residual's merge is a layer kind's name", self.span_of(value),
                                            "e.g. `residual(merge=multiply) { ... }`")])
            self.mark(path + ("merge",), value)
            statement["merge"] = str(value.children[0])
        elif str(key) == "scale":
            self.mark(path + ("scale",), value)
            statement["scale"] = self.expr(value, path + ("scale",), scope)
        else:
            raise SpecError([Diagnostic("error", f"residual has no option `{key}`", self.span_of(option),
                                        did_you_mean(str(key), ["merge", "scale"])
                                        or "its options are the merge and a scale: `residual(merge=multiply) { ... }`, "
                                           "`residual(scale=0.17) { ... }`")])

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
            text = str(tree.children[0])
            try:
                sizes = [integer_literal(part) for part in text.split("x")]
            except ValueError as error:
                raise SpecError([Diagnostic("error", f"the shape {text[:24]}{'...' if len(text) > 24 else ''} is out of range",
                                            self.span_of(tree), str(error))]) from None
            if 0 in sizes:  # `0x10` is not hexadecimal, and no shape has a size 0
                raise SpecError([Diagnostic("error", f"`{text}` is not a shape: sizes start at 1", self.span_of(tree),
                                            f"for a list, write [{', '.join(map(str, sizes))}]")])
            return sizes
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
        if kind == "received_size":
            name = str(tree.children[0])
            if name not in SIZE_NAMES:
                raise SpecError([Diagnostic("error", f"`in` has no size `{name}`", self.span_of(tree),
                                            did_you_mean(name, SIZE_NAMES) or f"its sizes are {', '.join(SIZE_NAMES)}")])
            return {"in": name}
        if kind == "tap_size":
            tap, size = tree.children
            tap_name, name = str(tap.children[0]) if isinstance(tap, Tree) else str(tap), str(size)
            if name not in SIZE_NAMES:
                raise SpecError([Diagnostic("error", f"a tap has no size `{name}`", self.span_of(size),
                                            did_you_mean(name, SIZE_NAMES) or f"its sizes are {', '.join(SIZE_NAMES)}")])
            return {"in": name, "tap": tap_name}
        if kind == "function_call":
            name, *arguments = tree.children
            if str(name) not in FUNCTIONS:
                raise SpecError([Diagnostic("error", f"unknown function `{name}`", self.span_of(tree),
                                            did_you_mean(str(name), FUNCTIONS) or f"the functions are {', '.join(FUNCTIONS)}")])
            return {"op": str(name), "args": [self.expr(argument, path + ("args", index), scope, depth + 1)
                                              for index, argument in enumerate(arguments)]}
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
        if tree.data == "int_literal" and len(token.lstrip("0")) <= MAX_INTEGER_DIGITS:
            return int(token)
        if tree.data == "float_literal" and math.isfinite(value := float(token)):
            return value
        raise SpecError([Diagnostic("error", f"the number {token[:20]}{'...' if len(token) > 20 else ''} is out of range",
                                    self.span_of(tree), f"integers have at most {MAX_INTEGER_DIGITS} digits; numbers must be finite")])


_STATEMENT_RULE = "_stmt"  # the grammar names every statement rule so; TreeToDict has a method for each
