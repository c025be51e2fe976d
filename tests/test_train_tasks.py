"""Training beyond classification: the task inferred from the output and the data, its loss and
metrics (mean IoU for segmentation), data as `.npz` or as images and masks, and `predict`
writing masks as PNG. CPU only, no network: the data sets are made here."""

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
from archspec.errors import SpecError  # noqa: E402
from archspec.train.tasks import infer_task  # noqa: E402

pytestmark = pytest.mark.keras

SMALL_UNET = ("--set", "size=32", "--set", "base=4", "--set", "depth=2")


def squares(count: int, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy images, each with a bright square; the mask is 1 on the square, 0 elsewhere."""
    rng = np.random.default_rng(seed)
    images = (rng.random((count, size, size, 3)) * 80).astype("uint8")
    masks = np.zeros((count, size, size), dtype="uint8")
    for image, mask in zip(images, masks):
        top, left = rng.integers(0, size // 2, 2)
        image[top:top + size // 3, left:left + size // 3] = 230
        mask[top:top + size // 3, left:left + size // 3] = 1
    return images, masks


def history(run):
    with (run / "history.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_unet_trains_on_masks_and_predicts_a_png(cli, tmp_path):
    images, masks = squares(24)
    data = tmp_path / "squares.npz"
    np.savez(data, x_train=images[:16], y_train=masks[:16], x_test=images[16:], y_test=masks[16:])
    run = tmp_path / "run"
    result = cli("train", "unet", *SMALL_UNET, "--data", str(data), "--epochs", "1", "--batch-size", "8", "--out", str(run))
    assert result.code == 0, result.err
    (row,) = history(run)
    assert {"loss", "accuracy", "mean_iou", "val_loss", "val_mean_iou"} <= set(row)
    assert 0 <= float(row["mean_iou"]) <= 1
    assert json.loads((run / "run.json").read_text(encoding="utf-8"))["task"] == "segmentation"
    summary = (run / "summary.txt").read_text(encoding="utf-8")
    assert "Optimizer params" in summary and "counts the optimizer's variables too" in summary
    picture = tmp_path / "one.png"
    tf.io.write_file(str(picture), tf.io.encode_png(images[20]))
    out = tmp_path / "masks"
    out.mkdir()
    predicted = cli("predict", str(run), str(picture), "--out", str(out))
    assert predicted.code == 0, predicted.err
    assert predicted.out.startswith(f"{picture}: wrote {out / 'one.mask.png'} (by area: ")
    mask = tf.io.decode_png(tf.io.read_file(str(out / "one.mask.png"))).numpy()
    assert mask.shape == (32, 32, 1) and set(np.unique(mask)) <= {0, 1}


def test_a_folder_of_images_and_masks(cli, tmp_path):
    images, masks = squares(8, seed=1)
    for index, (image, mask) in enumerate(zip(images, masks)):
        for folder, picture in (("images", image), ("masks", mask[..., None])):
            (tmp_path / "data" / folder).mkdir(parents=True, exist_ok=True)
            tf.io.write_file(str(tmp_path / "data" / folder / f"{index}.png"), tf.io.encode_png(picture))
    run = tmp_path / "run"
    result = cli("train", "unet", *SMALL_UNET, "--data", str(tmp_path / "data"), "--epochs", "1", "--batch-size", "4",
                 "--out", str(run))
    assert result.code == 0, result.err
    assert "mean_iou" in history(run)[0]


def test_regression_and_multilabel_are_told_apart_by_their_targets(cli, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((32, 8, 8, 1)).astype("float32")
    spec = tmp_path / "head.arch"
    spec.write_text("network Head(outputs=3, end=linear)\ninput 8x8x1\nflatten dense(16, relu) dense(outputs, end)\n", encoding="utf-8")
    regression = tmp_path / "regression.npz"
    np.savez(regression, x_train=x, y_train=x.reshape(32, -1)[:, :3] * 2.5)
    result = cli("train", str(spec), "--data", str(regression), "--epochs", "1", "--out", str(tmp_path / "r"))
    assert result.code == 0, result.err
    assert "mae" in history(tmp_path / "r")[0]
    multilabel = tmp_path / "labels.npz"
    np.savez(multilabel, x_train=x, y_train=(x.reshape(32, -1)[:, :3] > 0.5).astype("int64"))
    result = cli("train", str(spec), "--set", "end=sigmoid", "--data", str(multilabel), "--epochs", "1", "--out", str(tmp_path / "m"))
    assert result.code == 0, result.err
    assert {"accuracy", "auc"} <= set(history(tmp_path / "m")[0])
    assert json.loads((tmp_path / "m" / "run.json").read_text(encoding="utf-8"))["task"] == "multilabel"


def test_inference_rules():
    unet = archspec.load("unet").graph({"size": 32, "base": 4, "depth": 2})
    assert infer_task(unet, np.zeros((2, 32, 32), "int64"), None).name == "segmentation"
    baseline = archspec.load("baseline").graph()
    assert infer_task(baseline, np.array([1, 2, 3]), None).name == "classification"
    assert infer_task(baseline, np.array([0.5, 2.25, 3.0]), None).name == "regression"
    assert infer_task(baseline, np.array([1, 2]), "regression").name == "regression"  # asked for: taken


def test_masks_that_do_not_fit_the_output_are_refused_before_training(cli, tmp_path):
    images, masks = squares(8)
    data = tmp_path / "wrong.npz"
    np.savez(data, x_train=images, y_train=masks[:, :16, :16])
    result = cli("train", "unet", *SMALL_UNET, "--data", str(data), "--epochs", "1", "--out", str(tmp_path / "run"))
    assert result.code == 1
    assert "the training masks of" in result.err and "are 16x16 but UNet outputs 32x32 positions" in result.err
    assert not (tmp_path / "run" / "last.keras").exists()


def test_an_unknown_task_is_refused_before_tensorflow(cli, tmp_path):
    with pytest.raises(SpecError):
        from archspec.train import TrainOptions, train

        train(archspec.load("baseline"), TrainOptions(data="cifar10", task="detection", out=tmp_path / "run"))


def test_a_network_of_two_outputs_trains_with_a_loss_for_each(cli, tmp_path):
    spec = tmp_path / "heads.arch"
    spec.write_text("network Heads\ninput 16x16x3\nconv(8, 3) relu flatten as trunk\ndense(4, softmax) as kind\n"
                    "@trunk\ndense(2) as size\noutput @kind, @size\n", encoding="utf-8")
    rng = np.random.default_rng(0)
    data = tmp_path / "heads.npz"
    np.savez(data, x_train=rng.random((32, 16, 16, 3)).astype("float32"), y_train_kind=rng.integers(0, 4, 32),
             y_train_size=rng.random((32, 2)).astype("float32"))
    run = tmp_path / "run"
    result = cli("train", str(spec), "--data", str(data), "--epochs", "1", "--out", str(run))
    assert result.code == 0, result.err
    assert {"loss", "kind_loss", "size_loss", "kind_sparse_categorical_accuracy", "size_mae"} <= set(history(run)[0])
    assert json.loads((run / "run.json").read_text(encoding="utf-8"))["tasks"] == {"kind": "classification", "size": "regression"}
    lacking = tmp_path / "lacking.npz"
    np.savez(lacking, x_train=rng.random((8, 16, 16, 3)).astype("float32"), y_train_kind=rng.integers(0, 4, 8))
    refused = cli("train", str(spec), "--data", str(lacking), "--epochs", "1", "--out", str(tmp_path / "other"))
    assert refused.code == 1 and "lacks the training labels of size" in refused.err and "y_train_size" in refused.err



def test_one_sigmoid_unit_is_a_binary_classifier_throughout(cli, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((32, 4, 4, 1)).astype("float32")
    data = tmp_path / "yes_no.npz"
    np.savez(data, x_train=x, y_train=(x.mean(axis=(1, 2, 3)) > 0.5).astype("int64"))
    spec = tmp_path / "gate.arch"
    spec.write_text("network Gate\ninput 4x4x1\nflatten dense(1, sigmoid)\n", encoding="utf-8")
    run = tmp_path / "run"
    assert cli("train", str(spec), "--data", str(data), "--epochs", "1", "--out", str(run)).code == 0
    settings = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert (settings["task"], settings["logits"]) == ("classification", False)  # a sigmoid is no logit
    assert "accuracy" in history(run)[0]  # binary accuracy, not an argmax over one column
    picture = tmp_path / "p.png"
    tf.io.write_file(str(picture), tf.io.encode_png((x[0] * 255).astype("uint8")))
    line = cli("predict", str(run), str(picture)).out.strip()
    probabilities = [float(part.split()[-1].rstrip("%")) for part in line.split(": ", 1)[1].split(", ")]
    assert len(probabilities) == 2 and abs(sum(probabilities) - 100) < 0.2  # class 0 and class 1


def test_one_hot_rows_under_a_softmax_are_class_labels():
    baseline = archspec.load("baseline").graph()
    task = infer_task(baseline, np.eye(10, dtype="int64")[[1, 2, 3]], None)
    assert task.name == "classification" and task.labels(np.eye(10)[[1, 2, 3]]).tolist() == [1, 2, 3]


@pytest.mark.parametrize(("arrays", "message"), [
    ({"x_train_image": np.zeros((2, 8, 8, 3)), "y_train": np.zeros(2)}, "lacks x_train"),
    ({"x_train": np.zeros((2, 32, 32, 3)), "y_train": np.zeros(2), "x_test": np.zeros((2, 32, 32, 3))}, "has x_test but no y_test"),
])
def test_incomplete_npz_files_are_said_before_training(cli, tmp_path, arrays, message):
    data = tmp_path / "bad.npz"
    np.savez(data, **arrays)
    result = cli("train", "baseline", "--data", str(data), "--epochs", "1", "--out", str(tmp_path / "run"))
    assert result.code == 1 and message in result.err and "Traceback" not in result.err
