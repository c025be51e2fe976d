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
    # issue 11's kinds
    "conv_transpose({c}, {k}, stride={s}, padding={p})", "crop(1)", "layer_scale", "prelu(shared_axes=[1])",
    "relu(6, negative_slope=0.1)", "relu(threshold=0.5)", "softmax(axis=1)", "normalization", "layer_norm",
    "dropout(0.1, noise_shape=[none, {ones}{c}])", "residual(scale=0.3) {{ conv({c}, 1) }}", "rescaling(0.5, 1)",
    "group_norm(1)", "unit_norm", "spatial_dropout(0.2)", "act(sparsemax)", "act(soft_shrink)", "stochastic_depth(0.1)",
    "scale(0.5)", "global_avg_pool repeat_vector(3) permute([2, 1])",
])
IMAGE_ONLY = ("depthwise_conv", "separable_conv")  # Keras has no 3-D depthwise or separable conv
MERGES = st.sampled_from(["add", "multiply", "subtract", "average", "maximum", "minimum"])


@st.composite
def networks(draw):
    """A random network over a sequence, an image or a volume (the rank comes from the input)."""
    axes = draw(st.sampled_from([1, 2, 2, 3]))
    size = draw(st.integers(4, 24 if axes < 3 else 9))
    channels = draw(st.integers(1, 8))
    lines = ["network Random", f"input {'x'.join([str(size)] * axes)}x{channels}"]
    for index in range(draw(st.integers(1, 6))):
        template = draw(UNIT.filter(lambda unit: axes < 3 or not unit.startswith(IMAGE_ONLY)))
        lines.append(template.format(
            c=draw(st.integers(1, 12)), k=draw(st.sampled_from([1, 2, 3, 5])),
            s=draw(st.sampled_from([1, 2])), p=draw(st.sampled_from(["same", "valid"])),
            n=index, merge=draw(MERGES), ones="1, " * axes,
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
@given(axes=st.sampled_from([1, 3]), size=st.integers(1, 12), channels=st.integers(1, 5), kernel=st.integers(1, 5),
       stride=st.integers(1, 3), dilation=st.integers(1, 2), padding=st.sampled_from(["valid", "same"]),
       kind=st.sampled_from(["conv", "conv_transpose", "maxpool", "avgpool", "depthwise_conv", "upsample", "crop", "zero_pad"]))
def test_rank_generic_shape_rules_agree_with_keras(axes, size, channels, kernel, stride, dilation, padding, kind):
    """1-D and 3-D forms: archspec's shape equals the Keras class the input's rank selects."""
    if kind == "depthwise_conv" and axes == 3:
        return  # Keras has no DepthwiseConv3D; archspec refuses it (tested in the rule table)
    if stride > 1 and dilation > 1:
        dilation = 1
    arguments = {"conv": {"filters": 3, "kernel": kernel, "stride": stride, "dilation": dilation, "padding": padding},
                 "conv_transpose": {"filters": 3, "kernel": kernel, "stride": stride, "dilation": dilation, "padding": padding},
                 "depthwise_conv": {"kernel": kernel, "stride": stride, "padding": padding},
                 "maxpool": {"pool": kernel, "stride": stride, "padding": padding},
                 "avgpool": {"pool": kernel, "stride": stride, "padding": padding},
                 "upsample": {"size": kernel}, "crop": {"cropping": kernel // 2}, "zero_pad": {"padding": kernel}}[kind]
    input_shape = (*(size,) * axes, channels)
    layer = REGISTRY[kind].build(arguments).bound([input_shape])
    from archspec.emit.keras import instantiate

    keras_layer = instantiate(keras, layer.keras_call())
    assert type(keras_layer).__name__.endswith((f"{axes}D", f"{axes}DTranspose"))
    try:
        ours = layer.output_shape([input_shape])
    except ShapeError:
        try:
            theirs = keras_layer.compute_output_shape((1, *input_shape))
        except ValueError:
            return
        assert any(n is not None and n <= 0 for n in theirs[1:-1]), theirs
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
