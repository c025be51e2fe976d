"""Regenerate docs/gallery/: each bundled spec's diagram (DOT and SVG), analysis table and
interactive page (HTML, drawn at full depth: its blocks fold in the page).

    python docs/make_gallery.py

tests/test_diagrams.py fails when the committed gallery differs from what this writes. The SVG
and HTML files carry the SHA-256 of the DOT text they were rendered from, so staleness is
checked without depending on the Graphviz version's exact output.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import archspec  # noqa: E402
from archspec.analysis import analyze  # noqa: E402
from archspec.emit.dot import render, to_dot  # noqa: E402
from archspec.emit.html_view import page_data, to_html  # noqa: E402
from archspec.files import write_atomic  # noqa: E402

GALLERY = ROOT / "docs" / "gallery"
FULL_DETAIL_LIMIT = 120  # larger networks are drawn with their blocks collapsed


def diagram_depth(layers: int) -> int | None:
    return None if layers <= FULL_DETAIL_LIMIT else 1


def texts(name: str) -> dict[str, str]:
    """The deterministic files of one spec: DOT, the Markdown table, and the DOT's digest."""
    architecture = archspec.load(name)
    graph = architecture.graph()
    report = analyze(graph)
    depth = diagram_depth(len(report.layers))
    dot = to_dot(graph, report, depth)
    note = f"Drawn with blocks collapsed (`--depth {depth}`); " if depth else ""
    markdown = (
        f"# {report.network} (`{name}`)\n\n![{report.network}]({name}.svg)\n\n{note}"
        f"The [interactive view]({name}.html) (open it from disk) folds the blocks, finds layers and shows each one's figures.\n\n"
        f"`archspec analyze {name} --depth 1`:\n\n{report.to_markdown(depth=1).split(chr(10), 2)[2]}"
    )
    full = to_dot(graph, report)
    return {"dot": dot, "md": markdown, "digest": hashlib.sha256(dot.encode("utf-8")).hexdigest(),
            "page_dot": full, "page_digest": hashlib.sha256(full.encode("utf-8")).hexdigest(),
            "page_data": page_data(report, architecture.source)}


def page(files: dict, name: str) -> str:
    """The interactive page, with the digest of the DOT text its drawing was rendered from."""
    architecture = archspec.load(name)
    report = analyze(architecture.graph())
    html = to_html(report, architecture.source, render(files["page_dot"], "svg"))
    return html.replace("<head>", f"<head>\n<!-- archspec-dot-sha256: {files['page_digest']} -->", 1)


def index(names: list[str]) -> str:
    lines = ["# Gallery", "", "Every bundled spec, drawn and analyzed. Regenerate with `python docs/make_gallery.py`.", ""]
    lines += ["| spec | network | params | MACs | view |", "|---|---|---:|---:|---|"]
    for name in names:
        totals = archspec.load(name).default_report.totals
        lines.append(f"| [{name}]({name}.md) | {archspec.load(name).name} | {totals.params:,} | {totals.macs:,} | [html]({name}.html) |")
    return "\n".join(lines) + "\n"


def stamp_svg(svg: bytes, digest: str) -> bytes:
    """The SVG with the digest of its DOT text as a comment after the XML declaration."""
    declaration, newline, rest = svg.partition(b"\n")
    return declaration + newline + f"<!-- archspec-dot-sha256: {digest} -->\n".encode("ascii") + rest


def svg_digest(svg_text: str) -> str | None:
    marker = "<!-- archspec-dot-sha256: "
    start = svg_text.find(marker)
    return svg_text[start + len(marker): svg_text.find(" -->", start)] if start >= 0 else None


def main() -> None:
    names = archspec.bundled_names()
    for name in names:
        files = texts(name)
        write_atomic(GALLERY / f"{name}.dot", files["dot"])
        write_atomic(GALLERY / f"{name}.md", files["md"])
        write_atomic(GALLERY / f"{name}.svg", stamp_svg(render(files["dot"], "svg"), files["digest"]))
        write_atomic(GALLERY / f"{name}.html", page(files, name))
        print(f"wrote docs/gallery/{name}.{{dot,md,svg,html}}")
    write_atomic(GALLERY / "README.md", index(names))
    for stale in GALLERY.iterdir():
        if stale.suffix in (".dot", ".md", ".svg", ".html") and stale.stem not in names and stale.name != "README.md":
            stale.unlink()
            print(f"removed docs/gallery/{stale.name}")


if __name__ == "__main__":
    main()
