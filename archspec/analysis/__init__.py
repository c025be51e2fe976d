"""Static analysis: a `Graph` to a `Report` of shapes, parameters, MACs, FLOPs, receptive fields
and memory, computed in one walk in topological order by asking each layer's class.

Takes a `Graph`; hands out a frozen `Report` (`report`) computed by `analyzer`, which renders as
a table or Markdown (`render`), JSON (`archspec-report/1`) or CSV, optionally collapsed to block
depth.
"""

from .analyzer import Budget, analyze, check_budget
from .render import describe_totals, field_text, format_bytes, format_count, render_markdown, render_table
from .report import FLOP_PROFILES, REPORT_FORMAT, LayerReport, ReceptiveField, Report, Row, Totals, collapse

__all__ = [
    "FLOP_PROFILES", "REPORT_FORMAT", "Budget", "LayerReport", "ReceptiveField", "Report", "Row", "Totals", "analyze",
    "check_budget", "collapse", "describe_totals", "field_text", "format_bytes", "format_count", "render_markdown",
    "render_table",
]
