"""`archspec import`: Keras models back to specs. The oracle is the Keras model itself: the
imported spec's report must equal its parameter counts and output shapes, and the model archspec
emits from the spec must have the same layers (class and output shape, in order)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

import archspec
from archspec.errors import SpecError

pytestmark = pytest.mark.keras

keras = pytest.importorskip("keras")


def two_output_model():
    image = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Conv2D(16, 3, padding="same", use_bias=False)(image)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    y = keras.layers.Conv2D(16, 3, padding="same")(x)
    y = keras.layers.Activation("relu")(y)
    x = keras.layers.Add()([x, y])
    features = keras.layers.GlobalAveragePooling2D()(x)
    classes = keras.layers.Dense(10, activation="softmax", name="classes")(features)
    boxes = keras.layers.Dense(4, name="boxes")(features)
    return keras.Model(image, [classes, boxes], name="two_heads")


def layer_signature(model):
    return [(type(layer).__name__, tuple(layer.output.shape[1:])) for layer in model.layers
            if not isinstance(layer, keras.layers.InputLayer)]


def assert_same_network(model, architecture):
    report = architecture.analyze()
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert report.totals.params == model.count_params()
    assert report.totals.trainable_params == trainable
    rebuilt = architecture.to_keras()
    assert rebuilt.count_params() == model.count_params()
    # Activation("relu") and ReLU() are one function; archspec's `relu` emits the former.
    def classes(model):
        return Counter((kind.replace("ReLU", "Activation"), shape) for kind, shape in layer_signature(model))
    assert classes(rebuilt) == classes(model)
    assert [tuple(t.shape[1:]) for t in rebuilt.outputs] == [tuple(t.shape[1:]) for t in model.outputs]


def test_a_functional_model_with_a_residual_and_two_outputs():
    model = two_output_model()
    architecture = archspec.from_keras(model)
    text = architecture.to_arch()
    assert "residual {" in text and "output @classes, @boxes" in text, text
    assert_same_network(model, architecture)


def test_mobilenet_v2_imports_with_its_inverted_residuals():
    model = keras.applications.MobileNetV2(input_shape=(96, 96, 3), weights=None)
    architecture = archspec.from_keras(model)
    text = architecture.to_arch()
    assert "add(" not in text and text.count("block ") == 1 and "residual_unit(192, 32) * 2" in text, text  # one block
    assert len(text.splitlines()) < 60
    assert_same_network(model, architecture)


def test_resnet50_reads_like_the_bundled_one():
    model = keras.applications.ResNet50(weights=None)
    architecture = archspec.from_keras(model)
    text = architecture.to_arch()
    assert len(text.splitlines()) <= 60 and text.count("block ") == 1, text
    assert "shortcut if project {" in text and "residual_unit(256) * 5" in text, text
    assert_same_network(model, architecture)


def test_every_layer_it_cannot_express_is_named_in_one_run():
    inputs = keras.Input((8,))
    x = keras.layers.Lambda(lambda t: t * 2, name="double")(inputs)
    x = keras.layers.Dense(4, kernel_constraint=keras.constraints.NonNeg(), name="constrained")(x)
    x = keras.layers.Dense(2, name="fine")(x)
    with pytest.raises(SpecError) as refused:
        archspec.from_keras(keras.Model(inputs, x))
    messages = [d.message for d in refused.value.diagnostics]
    assert any("`double` (Lambda) has no archspec kind" in m for m in messages), messages
    assert any("`constrained` (Dense) cannot be expressed exactly" in m for m in messages), messages
    assert len(messages) == 2


def test_the_cli_imports_a_function_of_a_file(tmp_path, capsys):
    from archspec.cli import main

    source = tmp_path / "net.py"
    source.write_text("import keras\n\ndef build():\n    inputs = keras.Input((28, 28, 1))\n"
                      "    x = keras.layers.Conv2D(6, 5, activation='sigmoid')(inputs)\n"
                      "    x = keras.layers.MaxPooling2D()(x)\n    x = keras.layers.Flatten()(x)\n"
                      "    return keras.Model(inputs, keras.layers.Dense(10, activation='softmax')(x), name='lenet')\n",
                      encoding="utf-8")
    target = tmp_path / "lenet.json"
    assert main(["import", f"{source}:build", "-o", str(target)]) == 0
    spec = json.loads(target.read_text(encoding="utf-8"))
    assert spec["network"] == "lenet" and [s["call"] for s in spec["body"]] == ["conv", "maxpool", "flatten", "dense"]
    assert "imported 4 layers" in capsys.readouterr().err
    assert main(["import", f"{source}:nothing"]) == 1


def predictions_agree(model, spec_text, weights, tmp_path):
    import numpy as np

    from archspec.emit.keras import load_weights, save_weights

    path = str(tmp_path / "w.weights.npz")
    save_weights(weights, path)
    rebuilt = archspec.parse(spec_text, "imported.arch").to_keras()
    load_weights(rebuilt, path)
    sample = np.random.default_rng(0).uniform(0, 1, (2, *model.input.shape[1:])).astype("float32")
    theirs, ours = model.predict(sample, verbose=0), rebuilt.predict(sample, verbose=0)
    for a, b in zip(theirs if isinstance(theirs, list) else [theirs], ours if isinstance(ours, list) else [ours]):
        assert float(np.max(np.abs(a - b))) <= 1e-5


@pytest.mark.parametrize("build", [two_output_model, lambda: keras.applications.MobileNetV2(input_shape=(96, 96, 3), weights=None),
                                   lambda: keras.applications.ResNet50(weights=None),
                                   # its hard sigmoid, three Keras operations, is read as one `hard_sigmoid`
                                   lambda: keras.applications.MobileNetV3Small(input_shape=(96, 96, 3), weights=None),
                                   # nested Sequentials, `x + y` operations and its own LayerScale class
                                   lambda: keras.applications.ConvNeXtTiny(input_shape=(64, 64, 3), weights=None)],
                         ids=["two_outputs", "mobilenetv2", "resnet50", "mobilenetv3small", "convnext_tiny"])
def test_imported_weights_give_the_same_predictions(build, tmp_path):
    from archspec.api import import_keras

    model = build()
    for layer in model.layers:  # not the initial weights: batch norms' statistics too
        layer.set_weights([w + 0.01 * (i + 1) for i, w in enumerate(layer.get_weights())])
    architecture, weights = import_keras(model)
    predictions_agree(model, architecture.to_arch(), weights, tmp_path)


def test_build_loads_imported_weights_and_refuses_wrong_ones(tmp_path, capsys):
    from archspec.cli import main

    spec, folder = tmp_path / "heads.arch", tmp_path / "weights"
    source = tmp_path / "net.py"
    source.write_text("from tests.test_keras_import import two_output_model as build\n", encoding="utf-8")
    assert main(["import", f"{source}:build", "-o", str(spec), "--weights", str(folder)]) == 0
    weights = folder / "two_heads.weights.npz"
    assert weights.is_file()
    assert main(["build", str(spec), "-o", str(tmp_path / "out"), "--weights", str(weights)]) == 0
    assert "loaded the weights of" in capsys.readouterr().out
    other = tmp_path / "other.arch"
    other.write_text("network other\ninput 32x32x3\nconv(8, 3)\nglobal_avg_pool\ndense(10)\n", encoding="utf-8")
    assert main(["build", str(other), "-o", str(tmp_path / "out2"), "--weights", str(weights)]) == 1
    assert "weights for layer" in capsys.readouterr().err


def test_keep_names_keeps_every_keras_name():
    model = two_output_model()
    report = archspec.from_keras(model, keep_names=True).analyze()
    keras_names = {layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)}
    assert {layer.name for layer in report.layers} == keras_names


@pytest.mark.parametrize("name", ["ConvNeXtTiny", "EfficientNetB0", "InceptionResNetV2", "DenseNet121"])
def test_a_sample_of_the_catalogue_imports_exactly(name):
    """benchmarks/import_catalogue.py runs all of keras.applications; these cover nested models
    and Keras operations (ConvNeXt), initializers archspec cannot name (EfficientNet), scaled
    residuals (InceptionResNetV2) and concat branches (DenseNet)."""
    model = getattr(keras.applications, name)(weights=None)
    architecture = archspec.from_keras(model)
    report = architecture.analyze()
    assert report.totals.params == model.count_params()
    rebuilt = architecture.to_keras()
    assert rebuilt.count_params() == model.count_params()
    assert [tuple(t.shape[1:]) for t in rebuilt.outputs] == [tuple(t.shape[1:]) for t in model.outputs]


def test_the_cli_imports_a_keras_file(tmp_path, capsys):
    from archspec.cli import main

    path = tmp_path / "heads.keras"
    two_output_model().save(path)
    assert main(["import", str(path), "--to", "json", "--name", "Heads"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["network"] == "Heads"
    assert "Keras counts" in printed.err
    assert main(["import", str(tmp_path / "missing.keras")]) == 1
