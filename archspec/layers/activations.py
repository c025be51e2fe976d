"""Activations with arguments or weights: ReLU with its cap, slope and threshold, softmax over
any axis, and PReLU's learned slopes. (The plain functions are `act`'s presets, in `core`.)"""


from typing import Any, ClassVar, Sequence

from pydantic import Field, StrictFloat, StrictInt, field_validator

from ..errors import show_value
from .base import ACTIVATION, InitializerName, KerasArgument, KerasCall, Layer, Shape, ShapeError, Weight, elements


class _FunctionOrLayer(Layer):
    """A kind that is the plain Keras activation function at its default arguments (so the
    course's `Activation("relu")` stays what `relu` emits) and Keras' own layer otherwise."""

    family = ACTIVATION
    function: ClassVar[str]

    def keras_call(self, explicit: bool = False, keep: Sequence[str] = ()) -> KerasCall:
        if not self.arguments() and not keep:
            return KerasCall("layers.Activation", (KerasArgument("activation", self.function),), positional=1)
        return super().keras_call(explicit, keep)


class ReLU(_FunctionOrLayer):
    """max(x, 0), optionally capped, leaky below a threshold (keras.layers.ReLU):
    `relu(max_value=6)`, `relu(negative_slope=0.1, threshold=1)`."""

    op = "relu"
    gradient_keeps = ("output",)
    function = "relu"
    positional = ("max_value",)
    keras_layer = "layers.ReLU"
    keras_arguments = (
        ("max_value", "max_value"), ("negative_slope", "negative_slope"), ("threshold", "threshold"),
    )
    keras_positional = 1

    max_value: StrictFloat | StrictInt | None = Field(default=None, ge=0)
    negative_slope: StrictFloat | StrictInt = Field(default=0.0, ge=0)
    threshold: StrictFloat | StrictInt = Field(default=0.0, ge=0)

    def label(self) -> str:
        parts = [f"max {self.max_value:g}" if self.max_value is not None else "",
                 f"slope {self.negative_slope:g}" if self.negative_slope else "",
                 f"threshold {self.threshold:g}" if self.threshold else ""]
        return " ".join(["relu", ", ".join(part for part in parts if part)]).strip()

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # Keras 3's relu on TensorFlow (keras.src.activations.relu, measured with TF 2.21): the
        # plain form, a cap of 6 alone and a slope alone are single Relu / Relu6 / LeakyRelu ops
        # (no FLOPs registered); otherwise it composes, per element: the threshold's Greater (its
        # Select is free), a cap's clip (Minimum and Maximum: 2), and the slope's negative part
        # -x (+ threshold), Relu, * slope, subtracted: 3, or 4 with a threshold.
        slope, threshold = self.negative_slope != 0, self.threshold != 0
        capped = self.max_value is not None and (threshold or self.max_value != 6)
        if slope and not threshold and self.max_value is None:
            return 0
        per_element = (1 if threshold else 0) + (2 if capped else 0) + ((4 if threshold else 3) if slope else 0)
        return per_element * elements(output)


class Softmax(_FunctionOrLayer):
    """Softmax over one axis (keras.layers.Softmax): `softmax`, `softmax(axis=1)`."""

    op = "softmax"
    gradient_keeps = ("output",)
    function = "softmax"
    positional = ("axis",)
    keras_layer = "layers.Softmax"
    keras_arguments = (("axis", "axis"),)

    axis: StrictInt = -1

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        _axis_of(self, self.axis, inputs[0])
        return inputs[0]

    @property
    def final_activation(self) -> str | None:
        return "softmax"

    def label(self) -> str:
        return "softmax" if self.axis == -1 else f"softmax, axis {self.axis}"

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # The Softmax op counts 5 per element; over another axis TensorFlow swaps that axis last
        # and back, and tf.profiler counts the scalar ops computing the swap: 2, and 3 more
        # when the axis is given from the end (measured with TF 2.21).
        if _axis_of(self, self.axis, inputs[0]) == len(inputs[0]) - 1:
            return 5 * elements(output)
        return 5 * elements(output) + 2 + (3 if self.axis < 0 else 0)


def _axis_of(layer: Layer, axis: int, shape: Shape) -> int:
    """The 0-based index in `shape` (batch excluded) of a Keras axis: 1..rank, or -rank..-1."""
    rank = len(shape)
    if not (1 <= axis <= rank or -rank <= axis <= -1):
        raise ShapeError(f"axis {axis} does not exist on a {rank}-axis input ({'x'.join(map(str, shape))})",
                         argument="axis", hint=f"Keras counts axes from 1 (0 is the batch) to {rank}, or from -1 back")
    return axis - 1 if axis > 0 else rank + axis


class PReLU(Layer):
    """ReLU with a learned slope for negative values (keras.layers.PReLU), one per value, or
    shared along `shared_axes` (Keras' 1-based axes: `prelu(shared_axes=[1, 2])` learns one
    slope per channel of a map)."""

    op = "prelu"
    gradient_keeps = ("inputs",)
    family = ACTIVATION
    keras_layer = "layers.PReLU"
    keras_arguments = (("alpha_initializer", "alpha_init"), ("shared_axes", "shared_axes"))

    alpha_init: InitializerName = "zeros"
    shared_axes: tuple[StrictInt, ...] | None = None

    @field_validator("shared_axes")
    @classmethod
    def _distinct(cls, value: Any) -> Any:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"expected distinct axes; received {show_value(value)}")
        return value

    def _slopes(self, shape: Shape) -> Shape:
        shared = {_axis_of(self, axis, shape) for axis in self.shared_axes or ()}
        return tuple(1 if index in shared else size for index, size in enumerate(shape))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        self._slopes(inputs[0])
        return inputs[0]

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        return (Weight("alpha", self._slopes(inputs[0])),)

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # relu(x) + (-alpha) * relu(-x): Neg of x, Neg of alpha, Mul, Add per element.
        return 3 * elements(output) + elements(self._slopes(inputs[0]))
