"""Both forms, losslessly: .arch -> json -> .arch -> json, fmt's canonical layout, and the schema."""

from __future__ import annotations

import json

import pytest

import archspec
from archspec.emit.arch import to_arch
from archspec.spec import json_schema
from archspec.syntax import parse_arch, parse_json

from .conftest import COURSE_SPECS, ROOT, SPECS
from .report_forms import report_without_locations


@pytest.mark.parametrize("name", COURSE_SPECS)
def test_arch_json_arch_json_is_identical(name):
    original = archspec.load(name)
    first_json = original.to_json()
    via_json = archspec.parse(first_json, f"{name}.json")
    back_to_arch = to_arch(via_json.to_dict())  # no source layout: the canonical CBAPD layout
    again = archspec.parse(back_to_arch, f"{name}.arch")
    assert again.to_json() == first_json
    assert via_json.spec == original.spec == again.spec


@pytest.mark.parametrize("name", COURSE_SPECS)
def test_bundled_specs_are_formatted(name):
    path = SPECS / f"{name}.arch"
    text = path.read_text(encoding="utf-8")
    assert archspec.load(str(path)).to_arch() == text


@pytest.mark.parametrize("name", COURSE_SPECS)
def test_cli_check_and_fmt_check_pass(cli, name):
    assert cli("check", name).code == 0
    assert cli("fmt", "--check", str(SPECS / f"{name}.arch")).code == 0


MESSY = """\
# header comment
network   Net( classes = 10 ,width=2)
input 32x32x3
# about the block
block unit(f,s=1){conv(f,3,stride=s,padding=same) bn relu   # trailing
}


unit(16*width)  unit( 32 ,  s = 2 )
repeat 2 { unit(32) }
concat{branch{conv(8,1)}branch{ maxpool(3,stride=1,padding=same) }} as mix
residual { conv(40, 3, padding=same) } shortcut if width > 1 { conv(40, 1) }
if classes == 10 { global_avg_pool } else { flatten }
dense(classes,softmax)   # the head
# trailing file comment
"""


def test_fmt_layout_keeps_comments_and_is_idempotent():
    formatted = archspec.parse(MESSY, "messy.arch").to_arch()
    assert formatted == """\
# header comment
network Net(classes=10, width=2)
input 32x32x3

# about the block
block unit(f, s=1) {
  conv(f, 3, stride=s, padding=same) bn relu  # trailing
}

unit(16 * width) unit(32, s=2)
unit(32) * 2
concat {
  branch { conv(8, 1) }
  branch { maxpool(3, stride=1, padding=same) }
} as mix
residual {
  conv(40, 3, padding=same)
} shortcut if width > 1 {
  conv(40, 1)
}
if classes == 10 {
  global_avg_pool
} else {
  flatten
}
dense(classes, softmax)  # the head
# trailing file comment
"""
    assert archspec.parse(formatted, "messy.arch").to_arch() == formatted
    assert archspec.parse(formatted).spec == archspec.parse(MESSY).spec


def test_fmt_rewrites_a_file_and_check_reports_it(cli, tmp_path):
    path = tmp_path / "messy.arch"
    path.write_text(MESSY, encoding="utf-8")
    result = cli("fmt", "--check", str(path))
    assert result.code == 1 and "would reformat" in result.err
    assert path.read_text(encoding="utf-8") == MESSY  # --check changes nothing
    assert cli("fmt", str(path)).code == 0
    assert cli("fmt", "--check", str(path)).code == 0
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize(
    "expression, printed",
    [
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("a * (b + c)", "a * (b + c)"),
        ("-(a + b)", "-(a + b)"),
        ("a // 2 % 3", "a // 2 % 3"),
        ("not (a > b) and c == d", "not a > b and c == d"),
        ("(a or b) and c", "(a or b) and c"),
        ("[1, a, 3]", "[1, a, 3]"),
        ("3x5", "3x5"),
        ("-1", "-1"),
        ("1.5e-05", "1.5e-05"),
        ('"same"', "same"),
        ('"a"', '"a"'),
        ('"has space"', '"has space"'),
    ],
)
def test_expressions_print_back_to_the_same_tree(expression, printed):
    text = f"network N(a=1, b=2, c=3, d=4)\ninput 8\nidentity(x={expression})\n"
    source = parse_arch(text)
    value = source.data["body"][0]["kwargs"]["x"]
    rendered = to_arch(source.data)
    assert f"identity(x={printed})" in rendered
    assert parse_arch(rendered).data["body"][0]["kwargs"]["x"] == value


def test_json_spec_loads_like_the_arch_spec():
    arch = archspec.load("resnet18")
    json_source = parse_json(arch.to_json(), "resnet18.json")
    assert json_source.data == arch.to_dict()
    assert archspec.parse(arch.to_json(), "x.json").analyze().totals == arch.analyze().totals


def test_schema_is_valid_json_schema_for_the_json_form(cli):
    result = cli("schema")
    assert result.code == 0
    schema = json.loads(result.out)
    assert schema == json_schema()
    assert set(schema["required"]) == {"network", "input", "body"}
    assert "$schema" in schema["properties"]
    assert {"Call", "Repeat", "ConcatGroup", "Residual", "If", "Tap", "Param", "Block"} <= set(schema["$defs"])


def test_schema_pointer_in_json_is_accepted(tmp_path):
    data = archspec.load("baseline").to_dict()
    data = {"$schema": "./archspec.schema.json", **data}
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert archspec.load(str(path)).spec == archspec.load("baseline").spec


FMT_CASES = sorted((ROOT / "tests" / "cases" / "fmt").glob("*.arch"))


@pytest.mark.parametrize("path", FMT_CASES, ids=[p.stem for p in FMT_CASES])
def test_fmt_golden_keeps_every_comment_and_is_idempotent(path, golden):
    from archspec.syntax import parse_arch

    text = path.read_text(encoding="utf-8")
    formatted = archspec.parse(text, path.name).to_arch()
    golden(path.with_suffix(".expected"), formatted)
    assert archspec.parse(formatted, path.name).to_arch() == formatted
    assert archspec.parse(formatted).spec == archspec.parse(text).spec
    kept = " ".join(comment.text for comment in parse_arch(formatted).comments)
    for comment in parse_arch(text).comments:
        assert comment.text in kept, comment


def test_schema_names_every_layer_kind(cli):
    from archspec.layers import REGISTRY

    schema = json.loads(cli("schema").out)
    assert schema["$defs"]["Call"]["properties"]["call"]["examples"] == sorted(REGISTRY)
    assert {"multiply", "subtract", "average", "maximum", "minimum"} <= set(REGISTRY)


@pytest.mark.parametrize("expression, folded", [({"op": "neg", "args": [-2]}, 2), ({"op": "neg", "args": [{"op": "neg", "args": [3.5]}]}, 3.5)])
def test_a_negated_number_is_a_number_in_both_forms(expression, folded):
    """JSON's {"op": "neg", "args": [-2]} once printed as `--2`; it is the number 2, as `.arch` folds `-2`."""
    text = json.dumps({"network": "N", "params": [{"name": "p", "default": expression}], "input": [8, 8, 3], "body": [{"call": "relu"}]})
    architecture = archspec.parse(text, "n.json")
    assert architecture.to_dict()["params"] == [{"name": "p", "default": folded}]
    assert archspec.parse(architecture.to_arch()).to_dict() == architecture.to_dict()


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.arch")), ids=lambda path: path.stem)
def test_both_forms_give_the_same_report_locations_aside(path):
    original = archspec.load(path)
    as_json = archspec.parse(original.to_json(), f"{path.stem}.json")
    assert report_without_locations(as_json) == report_without_locations(original)
