"""Training and prediction runs: compile, fit with checkpoint-and-resume into a run folder, and
write the best and last models, the history, the curves, a summary, the weights and the spec;
`predict` loads a run folder and classifies images. Keras is imported inside functions."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from ..analysis import analyze
from ..api import Architecture
from ..backend import load_keras, load_tensorflow
from ..emit.keras import to_keras
from ..errors import quoted
from ..files import atomic_target, check_target, save_keras_atomic, write_atomic
from ..graph import Graph
from .cluster import ALONE, fit_across_workers, worker_from_tf_config
from .data import (
    Data,
    _error,
    check_data_source,
    check_fit,
    check_image_file,
    check_labels_for_outputs,
    check_val_split,
    labels_of,
    load_data,
    read_image,
    refuse_several_inputs,
)
from .tasks import TASKS, Task, final_activation, infer_task, takes_logits

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam", "adagrad")
STATE_FILE = "state.json"


@dataclass
class TrainOptions:
    data: str
    epochs: int = 5
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float | None = None
    val_split: float | None = None
    augment: bool = False
    out: Path = Path("runs")
    distribute: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    input_shape: tuple[int, ...] | None = None
    verbose: int = 1
    callbacks: list[Any] = field(default_factory=list)  # extra Keras callbacks (tests use them)
    task: str | None = None  # classification, segmentation, regression, multilabel; None: inferred


def outputs_logits(graph: Graph) -> bool:
    """Whether the network ends without a softmax or a sigmoid, so the loss takes logits (layers
    that pass values through are looked past; see tasks.final_activation)."""
    return takes_logits(final_activation(graph, graph.output))


def preflight(graph: Graph, options: TrainOptions) -> None:
    """Every check that needs no TensorFlow, so a mistyped option or a missing file is reported
    at once rather than after seconds of importing it."""
    refuse_several_inputs(graph)
    if options.optimizer not in OPTIMIZERS:
        raise _error(f"unknown optimizer {quoted(options.optimizer)}", f"use one of {', '.join(OPTIMIZERS)}")
    if options.task is not None and options.task not in TASKS:
        raise _error(f"unknown task {quoted(options.task)}", f"use one of {', '.join(TASKS)}")
    if options.distribute not in (None, *DISTRIBUTIONS):
        raise _error(f"unknown distribution strategy {quoted(options.distribute)}",
                     "use --distribute mirrored (all visible GPUs) or multi-worker (the cluster TF_CONFIG describes)")
    if options.distribute == "multi-worker":
        worker_from_tf_config(os.environ.get("TF_CONFIG"))
        if len(graph.outputs) > 1:
            raise _error(f"{graph.network} has {len(graph.outputs)} outputs; --distribute multi-worker trains networks of one output")
    check_val_split(options.val_split)
    check_data_source(options.data, graph.input_shape)
    run = Path(options.out)
    if run.exists() and not run.is_dir():
        raise _error(f"{quoted(run)} is a file, not a run folder", "give --out a folder (created if missing)")
    check_target(run / "run.json")


def _optimizer(keras: Any, name: str, learning_rate: float | None) -> Any:
    optimizer = keras.optimizers.get(name)
    if learning_rate is not None:
        optimizer.learning_rate = learning_rate
    return optimizer


DISTRIBUTIONS = ("mirrored", "multi-worker")


def _strategy(name: str | None) -> Any:
    """The tf.distribute strategy `--distribute` names, or None."""
    if name is None:
        return None
    tf = load_tensorflow()
    if name == "multi-worker":  # made before any data set or model, as TensorFlow requires
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.MirroredStrategy()


def train(architecture: Architecture, options: TrainOptions) -> Path:
    """Train (or resume training) into `options.out`; returns the run folder."""
    graph = architecture.graph(options.overrides, options.input_shape)
    preflight(graph, options)
    keras = load_keras()
    worker = worker_from_tf_config(os.environ.get("TF_CONFIG")) if options.distribute == "multi-worker" else ALONE
    strategy = _strategy(options.distribute)

    data = load_data(options.data, graph.input_shape, options.val_split)
    check_labels_for_outputs(data, graph)
    tasks = {name: infer_task(graph, labels_of(data.y_train, name), options.task, name) for name in graph.outputs}
    check_fit(data, graph, tasks)
    data = replace(data, y_train=_labels(tasks, data.y_train), y_test=None if data.y_test is None else _labels(tasks, data.y_test))
    task = tasks[graph.output]
    run = Path(options.out)
    state = _read_state(run)
    if state:
        _check_resumable(run, graph, options)
    # Only the chief writes the run folder; every other worker saves into a folder of its own, as
    # TensorFlow's guide has it, and removes it at the end.
    written = run if worker.chief else run.parent / f".{run.name}.worker-{worker.index}"
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        if state and (run / "last.keras").exists():
            model = keras.models.load_model(run / "last.keras")  # weights, optimizer state and compile settings
        else:
            model = to_keras(graph)
            several = len(tasks) > 1  # one loss and its metrics per output, by the output layer's name
            model.compile(optimizer=_optimizer(keras, options.optimizer, options.learning_rate),
                          loss={name: t.loss(keras) for name, t in tasks.items()} if several else task.loss(keras),
                          metrics={name: t.metrics(keras) for name, t in tasks.items()} if several else task.metrics(keras))
    done = int(state.get("epochs_done", 0)) if state else 0
    history = _read_history(run)[:done]
    if worker.chief:
        _write_run_files(run, architecture, graph, data, options, tasks)
    if done < options.epochs:
        checkpoint = _checkpoint(written, graph.network, history, done)
        try:
            if options.distribute == "multi-worker":
                checkpoint.set_model(model)
                fit_across_workers(strategy, model, task, lambda x, y, shuffle: _dataset(x, y, options, shuffle), data,
                                   (done, options.epochs), checkpoint.on_epoch_end, worker)
            else:
                model.fit(
                    _dataset(data.x_train, data.y_train, options, shuffle=True),
                    validation_data=_dataset(data.x_test, data.y_test, options) if data.x_test is not None else None,
                    epochs=options.epochs, initial_epoch=done, verbose=options.verbose, shuffle=False,
                    callbacks=[checkpoint, *options.callbacks],
                )
        except KeyboardInterrupt:
            kept = checkpoint.epochs_done
            print(f"\ninterrupted: {kept} epoch{'s' if kept != 1 else ''} kept in {run}; run the same command to resume")
            raise
        except (ValueError, TypeError, RuntimeError, load_tensorflow().errors.OpError) as error:  # TensorFlow's failure, in a line
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            cause = lines[-1][:300] if lines else ""  # TensorFlow puts the cause last, after "in user code:" and a trace
            raise _error(f"TensorFlow failed while training ({type(error).__name__}: {cause})",
                         f"{checkpoint.epochs_done} finished epochs are kept in {run}; --verbose shows TensorFlow's log lines") from None
        history = checkpoint.history
    elif options.verbose:
        print(f"{run} already holds {done} epochs; ask for more with --epochs")
    if worker.chief:
        _write_results(run, model, history, graph, tasks)
    else:
        shutil.rmtree(written, ignore_errors=True)
    return run


def _labels(tasks: dict[str, Task], y: Any) -> Any:
    """The labels as each output's loss takes them (a dict by output name for several)."""
    if len(tasks) == 1:
        (task,) = tasks.values()
        return task.labels(y)
    return {name: task.labels(y[name]) for name, task in tasks.items()}


def _checkpoint(run: Path, network: str, history: list[dict], done: int) -> Any:
    """A keras.callbacks.Callback (defined here because Keras is imported lazily)."""
    keras = load_keras()

    class Checkpoint(keras.callbacks.Callback):
        """After each epoch: the last model (with optimizer state), the best by val_loss, the
        history and the state, each written atomically, so an interrupt keeps finished epochs."""

        def __init__(self) -> None:
            super().__init__()
            self.run, self.network, self.history, self.epochs_done = run, network, list(history), done
            self.best = min((row.get("val_loss", row["loss"]) for row in history), default=None)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            row = {"epoch": epoch + 1, **{key: float(value) for key, value in (logs or {}).items()}}
            self.history.append(row)
            save_keras_atomic(self.model, self.run / "last.keras")
            score = row.get("val_loss", row["loss"])
            if self.best is None or score < self.best:
                self.best = score
                save_keras_atomic(self.model, self.run / "best.keras")
            write_atomic(self.run / "history.csv", _history_csv(self.history))
            self.epochs_done = epoch + 1
            _write_state(self.run, {"network": self.network, "epochs_done": self.epochs_done, "best_score": self.best})

    return Checkpoint()


def _dataset(images: Any, labels: Any, options: TrainOptions, shuffle: bool = False) -> Any:
    tf = load_tensorflow()

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(min(len(images), 10_000), seed=0, reshuffle_each_iteration=True)
    dataset = dataset.batch(options.batch_size)
    if shuffle and options.augment and len(images.shape) == 4:
        keras = load_keras()

        augment = keras.Sequential([keras.layers.RandomFlip("horizontal", seed=0), keras.layers.RandomTranslation(0.1, 0.1, seed=0)])
        dataset = dataset.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------------------------------------
# Run folder


def _read_state(run: Path) -> dict | None:
    path = run / STATE_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise _error(f"cannot read {quoted(path)}: {error}", "delete the run folder to start over") from None


def _write_state(run: Path, state: dict) -> None:
    write_atomic(run / STATE_FILE, json.dumps(state, indent=2) + "\n")


def _read_history(run: Path) -> list[dict]:
    path = run / "history.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [{key: (int(value) if key == "epoch" else float(value)) for key, value in row.items() if value != ""}
                for row in csv.DictReader(handle)]


def _history_csv(history: list[dict]) -> str:
    keys = list(dict.fromkeys(key for row in history for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


def _check_resumable(run: Path, graph: Graph, options: TrainOptions) -> None:
    """A run resumes only with the network it started with; its optimizer state is kept."""
    path = run / "run.json"
    saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    now = {"network": graph.network, "parameters": dict(graph.parameters), "input_shape": list(graph.input_shape)}
    changed = [key for key, value in now.items() if key in saved and saved[key] != value]
    if changed:
        described = "; ".join(f"{key} was {saved[key]}, now {now[key]}" for key in changed)
        raise _error(f"{quoted(run)} holds a run of a different network ({described})",
                     "resume with the same --set and --input, or train into another --out folder")
    for key, value in (("optimizer", options.optimizer), ("learning_rate", options.learning_rate)):
        if key in saved and saved[key] != value:
            print(f"note: resuming keeps the run's {key} ({saved[key]}); the given {value} is ignored")
    options.optimizer, options.learning_rate = saved.get("optimizer", options.optimizer), saved.get("learning_rate", options.learning_rate)


def _write_run_files(run: Path, architecture: Architecture, graph: Graph, data: Data, options: TrainOptions,
                     tasks: dict[str, Task]) -> None:
    write_atomic(run / "spec.arch", architecture.to_arch())
    settings = {
        "network": graph.network, "task": tasks[graph.output].name, "tasks": {name: task.name for name, task in tasks.items()},
        "data": data.source, "classes": data.class_names,
        "parameters": dict(graph.parameters), "input_shape": list(graph.input_shape),
        "logits": tasks[graph.output].logits, "batch_size": options.batch_size, "optimizer": options.optimizer,
        "learning_rate": options.learning_rate, "augment": options.augment,
    }
    write_atomic(run / "run.json", json.dumps(settings, indent=2) + "\n")


KERAS_SUMMARY_NOTE = ("Keras model.summary():\n(Keras' \"Total params\" counts the optimizer's variables too, which it lists as "
                      "\"Optimizer params\"; the model's own parameters are the params above.)\n")


def _write_results(run: Path, model: Any, history: list[dict], graph: Graph, tasks: dict[str, Task]) -> None:
    """The summary (archspec's report, then Keras' own), the weights, the history and curves."""
    import numpy as np

    buffer = io.StringIO()
    model.summary(print_fn=lambda line, **_: buffer.write(line + "\n"))
    write_atomic(run / "summary.txt", analyze(graph).to_table() + "\n" + KERAS_SUMMARY_NOTE + buffer.getvalue())
    weights = {variable.path.replace("/", "__"): np.asarray(variable) for variable in model.trainable_variables}
    with atomic_target(run / "weights.npz", suffix=".npz") as temporary:
        np.savez(temporary, **weights)
    if history:
        write_atomic(run / "history.csv", _history_csv(history))
        metric, title = tasks[graph.output].curves
        if len(tasks) > 1:  # Keras names each output's figures after it: the first output's are drawn
            metric, title = f"{graph.output}_{metric}", f"{title} ({graph.output})"
        write_atomic(run / "curves.png", plot_curves(history, metric, title))


def plot_curves(history: list[dict], metric: str = "sparse_categorical_accuracy", title: str = "Accuracy") -> bytes:
    """The task's metric and the loss, training and validation, side by side (the course's figure)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in history]
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(10, 4))
    for axis, key, title in ((left, metric, title), (right, "loss", "Loss")):
        axis.plot(epochs, [row.get(key) for row in history], marker="o", label=f"Training {title}")
        if any(f"val_{key}" in row for row in history):
            axis.plot(epochs, [row.get(f"val_{key}") for row in history], marker="o", label=f"Validation {title}")
        axis.set_title(f"Training and Validation {title}")
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    pyplot.close(figure)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Prediction


@dataclass(frozen=True)
class Prediction:
    image: str
    top: tuple[tuple[str, float], ...] = ()  # classes by probability (classification, multilabel) or by area (segmentation)
    values: tuple[float, ...] = ()  # regression
    mask: Path | None = None  # segmentation: the PNG written, one class id per pixel


def predict(run: Path, images: Sequence[str], top: int = 3, out: Path | None = None) -> list[Prediction]:
    """Run a trained network on image files: class probabilities, label probabilities,
    regressed values, or (segmentation) a mask PNG per image, written into `out`."""
    # The cheap checks first: the run folder and every image, before TensorFlow's seconds of import.
    settings_path = Path(run) / "run.json"
    model_path = next((Path(run) / name for name in ("best.keras", "last.keras") if (Path(run) / name).exists()), None)
    if model_path is None or not settings_path.exists():
        raise _error(f"{quoted(run)} is not a finished run folder (no best.keras/last.keras and run.json)", "train first: archspec train SPEC --data DATA --out RUN")
    for image in images:
        check_image_file(Path(image))
    settings = json.loads(settings_path.read_text(encoding="utf-8"))
    outputs = settings.get("tasks", {})
    if len(outputs) > 1:
        raise _error(f"{quoted(run)} trained a network of {len(outputs)} outputs ({', '.join(outputs)}); predict reads one",
                     "load its best.keras with keras.models.load_model and call predict on it")
    task = settings.get("task", "classification")
    folder = Path(out) if out is not None else Path(".")
    if task == "segmentation":
        for image in images:
            check_target(folder / f"{Path(image).stem}.mask.png")
    keras = load_keras()
    import numpy as np

    model = keras.models.load_model(model_path)
    batch = np.stack([read_image(Path(image), settings["input_shape"]) for image in images])
    scores = model.predict(batch, verbose=0)
    if task == "regression":
        return [Prediction(image, values=tuple(float(v) for v in np.ravel(row))) for image, row in zip(images, scores)]
    if settings.get("logits"):
        scores = keras.ops.convert_to_numpy(keras.ops.sigmoid(scores) if task == "multilabel" or scores.shape[-1] == 1
                                            else keras.ops.softmax(scores))
    if task == "segmentation":
        return [_write_mask(folder, image, row, settings) for image, row in zip(images, scores)]
    if task == "classification" and scores.shape[-1] == 1:  # one sigmoid unit: the probability of class 1
        scores = np.concatenate([1 - scores, scores], axis=-1)
    names = settings["classes"] + [str(i) for i in range(len(settings["classes"]), scores.shape[-1])]
    results = []
    for image, row in zip(images, scores):
        order = np.argsort(row)[::-1][:top]
        results.append(Prediction(image, tuple((names[i], float(row[i])) for i in order)))
    return results


def _write_mask(folder: Path, image: str, scores: Any, settings: dict) -> Prediction:
    """A mask PNG of class ids (8-bit, 16-bit past 256 classes) and the classes by area."""
    import numpy as np

    tf = load_tensorflow()
    ids = (scores[..., 0] > 0.5).astype("int64") if scores.shape[-1] == 1 else np.argmax(scores, axis=-1)
    classes = max(2, scores.shape[-1])
    pixels = ids.astype("uint8" if classes <= 256 else "uint16")[..., None]
    path = folder / f"{Path(image).stem}.mask.png"
    write_atomic(path, tf.io.encode_png(pixels).numpy())
    names = settings.get("classes") or []
    counts = np.bincount(ids.ravel(), minlength=classes)
    order = np.argsort(counts)[::-1]
    area = tuple((names[i] if i < len(names) else str(i), counts[i] / ids.size) for i in order if counts[i])
    return Prediction(image, area, mask=path)
