"""Training throughput: archspec's emitted ResNet18 against the same network written by hand.

    python benchmarks/train_throughput.py [--batch-size 128] [--steps 50] [--warmup 10] [--repeats 3]

Both models train on the same synthetic CIFAR-sized batch (no data set needed), compiled the
same way (Adam, sparse categorical cross-entropy); images per second are measured over
`--steps` steps after `--warmup` steps, alternating the two models `--repeats` times so
clock drift hits both alike. The goal: archspec's model within 3% of the hand-written one.
It runs on whatever device TensorFlow sees (a GPU where there is one).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def images_per_second(model, images, labels, steps: int, warmup: int) -> float:
    import tensorflow as tf

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = model.loss(y, model(x, training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    for _ in range(warmup):
        step(images, labels)
    float(step(images, labels))  # wait for the device
    start = time.perf_counter()
    for _ in range(steps):
        loss = step(images, labels)
    float(loss)
    return steps * images.shape[0] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    import archspec
    from tests.reference_models import resnet18

    devices = [device.name for device in tf.config.list_logical_devices()]
    rng = np.random.default_rng(0)
    images = tf.constant(rng.random((args.batch_size, 32, 32, 3), dtype=np.float32))
    labels = tf.constant(rng.integers(0, 10, (args.batch_size,)))
    models = {"archspec ResNet18": archspec.load("resnet18").to_keras(), "hand-written ResNet18": resnet18()}
    for model in models.values():
        model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy())
    rates: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, model in models.items():
            rates[name].append(images_per_second(model, images, labels, args.steps, args.warmup))
    print(f"devices: {', '.join(devices)}; batch {args.batch_size}, {args.steps} steps after {args.warmup} warm-up, {args.repeats} repeats")
    medians = {name: statistics.median(values) for name, values in rates.items()}
    for name, value in medians.items():
        print(f"  {name:24} {value:10,.0f} images/s  (runs: {', '.join(f'{v:,.0f}' for v in rates[name])})")
    ours, theirs = medians["archspec ResNet18"], medians["hand-written ResNet18"]
    print(f"  archspec / hand-written  {100 * ours / theirs:9.1f}%")


if __name__ == "__main__":
    main()
