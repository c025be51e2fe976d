"""The emitted Keras model is exactly the analyzed network: an independent oracle for shapes,
parameters and tfprof FLOPs (issue 4). These tests import TensorFlow, so they share models."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

import numpy as np  # noqa: E402

import archspec  # noqa: E402

from .conftest import COURSE_SPECS, ROOT  # noqa: E402
from .reference_models import BUILDERS  # noqa: E402

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def built():
    """name -> (architecture, report, emitted model), built once for the module."""
    result = {}
    for name in COURSE_SPECS:
        architecture = archspec.load(name)
        result[name] = (architecture, architecture.analyze(), architecture.to_keras())
    return result


def weight_counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, frozen


def assert_model_matches_report(model, report):
    assert sorted(layer.name for layer in model.layers if layer.name != "input") == sorted(layer.name for layer in report.layers)
    assert model.count_params() == report.totals.params
    assert weight_counts(model) == (report.totals.trainable_params, report.totals.non_trainable_params)
    for layer in report.layers:
        emitted = model.get_layer(layer.name)
        assert tuple(emitted.output.shape[1:]) == layer.output_shape, layer.name
        assert emitted.count_params() == layer.params, layer.name


@pytest.mark.parametrize("name", COURSE_SPECS)
def test_emitted_model_equals_the_report(built, name):
    _, report, model = built[name]
    assert_model_matches_report(model, report)
    assert model.name == report.network
    assert tuple(model.output.shape[1:]) == report.output_shape


@pytest.mark.parametrize("name", COURSE_SPECS)
def test_emitted_model_has_the_course_weights(built, name):
    """Same weight shapes and counts as the network written by hand in Keras."""
    model = built[name][2]
    reference = BUILDERS[name]()
    assert sorted(tuple(w.shape) for w in model.weights) == sorted(tuple(w.shape) for w in reference.weights)
    assert weight_counts(model) == weight_counts(reference)


def test_resnet18_head_keeps_its_l2_regularizer(built):
    dense = built["resnet18"][2].get_layer("dense_1")
    assert isinstance(dense.kernel_regularizer, keras.regularizers.L2)
    assert dense.kernel_regularizer.l2 == pytest.approx(0.01)
    assert dense.use_bias and dense.get_config()["activation"] == "softmax"
    convs = [layer for layer in built["resnet18"][2].layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs and not any(layer.use_bias for layer in convs)


# Every layer kind with the arguments it can take: the emitted layer agrees with the report.
LAYER_KIND_SPECS = {
    "conv": "input 16x16x8\nconv(16, [3, 5], stride=[2, 1], padding=same, bias=false, l2=0.001, l1=0.002, kernel_init=he_normal)",
    "conv_dilated_grouped": "input 16x16x8\nconv(16, 3, dilation=2, groups=4, activation=relu, bias_init=ones)",
    "depthwise_conv": "input 16x16x8\ndepthwise_conv(3, 2, padding=same, multiplier=2, l2=0.01)",
    "separable_conv": "input 16x16x8\nseparable_conv(12, 3, padding=same, multiplier=2, activation=gelu)",
    "dense": "input 24\ndense(10, softmax, bias=false, l1=0.1)",
    "bn": "input 8x8x4\nbn(momentum=0.9, epsilon=0.01, center=false)",
    "bn_scale_off": "input 8x8x4\nbn(scale=false)",
    "activations": "input 8x8x4\nrelu sigmoid tanh softmax gelu silu swish relu6 selu softplus softsign hard_sigmoid mish linear act(hard_silu)",
    "newer_activations": ("input 8x8x4\nact(hard_shrink) act(hard_tanh) act(log_sigmoid) act(soft_shrink) act(sparse_plus)\n"
                          "act(sparse_sigmoid) act(squareplus) act(tanh_shrink) act(sparsemax) conv(4, 1, activation=sparsemax)"),
    "leaky_relu_elu": "input 8x8x4\nleaky_relu(0.1) elu(0.5) leaky_relu elu",
    "pools": "input 9x9x4\nmaxpool(3, stride=2, padding=same) avgpool([2, 1]) maxpool",
    "global_avg_pool": "input 9x9x4\nglobal_avg_pool",
    "global_max_pool": "input 9x9x4\nglobal_max_pool",
    "dropout_flatten": "input 4x4x2\ndropout(0.3) flatten",
    "zero_pad": "input 5x5x2\nzero_pad([[1, 2], [0, 3]]) zero_pad(1) zero_pad([2, 1])",
    "crop": "input 7x6x4\ncrop(1) crop([[1, 0], [0, 2]]) crop([1, 0]) zero_pad([[1, 0], [0, 1]])",
    "upsample": "input 5x5x2\nupsample(2) upsample([1, 3], interpolation=bilinear)",
    "identity": "input 5x5x2\nidentity",
    "keepdims_reshape": "input 4x4x8\nglobal_avg_pool(keepdims=true) conv(10, 1) reshape([10]) softmax reshape([2, -1])",
    "add_concat_taps": "input 8x8x4\nconv(4, 1) as a\nconv(4, 3, padding=same)\nadd(@a, @input) as s\nconcat(@a) concat(@s, axis=-1)",
    "elementwise_merges": (
        "input 6x5x4\nconv(4, 1) as a\nrelu as b\nmultiply(@a) as m\nsubtract(@b) as s\naverage(@a, @m)\n"
        "maximum(@s) minimum(@a, @b) as low\nglobal_avg_pool(keepdims=true) conv(4, 1, activation=sigmoid)\n"
        "multiply(@low) as gated\navgpool([1, 5])\nadd(@gated)"
    ),
    "features_preprocessing": (
        "input 6x5x4\nrescaling(1 / 127.5, -1) layer_norm(epsilon=0.000001) dense(8, gelu) layer_norm(center=false)\n"
        "dense(4, bias=false) layer_norm(scale=false) rescaling(2) global_avg_pool dense(3) layer_norm"
    ),
    "residual_merges": (
        "input 6x6x4\nresidual(merge=multiply) { global_avg_pool(keepdims=true) conv(2, 1, activation=relu) conv(4, 1, activation=sigmoid) }\n"
        "residual(merge=subtract) { conv(4, 3, padding=same) } shortcut { identity }\nresidual(merge=average) { relu } as mean"
    ),
    "relu_softmax_prelu": (
        "input 6x5x4\nrelu(6) relu(5) relu(negative_slope=0.1) relu(4, negative_slope=0.1, threshold=0.5) relu(6, threshold=1)\n"
        "softmax(axis=1) softmax(-2) softmax(axis=3) prelu prelu(shared_axes=[1, 2], alpha_init=ones) relu softmax"
    ),
    "normalization_noise_shape": (
        "input 6x5x4\nnormalization normalization(mean=[1, 2, 3, 4], variance=[1, 4, 9, 16]) normalization(mean=0.5, variance=2, invert=true)\n"
        "dropout(0.2, noise_shape=[none, 1, 1, 1]) dropout(0.3, noise_shape=[1, 6, 1, 4]) global_avg_pool normalization"
    ),
    "custom_layers": (
        "input 6x5x4\nlayer_scale conv(4, 1) as a\nresidual(scale=0.2) { conv(4, 3, padding=same) } layer_scale(0.5)\n"
        "add(@a, scale=3) global_avg_pool layer_scale"
    ),
    "conv_transpose": (
        "input 5x6x4\nconv_transpose(3, 3, 2) conv_transpose(4, 2, 2, padding=same, bias=false, l2=0.01)\n"
        "conv_transpose(3, 4, 3, output_padding=[1, 2], activation=relu) conv_transpose(2, 3, dilation=2, padding=same)\n"
        "conv_transpose(2, 3, 2, padding=same, output_padding=0)"
    ),
    "sequence_1d": (
        "input 50x3\nconv(8, 5, stride=2, padding=same) conv(4, 3, dilation=2) depthwise_conv(3, multiplier=2) separable_conv(6, 3, padding=same)\n"
        "maxpool(2) avgpool(3, stride=2, padding=same) zero_pad([1, 2]) crop(1) upsample(3) conv_transpose(4, 3, 2, padding=same)\n"
        "conv(4, 3, groups=2) bn dense(6) global_max_pool(keepdims=true) global_avg_pool"
    ),
    "volume_3d": (
        "input 6x8x8x2\nconv(4, 3, padding=same, dilation=2) conv(4, [1, 3, 3], stride=2) maxpool(2, padding=same) avgpool([1, 2, 2])\n"
        "zero_pad([[1, 0], [0, 1], [1, 1]]) crop([1, 0, 1]) upsample([1, 2, 2]) conv_transpose(2, 2, 2, activation=gelu)\n"
        "zero_pad(1) crop(1) upsample(2) layer_norm global_max_pool(keepdims=true) global_avg_pool"
    ),
    "group_unit_norm_reshaping": (
        "input 8x8x6\ngroup_norm(2) group_norm(3, center=false, epsilon=0.00001) group_norm(6, scale=false) unit_norm spatial_dropout(0.3)\n"
        "global_avg_pool unit_norm repeat_vector(3) permute([2, 1]) spatial_dropout(0.2) group_norm(3)"
    ),
    "stochastic_depth": "input 6x5x4\nscale(0.5) stochastic_depth(0.2) residual { conv(4, 1) stochastic_depth(0.1) } global_avg_pool stochastic_depth(0.3)",
    "residual_concat_groups": (
        "input 8x8x4\nresidual { conv(8, 3, stride=2, padding=same) } shortcut { conv(8, 1, stride=2) }\n"
        "concat { branch { conv(2, 1) } branch { } branch { maxpool(3, stride=1, padding=same) } }"
    ),
}


@pytest.mark.parametrize("kind", LAYER_KIND_SPECS)
def test_every_layer_kind_emits_what_the_report_says(kind):
    architecture = archspec.parse(f"network T\n{LAYER_KIND_SPECS[kind]}\n")
    report = architecture.analyze()
    model = architecture.to_keras()
    assert_model_matches_report(model, report)
    namespace: dict = {}
    exec(compile(architecture.to_python(), kind, "exec"), namespace)
    assert_same_model(namespace["build_model"](), model)


def test_every_registry_name_is_covered():
    from archspec.layers import REGISTRY

    used = set()
    for text in LAYER_KIND_SPECS.values():
        used |= {node.entry for node in archspec.parse(f"network T\n{text}\n").graph().nodes}
    assert used >= set(REGISTRY)


def assert_same_model(generated, emitted):
    assert sorted(layer.name for layer in generated.layers) == sorted(layer.name for layer in emitted.layers)
    assert generated.count_params() == emitted.count_params()
    for layer in emitted.layers:
        twin = generated.get_layer(layer.name)
        # archspec's own layers are copies in the generated module: the same registered class
        assert type(twin) is type(layer) or keras.saving.get_registered_name(type(twin)) == keras.saving.get_registered_name(type(layer))
        assert twin.get_config() == layer.get_config(), layer.name
        assert tuple(twin.output.shape) == tuple(layer.output.shape)
    assert generated.name == emitted.name


@pytest.mark.parametrize("name", COURSE_SPECS)
def test_generated_source_builds_the_same_model(built, name, golden):
    architecture, _, model = built[name]
    source = architecture.to_python()
    golden(ROOT / "tests" / "cases" / "python" / f"{name}.py", source)
    assert re.findall(r"^import (\S+)|^from (\S+) import", source, re.M) == [("keras", ""), ("", "keras")]
    namespace: dict = {}
    exec(compile(source, f"{name}.py", "exec"), namespace)
    assert_same_model(namespace["build_model"](), model)


# Specs whose generated source once went wrong: parameters equal to a default, Python keywords
# and taken names, a whole-shape parameter, a pool without a Keras default, boolean structure.
TRICKY_SOURCES = {
    "parameter_at_default": "network N(s=1, use_bias=true, wd=none)\ninput 8x8x3\nconv(8, 3, stride=s, padding=same, bias=use_bias, l2=wd)\nflatten dense(2)",
    "keyword_names": "network N(class=10)\ninput 8x8x3\nconv(4, 1) as class\nconv(4, 1) add(@class)\nflatten dense(class)",
    "colliding_names": "network N\ninput 8x8x3\nconv(4, 1) as lambda\nconv(4, 1) as lambda_\nconv(4, 1)\nadd(@lambda, @lambda_)",
    "whole_shape_parameter": "network N(shape=8x8x3)\ninput shape\nconv(4, 1)",
    "reserved_parameter_names": "network N(inputs=3, inputs_=4)\ninput 8x8x3\nconv(inputs, 1) conv(inputs_, 1)",
    "avgpool_default": "network N\ninput 8x8x3\navgpool(2) avgpool(2, stride=1)",
    "boolean_structure": "network N(deep=false)\ninput 8x8x3\nif deep { relu }\nconv(2, 1)",
    "received_sizes": (
        "network N(t=2)\ninput 8x8x3\nblock grow(f) { conv(in.channels * t, 1) conv(f, 3, padding=same) }\n"
        "grow(4) grow(in.channels) conv(in.height, 1) global_avg_pool dense(in.channels + 1)"
    ),
    "functions_stay_symbolic": (
        "network N(width=1.3)\ninput 8x8x3\nconv(max(4, int(8 * width + 2) // 4 * 4), 1) conv(ceil(width * 5), 1)\n"
        "conv(floor(width * 5), 1) conv(round(width * 5), 1) conv(min(3, ceil(width)), 1)"
    ),
}


def assert_same_function(generated, emitted):
    """Same layers and configs, and the same outputs once given the same weights (same wiring)."""
    assert_same_model(generated, emitted)
    for layer in emitted.layers:
        generated.get_layer(layer.name).set_weights(layer.get_weights())
    images = np.random.default_rng(0).random((2, *emitted.input_shape[1:]), dtype=np.float32)
    assert np.allclose(generated(images), emitted(images), atol=1e-6)


@pytest.mark.parametrize("case", TRICKY_SOURCES)
def test_generated_source_for_tricky_specs(case):
    architecture = archspec.parse(TRICKY_SOURCES[case] + "\n", 'we"ird\\N.arch')  # a path that needs escaping
    namespace: dict = {}
    exec(compile(architecture.to_python(), case, "exec"), namespace)
    assert_same_function(namespace["build_model"](), architecture.to_keras())


def test_parameters_at_their_default_stay_parameters():
    architecture = archspec.parse(TRICKY_SOURCES["parameter_at_default"] + "\n")
    namespace: dict = {}
    exec(compile(architecture.to_python(), "n.py", "exec"), namespace)
    assert namespace["build_model"](s=2).get_layer("conv_1").strides == (2, 2)
    assert namespace["build_model"](use_bias=False).get_layer("conv_1").use_bias is False
    with pytest.raises(ValueError, match="`wd` changes this network's layers"):
        namespace["build_model"](wd=0.1)  # a regularizer appears: regenerate


@pytest.mark.parametrize("name", [name for name in archspec.bundled_names() if name not in COURSE_SPECS])
def test_generated_source_of_zoo_specs(name):
    architecture = archspec.load(name)
    namespace: dict = {}
    exec(compile(architecture.to_python(), f"{name}.py", "exec"), namespace)
    assert_same_model(namespace["build_model"](), architecture.to_keras())


def test_generated_source_keeps_network_parameters(built):
    namespace: dict = {}
    exec(compile(built["inception10"][0].to_python(), "inception10.py", "exec"), namespace)
    wider = namespace["build_model"](classes=5, init_ch=8)
    expected = archspec.load("inception10").to_keras(set={"classes": 5, "init_ch": 8})
    assert_same_model(wider, expected)
    assert wider.count_params() == archspec.load("inception10").analyze(set={"classes": 5, "init_ch": 8}).totals.params


def test_structural_parameters_are_refused_with_a_clear_error():
    text = "network N(units=2, wide=false)\ninput 8x8x3\nconv(4, 3) * units\nif wide { conv(8, 1) }\nflatten dense(3)\n"
    source = archspec.parse(text, "n.arch").to_python()
    namespace: dict = {}
    exec(compile(source, "n.py", "exec"), namespace)
    assert namespace["build_model"]().count_params() == archspec.parse(text).analyze().totals.params
    with pytest.raises(ValueError, match=r"`units` changes this network's layers.*--set units=VALUE"):
        namespace["build_model"](units=3)
    with pytest.raises(ValueError, match="`wide`"):
        namespace["build_model"](wide=True)


def test_generated_sources_pass_ruff(built, tmp_path):
    ruff = pytest.importorskip("ruff")
    del ruff
    paths = []
    for name in COURSE_SPECS:
        path = tmp_path / f"{name}.py"
        path.write_text(built[name][0].to_python(), encoding="utf-8")
        paths.append(str(path))
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", *paths], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- tfprof: analyze's figure equals what tf.profiler counts on the emitted model's graph


def profile(model, input_shape):
    function = tf.function(lambda x: model(x, training=False), autograph=False)
    concrete = function.get_concrete_function(tf.TensorSpec([1, *input_shape], tf.float32))
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    result = tf.compat.v1.profiler.profile(graph=concrete.graph, cmd="scope", options=options)
    return result.total_float_ops, [(child.name, child.total_float_ops) for child in result.children]


def per_layer(ops, model_name, layer_names):
    """Sum op FLOPs by layer: ops are named MODEL_1/<layer>_<k>/op (Keras nests the layer's scope)."""
    totals: dict[str, int] = {}
    for op_name, flops in ops:
        scope = op_name.split("/")[1]
        owner = re.sub(r"_\d+$", "", scope)
        assert owner in layer_names, f"cannot attribute {op_name} to a layer"
        totals[owner] = totals.get(owner, 0) + flops
    return totals


@pytest.mark.parametrize("name", COURSE_SPECS)
def test_tfprof_profile_equals_tf_profiler(built, name):
    _, report, model = built[name]
    total, ops = profile(model, report.input_shape)
    assert report.totals.flops["tfprof"] == total
    names = {layer.name for layer in report.layers}
    # Our auto-generated names never end in a suffix that also names a layer, so the scope of
    # each op maps back to exactly one layer.
    assert not any(re.sub(r"_\d+$", "", n) in names and re.sub(r"_\d+$", "", n) != n and n + "_1" in names for n in names)
    measured = per_layer(ops, report.network, names)
    assert {layer.name: layer.flops["tfprof"] for layer in report.layers} == {n: measured.get(n, 0) for n in names}


@pytest.mark.parametrize("kind", ["conv", "conv_dilated_grouped", "depthwise_conv", "separable_conv", "dense", "bn", "bn_scale_off",
                                  "activations", "leaky_relu_elu", "pools", "global_avg_pool", "global_max_pool", "zero_pad",
                                  "upsample", "add_concat_taps", "elementwise_merges", "residual_merges", "features_preprocessing",
                                  "relu_softmax_prelu", "normalization_noise_shape",
                                  "custom_layers", "conv_transpose", "sequence_1d", "volume_3d",
                                  "newer_activations", "crop", "group_unit_norm_reshaping"])
def test_tfprof_profile_per_layer_kind(kind):
    architecture = archspec.parse(f"network T\n{LAYER_KIND_SPECS[kind]}\n")
    report = architecture.analyze()
    total, _ = profile(architecture.to_keras(), report.input_shape)
    assert report.totals.flops["tfprof"] == total


# -- the emitted models train, and `archspec build` writes what loads without archspec


@pytest.mark.parametrize("name", COURSE_SPECS)
def test_one_fit_step(built, name):
    _, report, model = built[name]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    rng = np.random.default_rng(0)
    images = rng.random((4, *report.input_shape), dtype=np.float32)
    labels = rng.integers(0, report.output_shape[0], size=(4, 1))
    history = model.fit(images, labels, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


RELOAD = textwrap.dedent(
    """
    import sys
    sys.modules["archspec"] = None  # prove the file needs nothing of archspec
    import keras, numpy as np
    for path, params in zip(sys.argv[1::2], sys.argv[2::2]):
        model = keras.models.load_model(path)
        assert model.count_params() == int(params), (path, model.count_params())
        model.predict(np.zeros((1, *model.input_shape[1:]), dtype="float32"), verbose=0)
    print("reloaded", len(sys.argv[1:]) // 2)
    """
)


def test_build_writes_files_that_reload_without_archspec(cli, built, tmp_path):
    arguments = []
    for name in COURSE_SPECS:
        result = cli("build", name, "-o", str(tmp_path / "out"))
        assert result.code == 0, result.err
        assert f"wrote {tmp_path / 'out' / name}.py" in result.out and f"wrote {tmp_path / 'out' / name}.keras" in result.out
        assert f"{built[name][1].totals.params:,} params" in result.out
        arguments += [str(tmp_path / "out" / f"{name}.keras"), str(built[name][1].totals.params)]
    suffixes = ("py", "keras", "dot", "svg", "html") if shutil.which("dot") else ("py", "keras", "dot")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{n}.{s}" for n in COURSE_SPECS for s in suffixes)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", RELOAD, *arguments], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "reloaded 6" in result.stdout


def test_build_refuses_to_overwrite_its_input(cli, tmp_path):
    spec = tmp_path / "net.arch"
    spec.write_text("network Net\ninput 4x4x1\nflatten dense(2)\n", encoding="utf-8")
    (tmp_path / "net.py").write_text("# mine\n", encoding="utf-8")
    result = cli("build", str(spec), "-o", str(tmp_path))
    assert result.code == 0  # net.py is not the input: it is replaced atomically
    assert (tmp_path / "net.py").read_text(encoding="utf-8").startswith('"""Net: a Keras functional model.')
    odd = tmp_path / "odd.py"
    odd.write_text("network Odd\ninput 4\ndense(2)\n", encoding="utf-8")
    result = cli("build", str(odd), "-o", str(tmp_path))
    assert result.code == 1 and "refusing to overwrite the input spec" in result.err
    assert odd.read_text(encoding="utf-8").startswith("network Odd")


RELOAD_CUSTOM = textwrap.dedent(
    """
    import runpy, sys
    sys.modules["archspec"] = None  # the generated module defines and registers the classes itself
    import keras, numpy as np
    module_path, model_path, params = sys.argv[1:]
    runpy.run_path(module_path)
    model = keras.models.load_model(model_path)
    assert model.count_params() == int(params), model.count_params()
    print("predicts", model.predict(np.ones((1, *model.input_shape[1:]), dtype="float32"), verbose=0).shape)
    """
)


def test_custom_layers_reload_with_the_generated_module_alone(cli, tmp_path):
    """layer_scale and a scaled add are archspec's own Keras layers: the .keras file reloads in a
    process without archspec once the generated module (which carries the classes) has run, and
    the reloaded model computes what the built one does."""
    spec = tmp_path / "scaled.arch"
    spec.write_text("network Scaled\ninput 6x6x3\nconv(4, 3, padding=same) layer_scale(0.5)\nresidual(scale=0.2) { conv(4, 1) }\n",
                    encoding="utf-8")
    result = cli("build", str(spec), "-o", str(tmp_path / "out"))
    assert result.code == 0, result.err
    model = archspec.load(spec).to_keras()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    reloaded = subprocess.run([sys.executable, "-c", RELOAD_CUSTOM, str(tmp_path / "out" / "scaled.py"), str(tmp_path / "out" / "scaled.keras"),
                               str(model.count_params())], capture_output=True, text=True, env=env, timeout=300)
    assert reloaded.returncode == 0, reloaded.stderr[-2000:]
    assert "predicts (1, 6, 6, 4)" in reloaded.stdout
    restored = keras.models.load_model(tmp_path / "out" / "scaled.keras")  # here archspec.keras_layers registered them
    inputs = np.random.default_rng(0).random((2, 6, 6, 3), dtype=np.float32)
    restored.set_weights(model.get_weights())
    assert np.allclose(restored.predict(inputs, verbose=0), model.predict(inputs, verbose=0))
    gamma = [w for w in model.weights if "gamma" in w.path]
    assert [tuple(w.shape) for w in gamma] == [(4,)] and np.allclose(gamma[0].numpy(), 0.5)


def test_scaled_add_scales_its_first_input():
    model = archspec.parse("network N\ninput 5\nidentity as a\nrelu\nadd(@a, scale=0.5)\n").to_keras()
    x = np.array([[-2.0, -1.0, 0.0, 1.0, 3.0]], dtype=np.float32)
    assert np.allclose(model.predict(x, verbose=0), 0.5 * np.maximum(x, 0) + x)


def test_built_efficientnetb0_reloads_without_archspec(cli, tmp_path):
    """Issue 11's acceptance: EfficientNetB0 (Rescaling, Normalization, per-sample dropout,
    squeeze-and-excitation) saves as a .keras file that Keras alone opens."""
    result = cli("build", "efficientnetb0", "-o", str(tmp_path))
    assert result.code == 0, result.err
    params = archspec.load("efficientnetb0").analyze().totals.params
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    reloaded = subprocess.run([sys.executable, "-c", RELOAD, str(tmp_path / "efficientnetb0.keras"), str(params)],
                              capture_output=True, text=True, env=env, timeout=300)
    assert reloaded.returncode == 0, reloaded.stderr[-2000:]
    assert "reloaded 1" in reloaded.stdout and params == 5_330_571


def test_stochastic_depth_drops_whole_samples_in_training():
    model = archspec.parse("network N\ninput 6x5x4\nstochastic_depth(0.5)\n").to_keras()
    x = np.ones((64, 6, 5, 4), dtype="float32")
    y = model(x, training=True).numpy()
    per_sample = {tuple(np.unique(sample)) for sample in y}
    assert per_sample <= {(0.0,), (2.0,)} and len(per_sample) == 2  # each sample all dropped or all kept (x / 0.5)
    assert np.array_equal(model(x, training=False).numpy(), x)


def test_build_is_all_or_nothing(cli, tmp_path):
    """A spec named y.dot: build refuses to overwrite it, and writes none of the other files."""
    spec = tmp_path / "y.dot"
    spec.write_text("network Y\ninput 4x4x1\nflatten dense(2)\n", encoding="utf-8")
    result = cli("build", str(spec), "-o", str(tmp_path))
    assert result.code == 1 and "refusing to overwrite the input spec" in result.err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["y.dot"]  # no y.py, no y.keras, no temporaries
    assert spec.read_text(encoding="utf-8").startswith("network Y")
