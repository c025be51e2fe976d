"""The structure of an imported Keras graph, recovered as the spec's constructs.

Takes the calls `keras_model` read (each with the tensors it reads and writes); hands out
statement lists (`fused_activations` first folds runs of Keras operations that compute one kind): `SeriesParallel` nests the whole graph where it nests (residuals, shortcuts,
concat branches), and `recover_residuals` finds identity residuals in a flat sequence of calls
and taps where it does not. Pure functions; Keras is not imported (the reader passes it in).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple


class Record(NamedTuple):
    statement: dict  # the call, without its inputs
    inputs: tuple  # the keys of the tensors it reads
    output: tuple  # the key of the tensor it writes
    layer: Any


class SeriesParallel:
    """The graph as nested constructs, where it nests: a chain is a sequence; a fork whose paths
    meet again at one merge is a residual (add or another element-wise kind: identity or a
    shortcut path) or a concat of branches. Anything else (a path that leaves its fork's region,
    a merge of unrelated tensors) gives None, and the caller writes taps."""

    MERGES = ("add", "multiply", "maximum", "minimum", "average", "subtract")
    ORDERED = ("subtract",)  # the body must be the first input

    def __init__(self, records: list[Record], input_key: tuple):
        self.records = records
        self.input = input_key
        self.producer = {record.output: record for record in records}
        self.consumers: dict[tuple, list[Record]] = {}
        for record in records:
            for key in dict.fromkeys(record.inputs):
                self.consumers.setdefault(key, []).append(record)
        self.order = {record.output: index + 1 for index, record in enumerate(records)}
        self.order[input_key] = 0
        self.joins = self.post_dominators()

    def post_dominators(self) -> dict[tuple, tuple | None]:
        """For each tensor, the first tensor every path from it to the output passes through
        (Cooper, Harvey and Kennedy's intersection, over the topological order)."""
        joins: dict[tuple, tuple | None] = {}
        for key in sorted(self.order, key=self.order.get, reverse=True):
            successors = [record.output for record in self.consumers.get(key, [])]
            join = successors[0] if successors else None
            for other in successors[1:]:
                join = self.intersect(join, other, joins)
            joins[key] = join
        return joins

    def intersect(self, a: tuple | None, b: tuple | None, joins: dict) -> tuple | None:
        while a != b:
            if a is None or b is None:
                return None
            if self.order[a] < self.order[b]:
                a = joins[a]
            else:
                b = joins[b]
        return a

    def statements(self) -> tuple[list[dict], list[Any]] | None:
        layers: list[Any] = []
        last = self.records[-1].output if self.records else self.input
        body = self.region(self.input, last, set(self.order), layers)
        if body is None or len(layers) != len(self.records):
            return None
        return body, layers

    def region(self, start: tuple, end: tuple, allowed: set, layers: list) -> list[dict] | None:
        """Statements that compute `end` from `start`, using only the tensors in `allowed`."""
        body: list[dict] = []
        current = start
        while current != end:
            consumers = [record for record in self.consumers.get(current, []) if record.output in allowed]
            if len(consumers) == 1 and consumers[0].inputs == (current,):
                body.append(dict(consumers[0].statement))
                layers.append(consumers[0].layer)
                current = consumers[0].output
                continue
            construct = self.construct(current, allowed, layers) if consumers else None
            if construct is None:
                return None
            statement, current = construct
            body.append(statement)
        return body

    def construct(self, fork: tuple, allowed: set, layers: list) -> tuple[dict, tuple] | None:
        join = self.joins.get(fork)
        merge = self.producer.get(join) if join is not None else None
        if merge is None or join not in allowed or len(merge.inputs) < 2:
            return None
        paths = []
        for source in merge.inputs:
            nodes = self.between(fork, source)
            if nodes is None:
                return None
            paths.append((source, nodes))
        inside = [node for _, nodes in paths for node in nodes]
        if len(inside) != len(set(inside)):  # the paths share a layer
            return None
        kind = merge.statement.get("call")
        extra = set(merge.statement) - {"call", "kwargs"}
        if extra or (kind != "concat" and kind not in self.MERGES):
            return None
        parts = []
        for source, nodes in paths:
            branch_layers: list[Any] = []
            part = self.region(fork, source, set(nodes) | {fork}, branch_layers) if nodes else []
            if part is None:
                return None
            parts.append((part, branch_layers))
        if kind == "concat":
            if merge.statement.get("kwargs"):
                return None
            for _, branch_layers in parts:
                layers.extend(branch_layers)
            layers.append(merge.layer)
            return {"concat": [part for part, _ in parts]}, join
        if len(parts) != 2:
            return None
        kwargs = dict(merge.statement.get("kwargs", {}))
        scaled = "scale" in kwargs
        if kwargs.keys() - {"scale"}:
            return None
        (first, first_layers), (second, second_layers) = parts
        if scaled or kind in self.ORDERED or len(first) >= len(second):  # the body is the first input
            main, main_layers, other, other_layers = first, first_layers, second, second_layers
        else:
            main, main_layers, other, other_layers = second, second_layers, first, first_layers
        if (scaled or kind in self.ORDERED) and not main:
            return None
        statement: dict[str, Any] = {"residual": main}
        if kind != "add":
            statement["merge"] = kind
        if scaled:
            statement["scale"] = kwargs["scale"]
        if other:
            statement["shortcut"] = other
        layers.extend(main_layers)
        layers.extend(other_layers)
        layers.append(merge.layer)
        return statement, join

    def between(self, fork: tuple, end: tuple) -> list[tuple] | None:
        """The tensors on the paths from `fork` to `end` (end included, fork not), provided no
        other tensor reads into them or out of them; None otherwise."""
        if end == fork:
            return []
        found, stack = {end}, [end]
        while stack:
            record = self.producer.get(stack.pop())
            if record is None:
                return None  # reached the input without passing the fork
            for source in record.inputs:
                if source != fork and source not in found:
                    found.add(source)
                    stack.append(source)
        for key in found:
            readers = self.consumers.get(key, [])
            if key != end and any(reader.output not in found for reader in readers):
                return None  # a tensor inside is read from outside the path
        return sorted(found, key=self.order.get)


def recover_residuals(body: list[dict], reads: dict[str, int]) -> list[dict]:
    """`... as a  BODY as b  @a  add(@b)` is a residual with an identity shortcut: `residual { BODY }`,
    where `a` and `b` are read nowhere else and the body is a plain chain."""
    result: list[dict] = []
    for statement in body:
        result.append(statement)
        merge = result[-1]
        if len(result) < 3 or merge.get("call") != "add" or len(merge.get("inputs", ())) != 1 or "kwargs" in merge or "args" in merge:
            continue
        tap = merge["inputs"][0]
        if result[-2].get("tap") is None:
            continue
        fork = result[-2]["tap"]
        chain_end = len(result) - 3  # the statement that ends the body
        start = chain_end
        while start >= 0 and "tap" not in result[start] and result[start].get("as") != fork and "inputs" not in result[start]:
            start -= 1
        if start < 0 or result[start].get("as") != fork or result[chain_end].get("as") != tap or start == chain_end:
            continue
        if reads.get(fork, 0) != 1 or reads.get(tap, 0) != 1 or any("as" in s for s in result[start + 1:chain_end]):
            continue
        inner = [dict(s) for s in result[start + 1:chain_end + 1]]
        inner[-1].pop("as")
        residual: dict[str, Any] = {"residual": inner}
        if "as" in merge:
            residual["as"] = merge["as"]
        opening = dict(result[start])
        opening.pop("as")
        result[start:] = [opening, residual]
    return result


def key_of(tensor: Any) -> tuple:
    """Which output of which layer call a tensor is (Keras may hand out several objects for it)."""
    history = tensor._keras_history
    return (history.operation.name, history.node_index, history.tensor_index)


class Fused:
    """Several Keras operations that compute one kind of archspec's: MobileNetV3's hard sigmoid,
    written `ReLU(6.0)(x + 3.0) * (1.0 / 6.0)`, is `hard_sigmoid` (the same function; tf.profiler
    counts the same three operations per element)."""

    weights: list = []

    def __init__(self, kind: str, name: str):
        self.kind, self.name = kind, name

    def get_config(self) -> dict:
        return {}

    def get_weights(self) -> list:
        return []


class FusedNode(NamedTuple):
    input_tensors: list
    output_tensors: list


def _constant_operand(node: Any) -> Any:
    """The constant a Keras operation combines its one tensor with (`x + 3.0`), or None."""
    arguments = getattr(getattr(node, "arguments", None), "args", ())
    constants = [argument for argument in arguments if not hasattr(argument, "shape")]
    return constants[0] if len(node.input_tensors) == 1 and len(constants) == 1 else None


def fused_activations(keras: Any, steps: list) -> list:
    """The steps with each `x + 3 -> ReLU(6) -> * (1/6)` run replaced by one hard_sigmoid."""
    readers = Counter(key_of(tensor) for _, node in steps for tensor in node.input_tensors)
    result, index = [], 0
    while index < len(steps):
        window = steps[index:index + 3]
        if len(window) == 3 and all(len(node.output_tensors) == 1 and node.input_tensors for _, node in window):
            (add, add_node), (relu, relu_node), (scale, scale_node) = window
            inner = (key_of(add_node.output_tensors[0]), key_of(relu_node.output_tensors[0]))
            chained = (key_of(relu_node.input_tensors[0]) == inner[0] and key_of(scale_node.input_tensors[0]) == inner[1]
                       and readers[inner[0]] == 1 and readers[inner[1]] == 1)  # nothing else reads inside the run
            if (chained and type(add).__name__ == "Add" and not isinstance(add, keras.layers.Layer) and _constant_operand(add_node) == 3.0
                    and isinstance(relu, keras.layers.ReLU) and relu.get_config().get("max_value") == 6.0
                    and not relu.get_config().get("negative_slope") and not relu.get_config().get("threshold")
                    and type(scale).__name__ == "Multiply" and not isinstance(scale, keras.layers.Layer)
                    and abs((_constant_operand(scale_node) or 0) - 1 / 6) < 1e-12):
                fused = Fused("hard_sigmoid", scale.name)
                result.append((fused, FusedNode(list(add_node.input_tensors), list(scale_node.output_tensors))))
                index += 3
                continue
        result.append(steps[index])
        index += 1
    return result
