"""Diagrams: deterministic DOT (golden files), rendered by the real Graphviz with a node for
every layer, collapsible by depth; and a gallery that is never stale."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import xml.etree.ElementTree as ElementTree

import pytest

import archspec
from archspec.emit.dot import render

from .conftest import COURSE_SPECS, ROOT

needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def load_gallery_script():
    spec = importlib.util.spec_from_file_location("make_gallery", ROOT / "docs" / "make_gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def svg_node_titles(svg: bytes) -> set[str]:
    tree = ElementTree.fromstring(svg)
    return {group.find(f"{SVG}title").text for group in tree.iter(f"{SVG}g") if group.get("class") == "node"}


@pytest.mark.parametrize("name", COURSE_SPECS)
def test_dot_is_golden(name, golden):
    golden(ROOT / "tests" / "cases" / "dot" / f"{name}.dot", archspec.load(name).to_dot())


@needs_graphviz
@pytest.mark.parametrize("name", COURSE_SPECS)
def test_svg_has_a_node_for_every_layer(name):
    architecture = archspec.load(name)
    titles = svg_node_titles(render(architecture.to_dot(), "svg"))
    layers = {layer.name for layer in architecture.analyze().layers}
    assert layers <= titles
    assert titles - layers == {"input", "legend"}


@needs_graphviz
def test_depth_collapses_blocks_into_single_nodes():
    architecture = archspec.load("resnet18")
    titles = svg_node_titles(render(architecture.to_dot(depth=1), "svg"))
    assert {f"basic_{i}" for i in range(1, 9)} <= titles
    assert not any(title.startswith("basic_1_") for title in titles)
    assert {"conv_1", "bn_1", "relu_1", "global_avg_pool_1", "dense_1"} <= titles


def test_dot_shows_shapes_shortcuts_and_clusters():
    dot = archspec.load("resnet18").to_dot()
    assert '"relu_1" -> "basic_1_add_1" [label="32x32x64", style="dashed"' in dot  # the identity shortcut
    assert '"basic_2_relu_2" -> "basic_3_shortcut_conv_1" [label="32x32x64", style="dashed"' in dot
    assert 'subgraph "cluster_basic_3" {' in dot and 'label="basic(128, stride=2, project=true)"' in dot
    assert dot == archspec.load("resnet18").to_dot()  # deterministic


def test_cli_diagram_formats(cli, tmp_path):
    result = cli("diagram", "baseline", "--format", "dot", "-o", "-")
    assert result.code == 0 and result.out == archspec.load("baseline").to_dot()
    if shutil.which("dot"):
        for suffix in ("svg", "png", "pdf"):
            target = tmp_path / f"net.{suffix}"
            assert cli("diagram", "baseline", "-o", str(target)).code == 0
            magic = target.read_bytes()[:8]
            assert {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[suffix] in magic


def test_missing_graphviz_says_how_to_install(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    result = cli("diagram", "baseline", "-o", str(tmp_path / "x.svg"))
    assert result.code == 1
    assert "needs Graphviz's `dot` program" in result.err and "apt-get install graphviz" in result.err
    assert not (tmp_path / "x.svg").exists()
    assert cli("diagram", "baseline", "--format", "dot", "-o", str(tmp_path / "x.dot")).code == 0


@needs_graphviz
def test_gallery_is_current():
    make_gallery = load_gallery_script()
    gallery = ROOT / "docs" / "gallery"
    names = archspec.bundled_names()
    for name in names:
        files = make_gallery.texts(name)
        assert (gallery / f"{name}.dot").read_text(encoding="utf-8") == files["dot"], f"{name}.dot is stale: run python docs/make_gallery.py"
        assert (gallery / f"{name}.md").read_text(encoding="utf-8") == files["md"], f"{name}.md is stale"
        svg = (gallery / f"{name}.svg").read_text(encoding="utf-8")
        assert make_gallery.svg_digest(svg) == files["digest"], f"{name}.svg was not rendered from the current DOT"
        ElementTree.fromstring(svg.encode("utf-8"))  # well-formed
        page = (gallery / f"{name}.html").read_text(encoding="utf-8")
        assert make_gallery.svg_digest(page) == files["page_digest"], f"{name}.html was not drawn from the current DOT"
        data = page.split('<script id="archspec-data" type="application/json">')[1].split("</script>")[0]
        assert json.loads(data) == json.loads(json.dumps(files["page_data"])), f"{name}.html is stale"
    assert (gallery / "README.md").read_text(encoding="utf-8") == make_gallery.index(names)
    drawn = {path.stem for path in gallery.glob("*.svg")}
    assert drawn == set(names)


def test_readme_links_the_gallery_and_shows_a_diagram():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/gallery/README.md" in readme
    images = re.findall(r"!\[[^\]]*\]\((docs/gallery/[^)]+\.svg)\)", readme)
    assert images and all((ROOT / image).exists() for image in images)


def test_rankdir_lays_the_network_left_to_right(cli):
    result = cli("diagram", "baseline", "--format", "dot", "--rankdir", "LR", "-o", "-")
    assert result.code == 0 and "graph [rankdir=LR," in result.out
    assert "graph [rankdir=TB," in cli("diagram", "baseline", "--format", "dot", "-o", "-").out


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_dpi_scales_a_raster_and_is_refused_elsewhere(cli, tmp_path):
    image = pytest.importorskip("PIL.Image")
    assert cli("diagram", "baseline", "-o", str(tmp_path / "low.png"), "--dpi", "48").code == 0
    assert cli("diagram", "baseline", "-o", str(tmp_path / "high.png"), "--dpi", "96").code == 0
    low, high = (image.open(tmp_path / name).size for name in ("low.png", "high.png"))
    assert abs(high[0] - 2 * low[0]) <= 2 and abs(high[1] - 2 * low[1]) <= 2
    refused = cli("diagram", "baseline", "-o", str(tmp_path / "x.svg"), "--dpi", "48")
    assert refused.code == 2 and "--dpi sets the resolution of png and jpg; svg has none" in refused.err


def test_the_legend_lists_only_what_is_drawn_and_upsample_shows_its_factor(cli):
    unet = cli("diagram", "unet", "--format", "dot", "-o", "-").out
    assert "shortcut path" not in unet and "dense" not in unet.split('"legend"')[1]
    assert "shortcut path" in cli("diagram", "resnet18", "--format", "dot", "-o", "-").out
    text = "network U\ninput 8x8x2\nupsample(2) upsample([2, 3], interpolation=bilinear)\n"
    labels = [layer.label for layer in archspec.parse(text, "u.arch").analyze().layers]
    assert labels == ["upsample x2", "upsample x2x3, bilinear"]
