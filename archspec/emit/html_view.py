"""Graph + Report + the spec's text -> one self-contained HTML page: the Graphviz drawing (the
same layout and styles as the SVG), blocks that fold and unfold, a layer table in step with it,
each layer's report row and spec line, search, pan and zoom.

Takes the DOT text's rendering (SVG, from `dot.render`), the report and the source; hands out
the page's text. The page's script and styles are package files (`emit/html/`); the page
fetches nothing (its Content-Security-Policy forbids it) and opens from disk.
"""

from __future__ import annotations

import json
import re
from importlib import resources

from ..analysis import Report
from ..analysis.render import io_text
from ..codes import warnings_summary
from ..errors import render_brief
from ..source import Source

_FILES = resources.files(__package__).joinpath("html")


def _asset(name: str) -> str:
    return _FILES.joinpath(name).read_text(encoding="utf-8")


def page_data(report: Report, source: Source) -> dict:
    """What the page shows, as JSON: the report's rows (with each layer's spec line), its
    groups, totals and warnings, and the spec's text."""
    layers = []
    for layer, row in zip(report.layers, report.to_dict()["layers"]):
        row.update(label=layer.label, groups=list(layer.groups), line=layer.span.line if layer.span else None)
        layers.append(row)
    warnings = [render_brief(d) for d in report.diagnostics]
    if report.diagnostics:
        warnings.append(warnings_summary(report.diagnostics))
    return {
        "network": report.network, "io": io_text(report), "totals": report.totals.to_dict(), "layers": layers,
        "groups": [{"id": group.id, "kind": group.kind, "label": group.label, "parents": list(group.parents)} for group in report.groups],
        "warnings": warnings, "source": source.text, "file": source.file,
    }


def _inline_json(value: dict) -> str:
    # Inside <script>, "</script" would end the element and "<!--" open an escape that runs on:
    # every "<" is written as JSON's \u003c, which parses back to "<".
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _inline_svg(svg: bytes) -> str:
    """Graphviz's SVG without its XML prolog and doctype, to sit inside the page."""
    text = svg.decode("utf-8")
    return re.sub(r"^\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?(<!--.*?-->\s*)*", "", text, flags=re.S)


def to_html(report: Report, source: Source, svg: bytes) -> str:
    page = _asset("page.html")
    pieces = {"__STYLE__": _asset("view.css"), "__SCRIPT__": _asset("view.js"), "__SVG__": _inline_svg(svg),
              "__DATA__": _inline_json(page_data(report, source)), "__TITLE__": _escape(report.network)}
    return re.sub("|".join(pieces), lambda match: pieces[match.group(0)], page)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
