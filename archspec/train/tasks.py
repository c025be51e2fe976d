"""What a training run learns: classification, segmentation, regression or multilabel. Each
task knows the labels it takes, the loss and the metrics it compiles with, and what it checks
of the data against the network's output; `infer_task` picks one from the output and the
labels where that is unambiguous (a per-pixel softmax is segmentation).

Takes the network's `Graph` and the raw labels; hands out a `Task`. Keras is imported inside
functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..graph import INPUT, Graph
from .data import _error

TASKS = ("classification", "segmentation", "regression", "multilabel")


def final_activation(graph: Graph, output: str) -> str | None:
    """The activation that ends an output (`softmax`, `sigmoid`, ...), looking past layers that
    pass values through (dropout, identity, reshape); None for a linear end (logits)."""
    node = graph.node(output)
    while node.layer.preserves_values and node.inputs[0] != INPUT:
        node = graph.node(node.inputs[0])
    return node.layer.final_activation


def takes_logits(activation: str | None) -> bool:
    """Whether a loss takes the output as logits: it ends without a softmax or a sigmoid."""
    return activation not in ("softmax", "sigmoid")


@dataclass(frozen=True)
class Task:
    name: str
    output_shape: tuple[int, ...]
    activation: str | None  # what ends the network

    @property
    def logits(self) -> bool:
        return takes_logits(self.activation)

    @property
    def binary(self) -> bool:
        """One output channel for two classes (a sigmoid mask, or yes/no)."""
        return self.output_shape[-1] == 1 and self.activation != "softmax"

    @property
    def classes(self) -> int:
        return 2 if self.binary else self.output_shape[-1]

    def labels(self, y: Any) -> Any:
        """The labels as the loss takes them."""
        import numpy as np

        y = np.asarray(y)
        if self.name == "classification":
            if y.ndim == 2 and y.shape[1] == self.output_shape[-1] > 1:  # one-hot rows: their class ids
                y = y.argmax(axis=1)
            return y.reshape(-1, 1).astype("float32") if self.binary else y.reshape(-1).astype("int64")
        if self.name == "segmentation":
            if y.ndim == len(self.output_shape) + 1 and y.shape[-1] == 1:
                y = y[..., 0]  # masks stored HxWx1
            return y.astype("float32")[..., None] if self.binary else y.astype("int64")
        return y.reshape(len(y), -1).astype("float32") if self.name in ("regression", "multilabel") else y

    def loss(self, keras: Any) -> Any:
        if self.name == "regression":
            return keras.losses.MeanSquaredError()
        if self.name == "multilabel" or self.binary:
            return keras.losses.BinaryCrossentropy(from_logits=self.logits)
        return keras.losses.SparseCategoricalCrossentropy(from_logits=self.logits)

    def metrics(self, keras: Any) -> list[Any]:
        threshold = 0.0 if self.logits else 0.5
        if self.name == "regression":
            return [keras.metrics.MeanAbsoluteError(name="mae")]
        if self.name == "multilabel":
            return [keras.metrics.BinaryAccuracy(name="accuracy", threshold=threshold),
                    keras.metrics.AUC(name="auc", multi_label=True, from_logits=self.logits)]
        if self.name == "segmentation":
            if self.binary:
                return [keras.metrics.BinaryAccuracy(name="accuracy", threshold=threshold),
                        keras.metrics.BinaryIoU(target_class_ids=[0, 1], threshold=threshold, name="mean_iou")]
            return [keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                    keras.metrics.MeanIoU(num_classes=self.classes, sparse_y_true=True, sparse_y_pred=False, name="mean_iou")]
        if self.binary:  # one sigmoid unit for two classes
            return [keras.metrics.BinaryAccuracy(name="accuracy", threshold=threshold)]
        return [keras.metrics.SparseCategoricalAccuracy()]  # named sparse_categorical_accuracy, as the course's runs

    @property
    def curves(self) -> tuple[str, str]:
        """The metric drawn beside the loss in curves.png, and its title."""
        if self.name == "classification" and not self.binary:
            return "sparse_categorical_accuracy", "Accuracy"
        return {"regression": ("mae", "Mean absolute error"), "segmentation": ("mean_iou", "Mean IoU")}.get(self.name, ("accuracy", "Accuracy"))

    def check(self, splits: dict[str, Any], source: str, graph: Graph) -> list[tuple[str, str | None]]:
        """What of the labels (by split: training, test) does not fit: each problem as (sentence, hint)."""
        import numpy as np

        output, network = self.output_shape, graph.network
        problems: list[tuple[str, str | None]] = []
        if self.name in ("classification", "segmentation"):
            if self.name == "classification" and len(output) != 1:
                return [(f"{network} outputs {_shape(output)}; classification needs one score per class", None)]
            for split, y in splits.items():
                y = np.asarray(y)
                mask = y.shape[1:-1] if y.ndim == len(output) + 1 and y.shape[-1] == 1 else y.shape[1:]
                if self.name == "segmentation" and tuple(mask) != tuple(output[:-1]):
                    problems.append((f"the {split} masks of {source} are {_shape(mask)} but {network} outputs "
                                     f"{_shape(output[:-1])} positions", None))
            top = max(int(np.asarray(self.labels(y)).max(initial=0)) + 1 for y in splits.values())
            if top > self.classes and not problems:
                scores = "scores" if self.name == "classification" else "classes per position"
                problems.append((f"{source} has {top} classes but {network} outputs {self.classes} {scores}", _classes_hint(graph, top)))
            return problems
        for split, y in splits.items():
            y = np.asarray(y)
            width = int(np.prod(y.shape[1:])) if y.ndim > 1 else 1
            if len(output) != 1 or width != output[0]:
                problems.append((f"the {split} targets of {source} have {width} values each but {network} outputs {_shape(output)}", None))
            elif self.name == "multilabel" and not np.isin(y, (0, 1)).all():
                problems.append((f"the {split} targets of {source} are not all 0 or 1, as multilabel targets are", None))
        return problems


def _classes_hint(graph: Graph, classes: int) -> str | None:
    return f"set the class count, e.g. --set classes={classes}" if any(name == "classes" for name, _ in graph.parameters) else None


def _shape(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape))


def infer_task(graph: Graph, y: Any, asked: str | None, output_name: str | None = None) -> Task:
    """The task `asked` for, or the one the output (the network's first unless named) and its
    labels imply; an error when they could mean two."""
    import numpy as np

    output_name = output_name or graph.output
    output = tuple(graph.shape_of(output_name))
    activation = final_activation(graph, output_name)
    if asked is not None:  # one of TASKS: run.preflight checked it
        return Task(asked, output, activation)
    y = np.asarray(y)
    spatial = tuple(graph.input_shape[:-1])
    if len(output) > 1:
        if tuple(output[:-1]) == spatial and activation in ("softmax", "sigmoid", None):
            return Task("segmentation", output, activation)
        raise _error(f"{graph.network} outputs {_shape(output)}, a map of another size than its input",
                     "say what it learns with --task (segmentation needs one output position per input pixel)")
    integral = y.dtype.kind in "iub" or (y.dtype.kind == "f" and bool(np.all(np.mod(y, 1) == 0)))
    if y.ndim == 2 and y.shape[1] == output[0] > 1 and integral and np.isin(y, (0, 1)).all():
        # 0/1 rows: one-hot class labels under a softmax, independent labels otherwise
        return Task("classification" if activation == "softmax" and (y.sum(axis=1) == 1).all() else "multilabel", output, activation)
    if not integral:
        return Task("regression", output, activation)
    one_label = y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)
    if one_label and (activation in ("softmax", None) or (activation == "sigmoid" and output == (1,))):  # a sigmoid unit: yes or no
        return Task("classification", output, activation)
    raise _error(f"cannot tell what {graph.network} learns from its {_shape(output)} output and these labels",
                 f"say it with --task ({', '.join(TASKS)})")
