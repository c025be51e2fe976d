"""The training-memory ledger: what one training step of the emitted Keras model holds, for a
batch size, an optimizer and a dtype policy, from the report alone.

Takes a `Report` and a `TrainingSetup`; hands out a frozen `MemoryLedger` (bytes for the
parameters, their gradients, the optimizer's slots, the activations kept for the backward pass,
the transient workspace, the peak) and the largest batch that fits a memory size. The method
and its limits are in docs/conventions.md ("Training memory").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from ..graph import INPUT
from ..layers import elements
from .report import Report

# Keras 3's optimizers keep, per trainable variable, this many slot variables of its size
# (defaults: SGD without momentum, RMSprop neither centred nor with momentum, Adam without amsgrad).
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2, "nadam": 2, "rmsprop": 1, "adagrad": 1}
OPTIMIZER_SCALARS = 12  # every Keras optimizer's `iterations` (int64) and learning rate (float32)
# Bytes of a value the layers compute with. Under a mixed policy Keras keeps the variables (and
# so their gradients and the optimizer's slots) in float32 and computes in 16 bits.
COMPUTE_BYTES = {"float32": 4, "mixed_float16": 2, "mixed_bfloat16": 2}
VARIABLE_BYTES = 4
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}


def parse_size(text: str) -> int:
    """`8GiB`, `512 MiB`, `16GB`, `1000000` (bytes) as bytes; ValueError otherwise."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"expected a size such as 8GiB, 512MiB or 16GB; received {text!r}")
    number, unit = match.groups()
    size = int(float(number) * _UNITS[(unit or "b").lower()])
    if size <= 0:
        raise ValueError(f"expected a size above zero; received {text!r}")
    return size


@dataclass(frozen=True)
class TrainingSetup:
    batch: int = 32
    optimizer: str = "adam"
    dtype: str = "float32"
    memory: int | None = None  # bytes available: the ledger then gives the largest batch that fits

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZER_SLOTS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; expected one of {', '.join(OPTIMIZER_SLOTS)}")
        if self.dtype not in COMPUTE_BYTES:
            raise ValueError(f"unknown dtype policy {self.dtype!r}; expected one of {', '.join(COMPUTE_BYTES)}")
        if self.batch < 1:
            raise ValueError(f"the batch size must be at least 1; received {self.batch}")


class MemoryLedger(NamedTuple):
    setup: TrainingSetup
    parameters: int  # every variable, trainable or not (BN's moving statistics), in float32
    gradients: int  # one float32 gradient per trainable parameter
    optimizer_slots: int
    activations: int  # what the layers' gradients keep from the forward pass, for the whole batch
    workspace: int  # the gradients of the widest layer's output and inputs, alive at once in the backward pass
    per_sample: int  # activations and workspace for one sample
    layer_bytes: tuple[int, ...]  # each layer's kept activations, for the whole batch (report order)
    largest_batch: int | None = None  # the most samples that fit `setup.memory`

    @property
    def static(self) -> int:
        """What does not grow with the batch."""
        return self.parameters + self.gradients + self.optimizer_slots

    @property
    def peak(self) -> int:
        return self.static + self.activations + self.workspace

    def to_dict(self) -> dict:
        return {
            "batch": self.setup.batch, "optimizer": self.setup.optimizer, "dtype": self.setup.dtype,
            "parameters": self.parameters, "gradients": self.gradients, "optimizer_slots": self.optimizer_slots,
            "activations": self.activations, "workspace": self.workspace, "peak": self.peak, "per_sample": self.per_sample,
            "memory": self.setup.memory, "largest_batch": self.largest_batch,
        }


def memory_ledger(report: Report, setup: TrainingSetup) -> MemoryLedger:
    compute = COMPUTE_BYTES[setup.dtype]
    trainable = report.totals.trainable_params
    parameters = report.totals.params * VARIABLE_BYTES
    gradients = trainable * VARIABLE_BYTES
    slots = OPTIMIZER_SLOTS[setup.optimizer] * trainable * VARIABLE_BYTES + OPTIMIZER_SCALARS
    kept = _kept_per_layer(report)
    shapes = _shapes(report)
    # Backward through the widest layer: the gradient of its output and those of its inputs,
    # alive at once (its tensors themselves are among the kept ones, or freed after the forward pass).
    widest = max((elements(layer.output_shape) + sum(elements(shapes[i]) for i in layer.inputs) for layer in report.layers), default=0)
    per_sample = (sum(kept) + widest) * compute
    static = parameters + gradients + slots
    largest = None if setup.memory is None or not per_sample else max(0, (setup.memory - static) // per_sample)
    batch = setup.batch
    return MemoryLedger(setup, parameters, gradients, slots, sum(kept) * compute * batch, widest * compute * batch,
                        per_sample, tuple(value * compute * batch for value in kept), largest)


def _shapes(report: Report) -> dict[str, tuple[int, ...]]:
    return {INPUT: report.input_shape, **dict(report.inputs)} | {layer.name: layer.output_shape for layer in report.layers}


def _kept_per_layer(report: Report) -> list[int]:
    """Values per sample each layer accounts for: the tensors some gradient holds, each once
    (a relu's output is also the next conv's input), on the layer that made it (the network's
    inputs on their first reader), and each layer's own values (masks, pre-activations)."""
    shapes = _shapes(report)
    index = {layer.name: position for position, layer in enumerate(report.layers)}
    kept = [layer.kept_for_gradient.own for layer in report.layers]
    held: set[str] = set()
    for position, layer in enumerate(report.layers):
        retained = layer.kept_for_gradient
        tensors = (list(layer.inputs) if retained.inputs else []) + ([layer.name] if retained.output else [])
        for tensor in tensors:
            if tensor not in held:
                held.add(tensor)
                kept[index.get(tensor, position)] += elements(shapes[tensor])
    return kept
