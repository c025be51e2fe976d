"""What analysis hands out: the frozen `Report` (per-layer rows, totals, receptive fields), its
JSON (`archspec-report/1`) and CSV forms, and its rows collapsed to block depth."""

from __future__ import annotations

import json
from fractions import Fraction
from math import prod
from typing import Any, Iterable, NamedTuple, Sequence

from ..errors import Diagnostic, Span
from ..layers import Retained, Shape, Window, format_shape

REPORT_FORMAT = "archspec-report/1"
FLOP_PROFILES = ("tfprof", "2mac")
BYTES_PER_VALUE = 4  # float32
MAX_ALIGNMENT_WARNINGS = 20  # past this, one summary: a deep network repeats the same cause


# ---------------------------------------------------------------------------------------------
# Receptive fields (Araujo, Norris & Sim, Distill 2019), per spatial axis


class ReceptiveField(NamedTuple):
    """Per spatial axis (one for a sequence, two for an image, three for a volume)."""

    size: tuple[Fraction, ...]
    stride: tuple[Fraction, ...]
    padding: tuple[Fraction, ...]

    @staticmethod
    def of_input(rank: int = 2) -> "ReceptiveField":
        # Integers while every window is integral (the common case, and fast); an upsampling
        # window's fractional stride turns them into exact Fractions.
        return ReceptiveField((1,) * rank, (1,) * rank, (0,) * rank)

    def through(self, window: Window) -> "ReceptiveField":
        size = tuple(r + (k - 1) * j for r, k, j in zip(self.size, window.kernel, self.stride))
        padding = tuple(p + q * j for p, q, j in zip(self.padding, window.pad_before, self.stride))
        stride = tuple(j * s for j, s in zip(self.stride, window.stride))
        return ReceptiveField(size, stride, padding)  # type: ignore[arg-type]

    @property
    def centre(self) -> tuple[Fraction, ...]:
        """Where the first output's field is centred, in input pixels: (r - 1) / 2 - p."""
        return tuple(Fraction(r - 1, 2) - p for r, p in zip(self.size, self.padding))

    @property
    def area(self) -> Fraction | int:
        return prod(self.size)  # an int while the sizes are (exact either way)

    def aligned_with(self, other: "ReceptiveField") -> bool:
        # Centres compared doubled, (r - 1) - 2p: exact, and integers while the fields are (a
        # Fraction per axis at every merge would cost more than the rest of the merge's row).
        return self.stride == other.stride and self._doubled_centre() == other._doubled_centre()

    def _doubled_centre(self) -> tuple[Fraction, ...]:
        return tuple((r - 1) - 2 * p for r, p in zip(self.size, self.padding))

    def to_dict(self) -> dict:
        return {"size": numbers(self.size), "stride": numbers(self.stride), "padding": numbers(self.padding)}

    def text(self) -> str:
        """`3 s1`, `3x5 s2`, as the table prints it (Fractions print as 3 or 1/3)."""
        return f"{same_or_each(self.size)} s{same_or_each(self.stride)}"


def same_or_each(values: Sequence[Fraction]) -> str:
    """One value when all axes agree, else each: `3`, `3x5`."""
    texts = [str(value) for value in values]
    return texts[0] if len(set(texts)) == 1 else "x".join(texts)


def _number(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else float(value)


def numbers(values: Iterable[Fraction]) -> list:
    return [_number(v) for v in values]


# ---------------------------------------------------------------------------------------------
# The report


class LayerReport(NamedTuple):
    name: str
    kind: str  # the language name the spec wrote (the node's `entry`), as the JSON report's "kind"
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
    kept_for_gradient: Retained = Retained()  # what its gradient holds from the forward pass (the memory ledger)
    window: Window | None = None  # how it slides (kernel, stride), for the table's columns

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


class Totals(NamedTuple):
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


class Report(NamedTuple):
    network: str
    input_shape: Shape
    output_shape: Shape
    layers: tuple[LayerReport, ...]
    totals: Totals
    diagnostics: tuple[Diagnostic, ...]
    groups: tuple = ()
    param_convention: str = "keras"
    inputs: tuple[tuple[str, Shape], ...] = ()  # (name, shape) of every input, the first first
    outputs: tuple[tuple[str, Shape], ...] = ()  # (layer, shape) of every output, the first first
    memory: Any = None  # the training-memory ledger (analysis.memory.MemoryLedger), when asked for

    def layer(self, name: str) -> LayerReport:
        return next(layer for layer in self.layers if layer.name == name)

    def to_dict(self) -> dict:
        return {
            "format": REPORT_FORMAT, "network": self.network, "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "inputs": [{"name": name, "shape": list(shape)} for name, shape in self.inputs],
            "outputs": [{"name": name, "shape": list(shape)} for name, shape in self.outputs],
            "param_convention": self.param_convention,
            "totals": self.totals.to_dict(), "layers": self._layer_dicts(),
            "diagnostics": [
                {"severity": d.severity, "code": d.code, "message": d.message, "location": d.location(), "note": d.note,
                 "detail": d.detail, "hint": d.hint}
                for d in self.diagnostics
            ],
            **({"memory": self.memory.to_dict()} if self.memory is not None else {}),
        }

    def _layer_dicts(self) -> list[dict]:
        rows = [layer.to_dict() for layer in self.layers]
        if self.memory is not None:
            for row, kept in zip(rows, self.memory.layer_bytes):
                row["activation_bytes"] = kept
        return rows

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def kept_bytes_by_row(self, depth: int | None) -> dict[str, int] | None:
        """Each table row's kept activations (the memory ledger's), a collapsed block's summed."""
        if self.memory is None:
            return None
        by_name = dict(zip((layer.name for layer in self.layers), self.memory.layer_bytes))
        rows = {}
        for row in self.rows(depth):
            rows[row.name] = by_name[row.name] if row.layers == 1 and row.name in by_name else sum(
                by_name[layer.name] for layer in self.layers if row.name in layer.groups)
        return rows

    def rows(self, depth: int | None = None) -> list["Row"]:
        return collapse(self, depth)

    def to_table(self, depth: int | None = None, columns: Sequence[str] | None = None) -> str:
        from .render import render_table  # the renderings sit above the report they render

        return render_table(self, depth, columns)

    def to_markdown(self, depth: int | None = None, columns: Sequence[str] | None = None) -> str:
        from .render import render_markdown

        return render_markdown(self, depth, columns)

    def to_csv(self, depth: int | None = None) -> str:
        import csv  # only this rendering uses it
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        kept = self.kept_bytes_by_row(depth)
        writer.writerow(["name", "kind", "block", "output_shape", "params", "trainable_params", "non_trainable_params",
                         "macs", "flops_tfprof", "flops_2mac", "rf_size", "rf_stride", "rf_padding",
                         *(["activation_bytes"] if kept is not None else [])])
        for row in self.rows(depth):
            if row.header:  # a group's subtotal row would count its children twice
                continue
            field_ = row.receptive_field
            writer.writerow([
                row.name, row.kind, row.block or "", format_shape(row.output_shape), row.params, row.trainable_params,
                row.params - row.trainable_params, row.macs, row.flops["tfprof"], row.flops["2mac"],
                pair_text(field_.size) if field_ else "", pair_text(field_.stride) if field_ else "",
                pair_text(field_.padding) if field_ else "", *([kept[row.name]] if kept is not None else []),
            ])
        return buffer.getvalue()


def pair_text(values: Sequence[Fraction]) -> str:
    """`3x3`, or exact fractions such as `5/3x5/3` (upsampling), as the table prints them."""
    return "x".join(str(value) for value in values)


class Row(NamedTuple):
    """A table row: one layer, a group of layers collapsed by `--depth`, or (`header`) a group
    shown above its children with their subtotals."""

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
    inputs: tuple[str, ...] = ()  # what it reads from outside itself ("Connected to")
    window: Window | None = None  # a single layer's kernel and stride
    header: bool = False


def _summed(name: str, kind: str, block: str | None, level: int, layers: Sequence[LayerReport], header: bool = False) -> Row:
    """One row for several layers: their sums, the last one's shape and field, and the inputs
    they read from outside the group."""
    inside = {layer.name for layer in layers}
    inputs = tuple(dict.fromkeys(source for layer in layers for source in layer.inputs if source not in inside))
    last_field = next((layer.receptive_field for layer in reversed(layers) if layer.receptive_field is not None), None)
    return Row(name, kind, block, level, layers[-1].output_shape, sum(layer.params for layer in layers),
               sum(layer.trainable_params for layer in layers), sum(layer.macs for layer in layers),
               {key: sum(layer.flops[key] for layer in layers) for key in layers[0].flops},
               last_field, len(layers), inputs, header=header)


def collapse(report: Report, depth: int | None) -> list[Row]:
    """Rows at `depth` levels of grouping (None: every layer), like torchinfo's depth: the
    groups above that depth stay as rows with their subtotals, their children under them, and
    each group at the depth is one row."""
    labels = {group.id: group.label for group in report.groups}
    members: dict[str, list[LayerReport]] = {}
    for layer in report.layers:
        for group in layer.groups:
            members.setdefault(group, []).append(layer)
    rows: list[Row] = []
    opened: tuple[str, ...] = ()
    for layer in report.layers:
        path = layer.groups
        if depth is None:
            rows.append(_layer_row(layer, len(path)))
            continue
        visible = path[:depth - 1]
        common = next((k for k, (a, b) in enumerate(zip(opened, visible)) if a != b), min(len(opened), len(visible)))
        for level in range(common, len(visible)):
            group = visible[level]
            rows.append(_summed(group, labels.get(group, "group"), visible[level - 1] if level else None, level,
                                members[group], header=True))
        opened = visible
        if len(path) < depth:
            rows.append(_layer_row(layer, len(path)))
        elif not (rows and not rows[-1].header and rows[-1].name == path[depth - 1]):
            group = path[depth - 1]
            rows.append(_summed(group, labels.get(group, "group"), visible[-1] if visible else None, depth - 1, members[group]))
    return _connected_to_rows(rows, members) if depth is not None else rows


def _connected_to_rows(rows: list[Row], members: dict[str, list[LayerReport]]) -> list[Row]:
    """Each row's inputs named as the table shows them: a layer inside a collapsed group by
    that group's row."""
    shown = {layer.name: row.name for row in rows if not row.header and row.name in members for layer in members[row.name]}
    return [row._replace(inputs=tuple(dict.fromkeys(name for name in (shown.get(i, i) for i in row.inputs) if name != row.name)))
            for row in rows]


def _layer_row(layer: LayerReport, level: int) -> Row:
    return Row(layer.name, layer.kind, layer.block, level, layer.output_shape, layer.params, layer.trainable_params, layer.macs,
               dict(layer.flops), layer.receptive_field, 1, layer.inputs, layer.window)
