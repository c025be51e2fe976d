"""Specs that are valid but probably not what their author meant: they pass `check` (exit 0) and
say why, located at the line (tests/cases/warnings/)."""

from pathlib import Path

CASES = Path(__file__).resolve().parent / "cases" / "warnings"


def test_a_head_left_on_a_map_warns_at_the_dense(cli):
    case = CASES / "dense_without_flatten.arch"
    result = cli("check", "--verbose", str(case))
    assert result.code == 0
    text = result.out + result.err
    assert "warning[map-output]: dense 'dense_1' applies to the last axis of its 16x16x6 input" in text
    assert "so the network outputs 16x16x10, not a flat vector" in text
    assert "dense_without_flatten.arch:6:1" in text
    assert "put `flatten` or `global_avg_pool` before it" in text


def test_a_pointwise_mlp_that_ends_flat_does_not_warn(cli, tmp_path):
    spec = tmp_path / "mlp.arch"
    spec.write_text("network M\ninput 8x8x4\ndense(16, gelu) dense(4) global_avg_pool dense(3, softmax)\n", encoding="utf-8")
    result = cli("check", str(spec))
    assert result.code == 0 and "warning" not in result.out + result.err


def test_a_pointwise_mlp_inside_a_network_whose_map_output_is_its_own_does_not_warn(cli, tmp_path):
    spec = tmp_path / "inner.arch"
    spec.write_text("network M\ninput 8x8x4\ndense(16, gelu) conv(8, 3, padding=same)\n", encoding="utf-8")
    result = cli("check", str(spec))
    assert result.code == 0 and "warning" not in result.out + result.err


def test_a_square_two_axis_input_warns_that_it_is_a_sequence(cli):
    """`input 28x28` is a sequence since 1-D layers exist: valid, but nearly always an image that
    lost its channel axis."""
    case = CASES / "square_input_without_channels.arch"
    result = cli("check", "--verbose", str(case))
    assert result.code == 0
    text = result.out + result.err
    assert "warning[input-sequence]: conv 'conv_1' runs 1-D: the 28x28 input is a sequence of 28 steps with 28 channels" in text
    assert "square_input_without_channels.arch:5:1" in text
    assert "`input 28x28x1` (grayscale)" in text


def test_a_sequence_input_does_not_warn(cli, tmp_path):
    spec = tmp_path / "audio.arch"
    spec.write_text("network A\ninput 16000x1\nconv(8, 9, stride=4) relu global_max_pool dense(3, softmax)\n", encoding="utf-8")
    result = cli("check", str(spec))
    assert result.code == 0 and "warning" not in result.out + result.err
