"""Property tests against Keras: random networks and random shape-rule arguments.

Keras is the oracle: every random network archspec accepts must emit a model whose layer
shapes and parameter counts equal the report, and every shape rule must agree with the
shape Keras computes for the same layer."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

import archspec  # noqa: E402
from archspec.errors import SpecError  # noqa: E402
from archspec.layers import REGISTRY, ShapeError  # noqa: E402

from .test_keras_emit import assert_model_matches_report  # noqa: E402

pytestmark = pytest.mark.keras
KERAS_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

UNIT = st.sampled_from([
    "conv({c}, {k}, stride={s}, padding={p})", "conv({c}, {k}, padding=same, bias=false) bn relu",
    "depthwise_conv({k}, padding=same)", "separable_conv({c}, {k}, padding={p})", "maxpool({k}, stride={s}, padding={p})",
    "avgpool(2, padding=same)", "bn", "relu", "gelu", "dropout(0.1)", "zero_pad(1)", "upsample(2)",
    "residual {{ conv({c}, 3, stride={s}, padding=same) bn }} shortcut {{ conv({c}, 1, stride={s}) }}",
    "residual {{ bn relu }}",
    "concat {{ branch {{ conv({c}, 1) }} branch {{ conv({c}, {k}, padding=same) }} branch {{ }} }}",
    # element-wise merges: a squeeze-and-excitation gate (broadcast, or refused when its channels
    # differ) and a same-shape merge with a tap
    "identity as x{n}\nglobal_avg_pool(keepdims=true) conv({c}, 1, activation=sigmoid)\n{merge}(@x{n})",
    "relu as y{n}\nsigmoid\n{merge}(@y{n})",
    "residual(merge={merge}) {{ conv({c}, 1) }}",
])
MERGES = st.sampled_from(["add", "multiply", "subtract", "average", "maximum", "minimum"])


@st.composite
def networks(draw):
    size = draw(st.integers(4, 24))
    channels = draw(st.integers(1, 8))
    lines = ["network Random", f"input {size}x{size}x{channels}"]
    for index in range(draw(st.integers(1, 6))):
        template = draw(UNIT)
        lines.append(template.format(
            c=draw(st.integers(1, 12)), k=draw(st.sampled_from([1, 2, 3, 5])),
            s=draw(st.sampled_from([1, 2])), p=draw(st.sampled_from(["same", "valid"])),
            n=index, merge=draw(MERGES),
        ))
    head = draw(st.sampled_from(["global_avg_pool dense(3, softmax)", "flatten dense(4)", "global_max_pool", ""]))
    if head:
        lines.append(head)
    return "\n".join(lines) + "\n"


@KERAS_SETTINGS
@given(networks())
def test_random_networks_emit_what_the_report_says(text):
    try:
        architecture = archspec.parse(text, "random.arch")
        report = architecture.analyze()
    except SpecError as error:
        assert error.diagnostics and all(d.span is not None for d in error.diagnostics if d.is_error)
        return
    assert_model_matches_report(architecture.to_keras(), report)


@settings(max_examples=200, deadline=None)
@given(size=st.tuples(st.integers(1, 40), st.integers(1, 40)), channels=st.integers(1, 9),
       kernel=st.tuples(st.integers(1, 7), st.integers(1, 7)), stride=st.integers(1, 4), dilation=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), kind=st.sampled_from(["conv", "depthwise_conv", "maxpool", "avgpool"]))
def test_windowed_shape_rules_agree_with_keras(size, channels, kernel, stride, dilation, padding, kind):
    if stride > 1 and dilation > 1:
        dilation = 1  # Keras refuses the combination; archspec reports it (tested elsewhere)
    arguments = {"conv": {"filters": 4, "kernel": kernel, "stride": stride, "dilation": dilation},
                 "depthwise_conv": {"kernel": kernel, "stride": stride, "dilation": dilation},
                 "maxpool": {"pool": kernel, "stride": stride}, "avgpool": {"pool": kernel, "stride": stride}}[kind]
    layer = REGISTRY[kind].build({**arguments, "padding": padding})
    from archspec.emit.keras import instantiate

    keras_layer = instantiate(keras, layer.keras_call())
    input_shape = (*size, channels)
    try:
        ours = layer.output_shape([input_shape])
    except ShapeError:  # archspec refuses: Keras must refuse too, or compute no positive size
        try:
            theirs = keras_layer.compute_output_shape((1, *input_shape))
        except ValueError:
            return
        assert any(n is not None and n <= 0 for n in theirs[1:3]), theirs
        return
    assert tuple(keras_layer.compute_output_shape((1, *input_shape))[1:]) == ours


@settings(max_examples=200, deadline=None)
@given(shapes=st.lists(st.tuples(st.sampled_from([1, 3]), st.sampled_from([1, 4]), st.sampled_from([1, 2, 5])),
                       min_size=2, max_size=3),
       merge=MERGES)
def test_elementwise_broadcast_agrees_with_keras(shapes, merge):
    if merge == "subtract":
        shapes = shapes[:2]
    layer = REGISTRY[merge].build({})
    from archspec.emit.keras import instantiate

    keras_layer = instantiate(keras, layer.keras_call())
    try:
        ours = layer.output_shape(shapes)
    except ShapeError:  # archspec refuses: so must Keras
        with pytest.raises(ValueError):
            keras_layer.compute_output_shape([(1, *shape) for shape in shapes])
        return
    assert tuple(keras_layer.compute_output_shape([(1, *shape) for shape in shapes])[1:]) == ours
