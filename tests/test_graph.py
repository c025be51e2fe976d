"""Expansion semantics: names, taps, repeats, aliases, pruning and parameter provenance."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError
from archspec.spec import Ref


def names(text: str) -> list[str]:
    return [node.name for node in archspec.parse(text).graph().nodes]


def test_names_follow_blocks_groups_and_positions():
    assert names("network N\ninput 8x8x3\nconv(4, 3) bn relu conv(4, 1)\n") == ["conv_1", "bn_1", "relu_1", "conv_2"]
    text = "network N\ninput 8x8x3\nblock u(f) { conv(f, 1) relu }\nu(4) * 2\nu(8) as last\n"
    assert names(text) == ["u_1_conv_1", "u_1_relu_1", "u_2_conv_1", "u_2_relu_1", "last_conv_1", "last_relu_1"]


def test_as_names_inside_repeats_carry_every_iteration():
    text = "network N\ninput 8x8x3\nrepeat 2 { repeat 2 { relu as r } }\nrepeat 2 { relu as q } as stage\nconv(2, 1)\n"
    assert names(text) == ["r_1_1", "r_1_2", "r_2_1", "r_2_2", "stage_q_1", "stage_q_2", "conv_1"]


def test_taps_resolve_inside_repeat_copies_and_blocks():
    text = "network N\ninput 8x8x3\nrepeat 2 { conv(3, 1) as r relu add(@r) }\n"
    graph = archspec.parse(text).graph()
    adds = [node for node in graph.nodes if node.layer.op == "add"]
    assert [node.inputs for node in adds] == [("relu_1", "r_1"), ("relu_2", "r_2")]
    dense = "network N\ninput 8x8x4\nblock d { conv(2, 1) as x concat(@input) }\nd\n"
    assert archspec.parse(dense).graph().nodes[-1].inputs == ("d_1_x", "input")


def test_layers_that_never_reach_the_output_are_pruned_with_a_warning():
    text = "network Rep\ninput 8x8x3\nconv(4, 3) as c\nconv(8, 3) relu\n@c\nconv(4, 1)\n"
    report = archspec.parse(text, "rep.arch").analyze()
    assert [layer.name for layer in report.layers] == ["c", "conv_2"]
    warning = report.diagnostics[0]
    assert warning.code == "unused-layers" and "'conv_1', 'relu_1'" in warning.message
    assert warning.location() == "rep.arch:4:1"


def test_an_output_that_is_the_input_is_an_error():
    with pytest.raises(SpecError, match="the network's output is its input"):
        archspec.parse("network N\ninput 8x8x3\nrelu\n@input\n").graph()


def test_quoted_parameter_names_get_a_precise_hint():
    with pytest.raises(SpecError) as raised:
        archspec.parse('network N(fn=4)\ninput 8x8x3\nconv("fn", 3)\n').graph()
    assert '"fn" is quoted, so it is a word, not the parameter `fn`' in raised.value.render()


def test_parameter_provenance_and_structural_parameters():
    text = ("network N(width=4, depth=2, wide=false)\ninput 8x8x3\nblock u(f) { conv(f * 2, 3, padding=same) }\n"
            "u(width) * depth\nif wide { relu }\nflatten dense(width + 1)\n")
    graph = archspec.parse(text).graph()
    conv = graph.nodes[0]
    assert dict(conv.symbols)["filters"].op == "*" and dict(conv.symbols)["filters"].args[0] == Ref(ref="width")
    assert dict(graph.nodes[-1].symbols)["units"].op == "+"
    assert graph.structural == frozenset({"depth", "wide"})


def test_residual_and_concat_groups():
    text = ("network N\ninput 8x8x4\nresidual { conv(4, 3, padding=same) } as r\n"
            "concat { branch { conv(2, 1) } branch { } }\nconcat { branch { relu } branch { } }\n")
    graph = archspec.parse(text).graph()
    assert [node.name for node in graph.nodes] == ["r_conv_1", "r", "b1_conv_1", "concat_1", "concat_2_b1_relu_1", "concat_2"]
    assert graph.node("r").inputs == ("r_conv_1", "input")
    assert graph.node("concat_1").inputs == ("b1_conv_1", "r")
    assert [group.kind for group in graph.groups] == ["residual", "concat", "concat"]


def test_a_repeat_index_counts_the_copies():
    """`repeat n with i`: i is 0, 1, ... in each copy (EfficientNet's per-block drop rate)."""
    text = ("network N(n=3, rate=0.2)\ninput 8x8x3\nrepeat n with i {\n  conv(8 * (i + 1), 3, padding=same)\n"
            "  dropout(rate * i / n)\n}\n")
    architecture = archspec.parse(text)
    nodes = architecture.graph().nodes
    assert [node.output_shape[-1] for node in nodes if node.entry == "conv"] == [8, 16, 24]
    assert [node.layer.rate for node in nodes if node.entry == "dropout"] == [0.0, 0.2 / 3, 0.4 / 3]
    assert architecture.to_dict()["body"][0]["index"] == "i"
    assert "repeat n with i {" in architecture.to_arch()
    assert archspec.parse(architecture.to_arch()).to_dict() == architecture.to_dict()
    assert [n.output_shape for n in archspec.parse(text).graph(set={"n": 2}).nodes if n.entry == "conv"] == [(8, 8, 8), (8, 8, 16)]


def test_a_block_takes_tensors_as_tap_parameters():
    """`block cell(filters, @prev)`: NASNet's cells read the previous two cells' outputs."""
    text = ("network Cells\ninput 16x16x8\nblock cell(filters, @prev) {\n  conv(filters, 3, padding=same) as left\n  @prev\n"
            "  conv(filters, 1)\n  add(@left)\n}\nconv(8, 1) as stem0\nconv(8, 3, padding=same) as stem1\n"
            "cell(8, @stem0) as c1\ncell(8, @stem1) as c2\nadd(@c1)\n")
    architecture = archspec.parse(text)
    graph = architecture.graph()
    inputs = {node.name: node.inputs for node in graph.nodes}
    assert inputs["c1_left"] == ("stem1",) and inputs["c1_conv_1"] == ("stem0",)  # the current tensor, and @prev
    assert inputs["c2_left"] == ("c1_add_1",) and inputs["c2_conv_1"] == ("stem1",)
    assert architecture.to_dict()["blocks"][0]["taps"] == ["prev"]
    assert "block cell(filters, @prev) {" in architecture.to_arch()
    assert archspec.parse(architecture.to_arch()).to_dict() == architecture.to_dict()


@pytest.mark.parametrize("text, message", [
    ("network N\ninput 8x8x3\nblock b(@p, @q) { add(@p) }\nb(@input)\n", "block `b` takes 2 tensors (@p, @q); received 1"),
    ("network N\ninput 8x8x3\nblock b { relu }\nb(@input)\n", "it declares no tensor parameters"),
    ("network N(@p)\ninput 8x8x3\nrelu\n", "only a block takes tensors"),
    ("network N\ninput 8x8x3\nblock b(@p) { conv(3, 1) as p }\nb(@input)\n", "the name `b_1_p` is already used"),
])
def test_tap_parameter_mistakes(text, message):
    with pytest.raises(archspec.SpecError) as raised:
        archspec.parse(text).analyze()
    assert any(message in d.message for d in raised.value.diagnostics), [d.message for d in raised.value.diagnostics]
