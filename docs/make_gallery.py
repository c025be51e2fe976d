"""Regenerate docs/gallery/: each bundled spec's diagram (DOT and SVG) and analysis table.

    python docs/make_gallery.py

tests/test_diagrams.py fails when the committed gallery differs from what this writes. The SVG
files carry the SHA-256 of the DOT text they were rendered from, so staleness is checked
without depending on the Graphviz version's exact output.
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
        f"`archspec analyze {name} --depth 1`:\n\n{report.to_markdown(depth=1).split(chr(10), 2)[2]}"
    )
    return {"dot": dot, "md": markdown, "digest": hashlib.sha256(dot.encode("utf-8")).hexdigest()}


def index(names: list[str]) -> str:
    lines = ["# Gallery", "", "Every bundled spec, drawn and analyzed. Regenerate with `python docs/make_gallery.py`.", ""]
    lines += ["| spec | network | params | MACs |", "|---|---|---:|---:|"]
    for name in names:
        totals = archspec.load(name).default_report.totals
        lines.append(f"| [{name}]({name}.md) | {archspec.load(name).name} | {totals.params:,} | {totals.macs:,} |")
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
        print(f"wrote docs/gallery/{name}.{{dot,md,svg}}")
    write_atomic(GALLERY / "README.md", index(names))
    for stale in GALLERY.iterdir():
        if stale.suffix in (".dot", ".md", ".svg") and stale.stem not in names and stale.name != "README.md":
            stale.unlink()
            print(f"removed docs/gallery/{stale.name}")


if __name__ == "__main__":
    main()
