"""Training and prediction: the course's six steps around any spec.

Takes an `Architecture` and a data source (a Keras data set name, a `.npz` file in the
`keras.datasets` layout, or a folder with one subfolder per class); checks that the data fits
the network, then compiles, fits with checkpoint-and-resume into a run folder, and writes the
best and last models, the history, the curves, a summary, the weights and the spec. `predict`
loads a run folder and classifies images. Keras and TensorFlow are imported inside functions.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .analysis import analyze
from .api import Architecture
from .emit.keras import to_keras
from .errors import Diagnostic, SpecError
from .files import atomic_target, save_keras_atomic, write_atomic
from .graph import INPUT, Graph

KERAS_DATASETS = ("cifar10", "mnist", "fashion_mnist")
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam", "adagrad")
STATE_FILE = "state.json"


def _error(message: str, hint: str | None = None) -> SpecError:
    return SpecError([Diagnostic("error", message, hint=hint)])


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Data:
    x_train: Any
    y_train: Any
    x_test: Any | None
    y_test: Any | None
    class_names: list[str]
    source: str

    @property
    def classes(self) -> int:
        return len(self.class_names)


def load_data(source: str, input_shape: Sequence[int], val_split: float | None) -> Data:
    """Load `source` as float32 images in [0, 1] with integer labels."""
    import numpy as np

    path = Path(source)
    if path.is_dir():
        data = _load_folder(path, input_shape)
    elif path.suffix == ".npz":
        data = _load_npz(path)
    elif source in KERAS_DATASETS:
        data = _load_keras_dataset(source)
    else:
        raise _error(f"no data set '{source}'", f"use {', '.join(KERAS_DATASETS)}, a .npz file (x_train, y_train, x_test, y_test) "
                                                  "or a folder with one subfolder of images per class")
    if val_split is not None:
        if not 0 < val_split < 1:
            raise _error(f"--val-split must be between 0 and 1; received {val_split}")
        count = int(round(len(data.x_train) * (1 - val_split)))
        if not 0 < count < len(data.x_train):
            raise _error(f"--val-split {val_split} leaves no training or no validation images out of {len(data.x_train)}")
        order = np.random.default_rng(0).permutation(len(data.x_train))
        train, held = order[:count], order[count:]
        data = Data(data.x_train[train], data.y_train[train], data.x_train[held], data.y_train[held], data.class_names, data.source)
    return data


def _scaled(images: Any) -> Any:
    import numpy as np

    images = np.asarray(images)
    if images.ndim == 3:  # grayscale without a channel axis (MNIST)
        images = images[..., None]
    images = images.astype("float32")
    if images.size and images.max() > 1.0:
        images /= 255.0
    return images


def _labels(labels: Any) -> Any:
    import numpy as np

    return np.asarray(labels).reshape(-1).astype("int64")


def _load_npz(path: Path) -> Data:
    import numpy as np

    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise _error(f"cannot read '{path}': {error}") from None
    missing = [key for key in ("x_train", "y_train") if key not in archive.files]
    if missing:
        raise _error(f"'{path}' lacks {', '.join(missing)}", "the keras.datasets layout: x_train, y_train, x_test, y_test")
    x_test = _scaled(archive["x_test"]) if "x_test" in archive.files else None
    y_test = _labels(archive["y_test"]) if "y_test" in archive.files else None
    y_train = _labels(archive["y_train"])
    names = [str(n) for n in archive["class_names"]] if "class_names" in archive.files else None
    classes = int(max(y_train.max(initial=0), y_test.max(initial=0) if y_test is not None else 0)) + 1
    return Data(_scaled(archive["x_train"]), y_train, x_test, y_test, names or [str(i) for i in range(classes)], str(path))


def _load_keras_dataset(name: str) -> Data:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as error:  # noqa: BLE001 - any download failure means the same to the user
        raise _error(
            f"could not load the {name} data set ({type(error).__name__}: {str(error)[:200]})",
            "keras downloads it once into ~/.keras/datasets; without a network, pass a local .npz file "
            "(x_train, y_train, x_test, y_test) or an image folder with --data",
        ) from None
    names = {"cifar10": CIFAR10_CLASSES, "fashion_mnist": FASHION_CLASSES}.get(name, [str(i) for i in range(10)])
    return Data(_scaled(x_train), _labels(y_train), _scaled(x_test), _labels(y_test), names, name)


def _load_folder(folder: Path, input_shape: Sequence[int]) -> Data:
    import numpy as np

    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise _error(f"'{folder}' needs at least two subfolders, one per class; found {len(classes)}")
    images, labels = [], []
    for index, name in enumerate(classes):
        files = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise _error(f"class folder '{folder / name}' has no images ({', '.join(IMAGE_SUFFIXES)})")
        for file in files:
            images.append(read_image(file, input_shape))
            labels.append(index)
    return Data(np.stack(images), np.asarray(labels, dtype="int64"), None, None, classes, str(folder))


def read_image(path: Path, input_shape: Sequence[int]) -> Any:
    """One image file, resized to the network's input, channels as it expects, in [0, 1]."""
    import tensorflow as tf

    if len(input_shape) != 3:
        raise _error(f"images need a network with an HxWxC input; this one takes {'x'.join(map(str, input_shape))}")
    height, width, channels = input_shape
    try:
        image = tf.io.decode_image(tf.io.read_file(str(path)), channels=channels, expand_animations=False)
    except (tf.errors.OpError, ValueError) as error:
        raise _error(f"cannot read the image '{path}': {getattr(error, 'message', error)}") from None
    image = tf.image.resize(tf.cast(image, tf.float32) / 255.0, (height, width))
    return image.numpy()


def check_fit(data: Data, graph: Graph) -> None:
    """Refuse data that does not fit the network, before any training."""
    expected = tuple(graph.input_shape)
    problems = []
    for name, images in (("training", data.x_train), ("test", data.x_test)):
        if images is not None and tuple(images.shape[1:]) != expected:
            shape = "x".join(map(str, images.shape[1:]))
            problems.append(Diagnostic(
                "error", f"the {name} images of {data.source} are {shape} but {graph.network} takes {'x'.join(map(str, expected))}",
                hint=f"use --input {shape} if the network can take that size, or resize the data",
            ))
    output = graph.shape_of(graph.output)
    if len(output) != 1:
        problems.append(Diagnostic("error", f"{graph.network} outputs {'x'.join(map(str, output))}; classification needs one score per class"))
    elif data.classes > output[0]:
        problems.append(Diagnostic(
            "error", f"{data.source} has {data.classes} classes but {graph.network} outputs {output[0]} scores",
            hint=f"set the class count, e.g. --set classes={data.classes}" if any(n == "classes" for n, _ in graph.parameters) else None,
        ))
    if problems:
        raise SpecError(problems)


# ---------------------------------------------------------------------------------------------
# Training


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


def outputs_logits(graph: Graph) -> bool:
    """Whether the network ends without a softmax, so the loss must take logits. Layers that
    pass values through (dropout, identity, reshape) are looked past."""
    node = graph.node(graph.output)
    while node.layer.preserves_values and node.inputs[0] != INPUT:
        node = graph.node(node.inputs[0])
    return not node.layer.outputs_probabilities


def _optimizer(keras: Any, name: str, learning_rate: float | None) -> Any:
    if name not in OPTIMIZERS:
        raise _error(f"unknown optimizer '{name}'", f"use one of {', '.join(OPTIMIZERS)}")
    optimizer = keras.optimizers.get(name)
    if learning_rate is not None:
        optimizer.learning_rate = learning_rate
    return optimizer


def _strategy(name: str | None) -> Any:
    import contextlib

    if name is None:
        return contextlib.nullcontext()
    if name != "mirrored":
        raise _error(f"unknown distribution strategy '{name}'", "use --distribute mirrored (all visible GPUs)")
    import tensorflow as tf

    return tf.distribute.MirroredStrategy().scope()


def train(architecture: Architecture, options: TrainOptions) -> Path:
    """Train (or resume training) into `options.out`; returns the run folder."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    graph = architecture.graph(options.overrides, options.input_shape)
    data = load_data(options.data, graph.input_shape, options.val_split)
    check_fit(data, graph)
    run = Path(options.out)
    state = _read_state(run)
    if state:
        _check_resumable(run, graph, options)
    with _strategy(options.distribute):
        if state and (run / "last.keras").exists():
            model = keras.models.load_model(run / "last.keras")  # weights, optimizer state and compile settings
        else:
            model = to_keras(graph)
            model.compile(
                optimizer=_optimizer(keras, options.optimizer, options.learning_rate),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=outputs_logits(graph)),
                metrics=["sparse_categorical_accuracy"],
            )
    done = int(state.get("epochs_done", 0)) if state else 0
    history = _read_history(run)[:done]
    _write_run_files(run, architecture, graph, data, options)
    if done < options.epochs:
        checkpoint = _checkpoint(run, graph.network, history, done)
        try:
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
        history = checkpoint.history
    elif options.verbose:
        print(f"{run} already holds {done} epochs; ask for more with --epochs")
    _write_results(run, model, history, graph)
    return run


def _checkpoint(run: Path, network: str, history: list[dict], done: int) -> Any:
    """A keras.callbacks.Callback (defined here because Keras is imported lazily)."""
    import keras

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
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(min(len(images), 10_000), seed=0, reshuffle_each_iteration=True)
    dataset = dataset.batch(options.batch_size)
    if shuffle and options.augment and len(images.shape) == 4:
        import keras

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
        raise _error(f"cannot read '{path}': {error}", "delete the run folder to start over") from None


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
        raise _error(f"'{run}' holds a run of a different network ({described})",
                     "resume with the same --set and --input, or train into another --out folder")
    for key, value in (("optimizer", options.optimizer), ("learning_rate", options.learning_rate)):
        if key in saved and saved[key] != value:
            print(f"note: resuming keeps the run's {key} ({saved[key]}); the given {value} is ignored")
    options.optimizer, options.learning_rate = saved.get("optimizer", options.optimizer), saved.get("learning_rate", options.learning_rate)


def _write_run_files(run: Path, architecture: Architecture, graph: Graph, data: Data, options: TrainOptions) -> None:
    write_atomic(run / "spec.arch", architecture.to_arch())
    settings = {
        "network": graph.network, "data": data.source, "classes": data.class_names,
        "parameters": dict(graph.parameters), "input_shape": list(graph.input_shape),
        "logits": outputs_logits(graph), "batch_size": options.batch_size, "optimizer": options.optimizer,
        "learning_rate": options.learning_rate, "augment": options.augment,
    }
    write_atomic(run / "run.json", json.dumps(settings, indent=2) + "\n")


def _write_results(run: Path, model: Any, history: list[dict], graph: Graph) -> None:
    """The summary (archspec's report, then Keras' own), the weights, the history and curves."""
    import numpy as np

    buffer = io.StringIO()
    model.summary(print_fn=lambda line, **_: buffer.write(line + "\n"))
    write_atomic(run / "summary.txt", analyze(graph).to_table() + "\nKeras model.summary():\n" + buffer.getvalue())
    weights = {variable.path.replace("/", "__"): np.asarray(variable) for variable in model.trainable_variables}
    with atomic_target(run / "weights.npz", suffix=".npz") as temporary:
        np.savez(temporary, **weights)
    if history:
        write_atomic(run / "history.csv", _history_csv(history))
        write_atomic(run / "curves.png", plot_curves(history))


def plot_curves(history: list[dict]) -> bytes:
    """Accuracy and loss, training and validation, side by side (the course's figure)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in history]
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(10, 4))
    for axis, key, title in ((left, "sparse_categorical_accuracy", "Accuracy"), (right, "loss", "Loss")):
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
    top: tuple[tuple[str, float], ...]


def predict(run: Path, images: Sequence[str], top: int = 3) -> list[Prediction]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    settings_path = Path(run) / "run.json"
    model_path = next((Path(run) / name for name in ("best.keras", "last.keras") if (Path(run) / name).exists()), None)
    if model_path is None or not settings_path.exists():
        raise _error(f"'{run}' is not a finished run folder (no best.keras/last.keras and run.json)", "train first: archspec train SPEC --data DATA --out RUN")
    settings = json.loads(settings_path.read_text(encoding="utf-8"))
    model = keras.models.load_model(model_path)
    batch = np.stack([read_image(Path(image), settings["input_shape"]) for image in images])
    scores = model.predict(batch, verbose=0)
    if settings.get("logits"):
        scores = keras.ops.convert_to_numpy(keras.ops.softmax(scores))
    names = settings["classes"] + [str(i) for i in range(len(settings["classes"]), scores.shape[1])]
    results = []
    for image, row in zip(images, scores):
        order = np.argsort(row)[::-1][:top]
        results.append(Prediction(image, tuple((names[i], float(row[i])) for i in order)))
    return results
