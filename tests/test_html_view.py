"""`archspec diagram --format html`: one self-contained page, driven in a real headless browser
(Debian's `chromium`): it loads from a file:// URL and fetches nothing, blocks fold and unfold,
a clicked layer shows the figures `analyze --format json` gives, search finds layers, and a
screenshot is not blank."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

import archspec

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
browser = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (.ci/run installs Debian's chromium; apt-get install chromium)")
pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="the page embeds Graphviz's drawing; Graphviz is not installed")


def page(cli, tmp_path: Path, spec: str) -> Path:
    target = tmp_path / f"{spec}.html"
    result = cli("diagram", spec, "--format", "html", "-o", str(target))
    assert result.code == 0, result.err
    return target


def drive(path: Path, steps: list) -> list:
    """Open the page with test steps in its URL; the page writes its answers into #test-results."""
    url = path.resolve().as_uri() + "#test=" + urllib.parse.quote(json.dumps(steps))
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    start = dom.index('<pre id="test-results"')
    text = dom[dom.index(">", start) + 1:dom.index("</pre>", start)]
    return json.loads(text.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def test_a_spec_comment_cannot_end_the_data_or_open_a_script(cli, tmp_path):
    spec = tmp_path / "sly.arch"
    spec.write_text("# <!-- <script>alert(1)</script> </script>\nnetwork Sly\ninput 8\ndense(2)\n", encoding="utf-8")
    target = tmp_path / "sly.html"
    assert cli("diagram", str(spec), "--format", "html", "-o", str(target)).code == 0
    data = target.read_text(encoding="utf-8").split('<script id="archspec-data" type="application/json">')[1].split("</script>")[0]
    assert "<" not in data and json.loads(data)["source"].startswith("# <!-- <script>alert(1)</script>")


def test_the_page_is_one_file_that_may_fetch_nothing(cli, tmp_path):
    text = page(cli, tmp_path, "inception10").read_text(encoding="utf-8")
    assert "Content-Security-Policy\" content=\"default-src 'none';" in text
    for attribute in ("src=", "href=\"http", "@import", "url(http"):
        assert attribute not in text, attribute
    data = json.loads(text.split('<script id="archspec-data" type="application/json">')[1].split("</script>")[0])
    assert [layer["name"] for layer in data["layers"]] == [layer.name for layer in archspec.load("inception10").analyze().layers]


@browser
def test_a_real_browser_folds_selects_and_searches(cli, tmp_path):
    path = page(cli, tmp_path, "resnet18")
    report = json.loads(cli("analyze", "resnet18", "--format", "json").out)
    layer = next(row for row in report["layers"] if row["name"] == "basic_3_conv_1")
    line = archspec.load("resnet18").analyze().layer("basic_3_conv_1").span.line
    answers = drive(path, [
        ["resources"], ["click", "basic_3_conv_1"], ["details"], ["currentLine"],
        ["collapse", "basic_1"], ["hidden", "basic_1_conv_1"], ["hidden", "basic_2_conv_1"],
        ["expand", "basic_1"], ["hidden", "basic_1_conv_1"], ["find", "shortcut_conv"],
    ])
    resources, selected, details, current, collapsed, folded, other, expanded, visible, found = answers
    assert resources == []  # nothing was requested
    assert selected == "basic_3_conv_1"
    assert details["output shape"] == "x".join(map(str, layer["output_shape"]))
    assert details["params"].startswith(f"{layer['params']:,} (trainable {layer['trainable_params']:,}")
    assert details["MACs"] == f"{layer['macs']:,}"
    assert current == line
    assert (collapsed, folded, other, expanded, visible) == (True, True, False, True, False)  # basic_2 stays open
    assert found == ["basic_3_shortcut_conv_1", "basic_5_shortcut_conv_1", "basic_7_shortcut_conv_1"]


@browser
def test_a_screenshot_is_not_blank(cli, tmp_path):
    image = pytest.importorskip("PIL.Image")
    path = page(cli, tmp_path, "inception10")
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,800",
                    f"--screenshot={shot}", path.resolve().as_uri()], capture_output=True, timeout=120)
    colours = image.open(shot).convert("RGB").getcolors(1 << 20)
    assert colours is not None and len(colours) > 50  # a drawing, a table, text: not one flat colour


@browser
@pytest.mark.parametrize("spec", ["densenet121", "nasnetmobile"])
def test_the_largest_bundled_pages_open_whole(spec):
    """The gallery's pages of the two largest bundled networks load and answer (their opening
    time is a figure for docs/cli.md, not a test)."""
    path = Path(__file__).resolve().parent.parent / "docs" / "gallery" / f"{spec}.html"
    layers, groups = drive(path, [["layers"], ["groups"]])
    report = archspec.load(spec).analyze()
    assert layers == [layer.name for layer in report.layers]
    assert len(groups) == len(report.groups)
