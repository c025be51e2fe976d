"""Graph + Report -> Graphviz DOT text (no Graphviz needed to write it), and its rendering.

Takes a `Graph` and its `Report`; hands out deterministic DOT text: one node per layer (kind,
key arguments, params, MACs), output shapes on the edges, blocks and groups as nested clusters
(collapsible with `depth`), shortcut paths dashed, colours by layer family with a legend.
`render` runs the real `dot` program for SVG, PNG or PDF.
"""

from __future__ import annotations

from ..analysis import LayerReport, Report
from ..errors import Diagnostic, SpecError
from ..graph import BLOCK_GROUP, INPUT, Graph, Group, Role
from ..layers import FAMILIES, format_shape
from ..spec import ConcatGroup, Residual

GROUP_COLOUR = "#6c757d"  # blocks, repeats and any group without a colour of its own
CLUSTER_COLOURS = {Residual.key: "#0d6efd", ConcatGroup.key: "#198754"}
RENDER_FORMATS = ("svg", "png", "pdf", "jpg")


def _text(text: str) -> str:
    """Text for an HTML-like label, escaped."""
    from html import escape  # the drawing verbs' own: the CLI imports this module on every start

    return escape(text)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _compact(value: int) -> str:
    """12,345,678 -> 12.3M: short figures for node labels (the report has the exact ones)."""
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if value >= size:
            return f"{value / size:.1f}{unit}".replace(".0" + unit, unit)
    return str(value)


class _Cluster:
    def __init__(self, group: Group | None):
        self.group = group
        self.items: list = []  # node names and child _Cluster objects, in order


RANKDIRS = ("TB", "LR")


class DotWriter:
    def __init__(self, graph: Graph, report: Report, depth: int | None, rankdir: str = "TB"):
        self.graph, self.report, self.depth, self.rankdir = graph, report, depth, rankdir
        self.layers = {layer.name: layer for layer in report.layers}
        self.groups = {group.id: group for group in graph.groups}
        self.roles = {node.name: node.role for node in graph.nodes}
        self.families = {node.name: node.layer.family for node in graph.nodes}

    # -- which drawn node stands for each layer

    def representative(self, name: str) -> str:
        if self.graph.is_input(name):
            return name
        node_groups = self.layers[name].groups
        if self.depth is not None and len(node_groups) >= self.depth:
            return node_groups[self.depth - 1]
        return name

    def collapsed(self) -> dict[str, list[LayerReport]]:
        members: dict[str, list[LayerReport]] = {}
        for layer in self.report.layers:
            key = self.representative(layer.name)
            if key != layer.name:
                members.setdefault(key, []).append(layer)
        return members

    # -- text

    def layer_node(self, layer: LayerReport) -> str:
        node = self.graph.node(layer.name)
        title = _text(node.layer.label())
        rows = [f"<b>{title}</b>", f'<font point-size="9">{_text(layer.name)}</font>']
        figures = []
        if layer.params:
            figures.append(f"{_compact(layer.params)} params")
        if layer.macs:
            figures.append(f"{_compact(layer.macs)} MACs")
        if figures:
            rows.append(f'<font point-size="9" color="#495057">{" · ".join(figures)}</font>')
        label = "<" + "<br/>".join(rows) + ">"
        family = node.layer.family
        return (f"{_quote(layer.name)} [label={label}, shape={family.shape}, style={_quote(family.style)}, "
                f"fillcolor={_quote(family.colour)}];")

    def group_node(self, group_id: str, members: list[LayerReport]) -> str:
        group = self.groups[group_id]
        params = sum(layer.params for layer in members)
        macs = sum(layer.macs for layer in members)
        rows = [f"<b>{_text(group.label)}</b>", f'<font point-size="9">{_text(group_id)} · {len(members)} layers</font>']
        figures = [f"{_compact(params)} params"] + ([f"{_compact(macs)} MACs"] if macs else [])
        rows.append(f'<font point-size="9" color="#495057">{" · ".join(figures)}</font>')
        return (f"{_quote(group_id)} [label=<{'<br/>'.join(rows)}>, shape=box3d, style=filled, "
                f"fillcolor={_quote('#f1f3f5')}];")

    def clusters(self) -> _Cluster:
        """The tree of clusters down to `depth`, holding drawn node names in graph order."""
        root = _Cluster(None)
        by_id: dict[str, _Cluster] = {}
        placed: set[str] = set()
        for layer in self.report.layers:
            drawn = self.representative(layer.name)
            if drawn in placed:
                continue
            placed.add(drawn)
            chain = layer.groups if drawn == layer.name else layer.groups[: self.depth - 1]  # type: ignore[operator]
            parent = root
            for group_id in chain:
                if group_id not in by_id:
                    by_id[group_id] = _Cluster(self.groups[group_id])
                    parent.items.append(by_id[group_id])
                parent = by_id[group_id]
            parent.items.append(drawn)
        return root

    def write_cluster(self, cluster: _Cluster, node_text: dict[str, str], indent: str) -> list[str]:
        lines = []
        for item in cluster.items:
            if isinstance(item, str):
                lines.append(indent + node_text[item])
                continue
            group = item.group
            assert group is not None
            colour = CLUSTER_COLOURS.get(group.kind, GROUP_COLOUR)
            lines.append(f"{indent}subgraph {_quote('cluster_' + group.id)} {{")
            lines.append(f"{indent}  label={_quote(group.label if group.kind == BLOCK_GROUP else group.id)}; "
                         f"color={_quote(colour)}; fontcolor={_quote(colour)}; style=rounded;")
            lines += self.write_cluster(item, node_text, indent + "  ")
            lines.append(f"{indent}}}")
        return lines

    def edges(self) -> list[str]:
        lines, seen = [], set()
        for node in self.graph.nodes:
            head = self.representative(node.name)
            for index, name in enumerate(node.inputs):
                tail = self.representative(name)
                if tail == head or (tail, head) in seen:
                    continue
                seen.add((tail, head))
                shape = format_shape(self.graph.shape_of(name))
                # A residual's second input is its shortcut; so is the edge into a shortcut path.
                shortcut = (node.role is Role.RESIDUAL_MERGE and index > 0) or (node.role is Role.SHORTCUT and self.roles.get(name) is not Role.SHORTCUT)
                attributes = [f"label={_quote(shape)}"]
                if shortcut:
                    attributes += ['style="dashed"', 'color="#0d6efd"', "weight=1"]
                else:
                    attributes.append("weight=4")
                lines.append(f"  {_quote(tail)} -> {_quote(head)} [{', '.join(attributes)}];")
        return lines

    def output_marks(self) -> list[str]:
        """A network with several outputs marks each: a node per output, from the layer."""
        if not self.graph.extra_outputs:
            return []
        lines = []
        for index, name in enumerate(self.graph.outputs):
            mark = f"output:{name}"
            lines.append(f'  {_quote(mark)} [label=<<b>output {index + 1}</b><br/><font point-size="9">{_text(name)}: '
                         f'{format_shape(self.graph.shape_of(name))}</font>>, shape=box, style="rounded,bold", color="#495057"];')
            lines.append(f"  {_quote(self.representative(name))} -> {_quote(mark)} [weight=4];")
        return lines

    def legend(self) -> list[str]:
        drawn = set(self.families.values())
        rows = "".join(
            f'<tr><td bgcolor="{family.colour}" width="14" border="1"> </td><td align="left">{family.legend}</td></tr>'
            for family in FAMILIES if family in drawn
        )
        if Role.SHORTCUT in self.roles.values():  # the legend lists only what is drawn
            rows += '<tr><td><font color="#0d6efd">- -</font></td><td align="left">shortcut path</td></tr>'
        return [
            '  subgraph "cluster_legend" {',
            '    label="legend"; style=rounded; color="#adb5bd"; fontcolor="#6c757d";',
            f'    "legend" [shape=plaintext, label=<<table border="0" cellspacing="2">{rows}</table>>];',
            "  }",
        ]

    def text(self) -> str:
        report = self.report
        node_text = {layer.name: self.layer_node(layer) for layer in report.layers}
        for group_id, members in self.collapsed().items():
            node_text[group_id] = self.group_node(group_id, members)
        totals = report.totals
        inputs = ", ".join(format_shape(shape) for _, shape in report.inputs) if report.inputs else format_shape(report.input_shape)
        outputs = ", ".join(format_shape(shape) for _, shape in report.outputs) if report.outputs else format_shape(report.output_shape)
        title = f"{report.network}: {_compact(totals.params)} params, {_compact(totals.macs)} MACs, {inputs} -> {outputs}"
        lines = [
            f"digraph {_quote(report.network)} {{",
            f"  graph [rankdir={self.rankdir}, label={_quote(title)}, labelloc=t, fontname=\"Helvetica\", fontsize=14, "
            "nodesep=0.25, ranksep=0.3, newrank=true];",
            '  node [fontname="Helvetica", fontsize=11, margin="0.12,0.04", height=0.3];',
            '  edge [fontname="Helvetica", fontsize=8, fontcolor="#6c757d", color="#495057", arrowsize=0.6];',
        ]
        for node, shape in self.graph.inputs:
            label = self.graph.input_name if node == INPUT else node
            lines.append(f'  {_quote(node)} [label=<<b>{_text(label)}</b><br/><font point-size="9">{format_shape(shape)}</font>>, '
                         'shape=box, style="filled,rounded", fillcolor="#ffffff"];')
        lines += self.write_cluster(self.clusters(), node_text, "  ")
        lines += self.edges()
        lines += self.output_marks()
        lines += self.legend()
        lines.append("}")
        return "\n".join(lines) + "\n"


def to_dot(graph: Graph, report: Report, depth: int | None = None, rankdir: str = "TB") -> str:
    """Deterministic DOT text of the network; `depth` collapses groups nested that deep;
    `rankdir` LR draws it left to right."""
    return DotWriter(graph, report, depth, rankdir).text()


RASTER_FORMATS = ("png", "jpg")


def render(dot_text: str, output_format: str, dpi: int | None = None) -> bytes:
    """Run Graphviz's `dot` to render SVG, PNG, PDF or JPEG; `dpi` sets a raster's resolution."""
    import shutil  # rendering's own: the CLI imports this module on every start
    import subprocess

    if output_format not in RENDER_FORMATS:
        raise ValueError(f"unknown format {output_format!r}")
    program = shutil.which("dot")
    if program is None:
        raise SpecError([Diagnostic(
            "error", f"rendering {output_format.upper()} needs Graphviz's `dot` program, which is not installed",
            hint="install Graphviz (apt-get install graphviz, brew install graphviz or conda install graphviz), "
                 "or write the DOT text with --format dot",
        )])
    resolution = [f"-Gdpi={dpi}"] if dpi is not None and output_format in RASTER_FORMATS else []
    result = subprocess.run([program, f"-T{output_format}", *resolution], input=dot_text.encode("utf-8"), capture_output=True, timeout=300)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SpecError([Diagnostic("error", f"Graphviz failed to render the diagram: {message[-1] if message else 'no message'}")])
    return result.stdout
