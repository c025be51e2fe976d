"""Outputs are byte-identical across runs and across PYTHONHASHSEED values."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from .conftest import ROOT

PROBE = r"""
import hashlib, sys
import archspec
from archspec.emit.arch import to_arch
digest = hashlib.sha256()
for name in archspec.bundled_names():
    spec = archspec.load(name)
    report = spec.analyze()
    for text in (report.to_json(), report.to_table(), report.to_csv(depth=1), spec.to_dot(), spec.to_dot(depth=1),
                 spec.to_python(), spec.to_arch(), to_arch(spec.to_dict()), spec.to_json()):
        digest.update(text.encode("utf-8"))
print(digest.hexdigest())
"""


def digest_with_seed(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_outputs_are_identical_across_hash_seeds():
    from concurrent.futures import ThreadPoolExecutor

    seeds = ("0", "1", "4242")
    with ThreadPoolExecutor(len(seeds)) as pool:  # the processes run side by side, not one after another
        digests = dict(zip(seeds, pool.map(digest_with_seed, seeds)))
    assert len(set(digests.values())) == 1, digests


def test_outputs_are_identical_across_runs_in_one_process():
    import archspec

    first = hashlib.sha256(archspec.load("inception10").to_dot().encode()).hexdigest()
    second = hashlib.sha256(archspec.load("inception10").to_dot().encode()).hexdigest()
    assert first == second
