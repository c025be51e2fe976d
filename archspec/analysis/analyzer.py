"""The walk: a `Graph` to a `Report`, in one pass in topological order, asking each layer's
class for its shape, parameters, MACs, FLOPs and window; receptive fields and their alignment
warnings; and the build budget."""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple, Sequence

from ..errors import Diagnostic
from ..graph import BLOCK_GROUP, Graph, Node
from ..layers import Layer, Shape, Window, elements, format_shape
from .render import format_bytes
from .report import BYTES_PER_VALUE, FLOP_PROFILES, MAX_ALIGNMENT_WARNINGS, LayerReport, ReceptiveField, Report, Totals, numbers

MISALIGNED = "rf-misaligned"

# ---------------------------------------------------------------------------------------------
# The walk


class _FieldState(NamedTuple):  # one per layer: a NamedTuple is cheaper to define and to make
    field: ReceptiveField | None
    via: str | None = None  # the input whose field was carried on (the largest at a merge)


_NO_FIELD = _FieldState(None)


class Analyzer:
    """One analysis of a graph: the report's rows, and what they carry from layer to layer."""

    def __init__(self, graph: Graph, convention: str = "keras"):
        self.graph, self.convention = graph, convention
        self.fields: dict[str, _FieldState] = {}
        self.warnings: list[Diagnostic] = []
        self.aligned, self.misaligned = True, 0
        # A layer's figures depend on it and its input shapes alone; the expander shares one
        # layer among equal calls, so a network's repeated units are counted once each.
        self.figures: dict[tuple, tuple] = {}

    def run(self) -> Report:
        graph = self.graph
        for name, shape in graph.inputs:
            axes = len(shape) - 1  # 0 for a flat input: no field
            self.fields[name] = _FieldState(ReceptiveField.of_input(axes) if axes else None)
        layers = [self.layer_report(node) for node in graph.nodes]
        if self.misaligned > MAX_ALIGNMENT_WARNINGS:
            self.warnings.append(Diagnostic("warning", f"{self.misaligned - MAX_ALIGNMENT_WARNINGS} more merges are misaligned "
                                            f"({self.misaligned} in all); the first {MAX_ALIGNMENT_WARNINGS} are explained above",
                                            code=MISALIGNED))
        self.check_flat_output()
        self.check_square_sequence()
        totals = self.totals(layers)
        return Report(graph.network, graph.input_shape, graph.shape_of(graph.output), tuple(layers), totals,
                      graph.warnings + tuple(self.warnings), graph.groups, self.convention,
                      ((graph.input_name, graph.input_shape), *graph.extra_inputs),
                      tuple((name, graph.shape_of(name)) for name in graph.outputs))

    def check_square_sequence(self) -> None:
        """`input 28x28` is a sequence of 28 steps with 28 channels, so convs run 1-D over it:
        fine for audio or text, but a square one is nearly always an image without its channel
        axis. Said once, at the first layer that slides over it."""
        shape = self.graph.input_shape
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 4:
            return
        node = next((n for n in self.graph.nodes if 0 not in n.layer.spatial_ranks and len(n.layer.spatial_ranks) > 1
                     and n.layer.spatial_axes == 1), None)  # a kind that slides over maps (not one of any rank)
        if node is not None:
            self.warn(node, Diagnostic(
                "warning", f"{node.layer.op} '{node.name}' runs 1-D: the {format_shape(shape)} input is a sequence of {shape[0]} "
                f"steps with {shape[1]} channels", node.span,
                f"an image needs its channel axis: `input {format_shape(shape)}x1` (grayscale) or `x3` (colour)",
                code="input-sequence", note=self.block_note(node)))

    def check_flat_output(self) -> None:
        """A head written for a flat vector but given a map outputs a map: say so once, at the
        first such layer of the position-wise chain (no window, no merge) that ends the network."""
        graph = self.graph
        output = graph.shape_of(graph.output)
        name, culprit = graph.output, None
        while len(output) > 1 and not graph.is_input(name):
            node = graph.node(name)
            inputs = [graph.shape_of(source) for source in node.inputs]
            if node.layer.on_map(inputs):
                culprit = (node, inputs[0])
            if len(inputs) != 1 or node.layer.window(inputs) is not None or tuple(inputs[0][:-1]) != tuple(node.output_shape[:-1]):
                break  # a layer that slides or merges: the map is the network's own design
            name = node.inputs[0]
        if culprit is not None:
            node, received = culprit
            self.warn(node, Diagnostic(
                "warning", f"{node.layer.op} '{node.name}' applies to the last axis of its {format_shape(received)} input, "
                f"position by position (as Keras does), so the network outputs {format_shape(output)}, not a flat vector",
                node.span, f"if `{node.name}` starts a classifier head, put `flatten` or `global_avg_pool` before it",
                code="map-output", note=self.block_note(node)))

    def layer_report(self, node: Node) -> LayerReport:
        layer = node.layer
        shapes = self.graph.shapes
        input_shapes = [shapes[name] for name in node.inputs]
        key = (id(layer), *input_shapes)
        figures = self.figures.get(key)
        if figures is None:
            figures = self.figures[key] = (layer.params(input_shapes, self.convention), layer.macs(input_shapes, node.output_shape),
                                           layer.tfprof_flops(input_shapes, node.output_shape), layer.window(input_shapes),
                                           layer.kept_for_gradient(input_shapes, node.output_shape), layer.label())
        count, macs, tfprof, window, kept, label = figures
        flops = {"tfprof": tfprof, "2mac": 2 * macs}
        field_ = self.receptive_field(node, layer, input_shapes, window)
        block = node.groups[-1] if node.groups else None
        return LayerReport(node.name, node.entry, label, block, node.groups, node.inputs, node.output_shape,
                           count.trainable, count.non_trainable, macs, flops, field_, node.span, kept, window)

    def receptive_field(self, node: Node, layer: Layer, input_shapes: list[Shape], window: Window | None) -> ReceptiveField | None:
        if len(node.inputs) == 1:  # most layers: no merge, so no broadcast and no choice
            source = node.inputs[0]
            current = self.fields[source].field
            if layer.mixes_positions or current is None or len(node.output_shape) - 1 != len(current.size):
                self.fields[node.name] = _NO_FIELD
                return None
            if window is not None:
                current = current.through(window)
            self.fields[node.name] = _FieldState(current, source)
            return current
        states = [self.fields[name] for name in node.inputs]
        # An input broadcast across positions (a 1x1xC gate) reaches every output position with
        # the same window, so no single field describes the output: the spatial field ends.
        broadcast = len(input_shapes) > 1 and any(shape[:-1] != node.output_shape[:-1] for shape in input_shapes)
        if (layer.mixes_positions or broadcast or any(s.field is None for s in states)
                or len(node.output_shape) - 1 != len(states[0].field.size)):
            self.fields[node.name] = _NO_FIELD
            return None
        chosen = 0
        if len(states) > 1:
            chosen = max(range(len(states)), key=lambda i: (states[i].field.area, -i))
            self.check_alignment(node, [s.field for s in states])
        current = states[chosen].field
        if window is not None:
            current = current.through(window)
        self.fields[node.name] = _FieldState(current, node.inputs[chosen])
        return current

    # -- alignment at merges

    def check_alignment(self, node: Node, fields: list[ReceptiveField]) -> None:
        reference = fields[0]
        for index in range(1, len(fields)):
            if fields[index].aligned_with(reference):
                continue
            self.aligned = False
            if self.graph.allows(MISALIGNED, node.groups):
                return
            self.misaligned += 1
            if self.misaligned > MAX_ALIGNMENT_WARNINGS:
                return  # summarized once in the totals
            first, other = node.inputs[0], node.inputs[index]
            first_path, other_path = self.fork(first, other)
            shifts = self.causes(first_path) + self.causes(other_path)
            detail = (f"input 1 '{first}' {_describe_field(reference)} and input {index + 1} '{other}' "
                      f"{_describe_field(fields[index])}" + ("; " + "; ".join(shift.detail for shift in shifts) if shifts else ""))
            message = f"{node.layer.op} '{node.name}' merges receptive fields {_difference(reference, fields[index])}"
            if shifts:
                message += "; cause: " + _brief_causes(shifts)
            self.warnings.append(Diagnostic("warning", message, node.span, _alignment_hint(shifts), code=MISALIGNED,
                                            note=self.block_note(node), detail=detail))
            return

    def warn(self, node: Node, diagnostic: Diagnostic) -> None:
        """Report a warning at `node` unless the spec or a block around it allows its code."""
        if not self.graph.allows(diagnostic.code, node.groups):
            self.warnings.append(diagnostic)

    def block_note(self, node: Node) -> str | None:
        """Which block call expanded the node, for diagnostics located inside a block body."""
        for group_id in reversed(node.groups):
            group = self.graph.group(group_id)
            if group.kind == BLOCK_GROUP:
                if group.span is None:
                    return f"in `{group.label}`"
                same_file = node.span is not None and node.span.file == group.span.file
                return f"in `{group.label}` at " + (f"line {group.span.line}" if same_file else group.span.location())
        return None

    def previous(self, name: str) -> str:
        """The input whose receptive field a layer carried on (the largest, at a merge)."""
        return self.fields[name].via or self.graph.node(name).inputs[0]

    def fork(self, first: str, second: str) -> tuple[list[str], list[str]]:
        """Walk both paths back together until they meet; each path's layers after the fork.
        Costs the length of the two paths, not of the graph."""
        chains = ([first], [second])
        seen = ({first}, {second})
        while True:
            for side in (0, 1):
                last = chains[side][-1]
                if last in seen[1 - side]:
                    other = chains[1 - side]
                    return (chains[0][:-1], other[: other.index(last)]) if side == 0 else (other[: other.index(last)], chains[1][:-1])
            if self.graph.is_input(chains[0][-1]) and self.graph.is_input(chains[1][-1]):
                return chains[0][:-1], chains[1][:-1]
            for side in (0, 1):
                if not self.graph.is_input(chains[side][-1]):
                    step = self.previous(chains[side][-1])
                    chains[side].append(step)
                    seen[side].add(step)

    def causes(self, path: list[str]) -> list["_Shift"]:
        """The layers of a path that shift its centre, first to last."""
        found = []
        for name in reversed(path):
            node = self.graph.node(name)
            state = self.fields[self.previous(name)]
            input_shapes = [self.graph.shape_of(i) for i in node.inputs]
            window = node.layer.window(input_shapes)
            if window is not None and state.field is not None:
                shifts = [(Fraction(k - 1, 2) - q) * j for k, q, j in zip(window.kernel, window.pad_before, state.field.stride)]
                if any(shifts):
                    found.append(_Shift.of(node, window, input_shapes[0], shifts))
        return found

    # -- totals

    def totals(self, layers: list[LayerReport]) -> Totals:
        trainable = sum(layer.trainable_params for layer in layers)
        frozen = sum(layer.non_trainable_params for layer in layers)
        last_spatial = next((layer for layer in reversed(layers) if layer.receptive_field is not None), None)
        return Totals(
            trainable + frozen, trainable, frozen, sum(layer.macs for layer in layers),
            {profile: sum(layer.flops[profile] for layer in layers) for profile in FLOP_PROFILES},
            sum(elements(layer.output_shape) for layer in layers), (trainable + frozen) * BYTES_PER_VALUE,
            last_spatial.receptive_field if last_spatial else None, last_spatial.name if last_spatial else None, self.aligned,
        )


def _describe_field(value: ReceptiveField) -> str:
    size, stride, centre = numbers(value.size), numbers(value.stride), numbers(value.centre)
    size_text = "x".join(map(str, size * 2 if len(size) == 1 else size))
    centre_text = str(centre[0]) if len(set(centre)) == 1 else ", ".join(map(str, centre))
    return f"(size {size_text}, stride {_each(stride)}, centre offset {centre_text} px)"


def _each(values: Sequence) -> str:
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


class _Shift(NamedTuple):
    """A layer that moves its path's centre: in a few words, in full, and why."""

    layer: str  # conv 'c'
    window: str  # 3x3, stride 2, padding=same
    detail: str  # ... pads 0 before and 1 after, moving its path's centre by 1 px
    cause: str  # "even": the window's centre lies between pixels (2x2 pools, 4x4 patchify convs);
    # "same": Keras' `same` put the odd padding pixel after; "one-sided": a crop or pad of one side

    @classmethod
    def of(cls, node: Node, window: Window, input_shape: Shape, shifts: list[Fraction]) -> "_Shift":
        kernel = "x".join(map(str, window.kernel * 2 if len(window.kernel) == 1 else window.kernel))
        stride_text = f", stride {_each(numbers(window.stride))}"
        padding_text = f", padding={window.padding_mode}" if window.padding_mode else ""
        before, after = window.pad_before, window.pad_after
        if len(set(before)) == 1 and len(set(after)) == 1:
            pads = f"pads {before[0]} before and {after[0]} after"
        else:
            pads = f"pads {tuple(map(int, before))} before and {tuple(map(int, after))} after"
        moves = numbers(shifts)
        axes = ("length",) if len(moves) == 1 else ("height", "width") if len(moves) == 2 else ("depth", "height", "width")
        move_text = str(moves[0]) if len(set(moves)) == 1 else ", ".join(f"{m} ({axis})" for m, axis in zip(moves, axes))
        layer, shape = f"{node.layer.op} '{node.name}'", f"{kernel}{stride_text}{padding_text}"
        detail = f"{layer} ({shape} on a {format_shape(input_shape[:-1])} input) {pads}, moving its path's centre by {move_text} px"
        cause = "even" if any(k % 2 == 0 for k in window.kernel) else "same" if window.padding_mode == "same" else "one-sided"
        return cls(layer, shape, detail, cause)


def _brief_causes(shifts: Sequence[_Shift]) -> str:
    """`maxpool 'p1' and 2 more alike (2x2, stride 2, padding=valid)`: the first of the layers
    with one window stands for them (the long form lists each)."""
    groups: dict[str, list[str]] = {}
    for shift in shifts:
        groups.setdefault(shift.window, []).append(shift.layer)
    return ", ".join(f"{layers[0]}{f' and {len(layers) - 1} more alike' if len(layers) > 1 else ''} ({window})"
                     for window, layers in groups.items())


def _difference(first: ReceptiveField, other: ReceptiveField) -> str:
    """How two fields differ, in a few words: `centred 1 px apart`, `of strides 2 and 4`."""
    if first.stride != other.stride:
        return f"of different strides ({_each(numbers(first.stride))} and {_each(numbers(other.stride))})"
    apart = numbers([abs(a - b) for a, b in zip(first.centre, other.centre)])
    return f"centred {_each(apart) if len(set(apart)) == 1 else ', '.join(map(str, apart))} px apart"


def _alignment_hint(shifts: Sequence[_Shift]) -> str:
    """What to do, for the causes at hand: an even window centres between pixels by design; a
    strided `same` layer pads its odd pixel after, which explicit padding avoids; a crop or a
    one-sided pad moves its path alone."""
    causes = {shift.cause for shift in shifts}
    if not causes:
        return "the inputs were downsampled by different strides; resample one path (a strided conv or a pool) to match"
    if causes == {"even"}:
        return ("an even window centres between two pixels, so its path sits half a pixel off at that stride: expected for 2x2 "
                "pools and patchify convs (a U-Net's skips); `--allow rf-misaligned` or `allow rf-misaligned` in the spec "
                "says it is intended")
    if causes == {"one-sided"}:
        return "a crop or pad of one side moves its path's centre alone; crop or pad the other path alike, or pad both sides evenly"
    return ("Keras `same` pads the odd pixel after, so a strided conv shifts its path's centre; an explicit zero_pad before a "
            "valid conv on both paths keeps them aligned")


def analyze(graph: Graph, param_convention: str = "keras") -> Report:
    """Analyze an expanded graph; `param_convention` is "keras" (4 per BN channel) or "torch"."""
    if param_convention not in ("keras", "torch"):
        raise ValueError(f"unknown parameter convention {param_convention!r}; expected keras or torch")
    return Analyzer(graph, param_convention).run()


class Budget(NamedTuple):
    """How large a network `build` may allocate: parameters, and float32 memory for the
    parameters plus one sample's activations. Checked on the report, before Keras allocates."""

    max_params: int = 1_000_000_000
    max_memory_bytes: int = 8 << 30


def check_budget(report: Report, budget: Budget) -> list[Diagnostic]:
    totals = report.totals
    problems = []
    heaviest = max(report.layers, key=lambda layer: layer.params)
    if totals.params > budget.max_params:
        problems.append(Diagnostic(
            "error",
            f"the network has {totals.params:,} parameters ({format_bytes(totals.param_bytes)} at float32), over the "
            f"build budget of {budget.max_params:,}; the largest layer is {heaviest.kind} '{heaviest.name}' with {heaviest.params:,}",
            heaviest.span, "shrink the network, or raise the budget with --max-params", code="budget",
        ))
    memory = totals.param_bytes + totals.activation_bytes
    if memory > budget.max_memory_bytes:
        widest = max(report.layers, key=lambda layer: elements(layer.output_shape))
        problems.append(Diagnostic(
            "error",
            f"building needs {format_bytes(memory)} (parameters and one sample's activations at float32), over the "
            f"build budget of {format_bytes(budget.max_memory_bytes)}; the largest output is {widest.kind} '{widest.name}' "
            f"({format_shape(widest.output_shape)})",
            widest.span, "shrink the input or the network, or raise the budget with --max-memory", code="budget",
        ))
    return problems
