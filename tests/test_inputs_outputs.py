"""Several named inputs and outputs (issue 11): `input SHAPE as NAME`, `output @a, @b`, through
every stage: analysis, JSON and .arch forms, the Keras model, the Python source, the diagram."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archspec
from archspec.errors import SpecError

SPEC = (Path(__file__).resolve().parent.parent / "docs" / "examples" / "two_heads.arch").read_text(encoding="utf-8")


def test_report_names_every_input_and_output():
    report = archspec.parse(SPEC).analyze()
    assert report.inputs == (("image", (32, 32, 3)), ("meta", (10,)))
    assert report.outputs == (("logits", (10,)), ("boxes", (4,)))
    assert report.input_shape == (32, 32, 3) and report.output_shape == (10,)
    data = json.loads(report.to_json())
    assert data["inputs"] == [{"name": "image", "shape": [32, 32, 3]}, {"name": "meta", "shape": [10]}]
    assert data["outputs"] == [{"name": "logits", "shape": [10]}, {"name": "boxes", "shape": [4]}]
    assert report.to_table().splitlines()[0] == "TwoHeads: inputs image 32x32x3, meta 10 -> outputs logits 10, boxes 4"
    # dense_1 reads meta (10 -> 8: 88 params), concat joins the 8 pooled features
    assert report.layer("dense_1").params == 10 * 8 + 8 and report.layer("concat_1").output_shape == (16,)
    assert report.totals.params == 224 + 32 + 88 + 170 + 36


def test_both_forms_carry_them_and_round_trip():
    architecture = archspec.parse(SPEC)
    data = architecture.to_dict()
    assert data["input_name"] == "image" and data["inputs"] == [{"name": "meta", "shape": 10}]
    assert data["outputs"] == ["logits", "boxes"]
    text = architecture.to_arch()
    assert "input 32x32x3 as image\ninput 10 as meta\n" in text and text.rstrip().endswith("output @logits, @boxes")
    assert archspec.parse(text).to_dict() == data
    assert archspec.parse(architecture.to_json(), "two.json").to_dict() == data


def test_diagram_draws_each_input_and_output():
    dot = archspec.parse(SPEC).to_dot()
    assert '"input" [label=<<b>image</b><br/><font point-size="9">32x32x3</font>>' in dot
    assert '"meta" [label=<<b>meta</b>' in dot and '"meta" -> "dense_1"' in dot
    assert '"output:logits"' in dot and '"output:boxes"' in dot


@pytest.mark.parametrize("text, message", [
    ("network N\ninput 8x8x3\ninput 10\nconv(4, 1)\n", "a further input needs a name"),
    ("network N\ninput 8x8x3\ninput 10 as meta\nconv(4, 1)\n", "input `meta` is never used"),
    ("network N\ninput 8x8x3 as meta\ninput 10 as meta\nconv(4, 1)\n", "input `meta` is declared twice"),
    ("network N\ninput 8x8x3\nconv(4, 1) as a\nconv(4, 1)\noutput @a, @b\n", "unknown tap `@b`"),
    ("network N\ninput 8x8x3\ninput 10 as meta\nconv(4, 1)\noutput @meta\n", "output `@meta` is an input"),
    ("network N(n=3)\ninput 8x8x3\ninput n as meta\nconv(4, 1) @meta dense(2)\n", "unknown parameter `n`"),
])
def test_mistakes_are_located_diagnostics(text, message):
    with pytest.raises(SpecError) as raised:
        archspec.parse(text, "net.arch").analyze()
    assert any(message in d.message and d.span is not None for d in raised.value.diagnostics), raised.value.diagnostics


@pytest.mark.keras
def test_keras_model_and_source_have_the_named_inputs_and_outputs():
    from .test_keras_emit import assert_same_model

    architecture = archspec.parse(SPEC)
    model = architecture.to_keras()
    assert [t.name for t in model.inputs] == ["image", "meta"]
    assert [tuple(t.shape[1:]) for t in model.outputs] == [(10,), (4,)]
    assert model.count_params() == architecture.analyze().totals.params
    namespace: dict = {}
    exec(compile(architecture.to_python(), "two_heads.py", "exec"), namespace)
    assert_same_model(namespace["build_model"](), model)


def test_train_refuses_several_inputs(cli, tmp_path):
    spec = tmp_path / "two.arch"
    spec.write_text(SPEC, encoding="utf-8")
    result = cli("train", str(spec), "--data", "cifar10", "--out", str(tmp_path / "run"))
    assert result.code == 1
    assert "TwoHeads has 2 inputs; `train` fits one input" in result.err
