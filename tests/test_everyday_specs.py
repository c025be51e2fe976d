"""Everyday networks beyond classification: the same-padding U-Net (specs/unet.arch) and the
M5 raw-audio 1-D CNN (specs/m5.arch), each held to a Keras model written by hand here, the way a
Keras user would write that network, and to figures computed from their formulas."""

from __future__ import annotations

import os
from collections import Counter

import pytest

import archspec

from .conftest import SPECS

# (spec, settings): the U-Net at 64x64 keeps the Keras tests fast; the second U-Net covers the
# depth, batchnorm and binary-mask options.
CASES = [
    ("unet", {"size": 64}),
    ("unet", {"size": 64, "base": 16, "depth": 3, "batchnorm": True, "classes": 1, "channels": 1}),
    ("m5", {}),
    ("m5", {"length": 32000, "classes": 35}),
]
IDS = ["unet-64", "unet-depth3-bn-binary", "m5-16k", "m5-32k-35"]
DEFAULTS = {
    "unet": {"classes": 2, "size": 128, "channels": 3, "base": 64, "depth": 4, "batchnorm": False},
    "m5": {"classes": 10, "length": 16000},
}


# ---------------------------------------------------------------------------------------------
# Hand-computed figures (no TensorFlow)


def conv_params(kernel: int, cin: int, cout: int) -> int:
    return kernel * cin * cout + cout


def unet_params(classes=2, channels=3, base=64, depth=4, batchnorm=False) -> tuple[int, int]:
    """(total, non-trainable) of the same-padding U-Net, level by level."""
    total = non_trainable = 0

    def double_conv(cin, f):
        nonlocal total, non_trainable
        total += conv_params(9, cin, f) + conv_params(9, f, f)
        if batchnorm:
            total += 2 * 4 * f
            non_trainable += 2 * 2 * f

    cin = channels
    for level in range(depth):
        double_conv(cin, base * 2**level)
        cin = base * 2**level
    double_conv(cin, base * 2**depth)  # the bottleneck
    for level in reversed(range(depth)):
        f = base * 2**level
        total += conv_params(2 * 2, 2 * f, f)  # the transposed conv, from 2f channels
        double_conv(2 * f, f)  # after the concatenation with the encoder's f channels
    total += conv_params(1, base, classes)
    return total, non_trainable


def m5_params(classes=10) -> tuple[int, int]:
    stages = [(80, 1, 128), (3, 128, 128), (3, 128, 256), (3, 256, 512)]
    convs = sum(conv_params(k, cin, cout) for k, cin, cout in stages)
    bn = sum(4 * cout for _, _, cout in stages)
    return convs + bn + 512 * classes + classes, sum(2 * cout for _, _, cout in stages)


def test_specs_are_clean_and_formatted(cli):
    for name in ("unet", "m5"):
        path = str(SPECS / f"{name}.arch")
        checked = cli("check", path)
        assert checked.code == 0 and "warning" not in checked.err, checked.err
        assert cli("fmt", "--check", path).code == 0
        text = (SPECS / f"{name}.arch").read_text(encoding="utf-8")
        assert text.startswith("# ") and text.splitlines()[0].endswith(".")
        assert [p.name for p in archspec.load(name).spec.params] == list(DEFAULTS[name])


def test_hand_computed_figures():
    unet = archspec.load("unet")
    report = unet.analyze()
    assert report.input_shape == (128, 128, 3) and report.output_shape == (128, 128, 2)
    assert (report.totals.params, report.totals.non_trainable_params) == unet_params() == (31_031_810, 0)
    # The bottleneck's map is size / 2^depth with base * 2^depth channels.
    bottleneck = next(layer for layer in reversed(report.layers) if layer.name.startswith("bottleneck_"))
    assert bottleneck.output_shape == (8, 8, 1024)
    for settings in ({"depth": 1}, {"depth": 3, "base": 16}, {"classes": 1, "channels": 1, "size": 256},
                     {"batchnorm": True, "base": 8, "classes": 5}):
        report = unet.analyze(set=settings)
        figures = {**DEFAULTS["unet"], **settings}
        size, classes = figures.pop("size"), figures["classes"]
        assert report.output_shape == (size, size, classes)
        assert (report.totals.params, report.totals.non_trainable_params) == unet_params(**figures)
        assert not report.diagnostics
    # Same padding halves and doubles exactly, so a size that 2^depth does not divide is refused at the skip.
    with pytest.raises(archspec.SpecError, match="concat"):
        unet.analyze(set={"size": 100})

    m5 = archspec.load("m5")
    report = m5.analyze()
    assert report.input_shape == (16000, 1) and report.output_shape == (10,)
    assert (report.totals.params, report.totals.non_trainable_params) == m5_params() == (561_162, 2_048)
    # 16000 / 4 (stride) / 4 (pool) = 1000, then / 4 per stage: 250, 62, 15 before the global pooling.
    pooled = [layer.output_shape for layer in report.layers if layer.kind == "maxpool"]
    assert pooled == [(1000, 128), (250, 128), (62, 256), (15, 512)]
    first = report.layers[0]
    assert (first.kind, first.output_shape, first.macs) == ("conv", (4000, 128), 4000 * 80 * 128)
    assert m5.analyze(set={"classes": 35}).totals.params == m5_params(35)[0]


# ---------------------------------------------------------------------------------------------
# Against Keras models written by hand


def keras_unet(keras, classes=2, size=128, channels=3, base=64, depth=4, batchnorm=False):
    layers = keras.layers

    def double_conv(x, filters):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same")(x)
            if batchnorm:
                x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        return x

    inputs = keras.Input((size, size, channels))
    x, skips = inputs, []
    for level in range(depth):
        x = double_conv(x, base * 2**level)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = double_conv(x, base * 2**depth)
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(base * 2**level, 2, strides=2, padding="same")(x)
        x = layers.Concatenate()([x, skips[level]])
        x = double_conv(x, base * 2**level)
    if classes == 1:
        outputs = layers.Conv2D(1, 1, activation="sigmoid")(x)
    else:
        outputs = layers.Conv2D(classes, 1, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="unet")


def keras_m5(keras, classes=10, length=16000):
    layers = keras.layers
    inputs = keras.Input((length, 1))
    x = inputs
    for filters, kernel, stride in [(128, 80, 4), (128, 3, 1), (256, 3, 1), (512, 3, 1)]:
        x = layers.Conv1D(filters, kernel, strides=stride, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling1D(4)(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="m5")


HAND_WRITTEN = {"unet": keras_unet, "m5": keras_m5}


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


def weight_counts(model) -> tuple[int, int]:
    import numpy as np

    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return trainable, sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)


def layers(model) -> list:
    """The model's layers in order, without its InputLayer."""
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


@pytest.mark.keras
@pytest.mark.parametrize("name, settings", CASES, ids=IDS)
def test_spec_equals_hand_written_keras_model(keras, name, settings):
    from .test_keras_emit import profile

    report = archspec.load(name).analyze(set=settings)
    model = HAND_WRITTEN[name](keras, **settings)
    try:
        trainable, non_trainable = weight_counts(model)
        assert report.totals.params == model.count_params()
        assert (report.totals.trainable_params, report.totals.non_trainable_params) == (trainable, non_trainable)
        assert report.output_shape == tuple(model.output.shape[1:])
        shapes = Counter(tuple(layer.output.shape[1:]) for layer in layers(model))
        assert Counter(layer.output_shape for layer in report.layers) == shapes
        assert report.totals.flops["tfprof"] == profile(model, report.input_shape)[0]
    finally:
        del model
        keras.backend.clear_session()


@pytest.mark.keras
@pytest.mark.parametrize("name, settings", CASES, ids=IDS)
def test_emitted_model_has_the_hand_written_layers(keras, name, settings):
    emitted = archspec.load(name).to_keras(set=settings)
    model = HAND_WRITTEN[name](keras, **settings)
    try:
        assert [type(layer).__name__ for layer in layers(emitted)] == [type(layer).__name__ for layer in layers(model)]
        assert emitted.count_params() == model.count_params()
        assert tuple(emitted.output.shape[1:]) == tuple(model.output.shape[1:])
    finally:
        del emitted, model
        keras.backend.clear_session()
