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

from typing import Any

from ..errors import DataPath, did_you_mean
from ..source import KEYWORDS, MAX_NESTING, Comment, Positions
from .arch_tokens import END, SyntaxFault, TokenReader

__all__ = ["ArchParser", "NestingTooDeep", "SyntaxFault"]

_STATEMENT_STARTS = frozenset(("NAME", "concat", "repeat", "residual", "if", "@"))


class NestingTooDeep(Exception):
    def __init__(self, start: int):
        self.start = start  # the offset of the statement past the limit


class ArchParser(TokenReader):
    """Reads the tokens into the plain dict. Names are resolved lexically: an identifier that
    names a parameter in scope becomes `{"ref": name}`; any other is a plain string (`same`)."""

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
        self.allowed(data, ("allow",))
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
        return self.bracketed(")", self.param)

    def param(self) -> tuple:
        if self.peek() == "@":
            start = self.starts[self.take("@")]
            name = self.take("NAME")
            return "tap", name, None, start, self.ends[name]
        name = self.take("NAME")
        default = self.expression() if self.take_if("=") is not None else None
        return "param", name, default, self.starts[name], self.last_end()

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
        self.take("{")
        self.allowed(block, path + ("allow",))
        block["body"] = self.statements(path + ("body",), scope, depth=1)
        self.take("}")
        self.mark(path, start, self.last_end())
        return block

    def allowed(self, holder: dict, path: DataPath) -> None:
        """`allow rf-misaligned, unused-layers` lines: each code is words (names or keywords,
        as in `map-output`) joined by `-`."""
        while self.take_if("allow") is not None:
            codes = holder.setdefault("allow", [])
            while True:
                start = self.starts[self.index]
                words = [self.code_word()]
                while self.take_if("-") is not None:
                    words.append(self.code_word())
                self.mark(path + (len(codes),), start, self.last_end())
                codes.append("-".join(words))
                if self.take_if(",") is None:
                    break

    def code_word(self) -> str:
        kind = self.kinds[self.index]
        index = self.take(kind if kind == "NAME" or kind in KEYWORDS else "NAME")
        return self.text[self.starts[index]:self.ends[index]]

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
        return self.bracketed(")", self.argument)

    def argument(self) -> tuple:
        start = self.starts[self.index]
        if self.peek() == "@" and self.peek(2) != ".":
            self.take("@")
            name = self.ref_name()
            return "tap", name, None, start, self.ends[name]
        if self.peek() == "NAME" and self.peek(1) == "=":
            name = self.take("NAME")
            self.take("=")
            value = self.expression()
            return "keyword", name, value, start, value.outer_end
        value = self.expression()
        return "positional", None, value, value.outer_start, value.outer_end

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

_STATEMENT_RULES = {"repeat": "repeat_stmt", "residual": "residual_stmt", "if": "if_stmt", "@": "tap_stmt"}
