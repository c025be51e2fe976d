"""The plain spec dict to canonical `.arch` text (`fmt`, `convert --to arch`), and to JSON text.

Takes the JSON form's plain dict and, optionally, the `Source` it was read from; with a source,
line breaks, blank lines and comments follow it. Hands out text that parses back to the same dict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataPath
from ..expr import PRECEDENCE, render
from ..layers import REGISTRY
from ..source import ARCH, KEYWORDS, NAME_PATTERN, Source
from ..spec import Call, ConcatGroup, Repeat, Residual, Tap, statement_tag

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
        self.source = source if source is not None and source.format == ARCH else None
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
        self.allow_line(data, (), 0)
        network_scope = {p["name"] for p in data.get("params", [])}
        named = f" as {data['input_name']}" if "input_name" in data else ""
        self.emit(0, f"input {self.expr(data['input'], network_scope)}{named}", self.start_line(("input",)))
        for index, further in enumerate(data.get("inputs", [])):
            self.emit(0, f"input {self.expr(further['shape'], set())} as {further['name']}", self.start_line(("inputs", index)))
        for index, block in enumerate(data.get("blocks", [])):
            path = ("blocks", index)
            scope = network_scope | {p["name"] for p in block.get("params", [])}
            params = self.param_list(block.get("params", []), network_scope, [f"@{tap}" for tap in block.get("taps", [])])
            start = self.emit(0, f"block {block['name']}{params} {{", self.start_line(path), blank=True)
            self.allow_line(block, path, 1)
            self.body(block.get("body", []), path + ("body",), 1, scope)
            self.close(0, path, start)
        body = data.get("body", [])
        if body:
            first = len(self.lines)
            self.body(body, ("body",), 0, network_scope)
            self.lines[first].blank_before = True
        if data.get("outputs"):
            self.emit(0, "output " + ", ".join(f"@{name}" for name in data["outputs"]), self.start_line(("outputs", 0)), blank=True)
        return self.render()

    def allow_line(self, holder: dict, path: DataPath, indent: int) -> None:
        """`allow a, b`: the warning codes of the network or of a block, on one line."""
        if holder.get("allow"):
            self.emit(indent, "allow " + ", ".join(holder["allow"]), self.start_line(path + ("allow", 0)))

    def close(self, indent: int, path: DataPath, opening: _Line, prefix: str = "}", line: int | None = None) -> _Line:
        """Print a closing brace (with what follows it); `line` is its source line if known."""
        source_line = line or self.end_line(path)
        if self.lines[-1] is opening:  # an empty body closes on the same line
            opening.text += prefix.replace("}", " }", 1) if opening.text.endswith("{") else prefix
            if source_line:
                opening.source_lines.append(source_line)
            return opening
        return self.emit(indent, prefix, source_line)

    def param_list(self, params: list[dict], outer_scope: set[str], taps: list[str] = ()) -> str:
        """`(a, b=2, @p)`: the value parameters, then a block's tensor parameters."""
        if not params and not taps:
            return ""
        parts, scope = [], set(outer_scope)
        for param in params:
            if "default" in param:
                parts.append(f"{param['name']}={self.expr(param['default'], scope)}")
            else:
                parts.append(param["name"])
            scope.add(param["name"])
        return "(" + ", ".join([*parts, *taps]) + ")"

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
        callee = statement.get(Call.key)
        return callee is not None and callee not in LINE_STARTERS and callee not in self.block_names

    def inline_text(self, statement: dict, scope: set[str]) -> str | None:
        """One-line text of a statement by its kind's `inline_<key>` rule; None for a statement
        that prints as a group."""
        rule = getattr(self, f"inline_{statement_tag(statement)}", None)
        return rule(statement, scope) if rule is not None else None

    def inline_call(self, statement: dict, scope: set[str]) -> str:
        return self.call_text(statement, scope)

    def inline_tap(self, statement: dict, scope: set[str]) -> str:
        return f"@{statement[Tap.key]}"

    def inline_repeat(self, statement: dict, scope: set[str]) -> str | None:
        """A repeated single call reads `call * n`."""
        body = statement["body"]
        if len(body) == 1 and statement_tag(body[0]) == Call.key and "as" not in statement and "index" not in statement:
            count = self.expr(statement[Repeat.key], scope, PRECEDENCE["neg"] + 1)
            return f"{self.call_text(body[0], scope)} * {count}"
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
        """A statement over several lines, by its kind's `print_<key>` rule."""
        rule = getattr(self, f"print_{statement_tag(statement)}", None)
        if rule is None:
            raise ValueError(f"not a statement: {statement!r}")
        rule(statement, path, indent, scope, blank)

    @staticmethod
    def alias(statement: dict) -> str:
        return f" as {statement['as']}" if "as" in statement else ""

    def print_repeat(self, statement: dict, path: DataPath, indent: int, scope: set[str], blank: bool) -> None:
        index = f" with {statement['index']}" if "index" in statement else ""
        opening = self.emit(indent, f"repeat {self.expr(statement[Repeat.key], scope)}{index} {{", self.start_line(path), blank)
        self.body(statement["body"], path + ("body",), indent + 1, scope | {statement["index"]} if index else scope)
        self.close(indent, path, opening, "}" + self.alias(statement))

    def print_concat(self, statement: dict, path: DataPath, indent: int, scope: set[str], blank: bool) -> None:
        opening = self.emit(indent, "concat {", self.start_line(path), blank)
        for index, branch in enumerate(statement[ConcatGroup.key]):
            branch_path = path + (ConcatGroup.key, index)
            one_line = self.one_line_body(branch, branch_path, scope)
            if one_line is not None:
                self.emit(indent + 1, f"branch {{ {one_line} }}" if one_line else "branch { }", self.start_line(branch_path))
                continue
            branch_open = self.emit(indent + 1, "branch {", self.start_line(branch_path))
            self.body(branch, branch_path, indent + 2, scope)
            self.close(indent + 1, branch_path, branch_open)
        self.close(indent, path, opening, "}" + self.alias(statement))

    def print_residual(self, statement: dict, path: DataPath, indent: int, scope: set[str], blank: bool) -> None:
        options = [f"merge={statement['merge']}"] if "merge" in statement else []
        options += [f"scale={self.expr(statement['scale'], scope)}"] if "scale" in statement else []
        merge = f"({', '.join(options)})" if options else ""
        opening = self.emit(indent, f"residual{merge} {{", self.start_line(path), blank)
        self.body(statement[Residual.key], path + (Residual.key,), indent + 1, scope)
        if "shortcut" in statement:
            condition = f" if {self.expr(statement['shortcut_if'], scope)}" if "shortcut_if" in statement else ""
            closing = self.close(indent, path + ("shortcut",), opening, f"}} shortcut{condition} {{", self.start_line(path + ("shortcut",)))
            self.body(statement["shortcut"], path + ("shortcut",), indent + 1, scope)
            opening = closing
        self.close(indent, path, opening, "}" + self.alias(statement))

    def print_if(self, statement: dict, path: DataPath, indent: int, scope: set[str], blank: bool) -> None:
        self.if_chain(statement, path, indent, scope, f"if {self.expr(statement['if'], scope)} {{", blank)

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
            return str(value) if value >= 0 or context < PRECEDENCE["neg"] else f"({value})"  # -(-2), never --2
        if isinstance(value, float):
            text = repr(value)
            if text in ("inf", "-inf", "nan"):
                raise ValueError(f"{text} has no .arch spelling")
            return text if value >= 0 or context < PRECEDENCE["neg"] else f"({text})"
        if isinstance(value, str):
            return self.string(value, scope)
        if isinstance(value, list):
            if len(value) >= 2 and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):  # 0x1 would read as hex
                return "x".join(str(v) for v in value)
            return "[" + ", ".join(self.expr(v, scope) for v in value) + "]"
        if isinstance(value, dict) and "ref" in value:
            return value["ref"]
        if isinstance(value, dict) and "in" in value:
            return f"@{value['tap']}.{value['in']}" if value.get("tap") else f"in.{value['in']}"
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
