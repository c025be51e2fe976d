"""`archspec train --distribute multi-worker`: two worker processes on this machine train
together (TensorFlow's MultiWorkerMirroredStrategy over 127.0.0.1), only the chief writes the
run folder, and a restart of both resumes from it. CPU only."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from archspec.errors import SpecError
from archspec.train.cluster import Worker, share, worker_from_tf_config

ROOT = Path(__file__).resolve().parent.parent


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def train_together(folder: Path, data: Path, run: Path, epochs: int) -> list[subprocess.CompletedProcess]:
    hosts = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}
        env = {key: value for key, value in os.environ.items() if not key.startswith("TF_")} | {
            "TF_CONFIG": json.dumps(config), "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "archspec", "train", "baseline", "--data", str(data), "--epochs", str(epochs), "--batch-size", "16",
             "--out", str(run), "--distribute", "multi-worker"], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=240)
            results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    finally:
        for process in processes:
            process.kill()
    return results


@pytest.mark.keras
def test_two_local_workers_train_one_epoch_then_resume(tmp_path):
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(0)
    data = tmp_path / "tiny.npz"
    np.savez(data, x_train=rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8), y_train=rng.integers(0, 10, 64),
             x_test=rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8), y_test=rng.integers(0, 10, 16))
    run = tmp_path / "run"
    first = train_together(tmp_path, data, run, epochs=1)
    assert [result.returncode for result in first] == [0, 0], [result.stderr[-3000:] for result in first]
    assert "Epoch 1/1: loss" in first[0].stdout and "Epoch 1/1" not in first[1].stdout  # the chief reports
    assert json.loads((run / "state.json").read_text(encoding="utf-8"))["epochs_done"] == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run", "tiny.npz"]  # worker 1 cleaned up after itself
    for name in ("last.keras", "best.keras", "history.csv", "summary.txt", "run.json", "curves.png"):
        assert (run / name).exists(), name
    keras = pytest.importorskip("keras")
    steps_after_one = int(keras.models.load_model(run / "last.keras").optimizer.iterations.numpy())
    assert steps_after_one > 0
    again = train_together(tmp_path, data, run, epochs=2)
    assert [result.returncode for result in again] == [0, 0], [result.stderr[-3000:] for result in again]
    with (run / "history.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert {"loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy"} <= set(rows[1])
    assert json.loads((run / "state.json").read_text(encoding="utf-8"))["epochs_done"] == 2
    # the second epoch went on from the first's optimizer state (as many steps again, not from zero)
    assert keras.models.load_model(run / "last.keras").optimizer.iterations.numpy() == 2 * steps_after_one


@pytest.mark.parametrize(("config", "expected"), [
    ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}}, Worker(0, 2)),
    ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}}, Worker(1, 2)),
    ({"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}, Worker(1, 2)),
    ({"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}, Worker(0, 2)),
])
def test_tf_config_as_tensorflow_reads_it(config, expected):
    worker = worker_from_tf_config(json.dumps(config))
    assert worker == expected and worker.chief == (expected.index == 0)


@pytest.mark.parametrize(("text", "message"), [
    (None, "--distribute multi-worker needs the TF_CONFIG environment variable"),
    ("{not json", "TF_CONFIG is not TensorFlow's cluster description"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "TF_CONFIG's task worker 3 is not in its cluster"),
])
def test_a_missing_or_wrong_tf_config_is_said_before_tensorflow(text, message):
    with pytest.raises(SpecError) as raised:
        worker_from_tf_config(text)
    assert raised.value.diagnostics[0].message.startswith(message)


def test_each_worker_takes_an_equal_share():
    samples, labels = list(range(11)), list(range(100, 111))
    shares = [share(samples, labels, Worker(index, 3)) for index in range(3)]
    assert [len(images) for images, _ in shares] == [3, 3, 3]  # 11 // 3 * 3 = 9 used
    assert sorted(sum((images for images, _ in shares), [])) == list(range(9))
    assert shares[1] == ([1, 4, 7], [101, 104, 107])
