"""The table as Keras' summary and torchinfo show it: "Connected to" when the network is not a
chain, block rows kept as a tree with subtotals at `--depth N`, `--columns`, sizes in the totals."""

from __future__ import annotations

import csv
import io

import pytest

import archspec
from archspec.analysis.render import COLUMNS


def header_of(table: str) -> list[str]:
    return table.splitlines()[2].split("  ")


def test_a_chain_has_no_connected_to_column_and_a_dag_has_one(cli):
    assert "Connected to" not in cli("analyze", "vgg16").out
    table = cli("analyze", "resnet18").out
    assert table.splitlines()[2].rstrip().endswith("Connected to")
    add = next(line for line in table.splitlines() if line.startswith("basic_3_add_1 "))
    assert add.rstrip().endswith("basic_3_bn_2, basic_3_shortcut_bn_1")
    # collapsed to block calls, ResNet18 is a chain of units again
    assert "Connected to" not in cli("analyze", "resnet18", "--depth", "1").out


def test_depth_keeps_the_block_rows_as_a_tree_with_subtotals():
    report = archspec.load("resnet18").analyze()
    rows = report.rows(2)
    headers = [row for row in rows if row.header]
    assert [row.name for row in headers] == [f"basic_{n}" for n in range(1, 9)]
    for header in headers:
        members = [layer for layer in report.layers if header.name in layer.groups]
        children = rows[rows.index(header) + 1: rows.index(header) + 1 + 2]
        assert header.params == sum(layer.params for layer in members) == sum(child.params for child in children)
        assert header.macs == sum(layer.macs for layer in members)
        assert header.layers == len(members) and all(child.level == 1 for child in children)
    table = report.to_table(2)
    assert "\nbasic_3               basic(128, stride=2, project=true) [9 layers]" in table
    assert "\n  basic_3_residual_1  residual [8 layers]" in table


def test_the_csv_leaves_the_subtotal_rows_out():
    report = archspec.load("resnet18").analyze()
    rows = list(csv.DictReader(io.StringIO(report.to_csv(2))))
    assert sum(int(row["params"]) for row in rows) == report.totals.params


def test_columns_choose_and_order_the_table(cli):
    result = cli("analyze", "inception10", "--columns", "kernel,stride,params_percent,macs_percent,memory")
    assert result.code == 0
    assert [cell.strip() for cell in header_of(result.out) if cell.strip()] == ["Layer", "Kind", "Kernel", "Stride", "% Params",
                                                                               "% MACs", "Act. memory"]
    first = result.out.splitlines()[4].split()
    assert first[:4] == ["cbr_1_conv_1", "conv", "3x3", "1"]
    assert first[-2:] == ["64.00", "KiB"]  # 32x32x16 values at 4 bytes
    report = archspec.load("inception10").analyze()
    percents = [float(line.split()[-4].rstrip("%")) for line in result.out.splitlines()[4:4 + len(report.layers)]]
    assert sum(percents) == pytest.approx(100, abs=0.05 * len(percents))


@pytest.mark.parametrize(("args", "message"), [
    (["--columns", "parms"], "--columns: no column `parms`; the columns are " + ", ".join(COLUMNS) + " (did you mean `params`?)"),
    (["--columns", "params", "--format", "json"], "--columns chooses the table's and Markdown's columns; the json form always has them all"),
])
def test_column_errors_are_usage_errors(cli, args, message):
    result = cli("analyze", "baseline", *args)
    assert result.code == 2 and result.err == f"archspec: error: {message}\n"


def test_the_totals_give_sizes_as_keras_does():
    table = archspec.load("baseline").analyze().to_table()
    assert "params            198,506 (775.41 KiB): trainable 198,494 (775.37 KiB), non-trainable 12 (48 B); keras convention" in table


def test_markdown_takes_the_same_columns():
    text = archspec.load("resnet18").analyze().to_markdown(None, ("params", "connected_to"))
    assert "| Layer | Kind | Params | Connected to |" in text
    assert "| basic_3_add_1 | add | 0 | basic_3_bn_2, basic_3_shortcut_bn_1 |" in text


def test_connected_to_names_rows_the_table_shows_and_the_input_as_the_spec_does(tmp_path):
    text = "network N\ninput 8x8x3 as image\nblock one(f) {\n  conv(f, 3)\n}\none(4) one(8)\nflatten dense(2) as head\n@image\nflatten dense(2)\nadd(@head)\n"
    report = archspec.parse(text, "n.arch").analyze()
    table = report.to_table(1, ("connected_to",))
    rows = {line.split()[0]: line.split("  ")[-1].strip() for line in table.splitlines()[4:4 + len(report.rows(1))]}
    assert rows["one_1"] == "image" and rows["one_2"] == "one_1"  # not one_1_conv_1, which the table does not show
