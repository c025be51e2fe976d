"""Graph -> standalone Python source that imports only `keras` and defines `build_model`.

Takes a `Graph` (and optionally its `Report`, for a summary line); hands out the text of a
module whose `build_model(input_shape=..., **network_parameters)` builds the same model as
`emit.keras.to_keras`. Values that come from network parameters stay expressions of them; a
parameter that changes the layer structure (a repeat count, a condition) is fixed at the value
the graph was expanded with, and `build_model` refuses other values with a clear error.
"""

from __future__ import annotations

import keyword
from typing import Any

from .. import __version__
from ..graph import INPUT, Graph, Node
from ..layers import KerasArgument, KerasCall, format_shape
from ..spec import Op, Ref

MAX_LINE = 99
RESERVED = frozenset({"keras", "layers", "inputs", "x", "build_model", "input_shape"})
PRECEDENCE = {"or": 1, "and": 2, "not": 3, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
              "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6, "neg": 7}


def python_name(name: str, taken: frozenset[str] = RESERVED) -> str:
    """A spec name as a Python identifier that shadows nothing the module uses."""
    return name + "_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in taken else name


def literal(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        inner = ", ".join(literal(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


class PythonWriter:
    def __init__(self, graph: Graph, source_name: str, summary: str | None):
        self.graph, self.source_name, self.summary = graph, source_name, summary
        self.parameters = {name: python_name(name) for name, _ in graph.parameters}
        self.consumers: dict[str, list[str]] = {}
        for node in graph.nodes:
            for name in node.inputs:
                self.consumers.setdefault(name, []).append(node.name)
        taken = RESERVED | frozenset(self.parameters.values())
        self.variables = {INPUT: "inputs"}
        for index, node in enumerate(graph.nodes):
            following = graph.nodes[index + 1].name if index + 1 < len(graph.nodes) else None
            single_use = self.consumers.get(node.name, []) == [following] and following is not None
            self.variables[node.name] = "x" if single_use else python_name(node.name, taken)

    # -- expressions over network parameters

    def expression(self, value: Any, context: int = 0) -> str:
        if isinstance(value, Ref):
            return self.parameters[value.ref]
        if isinstance(value, tuple):
            inner = ", ".join(self.expression(item) for item in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        if isinstance(value, Op):
            precedence = PRECEDENCE[value.op]
            if value.op in ("neg", "not"):
                text = ("-" if value.op == "neg" else "not ") + self.expression(value.args[0], precedence)
            else:
                left_context = precedence + 1 if precedence == 4 else precedence
                text = f"{self.expression(value.args[0], left_context)} {value.op} {self.expression(value.args[1], precedence + 1)}"
            return f"({text})" if precedence < context else text
        return literal(value)

    def argument(self, argument: KerasArgument, symbols: dict[str, Any]) -> str:
        if isinstance(argument.value, KerasCall):
            return self.call(argument.value, symbols)
        if argument.field in symbols:
            return self.expression(symbols[argument.field])
        return literal(argument.value)

    def call(self, call: KerasCall, symbols: dict[str, Any], name: str | None = None) -> str:
        parts = []
        for index, argument in enumerate(call.arguments):
            text = self.argument(argument, symbols)
            parts.append(text if index < call.positional else f"{argument.name}={text}")
        if name is not None:
            parts.append(f"name={literal(name)}")
        return f"{'keras.' if not call.path.startswith('layers.') else ''}{call.path}({', '.join(parts)})"

    # -- statements

    def layer_line(self, node: Node) -> str:
        constructor = self.call(node.layer.keras_call(explicit=True), dict(node.symbols), node.name)
        inputs = [self.variables[name] for name in node.inputs]
        argument = f"[{', '.join(inputs)}]" if len(inputs) > 1 else inputs[0]
        return wrap(f"    {self.variables[node.name]} = {constructor}({argument})")

    def signature(self) -> str:
        graph = self.graph
        shape_default = "None" if graph.input_symbol is not None else literal(tuple(graph.input_shape))
        parts = [f"input_shape={shape_default}"]
        parts += [f"{self.parameters[name]}={literal(value)}" for name, value in graph.parameters]
        return wrap(f"def build_model({', '.join(parts)}):")

    def structural_checks(self) -> list[str]:
        lines = []
        values = dict(self.graph.parameters)
        for name in sorted(self.graph.structural):
            variable = self.parameters[name]
            lines += [
                f"    if {variable} != {literal(values[name])}:",
                wrap(f"        raise ValueError(\"`{name}` changes this network's layers; regenerate the module: "
                     f"archspec build {self.source_name} --set {name}=VALUE\")", indent="            "),
            ]
        if self.graph.input_symbol is not None:
            lines += ["    if input_shape is None:", f"        input_shape = {self.input_expression()}"]
        return lines

    def input_expression(self) -> str:
        symbol = self.graph.input_symbol
        return self.expression(symbol if isinstance(symbol, tuple) else (symbol,))

    def module(self) -> str:
        graph = self.graph
        described = ", ".join(f"{name}={literal(value)}" for name, value in graph.parameters)
        lines = [
            f'"""{graph.network}: a Keras functional model.',
            "",
            f"Generated by archspec {__version__} from {self.source_name}; regenerate it rather than",
            f"edit it: `archspec build {self.source_name}`.",
        ]
        if self.summary:
            lines += ["", self.summary]
        lines += ['"""', "", "import keras", "from keras import layers", "", "", self.signature()]
        docstring = f"Build {graph.network} for a {format_shape(graph.input_shape)} input" + (f" ({described})" if described else "") + "."
        lines.append(wrap(f'    """{docstring}"""'))
        lines += self.structural_checks()
        lines.append(f'    inputs = keras.Input(shape=input_shape, name="{INPUT}")')
        lines += [self.layer_line(node) for node in graph.nodes]
        lines.append(f"    return keras.Model(inputs, {self.variables[graph.output]}, name={literal(graph.network)})")
        return "\n".join(lines) + "\n"


def wrap(line: str, indent: str | None = None) -> str:
    """Break a long line after its first opening parenthesis, one level deeper."""
    if len(line) <= MAX_LINE or "(" not in line:
        return line
    lead = line[: len(line) - len(line.lstrip())]
    opening = line.index("(") + 1
    closing = _matching(line, opening - 1)
    inner = indent or lead + "    "
    return f"{line[:opening]}\n{inner}{line[opening:closing]}\n{lead}{line[closing:]}"


def _matching(text: str, opening: int) -> int:
    depth, quote = 0, None
    for index in range(opening, len(text)):
        char = text[index]
        if quote:
            quote = None if char == quote and text[index - 1] != "\\" else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(text) - 1


def to_python(graph: Graph, source_name: str, summary: str | None = None) -> str:
    """Standalone source defining `build_model(input_shape=..., **network_parameters)`."""
    return PythonWriter(graph, source_name, summary).module()
