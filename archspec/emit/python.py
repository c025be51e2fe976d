"""Graph -> standalone Python source that imports only `keras` and defines `build_model`.

Takes a `Graph` (and optionally its `Report`, for a summary line); hands out the text of a
module whose `build_model(input_shape=..., **network_parameters)` builds the same model as
`emit.keras.to_keras`. Values that come from network parameters stay expressions of them; a
parameter that changes the layer structure (a repeat count, a condition) is fixed at the value
the graph was expanded with, and `build_model` refuses other values with a clear error.
"""

from __future__ import annotations

import ast
import json
import keyword
from pathlib import Path
from typing import Any

from ..expr import Ref, referenced_parameters, render
from ..graph import INPUT, Graph, Node
from ..layers import CUSTOM_PREFIX, KerasArgument, KerasCall, format_shape
from ..version import __version__

# The generated module imports only keras, so the functions `math` would give are written out
# (both round towards the integer the language's own evaluation gives).
PYTHON_SPELLING = {
    "ceil": lambda texts: f"int(-(-({texts[0]}) // 1))",
    "floor": lambda texts: f"int(({texts[0]}) // 1)",
}

MAX_LINE = 99
# Names the module itself uses; spec names are kept off them.
KERAS_LAYERS_FILE = Path(__file__).resolve().parent.parent / "keras_layers.py"


def _custom_classes() -> dict[str, list[str]]:
    """archspec.keras_layers' classes by name, each as its source lines (decorator included),
    read from the module's file rather than imported, which would import Keras."""
    text = KERAS_LAYERS_FILE.read_text(encoding="utf-8")
    lines = text.splitlines()
    return {node.name: lines[min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1: node.end_lineno]
            for node in ast.parse(text).body if isinstance(node, ast.ClassDef)}


CUSTOM_CLASSES = _custom_classes()
RESERVED = frozenset({"keras", "layers", "inputs", "x", "build_model", "input_shape", "value", "ValueError", "tuple", "isinstance", "list",
                      "int", "min", "max", "round", *CUSTOM_CLASSES})  # then: what expressions call, the copied classes


class Names:
    """Allocates Python identifiers: keywords and taken names get `_`, `_2`, ... until free."""

    def __init__(self, reserved: frozenset[str] = RESERVED):
        self.taken = set(reserved)

    def allocate(self, name: str) -> str:
        candidate = name + "_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name
        suffix = 1
        while candidate in self.taken:
            suffix += 1
            candidate = f"{name}_{suffix}"
        self.taken.add(candidate)
        return candidate


def literal(value: Any) -> str:
    """A Python literal of a value. Strings are written as JSON writes them, which is a valid
    Python string with every quote, backslash, newline and control character escaped, so no
    text (a file name, a --set value) can end the literal or the line."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        inner = ", ".join(literal(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


class PythonWriter:
    def __init__(self, graph: Graph, source_name: str, summary: str | None):
        self.graph, self.source_name, self.summary = graph, source_name, summary
        self.custom_layers: set[str] = set()  # archspec.keras_layers' classes the module uses
        names = Names()
        self.parameters = {name: names.allocate(name) for name, _ in graph.parameters}
        self.fixed = set(graph.structural) | self.regularizer_parameters()
        self.consumers: dict[str, list[str]] = {}
        for node in graph.nodes:
            for name in node.inputs:
                self.consumers.setdefault(name, []).append(node.name)
        self.variables = {INPUT: "inputs", **{name: names.allocate(name) for name, _ in graph.extra_inputs}}
        for index, node in enumerate(graph.nodes):
            following = graph.nodes[index + 1].name if index + 1 < len(graph.nodes) else None
            single_use = self.consumers.get(node.name, []) == [following] and following is not None and node.name not in graph.outputs
            self.variables[node.name] = "x" if single_use else names.allocate(node.name)

    def regularizer_parameters(self) -> set[str]:
        """Parameters feeding l1/l2: a regularizer exists or not by their value, so they are
        fixed like structural ones rather than passed through."""
        found: set[str] = set()
        for node in self.graph.nodes:
            for field_name, symbol in node.symbols:
                if field_name in node.layer.regularizer_fields:
                    found |= referenced_parameters(symbol)
        return found

    def symbols_of(self, node: Node) -> dict[str, Any]:
        """The node's arguments that stay expressions of network parameters in the source."""
        return {name: symbol for name, symbol in node.symbols if not referenced_parameters(symbol) & self.fixed}

    # -- expressions over network parameters

    def expression(self, value: Any, context: int = 0) -> str:
        return render(value, self.leaf, context, PYTHON_SPELLING)

    def leaf(self, value: Any, context: int) -> str:
        if isinstance(value, Ref):
            return self.parameters[value.ref]
        if isinstance(value, tuple):
            inner = ", ".join(self.expression(item) for item in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
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
        prefix, _, custom = call.path.partition(".")
        if prefix == CUSTOM_PREFIX:  # archspec's own layer: its class is copied into the module
            self.custom_layers.add(custom)
            return f"{custom}({', '.join(parts)})"
        return f"{'keras.' if not call.path.startswith('layers.') else ''}{call.path}({', '.join(parts)})"

    # -- statements

    def layer_line(self, node: Node) -> str:
        symbols = self.symbols_of(node)
        constructor = self.call(node.layer.keras_call(explicit=True, keep=list(symbols)), symbols, node.name)
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
        for name in sorted(self.fixed):
            variable, value = self.parameters[name], values[name]
            test = f"{variable} is not {value!r}" if isinstance(value, bool) or value is None else f"{variable} != {literal(value)}"
            message = (f"`{name}` changes this network's layers; regenerate the module: "
                       f"archspec build {self.source_name} --set {name}=VALUE")
            lines += [f"    if {test}:", wrap(f"        raise ValueError({literal(message)})", indent="            ")]
        if self.graph.fixed_input:
            shape = tuple(self.graph.input_shape)
            message = (f"this network's layers read its input's sizes (in.channels ...), so they are built for a {format_shape(shape)} "
                       f"input; regenerate the module: archspec build {self.source_name} --input SHAPE")
            lines += [f"    if input_shape is not None and tuple(input_shape) != {literal(shape)}:",
                      wrap(f"        raise ValueError({literal(message)})", indent="            ")]
        if self.graph.input_symbol is not None:
            symbol = self.graph.input_symbol
            if isinstance(symbol, tuple):
                lines += ["    if input_shape is None:", f"        input_shape = {self.expression(symbol)}"]
            else:  # a parameter holding the whole shape, or one length
                lines += ["    if input_shape is None:", f"        value = {self.expression(symbol)}",
                          "        input_shape = tuple(value) if isinstance(value, (tuple, list)) else (value,)"]
        return lines

    def module(self) -> str:
        graph = self.graph
        described = ", ".join(f"{name}={literal(value)}" for name, value in graph.parameters)
        source = docstring_safe(self.source_name)
        lines = [
            f'"""{graph.network}: a Keras functional model.',
            "",
            f"Generated by archspec {__version__} from {source}; regenerate it rather than",
            f"edit it: `archspec build {source}`.",
        ]
        if self.summary:
            lines += ["", self.summary]
        body = [self.layer_line(node) for node in graph.nodes]  # first: it collects the custom layers used
        lines += ['"""', "", "import keras", "from keras import layers", "", ""]
        lines += [line for name in sorted(self.custom_layers) for line in (*CUSTOM_CLASSES[name], "", "")]
        lines.append(self.signature())
        docstring = f"Build {graph.network} for a {format_shape(graph.input_shape)} input" + (f" ({described})" if described else "") + "."
        lines.append(wrap(f'    """{docstring}"""'))
        lines += self.structural_checks()
        lines.append(f"    inputs = keras.Input(shape=input_shape, name={literal(graph.input_name)})")
        lines += [f"    {self.variables[name]} = keras.Input(shape={literal(shape)}, name={literal(name)})" for name, shape in graph.extra_inputs]
        lines += body
        inputs = [self.variables[name] for name, _ in graph.inputs]
        outputs = [self.variables[name] for name in graph.outputs]
        model_inputs = f"[{', '.join(inputs)}]" if len(inputs) > 1 else inputs[0]
        model_outputs = f"[{', '.join(outputs)}]" if len(outputs) > 1 else outputs[0]
        lines.append(wrap(f"    return keras.Model({model_inputs}, {model_outputs}, name={literal(graph.network)})"))
        return "\n".join(lines) + "\n"


def docstring_safe(text: str) -> str:
    """Text that cannot end a docstring or start an escape sequence inside it."""
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


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
