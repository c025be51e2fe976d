"""Training from a spec (the course's six steps): data checks, resume, outputs, prediction.
CPU only, no network: the data sets are made here."""

from __future__ import annotations

import csv
import json
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

import numpy as np  # noqa: E402

import archspec  # noqa: E402
from archspec.train import TrainOptions, predict, train  # noqa: E402

pytestmark = pytest.mark.keras


def tiny_npz(path, shape=(32, 32, 3), classes=10, train_count=96, test_count=32):
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 256, (train_count, *shape), dtype=np.uint8), y_train=rng.integers(0, classes, (train_count, 1)),
             x_test=rng.integers(0, 256, (test_count, *shape), dtype=np.uint8), y_test=rng.integers(0, classes, (test_count, 1)))
    return path


def write_png(path, height, width, seed=0):
    image = (np.random.default_rng(seed).random((height, width, 3)) * 255).astype("uint8")
    path.parent.mkdir(parents=True, exist_ok=True)
    tf.io.write_file(str(path), tf.io.encode_png(image))
    return path


def history_rows(run):
    with (run / "history.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_train_resume_and_outputs(cli, tmp_path):
    data = tiny_npz(tmp_path / "tiny.npz")
    run = tmp_path / "run"
    first = cli("train", "baseline", "--data", str(data), "--epochs", "1", "--out", str(run))
    assert first.code == 0, first.err
    assert len(history_rows(run)) == 1
    again = cli("train", "baseline", "--data", str(data), "--epochs", "2", "--out", str(run))
    assert again.code == 0, again.err
    rows = history_rows(run)
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert set(rows[0]) >= {"loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy"}
    for name in ("best.keras", "last.keras", "history.csv", "curves.png", "summary.txt", "weights.npz", "spec.arch", "run.json"):
        assert (run / name).exists(), name
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = keras.models.load_model(run / "last.keras")
    assert model.count_params() == 198_506
    assert model.optimizer.iterations.numpy() == 2 * 3  # two epochs of three batches: the optimizer state resumed
    keras.models.load_model(run / "best.keras")
    assert archspec.parse((run / "spec.arch").read_text(encoding="utf-8")).spec == archspec.load("baseline").spec
    weights = np.load(run / "weights.npz")
    assert sum(weights[key].size for key in weights.files) == 198_494  # trainable weights only
    summary = (run / "summary.txt").read_text(encoding="utf-8")
    assert "198,506" in summary and "Keras model.summary():" in summary
    picture = write_png(tmp_path / "cat.png", 40, 50)
    result = cli("predict", str(run), str(picture), "--top", "2")
    assert result.code == 0, result.err
    line = result.out.strip()
    assert line.startswith(f"{picture}: ") and line.count("%") == 2


def test_interrupted_run_keeps_its_finished_epoch_and_resumes(tmp_path):
    data = tiny_npz(tmp_path / "tiny.npz")
    run = tmp_path / "run"

    class StopAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt  # as Ctrl-C after epoch 1 finished

    options = TrainOptions(data=str(data), epochs=3, out=run, verbose=0, callbacks=[StopAfterFirstEpoch()])
    with pytest.raises(KeyboardInterrupt):
        train(archspec.load("lenet5"), options)
    assert json.loads((run / "state.json").read_text())["epochs_done"] == 1
    first_epoch = history_rows(run)
    assert len(first_epoch) == 1
    train(archspec.load("lenet5"), TrainOptions(data=str(data), epochs=3, out=run, verbose=0))
    rows = history_rows(run)
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert rows[0] == first_epoch[0]


def test_image_folder_with_a_validation_split(tmp_path):
    folder = tmp_path / "images"
    for label in ("cats", "dogs"):
        for index in range(6):
            write_png(folder / label / f"{index}.png", 20 + index, 30, seed=index)
    run = train(archspec.load("lenet5"), TrainOptions(data=str(folder), epochs=1, out=tmp_path / "run", verbose=0, val_split=0.25,
                                                      augment=True, optimizer="sgd", learning_rate=0.01, overrides={"classes": 2}))
    rows = history_rows(run)
    assert len(rows) == 1 and "val_loss" in rows[0]
    assert json.loads((run / "run.json").read_text())["classes"] == ["cats", "dogs"]
    predictions = predict(run, [str(write_png(tmp_path / "x.png", 64, 64))], top=2)
    assert {name for name, _ in predictions[0].top} == {"cats", "dogs"}
    assert sum(probability for _, probability in predictions[0].top) == pytest.approx(1.0, abs=1e-5)


def test_mismatched_data_is_diagnosed_before_training(cli, tmp_path):
    small = tiny_npz(tmp_path / "gray.npz", shape=(28, 28))
    result = cli("train", "baseline", "--data", str(small), "--out", str(tmp_path / "a"))
    assert result.code == 1
    assert "the training images of" in result.err and "are 28x28x1 but Baseline takes 32x32x3" in result.err
    assert "use --input 28x28x1" in result.err
    many = tiny_npz(tmp_path / "many.npz", classes=12)
    result = cli("train", "baseline", "--data", str(many), "--out", str(tmp_path / "b"))
    assert result.code == 1
    assert "has 12 classes but Baseline outputs 10 scores" in result.err and "--set classes=12" in result.err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    fits = cli("train", "baseline", "--data", str(many), "--set", "classes=12", "--epochs", "1", "--out", str(tmp_path / "c"))
    assert fits.code == 0, fits.err
    # Resuming that run with another network is refused before anything is touched.
    before = (tmp_path / "c" / "run.json").read_text(encoding="utf-8")
    other = cli("train", "baseline", "--data", str(many), "--set", "classes=13", "--epochs", "2", "--out", str(tmp_path / "c"))
    assert other.code == 1 and "holds a run of a different network (parameters was {'classes': 12}, now {'classes': 13})" in other.err
    assert (tmp_path / "c" / "run.json").read_text(encoding="utf-8") == before


def test_keras_dataset_without_network_says_to_pass_a_local_file(cli, monkeypatch, tmp_path):
    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    result = cli("train", "baseline", "--data", "cifar10", "--out", str(tmp_path / "run"))
    assert result.code == 1
    assert "could not load the cifar10 data set" in result.err and "pass a local .npz file" in result.err


def test_logits_are_decided_from_the_last_activation():
    from archspec.train import outputs_logits

    assert not outputs_logits(archspec.load("resnet18").graph())
    assert outputs_logits(archspec.parse("network N\ninput 8\ndense(3)\n").graph())
    assert not outputs_logits(archspec.parse("network N\ninput 8\ndense(3) softmax\n").graph())
    assert not outputs_logits(archspec.parse("network N\ninput 8\ndense(3, softmax) dropout(0.1) identity\n").graph())
