"""Training data: a Keras data set by name, a `.npz` file in the `keras.datasets` layout, or a
folder with one subfolder per class; read, scaled, split, and checked against the network's
input and output. NumPy, Pillow and Keras are imported inside functions."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..backend import load_keras, load_tensorflow
from ..errors import Diagnostic, SpecError, quoted
from ..graph import Graph

KERAS_DATASETS = ("cifar10", "mnist", "fashion_mnist")
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")

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


def check_data_source(source: str, input_shape: Sequence[int]) -> None:
    """What can be known of `source` before TensorFlow is imported: it names a Keras data set, a
    readable .npz file, or a folder of at least two class folders of readable images, and a
    folder's images fit the network's input rank."""
    path = Path(source)
    if path.is_dir():
        if len(input_shape) != 3:
            raise _error(f"images need a network with an HxWxC input; this one takes {'x'.join(map(str, input_shape))}")
        for files in _class_folders(path).values():
            for file in files:
                check_image_file(file)
    elif path.suffix == ".npz":
        if not path.is_file() or not os.access(path, os.R_OK):
            reason = "no such file" if not path.exists() else "not a readable regular file"
            raise _error(f"cannot read {quoted(path)}: {reason}")
    elif source not in KERAS_DATASETS:
        raise _error(f"no data set {quoted(source)}", f"use {', '.join(KERAS_DATASETS)}, a .npz file (x_train, y_train, x_test, y_test) "
                                                  "or a folder with one subfolder of images per class")


def check_val_split(val_split: float | None) -> None:
    if val_split is not None and not 0 < val_split < 1:
        raise _error(f"--val-split must be between 0 and 1; received {val_split}")


def load_data(source: str, input_shape: Sequence[int], val_split: float | None) -> Data:
    """Load `source` as float32 images in [0, 1] with integer labels."""
    import numpy as np

    check_data_source(source, input_shape)
    check_val_split(val_split)
    path = Path(source)
    if path.is_dir():
        data = _load_folder(path, input_shape)
    elif path.suffix == ".npz":
        data = _load_npz(path)
    else:
        data = _load_keras_dataset(source)
    if val_split is not None:
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
        raise _error(f"cannot read {quoted(path)}: {error}") from None
    missing = [key for key in ("x_train", "y_train") if key not in archive.files]
    if missing:
        raise _error(f"{quoted(path)} lacks {', '.join(missing)}", "the keras.datasets layout: x_train, y_train, x_test, y_test")
    x_test = _scaled(archive["x_test"]) if "x_test" in archive.files else None
    y_test = _labels(archive["y_test"]) if "y_test" in archive.files else None
    y_train = _labels(archive["y_train"])
    names = [str(n) for n in archive["class_names"]] if "class_names" in archive.files else None
    classes = int(max(y_train.max(initial=0), y_test.max(initial=0) if y_test is not None else 0)) + 1
    return Data(_scaled(archive["x_train"]), y_train, x_test, y_test, names or [str(i) for i in range(classes)], str(path))


def _load_keras_dataset(name: str) -> Data:
    keras = load_keras()

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


def _class_folders(folder: Path) -> dict[str, list[Path]]:
    """The class folders of an image folder, in name order, each with its image files."""
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise _error(f"{quoted(folder)} needs at least two subfolders, one per class; found {len(classes)}")
    found = {}
    for name in classes:
        files = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise _error(f"class folder {quoted(folder / name)} has no images ({', '.join(IMAGE_SUFFIXES)})")
        found[name] = files
    return found


def _load_folder(folder: Path, input_shape: Sequence[int]) -> Data:
    import numpy as np

    images, labels = [], []
    classes = _class_folders(folder)
    for index, files in enumerate(classes.values()):
        for file in files:
            images.append(read_image(file, input_shape))
            labels.append(index)
    return Data(np.stack(images), np.asarray(labels, dtype="int64"), None, None, list(classes), str(folder))


def read_image(path: Path, input_shape: Sequence[int]) -> Any:
    """One image file, resized to the network's input, channels as it expects, in [0, 1]."""
    tf = load_tensorflow()

    if len(input_shape) != 3:
        raise _error(f"images need a network with an HxWxC input; this one takes {'x'.join(map(str, input_shape))}")
    height, width, channels = input_shape
    check_image_file(path)
    try:
        image = tf.io.decode_image(tf.io.read_file(str(path)), channels=channels, expand_animations=False)
    except (tf.errors.OpError, ValueError):  # TensorFlow's own text names its internals, not the problem
        raise _error(f"cannot decode the image {quoted(path)}", "images are PNG, JPEG, BMP or GIF files") from None
    image = tf.image.resize(tf.cast(image, tf.float32) / 255.0, (height, width))
    return image.numpy()


def check_image_file(path: Path) -> None:
    """Before TensorFlow is asked: the image is a readable regular file."""
    if not os.path.exists(path):
        raise _error(f"cannot read the image {quoted(path)}: no such file")
    if not os.path.isfile(path):
        raise _error(f"cannot read the image {quoted(path)}: not a regular file")
    if not os.access(path, os.R_OK):
        raise _error(f"cannot read the image {quoted(path)}: permission denied")


def refuse_several_inputs_or_outputs(graph: Graph) -> None:
    """The course's recipe trains an image classifier: one input, one output of class scores."""
    if graph.extra_inputs or graph.extra_outputs:
        counts = f"{len(graph.inputs)} input{'s' if len(graph.inputs) > 1 else ''} and {len(graph.outputs)} output{'s' if len(graph.outputs) > 1 else ''}"
        raise _error(f"{graph.network} has {counts}; `train` fits one image input to one output of class scores",
                     "train the emitted Keras model yourself (`archspec build`), with a data set for each input and output")


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
