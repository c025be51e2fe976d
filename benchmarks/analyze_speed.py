"""How fast is `archspec analyze`? Prints figures; asserts nothing (speed goals are not tests).

1. A cold `archspec analyze resnet18` process against a cold process that builds the same
   network by hand in Keras and counts its parameters (the two in turn, N runs each; medians):
   the ratio is the figure to watch (goals: at least 25x, archspec at most 0.15 s;
   performance_report.py measures it against Keras' `summary()`, for docs/performance.md).
2. Analysis time and peak memory for synthetic specs of 2,500 / 5,000 / 10,000 / 20,000 layers,
   each size in a fresh process (goals: linear growth; 10,000 layers in at most 0.6 s;
   100,000 in at most 5 s and 300 MB, `--sizes 100000`).

Usage: python benchmarks/analyze_speed.py [--runs 5] [--sizes 2500,5000,10000,20000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Both sides run as a user's machine runs them: bytecode caches on (some sandboxes set
# PYTHONDONTWRITEBYTECODE, which recompiles every module at each start), TensorFlow quiet.
QUIET_TF = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
QUIET_TF |= {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}

KERAS_COUNT = "import sys; sys.path.insert(0, {root!r}); from tests.reference_models import resnet18; print(resnet18().count_params())"

SIZE_PROBE = """
import json, resource, sys, time
t0 = time.perf_counter()
import archspec
imported = time.perf_counter()
text = sys.stdin.read()
start = time.perf_counter()
from archspec.source import SizeLimits
report = archspec.parse(text, "synthetic.arch", size=SizeLimits(max(10_000, text.count("conv") * 3 + 2))).analyze()
elapsed = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:  # Linux keeps ru_maxrss across exec (a parent's peak would leak in); VmHWM starts afresh
    peak_kib = int(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")).split()[1])
except (OSError, StopIteration):
    pass
print(json.dumps({"layers": len(report.layers), "seconds": elapsed, "peak_mib": peak_kib / 1024, "import_s": imported - t0}))
"""


def timed(command: list[str], stdin: str | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=ROOT, env=QUIET_TF, check=True)
    return time.perf_counter() - start, result.stdout


def alternated_medians(first: list[str], second: list[str], runs: int) -> tuple[float, float]:
    """The median time of each command, run in turn (A B A B ...) so that a shared machine's
    drift in speed falls on both alike."""
    times = [(timed(first)[0], timed(second)[0]) for _ in range(runs)]
    return statistics.median(a for a, _ in times), statistics.median(b for _, b in times)


def synthetic_spec(layers: int) -> str:
    """A flat spec: CBA units of 3 layers written out line by line (the parser sees them all)."""
    units = (layers - 2) // 3
    lines = ["network Synthetic", "input 32x32x16"]
    lines += ["conv(16, 3, padding=same) bn relu"] * units
    lines += ["global_avg_pool", "dense(10)"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="2500,5000,10000,20000")
    args = parser.parse_args()

    archspec_cmd = [sys.executable, "-m", "archspec", "analyze", "resnet18"]
    keras_cmd = [sys.executable, "-c", KERAS_COUNT.format(root=str(ROOT))]
    timed(archspec_cmd)  # warm the file cache and the bytecode caches once
    _, counted = timed(keras_cmd)
    ours, theirs = alternated_medians(archspec_cmd, keras_cmd, args.runs)
    print(f"cold process, in turn, median of {args.runs}:")
    print(f"  archspec analyze resnet18        {ours:7.3f} s")
    print(f"  Keras build + count_params()     {theirs:7.3f} s  ({counted.strip()} params)")
    print(f"  ratio                            {theirs / ours:7.1f}x faster")
    print()
    print("synthetic specs (fresh process each; time excludes interpreter start and imports):")
    print(f"  {'layers':>7}  {'seconds':>8}  {'us/layer':>9}  {'peak RSS':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        _, output = timed([sys.executable, "-c", SIZE_PROBE], stdin=synthetic_spec(size))
        figures = json.loads(output)
        print(f"  {figures['layers']:>7,}  {figures['seconds']:>8.3f}  {1e6 * figures['seconds'] / figures['layers']:>9.1f}  "
              f"{figures['peak_mib']:>6.0f} MiB")


if __name__ == "__main__":
    main()
