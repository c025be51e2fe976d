"""The training-memory ledger against measured peaks. Prints figures; asserts nothing.

For each network, a fresh process builds the model archspec emits, compiles it with the
optimizer, makes a random batch, and runs training steps with `train_on_batch`:

- on the CPU: the process's high-water resident memory (VmHWM) during the first step, less its
  resident memory just before (when the model's variables already exist, so the parameters are
  added back); the first step includes tracing the training function, so the same is measured at
  a small batch too and the difference between the two is set against the estimate's difference
  (the part that grows with the batch, which is what the ledger is for);
- with a GPU: `tf.config.experimental.get_memory_info('GPU:0')['peak']` after the steps, less
  the memory in use before them, plus the parameters.

Usage: python benchmarks/training_memory.py [--batch 256] [--small 32] [--only baseline,vgg16]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (spec, input override or None, batch override or None): the course's six at the batch asked
# for; two zoo networks at sizes a 24 GiB machine trains at batch 32.
NETWORKS = (
    ("baseline", None, None), ("lenet5", None, None), ("alexnet8", None, None), ("vgg16", None, None),
    ("inception10", None, None), ("resnet18", None, None),
    ("mobilenetv2", "128x128x3", 32), ("resnet50", "128x128x3", 32),
)

PROBE = r"""
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, {root!r})
import numpy as np
import archspec
from archspec.backend import load_keras, load_tensorflow

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
keras, tf = load_keras(), load_tensorflow()
if {dtype!r} != "float32":
    keras.mixed_precision.set_global_policy({dtype!r})
spec = archspec.load({spec!r})
shape = {shape!r}
model = spec.to_keras(input_shape=shape)
optimizers = {{"sgd": lambda: keras.optimizers.SGD(), "momentum": lambda: keras.optimizers.SGD(momentum=0.9),
              "adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW, "rmsprop": keras.optimizers.RMSprop,
              "adagrad": keras.optimizers.Adagrad}}
model.compile(optimizer=optimizers[{optimizer!r}](), loss="sparse_categorical_crossentropy")
classes = model.output_shape[-1]
rng = np.random.default_rng(0)
x = rng.random(({batch},) + tuple(model.input_shape[1:]), dtype=np.float32)
y = rng.integers(0, classes, size=({batch},))
gpu = bool(tf.config.list_physical_devices("GPU"))
if gpu:
    before_gpu = tf.config.experimental.get_memory_info("GPU:0")["current"]
    tf.config.experimental.reset_memory_stats("GPU:0")
with open("/proc/self/clear_refs", "w") as handle:  # VmHWM starts again from the current size
    handle.write("5")
before = rss("VmRSS")
model.train_on_batch(x, y)
model.train_on_batch(x, y)
result = {{"cpu_growth": rss("VmHWM") - before}}
if gpu:
    result["gpu_peak"] = tf.config.experimental.get_memory_info("GPU:0")["peak"] - before_gpu
print(json.dumps(result))
"""


def measure(spec: str, shape: tuple[int, ...] | None, batch: int, optimizer: str, dtype: str) -> dict:
    code = PROBE.format(root=str(ROOT), spec=spec, shape=shape, batch=batch, optimizer=optimizer, dtype=dtype)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=1800)
    if result.returncode:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    import archspec
    from archspec.analysis.render import format_bytes
    from archspec.cli.values import parse_shape

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--small", type=int, default=32, help="the small batch whose first step measures tracing's own cost")
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--only", default="", help="comma-separated spec names")
    args = parser.parse_args()
    chosen = set(filter(None, args.only.split(",")))
    print(f"| network | batch | estimate: peak | measured: params + first-step growth | ratio | estimate's batch part "
          f"({args.small} -> batch) | measured ({args.small} -> batch) | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for spec, shape_text, batch_override in NETWORKS:
        if chosen and spec not in chosen:
            continue
        shape = parse_shape(shape_text) if shape_text else None
        batch = batch_override or args.batch
        small = min(args.small, max(1, batch // 8))
        architecture = archspec.load(spec)
        large_estimate = architecture.analyze(input_shape=shape, batch=batch, optimizer=args.optimizer, dtype=args.dtype).memory
        small_estimate = architecture.analyze(input_shape=shape, batch=small, optimizer=args.optimizer, dtype=args.dtype).memory
        large, tiny = measure(spec, shape, batch, args.optimizer, args.dtype), measure(spec, shape, small, args.optimizer, args.dtype)
        measured = large_estimate.parameters + large["cpu_growth"]
        grows_estimate = large_estimate.peak - small_estimate.peak
        grows_measured = large["cpu_growth"] - tiny["cpu_growth"]
        line = (f"| {spec}{' ' + shape_text if shape_text else ''} | {batch} | {format_bytes(large_estimate.peak)} | "
                f"{format_bytes(measured)} | {large_estimate.peak / measured:.2f} | {format_bytes(grows_estimate)} | "
                f"{format_bytes(grows_measured)} | {grows_estimate / grows_measured:.2f} |")
        if "gpu_peak" in large:
            line += f" GPU peak {format_bytes(large['gpu_peak'] + large_estimate.parameters)}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
