"""Normalization over features and input preprocessing: LayerNormalization and Rescaling.
(Batch normalization, which the course's CBAPD unit uses, sits with dense in `core`.)"""

from __future__ import annotations

from typing import ClassVar, Literal, Sequence

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from .base import NORM, Family, Layer, Shape, Weight, elements


class LayerNorm(Layer):
    """Layer normalization over the last axis (keras.layers.LayerNormalization)."""

    op: ClassVar[str] = "layer_norm"
    family: ClassVar[Family] = NORM
    keras_layer: ClassVar[str] = "layers.LayerNormalization"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (
        ("axis", "axis"), ("epsilon", "epsilon"), ("center", "center"), ("scale", "scale"),
    )

    axis: Literal[-1] = -1  # the features axis; other axes are not supported yet
    epsilon: StrictFloat | StrictInt = Field(default=0.001, gt=0)
    center: StrictBool = True
    scale: StrictBool = True

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        features = (inputs[0][-1],)
        return (*((Weight("gamma", features),) if self.scale else ()), *((Weight("beta", features),) if self.center else ()))

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # Keras 3 on TensorFlow (measured with TF 2.21, pinned by a test): the moments (mean,
        # square, mean, square and subtract, a floor at 0), + epsilon, rsqrt (2 per value), then
        # x * inv - mean * inv: 6 per element and 5 per position; gamma scales inv per element
        # (and so the mean's product grows to every element), beta adds one per element.
        values, positions = elements(inputs[0]), elements(inputs[0][:-1])
        flops = 6 * values + 5 * positions
        if self.scale:
            flops += 2 * values - positions
        if self.center:
            flops += values
        return flops


class Rescaling(Layer):
    """x * scale + offset, element by element (keras.layers.Rescaling): `rescaling(1/255)`."""

    op: ClassVar[str] = "rescaling"
    family: ClassVar[Family] = NORM
    starts_line: ClassVar[bool] = True
    positional: ClassVar[tuple[str, ...]] = ("scale", "offset")
    keras_layer: ClassVar[str] = "layers.Rescaling"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("scale", "scale"), ("offset", "offset"))
    keras_positional: ClassVar[int] = 1

    scale: StrictFloat | StrictInt
    offset: StrictFloat | StrictInt = 0.0

    def label(self) -> str:
        return f"rescaling x{self.scale:g}" + (f" {self.offset:+g}" if self.offset else "")

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return 2 * elements(output)  # a Mul and an AddV2 per element, the offset 0 included
