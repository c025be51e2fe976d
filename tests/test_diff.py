"""`archspec diff`: layers added, removed and changed, aligned by name and then by structure,
with the totals' deltas; checked against figures taken independently from the two reports."""

from __future__ import annotations

import json
from collections import Counter

import pytest

import archspec
from archspec.analysis.diff import diff_reports
from archspec.api import bundled_dir


def test_resnet34_adds_exactly_its_extra_basic_units_to_resnet18():
    small, large = archspec.load("resnet18").analyze(), archspec.load("resnet34").analyze()
    difference = diff_reports(small, large)
    units = [change for change in difference.changes if change.unit]
    assert all(change.status == "added" for change in units)
    # Independently: each network's basic units by width, from its own groups.
    def basic_calls(report):
        calls = [group for group in report.groups if group.kind == "block" and group.label.startswith("basic(")]
        return Counter(int(group.label[len("basic("):].split(",")[0].rstrip(")")) for group in calls)
    extra = basic_calls(large) - basic_calls(small)
    assert sum(extra.values()) == 8
    assert Counter(int(change.unit[len("basic("):].split(",")[0].rstrip(")")) for change in units) == extra
    assert all(len(change.layers) == 7 for change in units)  # conv bn relu conv bn add relu
    # Every row's params add up to the totals' delta, which the two reports give on their own.
    assert sum(change.params for change in difference.changes) == large.totals.params - small.totals.params == 10_631_134
    assert difference.count("removed") == 0 and not difference.equal


def test_the_command_prints_the_units_and_exits_1(cli):
    result = cli("diff", "resnet18", "resnet34")
    assert result.code == 1
    added = [line for line in result.out.splitlines() if line.startswith("+") and "basic(" in line]
    assert len(added) == 8
    assert "  params                     11,183,562 ->      21,814,696  (+10,631,134)" in result.out


def test_a_spec_against_itself_is_equal(cli):
    result = cli("diff", "inception10", "inception10")
    assert result.code == 0
    assert result.out == "Inception10 -> Inception10: equal (85 layers, 121,418 params)\n"


def test_one_spec_under_two_settings_pairs_layers_by_name(cli):
    before, after = archspec.load("vgg16").analyze(), archspec.load("vgg16").analyze({"classes": 100})
    expected = {a.name for a, b in zip(before.layers, after.layers) if (a.params, a.output_shape, a.macs) != (b.params, b.output_shape, b.macs)}
    result = json.loads(cli("diff", "vgg16", "vgg16", "--set-b", "classes=100", "--format", "json").out)
    assert result["format"] == "archspec-diff/1" and result["equal"] is False
    assert {change["name"] for change in result["changes"]} == expected == {"dense_3"}
    (change,) = result["changes"]
    assert change["fields"]["output_shape"] == {"a": [10], "b": [100]}
    assert result["totals"]["params"]["delta"] == after.totals.params - before.totals.params
    assert result["unchanged_layers"] == len(before.layers) - 1


def test_an_inserted_layer_is_one_addition_not_every_later_layer_renamed(tmp_path):
    base = "network Chain\ninput 32x32x3\nconv(16, 3) relu\nconv(32, 3) relu\nmaxpool(2)\nflatten dense(10, softmax)\n"
    longer = base.replace("maxpool(2)", "conv(32, 3, padding=same) relu\nmaxpool(2)")
    difference = diff_reports(archspec.parse(base, "a.arch").analyze(), archspec.parse(longer, "b.arch").analyze())
    assert [(c.status, c.name) for c in difference.changes] == [("added", "conv_3"), ("added", "relu_3"), ("changed", "maxpool_1")]
    assert difference.changes[2].fields == (("receptive_field", *(archspec.parse(text, "x.arch").analyze().layer(name).receptive_field
                                                                  for text, name in ((base, "maxpool_1"), (longer, "maxpool_1")))),)
    assert difference.unchanged == 6


def test_names_the_spec_gave_anchor_the_alignment(tmp_path):
    a = "network N\ninput 16x16x3\nconv(8, 3) as stem\nconv(8, 3) conv(8, 3) as head\nflatten dense(2)\n"
    b = "network N\ninput 16x16x3\nconv(8, 3) as stem\nconv(8, 3) conv(8, 3) conv(16, 1) as head\nflatten dense(2)\n"
    difference = diff_reports(archspec.parse(a, "a.arch").analyze(), archspec.parse(b, "b.arch").analyze())
    changed = {c.name: c for c in difference.changes}
    assert "conv_2" in changed and changed["conv_2"].status == "added"  # B's extra 3x3 conv
    assert changed["head"].status == "changed" and changed["head"].fields[0] == ("layer", "conv 3x3, 8", "conv 1x1, 16")


def test_a_removed_block_call_is_one_row(cli, tmp_path):
    (tmp_path / "a.arch").write_text((bundled_dir() / "resnet18.arch").read_text(encoding="utf-8"), encoding="utf-8")
    shorter = (tmp_path / "a.arch").read_text(encoding="utf-8").replace("basic(256)\n", "", 1)
    (tmp_path / "b.arch").write_text(shorter, encoding="utf-8")
    result = json.loads(cli("diff", str(tmp_path / "a.arch"), str(tmp_path / "b.arch"), "--format", "json").out)
    removed = [change for change in result["changes"] if change["status"] == "removed"]
    assert [(change["kind"], len(change["layers"])) for change in removed] == [("basic(256)", 7)]
    assert removed[0]["params"] == -1_181_696 == result["totals"]["params"]["delta"]


@pytest.mark.parametrize("args", [["baseline"], ["baseline", "nosuch"], ["baseline", "baseline", "--set-b", "clases=2"],
                                  ["baseline", "baseline", "--input-b", "0x3"]])
def test_usage_and_spec_errors_exit_2(cli, args):
    assert cli("diff", *args).code == 2
