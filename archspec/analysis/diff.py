"""Two reports compared layer by layer: which layers were added, removed or changed (output
shape, params, MACs, FLOPs, receptive field), and how the totals moved.

Takes two `Report`s; hands out a frozen `Diff` that renders as a table or as JSON
(`archspec-diff/1`).

Layers are aligned by name first, then by structure. Two reports with the same layer names in
the same order (one spec under two settings) pair name by name. Otherwise the names a spec gave
(`as skip`: a name without the `_N` suffix archspec numbers layers with) anchor the alignment,
and between anchors the layers are aligned by what they are (kind and label, as a text diff
aligns lines), so a network with more units shows those units added instead of every later
layer renamed. A run of added (or removed) layers that is a whole block call is one row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cached_property
from typing import Any, Iterator, Sequence

from ..graph import BLOCK_GROUP
from ..layers import format_shape
from .render import format_count
from .report import LayerReport, Report, same_or_each

DIFF_FORMAT = "archspec-diff/1"
_NUMBERED = re.compile(r".*_\d+$")  # archspec's own names: `conv_3`, `basic_2_relu_1`


@dataclass(frozen=True)
class Change:
    """One row: layers added (in B), removed (from A), or a layer of both whose figures changed."""

    status: str  # "added", "removed" or "changed"
    layers: tuple[LayerReport, ...]  # the row's layers: of B when added, of A otherwise
    counterpart: LayerReport | None = None  # a changed layer's B side
    unit: str | None = None  # a whole block call added or removed: its label (`basic(64)`)
    unit_name: str | None = None  # and its group id (`stage_1_basic_3`)
    fields: tuple[tuple[str, Any, Any], ...] = ()  # what changed: (figure, in A, in B)

    @property
    def name(self) -> str:
        if self.unit_name:
            return self.unit_name
        if self.counterpart is not None and self.counterpart.name != self.layers[0].name:
            return f"{self.layers[0].name} -> {self.counterpart.name}"
        return self.layers[0].name

    @property
    def kind(self) -> str:
        return self.unit if self.unit else self.layers[0].kind

    def delta(self, figure: str) -> int:
        """The row's effect on a total (`params`, `macs`): B's figure less A's."""
        if self.status == "changed":
            return getattr(self.counterpart, figure) - getattr(self.layers[0], figure)
        total = sum(getattr(layer, figure) for layer in self.layers)
        return total if self.status == "added" else -total

    @property
    def params(self) -> int:
        return self.delta("params")

    @property
    def macs(self) -> int:
        return self.delta("macs")

    def to_dict(self) -> dict:
        row: dict[str, Any] = {"status": self.status, "name": self.name, "kind": self.kind,
                               "layers": [layer.name for layer in self.layers], "params": self.params, "macs": self.macs}
        if self.status == "changed":
            row["layers_b"] = [self.counterpart.name]
            row["fields"] = {field: {"a": _plain(a), "b": _plain(b)} for field, a, b in self.fields}
        if self.unit:
            row["block_call"] = self.unit
        return row


TOTALS = (("params", lambda r: r.totals.params), ("trainable_params", lambda r: r.totals.trainable_params),
          ("non_trainable_params", lambda r: r.totals.non_trainable_params), ("macs", lambda r: r.totals.macs),
          ("flops_tfprof", lambda r: r.totals.flops["tfprof"]), ("activation_elements", lambda r: r.totals.activation_elements),
          ("layers", lambda r: len(r.layers)))


@dataclass(frozen=True)
class Diff:
    a: Report
    b: Report
    changes: tuple[Change, ...]
    unchanged: int  # aligned layers whose figures are all equal

    @property
    def equal(self) -> bool:
        return not self.changes and self.a.inputs == self.b.inputs and self.a.outputs == self.b.outputs and all(
            value(self.a) == value(self.b) for _, value in TOTALS)

    def count(self, status: str) -> int:
        return sum(1 for change in self.changes if change.status == status)

    def totals(self) -> list[tuple[str, int, int]]:
        return [(name, value(self.a), value(self.b)) for name, value in TOTALS]

    def to_dict(self) -> dict:
        return {
            "format": DIFF_FORMAT, "equal": self.equal,
            "a": {"network": self.a.network, "input_shape": list(self.a.input_shape), "output_shape": list(self.a.output_shape)},
            "b": {"network": self.b.network, "input_shape": list(self.b.input_shape), "output_shape": list(self.b.output_shape)},
            "totals": {name: {"a": a, "b": b, "delta": b - a} for name, a, b in self.totals()},
            "unchanged_layers": self.unchanged,
            "changes": [change.to_dict() for change in self.changes],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_table(self) -> str:
        return render_diff(self)


def diff_reports(a: Report, b: Report) -> Diff:
    """Compare two reports (see the module's docstring for how layers are aligned)."""
    steps = _align(_Side(a), _Side(b))
    units = {"removed": _units(a, {left.name for left, right in steps if right is None}),
             "added": _units(b, {right.name for left, right in steps if left is None})}
    changes: list[Change] = []
    unchanged = 0
    for left, right in steps:
        if left is not None and right is not None:
            fields = tuple(_changed_fields(left, right))
            if fields:
                changes.append(Change("changed", (left,), right, fields=fields))
            else:
                unchanged += 1
            continue
        status, layer = ("removed", left) if right is None else ("added", right)
        key, label = units[status].get(layer.name, (layer.name, None))
        last = changes[-1] if changes else None
        if label is not None and last is not None and last.status == status and last.unit_name == key:
            changes[-1] = Change(status, (*last.layers, layer), unit=label, unit_name=key)
        else:
            changes.append(Change(status, (layer,), unit=label, unit_name=key if label is not None else None))
    return Diff(a, b, tuple(changes), unchanged)


# ---------------------------------------------------------------------------------------------
# Alignment

Step = tuple[LayerReport | None, LayerReport | None]  # a pair, or a layer of one side only


@dataclass(frozen=True)
class _Side:
    """A report's layers, each with what it is: kind, label, and the block it sits in (by name:
    `basic`, whatever the call's arguments), so a stem conv pairs with a stem conv."""

    report: Report

    @property
    def layers(self) -> tuple[LayerReport, ...]:
        return self.report.layers

    @cached_property
    def signatures(self) -> tuple[tuple, ...]:
        """Each layer as (kind, label, output shape, receptive field, the block it sits in by
        name, and that block call's content: its layers' kinds and labels)."""
        blocks = {group.id: group.label.split("(")[0] for group in self.report.groups if group.kind == BLOCK_GROUP}
        content: dict[str, list] = {}
        innermost = []
        for layer in self.layers:
            call = next((group for group in reversed(layer.groups) if group in blocks), None)
            innermost.append(call)
            if call is not None:
                content.setdefault(call, []).append((layer.kind, layer.label))
        return tuple((layer.kind, layer.label, layer.output_shape, layer.receptive_field, blocks.get(call),
                      tuple(content[call]) if call else None) for layer, call in zip(self.layers, innermost))

    @cached_property
    def calls(self) -> tuple[str | None, ...]:
        """Each layer's innermost block call (group id), or None outside blocks."""
        blocks = {group.id for group in self.report.groups if group.kind == BLOCK_GROUP}
        return tuple(next((group for group in reversed(layer.groups) if group in blocks), None) for layer in self.layers)

    def units(self, start: int, stop: int) -> list[tuple[int, int, str | None]]:
        """The layers start..stop as units: (start, stop, block name) of each run in one
        innermost block call, and (i, i + 1, None) for each layer outside blocks."""
        units: list[tuple[int, int, str | None]] = []
        for index in range(start, stop):
            call = self.calls[index]
            if call is not None and units and self.calls[units[-1][0]] == call:
                units[-1] = (units[-1][0], index + 1, units[-1][2])
            else:
                units.append((index, index + 1, self.signatures[index][4] if call is not None else None))
        return units


MAX_CELLS = 250_000  # past this many pairs of units, the text-diff alignment stands in for the scored one


def _pair_score(left: tuple, right: tuple) -> int:
    """How well two layers pair: never across kinds; most for the same arguments in a block
    call of the same content (a unit pairs with a unit like it, not with its neighbour), then
    for the same output shape and receptive field (which tells two equal convs apart)."""
    if left[0] != right[0]:
        return 0
    return 1 + 4 * (left[1] == right[1]) + (left[2] == right[2]) + (left[3] == right[3]) + (left[4] == right[4]) + 4 * (left[5] == right[5])


def _align(left: _Side, right: _Side) -> list[Step]:
    """The two layer lists merged in order: aligned pairs, and layers of one side."""
    if [layer.name for layer in left.layers] == [layer.name for layer in right.layers]:
        return list(zip(left.layers, right.layers))
    steps: list[Step] = []
    start_left = start_right = 0
    for anchor_left, anchor_right in [*_anchors(left.layers, right.layers), (len(left.layers), len(right.layers))]:
        steps += _align_structure(left, right, (start_left, anchor_left), (start_right, anchor_right))
        if anchor_left < len(left.layers):
            steps.append((left.layers[anchor_left], right.layers[anchor_right]))
        start_left, start_right = anchor_left + 1, anchor_right + 1
    return steps


def _anchors(left: Sequence[LayerReport], right: Sequence[LayerReport]) -> list[tuple[int, int]]:
    """Index pairs of layers both specs named themselves (same name, same kind), in an order
    both networks keep (the longest such chain)."""
    where = {layer.name: index for index, layer in enumerate(right) if not _NUMBERED.match(layer.name)}
    candidates = [(index, where[layer.name]) for index, layer in enumerate(left)
                  if layer.name in where and right[where[layer.name]].kind == layer.kind]
    return _longest_increasing(candidates)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of pairs increasing in both indices (pairs come sorted by the first)."""
    best: list[list[tuple[int, int]]] = []
    for pair in pairs:
        chains = [chain for chain in best if chain[-1][1] < pair[1]]
        best.append(max(chains, key=len, default=[]) + [pair])
    return max(best, key=len, default=[])


def _align_structure(left: _Side, right: _Side, span_left: tuple[int, int], span_right: tuple[int, int]) -> list[Step]:
    """Block calls pair as units first (a unit with the unit most like it, or with none: then
    it was added or removed whole), then the layers inside each pair of units; a layer outside
    any block is a unit of its own."""
    units_left, units_right = left.units(*span_left), right.units(*span_right)
    if len(units_left) * len(units_right) > MAX_CELLS:
        return _text_diff(left, right, span_left, span_right)
    inner: dict[tuple[int, int], tuple[int, list[Step]]] = {}

    def score(i: int, j: int) -> int:
        (a0, a1, block_a), (b0, b1, block_b) = units_left[i], units_right[j]
        if block_a != block_b or (block_a is None and left.signatures[a0][0] != right.signatures[b0][0]):
            return 0
        if (i, j) not in inner:
            inner[(i, j)] = _scored(left, right, (a0, a1), (b0, b1))
        return inner[(i, j)][0]

    steps: list[Step] = []
    for i, j in _best_pairs(len(units_left), len(units_right), score):
        if i is not None and j is not None:
            steps += inner[(i, j)][1] if (i, j) in inner else _scored(left, right, units_left[i][:2], units_right[j][:2])[1]
        elif i is not None:
            steps += [(layer, None) for layer in left.layers[units_left[i][0]:units_left[i][1]]]
        else:
            steps += [(None, layer) for layer in right.layers[units_right[j][0]:units_right[j][1]]]
    return steps


def _best_pairs(n: int, m: int, score) -> list[tuple[int | None, int | None]]:
    """The order-keeping pairing of items 0..n-1 with 0..m-1 of the greatest total `score(i, j)`
    (a weighted longest common subsequence); unpaired items come as (i, None) and (None, j)."""
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n):
        row, below = best[i], best[i + 1]
        for j in range(m):
            value = score(i, j)
            below[j + 1] = max(row[j + 1], below[j], row[j] + value if value else 0)
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:
        if i and j and (value := score(i - 1, j - 1)) and best[i][j] == best[i - 1][j - 1] + value:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif j and (not i or best[i][j] == best[i][j - 1]):
            pairs.append((None, j - 1))
            j -= 1
        else:
            pairs.append((i - 1, None))
            i -= 1
    return pairs[::-1]


def _scored(left: _Side, right: _Side, span_left: tuple[int, int], span_right: tuple[int, int]) -> tuple[int, list[Step]]:
    """The best layer alignment of two spans, and its score."""
    (i0, i1), (j0, j1) = span_left, span_right
    a, b = left.signatures, right.signatures
    pairs = _best_pairs(i1 - i0, j1 - j0, lambda i, j: _pair_score(a[i0 + i], b[j0 + j]))
    total = sum(_pair_score(a[i0 + i], b[j0 + j]) for i, j in pairs if i is not None and j is not None)
    return total, [(None if i is None else left.layers[i0 + i], None if j is None else right.layers[j0 + j]) for i, j in pairs]


def _text_diff(left: _Side, right: _Side, span_left: tuple[int, int], span_right: tuple[int, int]) -> list[Step]:
    """For very large networks: align on (kind, label) as a text diff aligns lines."""
    (i0, i1), (j0, j1) = span_left, span_right
    matcher = SequenceMatcher(None, [s[:2] for s in left.signatures[i0:i1]], [s[:2] for s in right.signatures[j0:j1]], autojunk=False)
    steps: list[Step] = []
    for operation, k1, k2, m1, m2 in matcher.get_opcodes():
        if operation == "equal":
            steps += zip(left.layers[i0 + k1:i0 + k2], right.layers[j0 + m1:j0 + m2])
        else:
            steps += [(layer, None) for layer in left.layers[i0 + k1:i0 + k2]]
            steps += [(None, layer) for layer in right.layers[j0 + m1:j0 + m2]]
    return steps


def _units(report: Report, chosen: set[str]) -> dict[str, tuple[str, str]]:
    """For each chosen layer inside a block call all of whose layers are chosen: (the call's
    group id, its label), the outermost such call."""
    members: dict[str, list[str]] = {}
    for layer in report.layers:
        for group in layer.groups:
            members.setdefault(group, []).append(layer.name)
    labels = {group.id: group.label for group in report.groups if group.kind == BLOCK_GROUP}
    units = {}
    for layer in report.layers:
        if layer.name in chosen:
            whole = next((group for group in layer.groups if group in labels and set(members[group]) <= chosen), None)
            if whole is not None:
                units[layer.name] = (whole, labels[whole])
    return units


def _changed_fields(left: LayerReport, right: LayerReport) -> Iterator[tuple[str, Any, Any]]:
    if left.label != right.label:
        yield "layer", left.label, right.label
    if left.output_shape != right.output_shape:
        yield "output_shape", left.output_shape, right.output_shape
    for field in ("trainable_params", "non_trainable_params", "macs"):
        if getattr(left, field) != getattr(right, field):
            yield field, getattr(left, field), getattr(right, field)
    if left.flops["tfprof"] != right.flops["tfprof"]:
        yield "flops_tfprof", left.flops["tfprof"], right.flops["tfprof"]
    if left.receptive_field != right.receptive_field:
        yield "receptive_field", left.receptive_field, right.receptive_field


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):  # a receptive field (a NamedTuple, so asked first)
        return value.to_dict()
    if isinstance(value, tuple):
        return list(value)
    return value


# ---------------------------------------------------------------------------------------------
# The table


_FIELD_WORDS = {"layer": "layer", "output_shape": "shape", "trainable_params": "trainable", "non_trainable_params": "non-trainable",
                "macs": "MACs", "flops_tfprof": "FLOPs", "receptive_field": "RF"}
_MARKS = {"added": "+", "removed": "-", "changed": "~"}


def _field_text(field: str, a: Any, b: Any) -> str:
    if field == "output_shape":
        return f"shape {format_shape(a)} -> {format_shape(b)}"
    if field == "receptive_field":
        return f"RF {_field_in_full(a)} -> {_field_in_full(b)}"
    if field == "layer":
        return f"{a} -> {b}"
    return f"{_FIELD_WORDS[field]} {format_count(a)} -> {format_count(b)} ({_signed(b - a)})"


def _field_in_full(value: Any) -> str:
    """`5 s1 p2`: the table's size and stride, and the padding (fields can differ in it alone)."""
    return "-" if value is None else f"{value.text()} p{same_or_each(value.padding)}"


def _signed(value: int) -> str:
    return f"+{value:,}" if value > 0 else f"{value:,}" if value < 0 else "0"


def render_diff(diff: Diff) -> str:
    a, b = diff.a, diff.b
    title = f"{a.network} -> {b.network}: "
    if diff.equal:
        return title + f"equal ({len(a.layers)} layer{'s' if len(a.layers) != 1 else ''}, {a.totals.params:,} params)\n"
    added_units = [change for change in diff.changes if change.status == "added" and change.unit]
    summary = [f"{diff.count('added')} added", f"{diff.count('removed')} removed", f"{diff.count('changed')} changed",
               f"{diff.unchanged} unchanged"]
    lines = [title + ", ".join(summary) + (f" ({len(added_units)} whole block calls added)" if added_units else "")]
    rows = []
    for change in diff.changes:
        size = f"{len(change.layers)} layers" if len(change.layers) > 1 else ""
        if change.status == "changed":
            what = "; ".join(_field_text(*field) for field in change.fields)
        else:
            what = ", ".join(filter(None, [size, f"params {_signed(change.params)}", f"MACs {_signed(change.macs)}"]))
        rows.append((_MARKS[change.status], change.name, change.kind, what))
    if rows:
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines += ["", *("  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)).rstrip() for row in rows)]
    lines += ["", "totals:"]
    width = max(len(name) for name, _, _ in diff.totals())
    for name, before, after in diff.totals():
        lines.append(f"  {name.ljust(width)}  {before:>15,} -> {after:>15,}  ({_signed(after - before)})")
    return "\n".join(lines) + "\n"
