"""Text renderings of a `Report`: the table, Markdown, and the number formats they share."""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

from ..codes import warnings_summary
from ..errors import render_brief
from ..graph import INPUT
from ..layers import Window, elements, format_shape
from .report import BYTES_PER_VALUE, ReceptiveField, Report, Row, pair_text, same_or_each


def format_count(value: int) -> str:
    return f"{value:,}"


def format_bytes(value: int) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:.2f} {unit}"
    return f"{value} B"


def field_text(value: ReceptiveField | None) -> str:
    return value.text() if value else "-"


def io_text(report: Report) -> str:
    """`input 32x32x3 -> output 10`; with several, or named, inputs and outputs each by name."""
    inputs = report.inputs or (("input", report.input_shape),)
    outputs = report.outputs or (("", report.output_shape),)
    if len(inputs) == 1 and inputs[0][0] == "input" and len(outputs) == 1:
        return f"input {format_shape(report.input_shape)} -> output {format_shape(report.output_shape)}"
    input_text = ", ".join(f"{name} {format_shape(shape)}" for name, shape in inputs)
    output_text = ", ".join(f"{name} {format_shape(shape)}" for name, shape in outputs) if len(outputs) > 1 else format_shape(outputs[0][1])
    return f"input{'s' if len(inputs) > 1 else ''} {input_text} -> output{'s' if len(outputs) > 1 else ''} {output_text}"


def describe_totals(report: Report) -> list[tuple[str, str]]:
    """The totals as (label, text) pairs, shared by the table and Markdown renderers."""
    totals = report.totals
    pairs = [
        ("params", f"{format_count(totals.params)} ({format_bytes(totals.param_bytes)}): "
                   f"trainable {format_count(totals.trainable_params)} ({format_bytes(totals.trainable_params * BYTES_PER_VALUE)}), "
                   f"non-trainable {format_count(totals.non_trainable_params)} "
                   f"({format_bytes(totals.non_trainable_params * BYTES_PER_VALUE)}); {report.param_convention} convention"),
        ("MACs", format_count(totals.macs)),
        ("FLOPs (tfprof)", format_count(totals.flops["tfprof"])),
        ("FLOPs (2mac)", format_count(totals.flops["2mac"])),
        ("activations", f"{format_count(totals.activation_elements)} values per sample ({format_bytes(totals.activation_bytes)} at float32)"),
        ("parameter memory", f"{format_bytes(totals.param_bytes)} at float32"),
    ]
    if totals.receptive_field is not None:
        field_ = totals.receptive_field
        shown = any(d.code == "rf-misaligned" for d in report.diagnostics)
        alignment = "aligned" if totals.aligned else f"NOT aligned at every merge ({'see warnings' if shown else 'allowed'})"
        pairs.append(("receptive field", f"{pair_text(field_.size)}, stride {pair_text(field_.stride)}, "
                                         f"padding {pair_text(field_.padding)} at '{totals.receptive_field_layer}'; {alignment}"))
    if report.memory is not None:
        pairs += memory_lines(report.memory)
    return pairs


def memory_lines(ledger) -> list[tuple[str, str]]:
    """The training-memory ledger's lines (analysis.memory), under the totals."""
    setup = ledger.setup
    lines = [
        ("training memory", f"peak {format_bytes(ledger.peak)} for one step at batch {setup.batch:,}, {setup.optimizer}, {setup.dtype} "
                            f"(an estimate: docs/conventions.md)"),
        ("  parameters", format_bytes(ledger.parameters)),
        ("  gradients", format_bytes(ledger.gradients)),
        ("  optimizer slots", f"{format_bytes(ledger.optimizer_slots)} ({setup.optimizer})"),
        ("  kept activations", f"{format_bytes(ledger.activations)} (what the gradients read, for the batch)"),
        ("  workspace", f"{format_bytes(ledger.workspace)} (the gradients at the widest layer)"),
    ]
    if ledger.largest_batch is not None:
        lines.append(("  largest batch", f"{ledger.largest_batch:,} in {format_bytes(setup.memory)}"))
    return lines


# ---------------------------------------------------------------------------------------------
# Text renderings

class Column(NamedTuple):
    """A column of the table after Layer and Kind (`--columns`, like torchinfo's col_names)."""

    header: str
    numeric: bool
    cell: Callable[[Row, Report], str]


def _window_text(values: Callable[[Window], tuple], text: Callable[[tuple], str]) -> Callable[[Row, Report], str]:
    return lambda row, report: text(values(row.window)) if row.window is not None else ""


def _input_name(report: Report, name: str) -> str:
    """The first input's node is `input`; the table calls it what the spec does (`as image`)."""
    return report.inputs[0][0] if name == INPUT and report.inputs else name


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


COLUMNS: dict[str, Column] = {
    "kernel": Column("Kernel", False, _window_text(lambda window: window.kernel, pair_text)),  # 3x3, as Keras writes it
    "stride": Column("Stride", False, _window_text(lambda window: window.stride, same_or_each)),
    "output_shape": Column("Output shape", False, lambda row, report: format_shape(row.output_shape)),
    "params": Column("Params", True, lambda row, report: format_count(row.params)),
    "params_percent": Column("% Params", True, lambda row, report: _percent(row.params, report.totals.params)),
    "macs": Column("MACs", True, lambda row, report: format_count(row.macs)),
    "macs_percent": Column("% MACs", True, lambda row, report: _percent(row.macs, report.totals.macs)),
    "flops": Column("FLOPs (tfprof)", True, lambda row, report: format_count(row.flops["tfprof"])),
    "memory": Column("Act. memory", True, lambda row, report: format_bytes(elements(row.output_shape) * BYTES_PER_VALUE)),
    "rf": Column("RF", True, lambda row, report: field_text(row.receptive_field)),
    "connected_to": Column("Connected to", False, lambda row, report: ", ".join(_input_name(report, name) for name in row.inputs)),
}
DEFAULT_COLUMNS = ("output_shape", "params", "macs", "flops", "rf")


def is_chain(rows: Sequence[Row]) -> bool:
    """Whether each row reads just the one before it (then "Connected to" says nothing)."""
    previous = INPUT
    for row in rows:
        if row.inputs != (previous,):
            return False
        previous = row.name
    return True


def table_columns(rows: Sequence[Row], chosen: Sequence[str] | None) -> tuple[str, ...]:
    """The columns asked for, or the default ones and "Connected to" when the rows are not a chain."""
    if chosen:
        return tuple(chosen)
    return DEFAULT_COLUMNS if is_chain(rows) else (*DEFAULT_COLUMNS, "connected_to")


def _row_cells(row: Row, report: Report, columns: Sequence[str], indent: bool) -> tuple[str, ...]:
    name = ("  " * row.level if indent else "") + row.name
    kind = row.kind if row.layers == 1 and not row.header else f"{row.kind} [{row.layers} layers]"
    return (name, kind, *(COLUMNS[key].cell(row, report) for key in columns))


def render_table(report: Report, depth: int | None = None, columns: Sequence[str] | None = None) -> str:
    """An aligned text table with totals and warnings, for terminals."""
    shown = report.rows(depth)
    keys = table_columns(shown, columns)
    header = ("Layer", "Kind", *(COLUMNS[key].header for key in keys))
    numeric = {index + 2 for index, key in enumerate(keys) if COLUMNS[key].numeric}
    rows = [_row_cells(row, report, keys, indent=depth is not None) for row in shown]
    widths = [max(len(cells[i]) for cells in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(parts).rstrip()

    rule = "-" * len(line(["x" * w for w in widths]))
    title = f"{report.network}: {io_text(report)}"
    out = [title, rule, line(header), rule, *(line(cells) for cells in rows), rule]
    label_width = max(len(label) for label, _ in describe_totals(report))
    out += [f"{label.ljust(label_width)}  {text}" for label, text in describe_totals(report)]
    if report.diagnostics:
        out.append("")
        out += [render_brief(d) for d in report.diagnostics]
        out.append(warnings_summary(report.diagnostics))
    return "\n".join(out) + "\n"


def render_markdown(report: Report, depth: int | None = None, columns: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table with the totals beneath."""
    shown = report.rows(depth)
    keys = table_columns(shown, columns)
    header = "| " + " | ".join(("Layer", "Kind", *(COLUMNS[key].header for key in keys))) + " |"
    align = "|---|---|" + "|".join("---:" if COLUMNS[key].numeric else "---" for key in keys) + "|"
    body = ["| " + " | ".join(cell.replace("|", "\\|") for cell in _row_cells(row, report, keys, indent=False)) + " |"
            for row in shown]
    out = [f"### {report.network}", "", header, align, *body, ""]
    out += [f"- **{label}**: {text}" for label, text in describe_totals(report)]
    out += [f"- **warning** `{d.code}`: {d.message}" for d in report.diagnostics]
    return "\n".join(out) + "\n"
