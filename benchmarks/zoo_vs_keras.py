"""The bundled keras.applications members side by side with Keras: params (total, trainable,
non-trainable), layers, and tf.profiler FLOPs of the Keras model against archspec's `tfprof`,
as a Markdown table with the ratios (1 when exact).

    python benchmarks/zoo_vs_keras.py [NAME ...]

The tests (tests/test_zoo.py) assert the same equalities; this prints the figures.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import archspec  # noqa: E402

# spec -> (keras.applications name, its arguments where the default is not the spec's network)
APPLICATIONS = {
    "vgg16_imagenet": ("VGG16", {}), "vgg19": ("VGG19", {}), "resnet50": ("ResNet50", {}), "resnet50v2": ("ResNet50V2", {}),
    "mobilenet": ("MobileNet", {}), "mobilenetv2": ("MobileNetV2", {}),
    "mobilenetv3small": ("MobileNetV3Small", {"input_shape": (224, 224, 3)}),
    "mobilenetv3large": ("MobileNetV3Large", {"input_shape": (224, 224, 3)}),
    "efficientnetb0": ("EfficientNetB0", {}), "efficientnetv2b0": ("EfficientNetV2B0", {}), "convnext_tiny": ("ConvNeXtTiny", {}),
    "nasnetmobile": ("NASNetMobile", {}), "inception_v3": ("InceptionV3", {}), "inception_resnet_v2": ("InceptionResNetV2", {}),
    "xception": ("Xception", {}), "densenet121": ("DenseNet121", {}), "densenet169": ("DenseNet169", {}),
}


def tf_profiler_flops(model) -> int:
    import tensorflow as tf

    function = tf.function(lambda x: model(x, training=False), autograph=False)
    concrete = function.get_concrete_function(tf.TensorSpec([1, *model.input.shape[1:]], tf.float32))
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(graph=concrete.graph, cmd="scope", options=options).total_float_ops


def flat_layers(model) -> int:
    """Layers and operations, nested models opened (ConvNeXt nests Sequentials, writes x + y)."""
    import keras

    count = 0
    for op in model.operations if hasattr(model, "operations") else model.layers:
        if isinstance(op, keras.Model):
            count += flat_layers(op)
        elif not isinstance(op, keras.layers.InputLayer):
            count += 1
    return count


def row(name: str) -> str:
    import keras
    import numpy as np

    application, arguments = APPLICATIONS[name]
    model = getattr(keras.applications, application)(weights=None, **arguments)
    report = archspec.load(name).analyze()
    theirs = (model.count_params(), sum(int(np.prod(w.shape)) for w in model.trainable_weights),
              sum(int(np.prod(w.shape)) for w in model.non_trainable_weights))
    ours = (report.totals.params, report.totals.trainable_params, report.totals.non_trainable_params)
    keras_layers = flat_layers(model) if name == "convnext_tiny" else len(model.layers) - 1
    flops, keras_flops = report.totals.flops["tfprof"], tf_profiler_flops(model)
    keras.backend.clear_session()
    same = "yes" if ours == theirs and len(report.layers) == keras_layers and flops == keras_flops else "NO"
    return (f"| `{name}` | {application} | {ours[0]:,} / {theirs[0]:,} | {ours[1]:,} / {theirs[1]:,} | {ours[2]:,} / {theirs[2]:,} "
            f"| {len(report.layers)} / {keras_layers} | {flops:,} / {keras_flops:,} | {flops / keras_flops:.6f} | {same} |")


def main(names: list[str]) -> None:
    print("| spec | keras.applications | params (ours / Keras) | trainable | non-trainable | layers | tfprof FLOPs "
          "(ours / tf.profiler) | ratio | exact |")
    print("|---|---|---|---|---|---|---|---|---|")
    started = time.perf_counter()
    for name in names or list(APPLICATIONS):
        print(row(name), flush=True)
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
