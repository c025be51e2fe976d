"""The six course networks: totals and per-layer facts from shared/reference/course-networks.md."""

from __future__ import annotations

import pytest

import archspec

# name -> (total, trainable, non-trainable), as printed by the course code's model.summary().
TOTALS = {
    "baseline": (198_506, 198_494, 12),
    "lenet5": (62_006, 62_006, 0),
    "alexnet8": (9_639_178, 9_638_474, 704),
    "vgg16": (15_262_026, 15_253_578, 8_448),
    "inception10": (121_418, 120_234, 1_184),
    "resnet18": (11_183_562, 11_173_962, 9_600),
}

# Output shapes of the layers with weights and of the pools, in order (from the reference).
WEIGHTED_AND_POOL_SHAPES = {
    "baseline": [(32, 32, 6), (32, 32, 6), (16, 16, 6), (128,), (10,)],
    "lenet5": [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (120,), (84,), (10,)],
    "alexnet8": [(30, 30, 96), (30, 30, 96), (14, 14, 96), (12, 12, 256), (12, 12, 256), (5, 5, 256),
                 (5, 5, 384), (5, 5, 384), (5, 5, 256), (2, 2, 256), (2048,), (2048,), (10,)],
}

# Per-layer parameter counts of the layers with weights, in order (reference and printed summaries).
WEIGHTED_PARAMS = {
    "baseline": [456, 24, 196_736, 1_290],
    "lenet5": [456, 2_416, 48_120, 10_164, 850],
    "alexnet8": [2_688, 384, 221_440, 1_024, 885_120, 1_327_488, 884_992, 2_099_200, 4_196_352, 20_490],
}

POOLS = {"maxpool", "avgpool", "global_avg_pool", "global_max_pool"}


@pytest.fixture(scope="module")
def reports():
    return {name: archspec.load(name).analyze() for name in TOTALS}


@pytest.mark.parametrize("name", TOTALS)
def test_totals_equal_the_course(reports, name):
    totals = reports[name].totals
    assert (totals.params, totals.trainable_params, totals.non_trainable_params) == TOTALS[name]


@pytest.mark.parametrize("name", WEIGHTED_AND_POOL_SHAPES)
def test_weighted_and_pool_shapes(reports, name):
    shapes = [layer.output_shape for layer in reports[name].layers if layer.params or layer.kind in POOLS]
    assert shapes == WEIGHTED_AND_POOL_SHAPES[name]


@pytest.mark.parametrize("name", WEIGHTED_PARAMS)
def test_per_layer_params(reports, name):
    assert [layer.params for layer in reports[name].layers if layer.params] == WEIGHTED_PARAMS[name]


def test_vgg16_stages(reports):
    layers = reports["vgg16"].layers
    convs = [layer for layer in layers if layer.kind == "conv"]
    assert [layer.output_shape[2] for layer in convs] == [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    pools = [layer.output_shape for layer in layers if layer.kind == "maxpool"]
    assert pools == [(16, 16, 64), (8, 8, 128), (4, 4, 256), (2, 2, 512), (1, 1, 512)]
    assert sum(layer.params for layer in convs) == 14_714_688
    assert sum(layer.params for layer in layers if layer.kind == "bn") == 16_896
    assert [layer.kind for layer in layers].count("dropout") == 7
    assert all(layer.label == "dropout 0.2" for layer in layers if layer.kind == "dropout")


def test_inception10_units(reports):
    report = reports["inception10"]
    concats = [layer for layer in report.layers if layer.kind == "concat"]
    assert [layer.output_shape for layer in concats] == [(16, 16, 64), (16, 16, 64), (8, 8, 128), (8, 8, 128)]
    per_unit = {}
    for layer in report.layers:
        if layer.groups:
            per_unit[layer.groups[0]] = per_unit.get(layer.groups[0], 0) + layer.params
    assert list(per_unit.values()) == [512, 10_208, 13_280, 43_968, 52_160]
    # Branch order b1, b2, b3, b4 and the stride on every 1x1 entry conv of a strided unit.
    first_unit = [layer for layer in report.layers if layer.groups[:1] == ("inception_1",) and layer.kind == "conv"]
    assert [(layer.name, layer.output_shape) for layer in first_unit] == [
        ("inception_1_b1_cbr_1_conv_1", (16, 16, 16)),
        ("inception_1_b2_cbr_1_conv_1", (16, 16, 16)),
        ("inception_1_b2_cbr_2_conv_1", (16, 16, 16)),
        ("inception_1_b3_cbr_1_conv_1", (16, 16, 16)),
        ("inception_1_b3_cbr_2_conv_1", (16, 16, 16)),
        ("inception_1_b4_cbr_1_conv_1", (16, 16, 16)),
    ]
    pool = next(layer for layer in report.layers if layer.kind == "maxpool")
    assert pool.output_shape == (32, 32, 16)  # the branch pool does not downsample


def test_resnet18_units(reports):
    report = reports["resnet18"]
    per_block: dict[str, int] = {}
    for layer in report.layers:
        key = layer.groups[0] if layer.groups else layer.name
        per_block[key] = per_block.get(key, 0) + layer.params
    units = [per_block[f"basic_{i}"] for i in range(1, 9)]
    assert units == [74_240, 74_240, 230_912, 295_936, 920_576, 1_181_696, 3_676_160, 4_722_688]
    adds = [layer.output_shape for layer in report.layers if layer.kind == "add"]
    assert adds == [(32, 32, 64)] * 2 + [(16, 16, 128)] * 2 + [(8, 8, 256)] * 2 + [(4, 4, 512)] * 2
    convs = [layer for layer in report.layers if layer.kind == "conv"]
    assert len(convs) == 1 + 16 + 3  # stem, block convs, three 1x1 projections
    assert all(layer.params == layer.trainable_params for layer in convs)  # bias=false everywhere
    assert report.layers[-1].params == 5_130


def test_resnet18_explains_its_misaligned_shortcuts(reports):
    warnings = reports["resnet18"].diagnostics
    assert [w.code for w in warnings] == ["rf-misaligned"] * 3
    first = warnings[0].message
    assert "'basic_3_add_1'" in first and "'basic_3_conv_1'" in first
    assert "merges receptive fields centred 1 px apart" in first
    assert "pads 0 before and 1 after" in warnings[0].detail
    assert warnings[0].hint.startswith("Keras `same` pads the odd pixel after")
    assert warnings[0].location().endswith("resnet18.arch:9:3")
    assert reports["resnet18"].totals.aligned is False
    for name in ("baseline", "lenet5", "alexnet8", "vgg16", "inception10"):
        assert reports[name].diagnostics == ()
        assert reports[name].totals.aligned is True
