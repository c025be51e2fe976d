"""Warnings under control: one line each with a count by code, `archspec explain CODE`,
`--allow`/`--deny`, `allow CODE` in a spec or a block, and hints that fit the cause."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import archspec
from archspec.codes import CODES, WARNING_CODES, WarningPolicy, explanation
from archspec.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent

# A textbook U-Net of three levels: 2x2 pools down, upsample(2) up, the skips joined by concat.
# Each 2x2 pool centres its path half a pixel off, so each of the three joins warns.
UNET = """network TextbookUNet
{allow}input 64x64x3

block level(filters) {{
  conv(filters, 3, padding=same) relu
  conv(filters, 3, padding=same) relu
}}

block up(filters, @skip) {{
{block_allow}  upsample(2)
  concat(@skip)
  level(filters)
}}

level(8) as s1
maxpool(2)
level(16) as s2
maxpool(2)
level(32) as s3
maxpool(2)
level(64)
up(@s3, 32)
up(@s2, 16)
up(@s1, 8)
conv(2, 1) softmax
"""


def unet(tmp_path: Path, allow: str = "", block_allow: str = "") -> str:
    path = tmp_path / "unet.arch"
    path.write_text(UNET.format(allow=allow, block_allow=block_allow), encoding="utf-8")
    return str(path)


def warning_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "warning[" in line]


def test_each_warning_is_one_line_and_a_count_by_code_follows(cli, tmp_path):
    result = cli("check", unet(tmp_path))
    assert result.code == 0
    lines = result.err.splitlines()
    assert len(lines) == 4
    for line in lines[:3]:
        assert re.match(r".*unet\.arch:\d+:\d+: warning\[rf-misaligned\]: concat 'up_\d_concat_1' merges receptive fields "
                        r"centred [\d.]+ px apart; cause: maxpool 'maxpool_\d'( and \d more alike)? \(2x2, stride 2, padding=valid\) "
                        r"\(in `up\(\d+\)` at line \d+\)$", line), line
        assert len(line.split("unet.arch:", 1)[1]) <= 200
    assert lines[3].startswith("3 warnings: rf-misaligned \u00d73 (`archspec explain rf-misaligned`")


def test_a_pool_is_not_blamed_on_strided_convs(cli, tmp_path):
    result = cli("check", "--verbose", unet(tmp_path))
    hints = [line for line in result.err.splitlines() if "= hint:" in line]
    assert len(hints) == 3
    assert all("even window centres between two pixels" in hint and "strided conv" not in hint for hint in hints)
    assert "pads 0 before and 0 after, moving its path's centre by 0.5 px" in result.err  # the figures, in full


def test_a_strided_same_conv_keeps_its_explicit_padding_hint():
    warning = archspec.load("resnet18").analyze().diagnostics[0]
    assert warning.hint.startswith("Keras `same` pads the odd pixel after")


def test_allow_on_the_command_line_silences_only_that_code(cli, tmp_path):
    for flags in (["--allow", "rf-misaligned"], ["--allow", "map-output,rf-misaligned"]):
        result = cli("check", *flags, unet(tmp_path))
        assert result.code == 0 and result.err == ""
        assert result.out.endswith("params)\n")
    table = cli("analyze", "--allow", "rf-misaligned", unet(tmp_path))
    assert "warning" not in table.out + table.err


def test_deny_turns_the_warnings_into_located_errors(cli, tmp_path):
    result = cli("check", "--deny", "rf-misaligned", unet(tmp_path))
    assert result.code == 1
    assert result.err.count("error[rf-misaligned]") == 3
    assert "denied with --deny rf-misaligned" in result.err
    assert "   | " not in result.err.splitlines()[0] and " | " in result.err  # each with its source line
    assert result.err.rstrip().endswith("3 errors")
    assert cli("analyze", "resnet18", "--deny", "rf-misaligned", "--format", "json").code == 1
    assert cli("check", "--deny", "map-output", unet(tmp_path)).code == 0  # another code: still warnings


@pytest.mark.parametrize(("flags", "message"), [
    (["--allow", "rf-misalign"], "no diagnostic code `rf-misalign`; the codes are rf-misaligned, unused-layers, "
                                  "input-sequence, map-output (did you mean `rf-misaligned`?)"),
    (["--deny", "budget"], "`budget` is an error, not a warning: it cannot be allowed or denied"),
    (["--allow", "map-output", "--deny", "map-output"], "`map-output` is both allowed and denied"),
])
def test_a_code_that_cannot_be_allowed_is_a_usage_error(cli, flags, message):
    result = cli("check", *flags, "resnet18")
    assert result.code == 2
    assert result.err == f"archspec: error: --allow/--deny: {message}\n"


def test_allow_in_the_spec_silences_the_whole_network(cli, tmp_path):
    result = cli("check", unet(tmp_path, allow="allow rf-misaligned\n"))
    assert result.code == 0 and result.err == ""


def test_allow_in_a_block_silences_only_the_layers_it_expands(tmp_path):
    text = UNET.format(allow="", block_allow="  allow rf-misaligned\n")
    # the same skip joined once more outside `up`: that merge is not the block's, so it still warns
    text = text.replace("conv(2, 1) softmax", "maxpool(2) upsample(2) concat(@s1) conv(2, 1) softmax")
    report = archspec.parse(text, "unet.arch").analyze()
    assert [d.code for d in report.diagnostics] == ["rf-misaligned"]
    assert "'concat_1'" in report.diagnostics[0].message


def test_a_block_may_allow_layers_it_leaves_unused():
    text = """network Dangling
input 16x16x3
block probe(f) {
  allow unused-layers
  conv(f, 3) as side
  @input
  conv(f, 1)
}
probe(4)
conv(8, 3) as extra
@probe_1
flatten dense(2)
"""
    report = archspec.parse(text, "dangling.arch").analyze()
    assert [d.code for d in report.diagnostics] == ["unused-layers"]
    assert "'extra'" in report.diagnostics[0].message and "side" not in report.diagnostics[0].message


def test_allow_survives_fmt_and_convert_both_ways(tmp_path):
    text = UNET.format(allow="allow rf-misaligned, map-output\n", block_allow="  allow unused-layers\n")
    spec = archspec.parse(text, "unet.arch")
    assert spec.to_dict()["allow"] == ["rf-misaligned", "map-output"]
    assert spec.to_dict()["blocks"][1]["allow"] == ["unused-layers"]
    assert spec.to_arch() == text
    again = archspec.parse(spec.to_json(), "unet.json")
    assert again.to_dict() == spec.to_dict()
    assert archspec.parse(again.to_arch(), "again.arch").to_dict() == spec.to_dict()


def test_an_unknown_code_in_the_spec_is_located_with_the_closest_one(tmp_path):
    with pytest.raises(SpecError) as raised:
        archspec.parse(UNET.format(allow="allow rf-misalinged\n", block_allow=""), "unet.arch")
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.location() == "unet.arch:2:7"
    assert diagnostic.message.startswith("`allow`: expected one of rf-misaligned, unused-layers, input-sequence, map-output")
    assert diagnostic.hint == "did you mean `rf-misaligned`?"


def test_allow_after_the_input_line_is_a_syntax_error_with_a_hint():
    with pytest.raises(SpecError) as raised:
        archspec.parse("network N\ninput 8x8x3\nallow map-output\nconv(2, 3)\n", "late.arch")
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.location() == "late.arch:3:1"
    assert diagnostic.hint == "`allow CODE` lines go right after the `network` line, or first in a block's body"


def test_the_json_report_keeps_the_long_form_and_leaves_out_what_is_allowed(cli, tmp_path):
    (warning, *_) = json.loads(cli("analyze", unet(tmp_path), "--format", "json").out)["diagnostics"]
    assert set(warning) == {"severity", "code", "message", "location", "note", "detail", "hint"}
    assert warning["detail"].startswith("input 1 'up_1_upsample_1' (size ")
    allowed = json.loads(cli("analyze", unet(tmp_path), "--format", "json", "--allow", "rf-misaligned").out)
    assert allowed["diagnostics"] == []


def test_the_python_api_takes_the_same_policy():
    spec = archspec.load("resnet18")
    assert spec.analyze(policy=WarningPolicy(allow=frozenset({"rf-misaligned"}))).diagnostics == ()
    with pytest.raises(SpecError) as raised:
        spec.analyze(policy=WarningPolicy(deny=frozenset({"rf-misaligned"})))
    assert [d.severity for d in raised.value.diagnostics] == ["error"] * 3


def test_explain_prints_each_codes_page_and_lists_them_all(cli):
    listing = cli("explain")
    assert listing.code == 0
    assert [line.split()[0] for line in listing.out.splitlines()] == list(CODES)
    for code in CODES:
        result = cli("explain", code)
        assert result.code == 0 and result.out == explanation(code)
        assert result.out.startswith(f"# {code}: ")
    unknown = cli("explain", "rf-misalign")
    assert unknown.code == 2 and "did you mean `rf-misaligned`?" in unknown.err


def test_every_code_the_stages_raise_is_in_the_catalogue():
    """A code written anywhere in archspec's source has its entry and its explanation page."""
    source = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "archspec").rglob("*.py"))
    raised = set(re.findall(r'code="([a-z-]+)"', source)) | set(re.findall(r'^[A-Z_]+ = "([a-z]+-[a-z-]+)"$', source, re.M))
    assert raised and raised <= set(CODES), raised - set(CODES)
    assert set(WARNING_CODES) <= raised  # and the catalogue lists none that nothing raises
    for code in CODES:
        assert (ROOT / "archspec" / "explanations" / f"{code}.md").is_file()
