"""Every keras.applications constructor through `archspec import`, against the Keras model:
parameters (total, trainable, non-trainable), every layer's output shape (the model archspec
rebuilds from the imported spec against the original, operations of nested models included) and
tf.profiler FLOPs against the report's `tfprof` total. Prints a Markdown table.

    python benchmarks/import_catalogue.py [NAME ...] [--no-flops]

tests/test_keras_import.py checks a sample; this runs the whole catalogue (minutes).
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import archspec  # noqa: E402
from archspec.errors import SpecError  # noqa: E402
from benchmarks.zoo_vs_keras import tf_profiler_flops  # noqa: E402

# Constructors whose default input shape leaves sizes open.
ARGUMENTS = {"MobileNetV3Small": {"input_shape": (224, 224, 3)}, "MobileNetV3Large": {"input_shape": (224, 224, 3)}}


def catalogue() -> list[str]:
    import keras

    return sorted(name for name in dir(keras.applications) if name[0].isupper() and callable(getattr(keras.applications, name)))


def output_shapes(model) -> Counter:
    """The output shape of every layer and operation, nested models opened."""
    import keras

    shapes: Counter = Counter()
    graph = getattr(model, "_functional", None) or model
    for operation in graph.operations:
        if isinstance(operation, keras.layers.InputLayer):
            continue
        if isinstance(operation, keras.Model):
            shapes += output_shapes(operation)
        else:
            shapes[tuple(operation.output.shape[1:])] += 1
    return shapes


def row(name: str, flops: bool) -> str:
    import keras
    import numpy as np

    started = time.perf_counter()
    model = getattr(keras.applications, name)(weights=None, **ARGUMENTS.get(name, {}))
    try:
        architecture = archspec.from_keras(model)
    except SpecError as error:
        return f"| {name} | refused: {error.diagnostics[0].message} ({len(error.diagnostics)} faults) | | | | | | NO |"
    try:
        report = architecture.analyze()
    except SpecError as error:
        return f"| {name} | imported spec refused: {error.diagnostics[0].message} | | | | | | NO |"
    theirs = (model.count_params(), sum(int(np.prod(w.shape)) for w in model.trainable_weights),
              sum(int(np.prod(w.shape)) for w in model.non_trainable_weights))
    ours = (report.totals.params, report.totals.trainable_params, report.totals.non_trainable_params)
    rebuilt = architecture.to_keras()
    original, ours_shapes = output_shapes(model), output_shapes(rebuilt)
    # MobileNetV3 writes its hard sigmoid as three operations (x + 3, ReLU(6), * 1/6), which
    # archspec reads as one `hard_sigmoid` layer: two shapes fewer per hard sigmoid, the same otherwise.
    fused = sum(1 for layer in report.layers if layer.kind == "hard_sigmoid")
    missing = original - ours_shapes
    shapes_equal = not (ours_shapes - original) and sum(missing.values()) == 2 * fused and all(n % 2 == 0 for n in missing.values())
    shapes_text = "equal" if original == ours_shapes else f"equal, {fused} hard sigmoids fused" if shapes_equal else "DIFFER"
    keras_flops = tf_profiler_flops(model) if flops else None
    flops_equal = keras_flops is None or keras_flops == report.totals.flops["tfprof"]
    lines = len(architecture.to_arch().splitlines())
    keras.backend.clear_session()
    exact = ours == theirs and shapes_equal and flops_equal
    flops_text = f"{report.totals.flops['tfprof']:,} / {keras_flops:,}" if keras_flops is not None else "not run"
    return (f"| {name} | {ours[0]:,} / {theirs[0]:,} | {ours[1] - theirs[1]:+,} / {ours[2] - theirs[2]:+,} | "
            f"{shapes_text} ({len(report.layers)} layers) | {flops_text} | {lines} | "
            f"{time.perf_counter() - started:.0f} s | {'yes' if exact else 'NO'} |")


def main(argv: list[str]) -> None:
    flops = "--no-flops" not in argv
    names = [name for name in argv if not name.startswith("--")] or catalogue()
    print("| keras.applications | params (ours / Keras) | trainable, non-trainable (difference) | output shapes | "
          "tfprof FLOPs (ours / tf.profiler) | spec lines | time | exact |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        print(row(name, flops), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
