"""Training data: a Keras data set by name, a `.npz` file in the `keras.datasets` layout
(`x_train`, `y_train`, `x_test`, `y_test`; the y arrays class ids, masks, targets or 0/1 label
rows), a folder with one subfolder per class, or a folder of `images/` and `masks/` (the same
file names) for segmentation; read, scaled, split, and checked against the network's input.
The labels stay as read: the task (tasks.py) turns them into what its loss takes. NumPy and
TensorFlow are imported inside functions."""

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
        pairs = _mask_pairs(path) if is_mask_folder(path) else None
        files = [file for pair in pairs for file in pair] if pairs else [f for fs in _class_folders(path).values() for f in fs]
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
    """Load `source` as float32 images in [0, 1], the labels as they are stored."""
    import numpy as np

    check_data_source(source, input_shape)
    check_val_split(val_split)
    path = Path(source)
    if path.is_dir():
        data = _load_mask_folder(path, input_shape) if is_mask_folder(path) else _load_folder(path, input_shape)
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
        data = Data(data.x_train[train], _take(data.y_train, train), data.x_train[held], _take(data.y_train, held), data.class_names,
                    data.source)
    return data


def _take(labels: Any, rows: Any) -> Any:
    return {name: y[rows] for name, y in labels.items()} if isinstance(labels, dict) else labels[rows]


def _scaled(images: Any) -> Any:
    import numpy as np

    images = np.asarray(images)
    if images.ndim == 3:  # grayscale without a channel axis (MNIST)
        images = images[..., None]
    images = images.astype("float32")
    if images.size and images.max() > 1.0:
        images /= 255.0
    return images


def _load_npz(path: Path) -> Data:
    import numpy as np

    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise _error(f"cannot read {quoted(path)}: {error}") from None
    named_labels = any(name.startswith("y_train_") for name in archive.files)  # one per output of several
    missing = [key for key in ("x_train", "y_train") if key not in archive.files and not (key == "y_train" and named_labels)]
    if missing:
        raise _error(f"{quoted(path)} lacks {', '.join(missing)}", "the keras.datasets layout: x_train, y_train, x_test, y_test")
    x_test = _scaled(archive["x_test"]) if "x_test" in archive.files else None
    y_test = _npz_labels(archive, "y_test")
    if (x_test is None) != (y_test is None):
        present, absent = ("x_test", "y_test") if y_test is None else ("y_test", "x_test")
        raise _error(f"{quoted(path)} has {present} but no {absent}", "store both test arrays, or neither (then --val-split holds out training samples)")
    names = [str(n) for n in archive["class_names"]] if "class_names" in archive.files else []
    return Data(_scaled(archive["x_train"]), _npz_labels(archive, "y_train"), x_test, y_test, names, str(path))


def _npz_labels(archive: Any, key: str) -> Any:
    """`y_train`, or, for a network of several outputs, `y_train_NAME` for each (a dict)."""
    import numpy as np

    if key in archive.files:
        return np.asarray(archive[key])
    named = {name[len(key) + 1:]: np.asarray(archive[name]) for name in archive.files if name.startswith(key + "_")}
    return named or None


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
    return Data(_scaled(x_train), y_train.reshape(-1), _scaled(x_test), y_test.reshape(-1), names, name)


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


MASK_FOLDERS = ("images", "masks")


def is_mask_folder(folder: Path) -> bool:
    """A segmentation folder: `images/` and `masks/`, each mask named as its image (any suffix)."""
    return all((folder / name).is_dir() for name in MASK_FOLDERS)


def _mask_pairs(folder: Path) -> list[tuple[Path, Path]]:
    images = {p.stem: p for p in sorted((folder / "images").iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    masks = {p.stem: p for p in sorted((folder / "masks").iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    if not images:
        raise _error(f"{quoted(folder / 'images')} has no images ({', '.join(IMAGE_SUFFIXES)})")
    unmatched = sorted(set(images) ^ set(masks))
    if unmatched:
        raise _error(f"{len(unmatched)} image{'s' if len(unmatched) > 1 else ''} of {quoted(folder)} without a mask of the same name, "
                     f"or masks without an image: {', '.join(unmatched[:5])}", "each images/NAME.png has its masks/NAME.png")
    return [(images[stem], masks[stem]) for stem in images]


def _load_mask_folder(folder: Path, input_shape: Sequence[int]) -> Data:
    """Images and their masks: each mask pixel is the class id of its image's pixel (a
    single-channel PNG), resized to the input with nearest neighbours so ids stay ids."""
    import numpy as np

    tf = load_tensorflow()
    images, masks = [], []
    for image, mask in _mask_pairs(folder):
        images.append(read_image(image, input_shape))
        try:
            decoded = tf.io.decode_image(tf.io.read_file(str(mask)), channels=1, expand_animations=False)
        except (tf.errors.OpError, ValueError):
            raise _error(f"cannot decode the mask {quoted(mask)}", "masks are single-channel PNG files of class ids") from None
        masks.append(tf.image.resize(decoded, input_shape[:2], method="nearest").numpy()[..., 0])
    return Data(np.stack(images), np.stack(masks).astype("int64"), None, None, [], str(folder))


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


def refuse_several_inputs(graph: Graph) -> None:
    """`train` fits one input (to one output, or to several, each with its own labels)."""
    if graph.extra_inputs:
        raise _error(f"{graph.network} has {len(graph.inputs)} inputs; `train` fits one input",
                     "train the emitted Keras model yourself (`archspec build`), with a data set for each input")


def check_fit(data: Data, graph: Graph, tasks: dict[str, Any]) -> None:
    """Refuse data that does not fit the network (its input, and each output's task), before any training."""
    expected = tuple(graph.input_shape)
    problems = []
    for name, images in (("training", data.x_train), ("test", data.x_test)):
        if images is not None and tuple(images.shape[1:]) != expected:
            shape = "x".join(map(str, images.shape[1:]))
            problems.append(Diagnostic(
                "error", f"the {name} images of {data.source} are {shape} but {graph.network} takes {'x'.join(map(str, expected))}",
                hint=f"use --input {shape} if the network can take that size, or resize the data",
            ))
    for output, task in tasks.items():
        labels = {name: labels_of(y, output) for name, y in (("training", data.y_train), ("test", data.y_test)) if y is not None}
        problems += [Diagnostic("error", message, hint=hint) for message, hint in task.check(labels, data.source, graph)]
    if problems:
        raise SpecError(problems)


def labels_of(y: Any, output: str) -> Any:
    """One output's labels: a network of several outputs has them by output name."""
    return y[output] if isinstance(y, dict) else y


def check_labels_for_outputs(data: Data, graph: Graph) -> None:
    """Several outputs need labels by name (`y_train_NAME`); one output takes `y_train`."""
    outputs = graph.outputs
    for split, y in (("training", data.y_train), ("test", data.y_test)):
        if y is None:
            continue
        if len(outputs) == 1 and isinstance(y, dict):
            raise _error(f"{data.source} has {split} labels by output name ({', '.join(y)}) but {graph.network} has one output",
                         "name them y_train and y_test")
        if len(outputs) > 1:
            missing = [name for name in outputs if not isinstance(y, dict) or name not in y]
            if missing:
                prefix = "y_train" if split == "training" else "y_test"
                raise _error(f"{graph.network} has {len(outputs)} outputs ({', '.join(outputs)}); {data.source} lacks the {split} labels of "
                             f"{', '.join(missing)}", f"store each output's labels as {prefix}_NAME, e.g. {prefix}_{missing[0]}")


# ---------------------------------------------------------------------------------------------
# Training
