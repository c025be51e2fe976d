"""Static analysis: a `Graph` to a `Report` of shapes, parameters, MACs, FLOPs, receptive fields
and memory, computed in one walk in topological order by asking each layer's registry class.

Takes a `Graph`; hands out a frozen `Report` that renders as a table, JSON
(`archspec-report/1`), Markdown or CSV, optionally collapsed to block depth.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Sequence

from .errors import Diagnostic, Span
from .graph import BLOCK_GROUP, INPUT, Graph, Node
from .layers import Layer, Shape, Window, elements, format_shape

REPORT_FORMAT = "archspec-report/1"
FLOP_PROFILES = ("tfprof", "2mac")
BYTES_PER_VALUE = 4  # float32
MAX_ALIGNMENT_WARNINGS = 20  # past this, one summary: a deep network repeats the same cause


# ---------------------------------------------------------------------------------------------
# Receptive fields (Araujo, Norris & Sim, Distill 2019), per spatial axis


@dataclass(frozen=True)
class ReceptiveField:
    size: tuple[Fraction, Fraction]
    stride: tuple[Fraction, Fraction]
    padding: tuple[Fraction, Fraction]

    @staticmethod
    def of_input() -> "ReceptiveField":
        one, zero = Fraction(1), Fraction(0)
        return ReceptiveField((one, one), (one, one), (zero, zero))

    def through(self, window: Window) -> "ReceptiveField":
        size = tuple(r + (k - 1) * j for r, k, j in zip(self.size, window.kernel, self.stride))
        padding = tuple(p + q * j for p, q, j in zip(self.padding, window.pad_before, self.stride))
        stride = tuple(j * s for j, s in zip(self.stride, window.stride))
        return ReceptiveField(size, stride, padding)  # type: ignore[arg-type]

    @property
    def centre(self) -> tuple[Fraction, Fraction]:
        """Where the first output's field is centred, in input pixels: (r - 1) / 2 - p."""
        return tuple((r - 1) / 2 - p for r, p in zip(self.size, self.padding))  # type: ignore[return-value]

    def aligned_with(self, other: "ReceptiveField") -> bool:
        return self.stride == other.stride and self.centre == other.centre

    def to_dict(self) -> dict:
        return {"size": _numbers(self.size), "stride": _numbers(self.stride), "padding": _numbers(self.padding)}

    def text(self) -> str:
        size = [str(value) for value in self.size]  # Fractions print as 3 or 1/3
        stride = [str(value) for value in self.stride]
        size_text = size[0] if size[0] == size[1] else f"{size[0]}x{size[1]}"
        stride_text = stride[0] if stride[0] == stride[1] else f"{stride[0]}x{stride[1]}"
        return f"{size_text} s{stride_text}"


def _number(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else float(value)


def _numbers(values: Iterable[Fraction]) -> list:
    return [_number(v) for v in values]


# ---------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class LayerReport:
    name: str
    kind: str
    label: str
    block: str | None
    groups: tuple[str, ...]
    inputs: tuple[str, ...]
    output_shape: Shape
    trainable_params: int
    non_trainable_params: int
    macs: int
    flops: dict[str, int]
    receptive_field: ReceptiveField | None
    span: Span | None = None

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    def to_dict(self) -> dict:
        return {
            "name": self.name, "kind": self.kind, "block": self.block, "inputs": list(self.inputs),
            "output_shape": list(self.output_shape), "params": self.params, "trainable_params": self.trainable_params,
            "macs": self.macs, "flops": dict(self.flops),
            "receptive_field": self.receptive_field.to_dict() if self.receptive_field else None,
        }


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    flops: dict[str, int]
    activation_elements: int
    param_bytes: int
    receptive_field: ReceptiveField | None
    receptive_field_layer: str | None
    aligned: bool

    @property
    def activation_bytes(self) -> int:
        return self.activation_elements * BYTES_PER_VALUE

    def to_dict(self) -> dict:
        field_dict = self.receptive_field.to_dict() if self.receptive_field else {"size": None, "stride": None, "padding": None}
        field_dict["layer"] = self.receptive_field_layer
        return {
            "params": self.params, "trainable_params": self.trainable_params, "non_trainable_params": self.non_trainable_params,
            "macs": self.macs, "flops": dict(self.flops), "activation_elements": self.activation_elements,
            "param_bytes": self.param_bytes, "receptive_field": {**field_dict, "aligned": self.aligned},
        }


@dataclass(frozen=True)
class Report:
    network: str
    input_shape: Shape
    output_shape: Shape
    layers: tuple[LayerReport, ...]
    totals: Totals
    diagnostics: tuple[Diagnostic, ...]
    groups: tuple = ()
    param_convention: str = "keras"

    def layer(self, name: str) -> LayerReport:
        return next(layer for layer in self.layers if layer.name == name)

    def to_dict(self) -> dict:
        return {
            "format": REPORT_FORMAT, "network": self.network, "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape), "param_convention": self.param_convention,
            "totals": self.totals.to_dict(), "layers": [layer.to_dict() for layer in self.layers],
            "diagnostics": [
                {"severity": d.severity, "code": d.code, "message": d.message, "location": d.location(), "note": d.note}
                for d in self.diagnostics
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def rows(self, depth: int | None = None) -> list["Row"]:
        return collapse(self, depth)

    def to_table(self, depth: int | None = None) -> str:
        return render_table(self, depth)

    def to_markdown(self, depth: int | None = None) -> str:
        return render_markdown(self, depth)

    def to_csv(self, depth: int | None = None) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["name", "kind", "block", "output_shape", "params", "trainable_params", "non_trainable_params",
                         "macs", "flops_tfprof", "flops_2mac", "rf_size", "rf_stride", "rf_padding"])
        for row in self.rows(depth):
            field_ = row.receptive_field
            writer.writerow([
                row.name, row.kind, row.block or "", format_shape(row.output_shape), row.params, row.trainable_params,
                row.params - row.trainable_params, row.macs, row.flops["tfprof"], row.flops["2mac"],
                _pair_text(field_.size) if field_ else "", _pair_text(field_.stride) if field_ else "",
                _pair_text(field_.padding) if field_ else "",
            ])
        return buffer.getvalue()


def _pair_text(values: Sequence[Fraction]) -> str:
    """`3x3`, or exact fractions such as `5/3x5/3` (upsampling), as the table prints them."""
    return "x".join(str(value) for value in values)


@dataclass(frozen=True)
class Row:
    """A table row: one layer, or a group of layers collapsed by `--depth`."""

    name: str
    kind: str
    block: str | None
    level: int
    output_shape: Shape
    params: int
    trainable_params: int
    macs: int
    flops: dict[str, int]
    receptive_field: ReceptiveField | None
    layers: int = 1


def collapse(report: Report, depth: int | None) -> list[Row]:
    """Rows at `depth` levels of grouping (None: every layer), like torchinfo's depth."""
    rows: list[Row] = []
    open_group: str | None = None
    labels = {group.id: group for group in report.groups}
    for layer in report.layers:
        if depth is None or len(layer.groups) < depth:
            rows.append(Row(layer.name, layer.kind, layer.block, len(layer.groups), layer.output_shape, layer.params,
                            layer.trainable_params, layer.macs, dict(layer.flops), layer.receptive_field))
            open_group = None
            continue
        group_id = layer.groups[depth - 1]
        if open_group == group_id:
            last = rows[-1]
            rows[-1] = Row(
                last.name, last.kind, last.block, last.level, layer.output_shape, last.params + layer.params,
                last.trainable_params + layer.trainable_params, last.macs + layer.macs,
                {k: last.flops[k] + layer.flops[k] for k in last.flops},
                layer.receptive_field or last.receptive_field, last.layers + 1,
            )
            continue
        group = labels.get(group_id)
        parent = layer.groups[depth - 2] if depth >= 2 else None
        rows.append(Row(group_id, group.label if group else "group", parent, depth - 1, layer.output_shape, layer.params,
                        layer.trainable_params, layer.macs, dict(layer.flops), layer.receptive_field))
        open_group = group_id
    return rows


# ---------------------------------------------------------------------------------------------
# The walk


@dataclass
class _FieldState:
    field: ReceptiveField | None
    via: str | None = None  # the input whose field was carried on (the largest at a merge)


@dataclass
class Analyzer:
    graph: Graph
    convention: str = "keras"
    fields: dict[str, _FieldState] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    aligned: bool = True
    misaligned: int = 0

    def run(self) -> Report:
        graph = self.graph
        spatial = len(graph.input_shape) == 3
        self.fields[INPUT] = _FieldState(ReceptiveField.of_input() if spatial else None)
        layers = [self.layer_report(node) for node in graph.nodes]
        if self.misaligned > MAX_ALIGNMENT_WARNINGS:
            self.warnings.append(Diagnostic("warning", f"{self.misaligned - MAX_ALIGNMENT_WARNINGS} more merges are misaligned "
                                            f"({self.misaligned} in all); the first {MAX_ALIGNMENT_WARNINGS} are explained above",
                                            code="rf-misaligned"))
        totals = self.totals(layers)
        return Report(graph.network, graph.input_shape, graph.shape_of(graph.output), tuple(layers), totals,
                      graph.warnings + tuple(self.warnings), graph.groups, self.convention)

    def layer_report(self, node: Node) -> LayerReport:
        layer = node.layer
        input_shapes = [self.graph.shape_of(name) for name in node.inputs]
        count = layer.params(input_shapes, self.convention)
        macs = layer.macs(input_shapes, node.output_shape)
        flops = {"tfprof": layer.tfprof_flops(input_shapes, node.output_shape), "2mac": 2 * macs}
        field_ = self.receptive_field(node, layer, input_shapes)
        block = node.groups[-1] if node.groups else None
        return LayerReport(node.name, node.entry, layer.label(), block, node.groups, node.inputs, node.output_shape,
                           count.trainable, count.non_trainable, macs, flops, field_, node.span)

    def receptive_field(self, node: Node, layer: Layer, input_shapes: list[Shape]) -> ReceptiveField | None:
        states = [self.fields[name] for name in node.inputs]
        if layer.mixes_positions or len(node.output_shape) != 3 or any(s.field is None for s in states):
            self.fields[node.name] = _FieldState(None)
            return None
        chosen = 0
        if len(states) > 1:
            chosen = max(range(len(states)), key=lambda i: (states[i].field.size[0] * states[i].field.size[1], -i))
            self.check_alignment(node, [s.field for s in states])
        current = states[chosen].field
        window = layer.window(input_shapes)
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
            self.misaligned += 1
            if self.misaligned > MAX_ALIGNMENT_WARNINGS:
                return  # summarized once in the totals
            first, other = node.inputs[0], node.inputs[index]
            message = (
                f"{node.layer.kind} '{node.name}' merges receptive fields that are not aligned: "
                f"input 1 '{first}' {_describe_field(reference)} and input {index + 1} '{other}' {_describe_field(fields[index])}"
            )
            first_path, other_path = self.fork(first, other)
            causes = self.causes(first_path) + self.causes(other_path)
            if causes:
                message += "; cause: " + "; ".join(causes)
            hint = "Keras `same` pads the odd pixel after, so a strided conv shifts its path's centre; an explicit zero_pad before a valid conv on both paths keeps them aligned"
            self.warnings.append(Diagnostic("warning", message, node.span, hint, code="rf-misaligned", note=self.block_note(node)))
            return

    def block_note(self, node: Node) -> str | None:
        """Which block call expanded the node, for diagnostics located inside a block body."""
        for group_id in reversed(node.groups):
            group = self.graph.group(group_id)
            if group.kind == BLOCK_GROUP:
                return f"in `{group.label}`" + (f" at {group.span.location()}" if group.span else "")
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
            if chains[0][-1] == INPUT and chains[1][-1] == INPUT:
                return chains[0][:-1], chains[1][:-1]
            for side in (0, 1):
                if chains[side][-1] != INPUT:
                    step = self.previous(chains[side][-1])
                    chains[side].append(step)
                    seen[side].add(step)

    def causes(self, path: list[str]) -> list[str]:
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
                    found.append(_describe_shift(node, window, input_shapes[0], shifts))
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
    size, stride, centre = _numbers(value.size), _numbers(value.stride), _numbers(value.centre)
    size_text = f"{size[0]}x{size[1]}"
    stride_text = str(stride[0]) if stride[0] == stride[1] else f"{stride[0]}x{stride[1]}"
    centre_text = str(centre[0]) if centre[0] == centre[1] else f"{centre[0]}, {centre[1]}"
    return f"(size {size_text}, stride {stride_text}, centre offset {centre_text} px)"


def _describe_shift(node: Node, window: Window, input_shape: Shape, shifts: list[Fraction]) -> str:
    kernel = f"{window.kernel[0]}x{window.kernel[1]}"
    stride = _numbers(window.stride)
    stride_text = f", stride {stride[0]}" if stride[0] == stride[1] else f", stride {stride[0]}x{stride[1]}"
    padding_text = f", padding={window.padding_mode}" if window.padding_mode else ""
    before, after = window.pad_before, window.pad_after
    pads = f"pads {before[0]} before and {after[0]} after" if before[0] == before[1] and after[0] == after[1] else f"pads {before} before and {after} after"
    moves = _numbers(shifts)
    move_text = str(moves[0]) if moves[0] == moves[1] else f"{moves[0]} (height), {moves[1]} (width)"
    return (f"{node.layer.kind} '{node.name}' ({kernel}{stride_text}{padding_text} on a {format_shape(input_shape[:2])} input) "
            f"{pads}, moving its path's centre by {move_text} px")


def analyze(graph: Graph, param_convention: str = "keras") -> Report:
    """Analyze an expanded graph; `param_convention` is "keras" (4 per BN channel) or "torch"."""
    if param_convention not in ("keras", "torch"):
        raise ValueError(f"unknown parameter convention {param_convention!r}; expected keras or torch")
    return Analyzer(graph, param_convention).run()


@dataclass(frozen=True)
class Budget:
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


def format_count(value: int) -> str:
    return f"{value:,}"


def format_bytes(value: int) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:.2f} {unit}"
    return f"{value} B"


def field_text(value: ReceptiveField | None) -> str:
    return value.text() if value else "-"


def describe_totals(report: Report) -> list[tuple[str, str]]:
    """The totals as (label, text) pairs, shared by the table and Markdown renderers."""
    totals = report.totals
    pairs = [
        ("params", f"{format_count(totals.params)} (trainable {format_count(totals.trainable_params)}, "
                   f"non-trainable {format_count(totals.non_trainable_params)}; {report.param_convention} convention)"),
        ("MACs", format_count(totals.macs)),
        ("FLOPs (tfprof)", format_count(totals.flops["tfprof"])),
        ("FLOPs (2mac)", format_count(totals.flops["2mac"])),
        ("activations", f"{format_count(totals.activation_elements)} values per sample ({format_bytes(totals.activation_bytes)} at float32)"),
        ("parameter memory", f"{format_bytes(totals.param_bytes)} at float32"),
    ]
    if totals.receptive_field is not None:
        field_ = totals.receptive_field
        alignment = "aligned" if totals.aligned else "NOT aligned at every merge (see warnings)"
        pairs.append(("receptive field", f"{_pair_text(field_.size)}, stride {_pair_text(field_.stride)}, "
                                         f"padding {_pair_text(field_.padding)} at '{totals.receptive_field_layer}'; {alignment}"))
    return pairs


# ---------------------------------------------------------------------------------------------
# Text renderings

TABLE_HEADER = ("Layer", "Kind", "Output shape", "Params", "MACs", "FLOPs (tfprof)", "RF")
NUMERIC_COLUMNS = {3, 4, 5, 6}


def _row_cells(row: Row, indent: bool) -> tuple[str, ...]:
    name = ("  " * row.level if indent else "") + row.name
    kind = row.kind if row.layers == 1 else f"{row.kind} [{row.layers} layers]"
    return (name, kind, format_shape(row.output_shape), format_count(row.params), format_count(row.macs),
            format_count(row.flops["tfprof"]), field_text(row.receptive_field))


def render_table(report: Report, depth: int | None = None) -> str:
    """An aligned text table with totals and warnings, for terminals."""
    rows = [_row_cells(row, indent=depth is not None) for row in report.rows(depth)]
    widths = [max(len(cells[i]) for cells in [TABLE_HEADER, *rows]) for i in range(len(TABLE_HEADER))]

    def line(cells: Sequence[str]) -> str:
        parts = [cell.rjust(widths[i]) if i in NUMERIC_COLUMNS else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(parts).rstrip()

    rule = "-" * len(line(["x" * w for w in widths]))
    title = f"{report.network}: input {format_shape(report.input_shape)} -> output {format_shape(report.output_shape)}"
    out = [title, rule, line(TABLE_HEADER), rule, *(line(cells) for cells in rows), rule]
    label_width = max(len(label) for label, _ in describe_totals(report))
    out += [f"{label.ljust(label_width)}  {text}" for label, text in describe_totals(report)]
    if report.diagnostics:
        out.append("")
        out += [f"warning[{d.code}]: {d.message}" + (f"\n  at {d.location()}" if d.location() else "")
                + (f" ({d.note})" if d.note else "") for d in report.diagnostics]
    return "\n".join(out) + "\n"


def render_markdown(report: Report, depth: int | None = None) -> str:
    """A GitHub-flavoured Markdown table with the totals beneath."""
    header = "| " + " | ".join(TABLE_HEADER) + " |"
    align = "|" + "|".join("---:" if i in NUMERIC_COLUMNS else "---" for i in range(len(TABLE_HEADER))) + "|"
    body = ["| " + " | ".join(cell.replace("|", "\\|") for cell in _row_cells(row, indent=False)) + " |" for row in report.rows(depth)]
    out = [f"### {report.network}", "", header, align, *body, ""]
    out += [f"- **{label}**: {text}" for label, text in describe_totals(report)]
    out += [f"- **warning** `{d.code}`: {d.message}" for d in report.diagnostics]
    return "\n".join(out) + "\n"
