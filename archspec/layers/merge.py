"""Merges of several inputs: element-wise add and concatenation."""

from __future__ import annotations

from typing import ClassVar, Sequence

from pydantic import Field, StrictInt

from .base import MERGE, Family, Layer, Shape, ShapeError, elements, format_shape


class Add(Layer):
    """Element-wise sum of equal shapes (keras.layers.Add)."""

    op: ClassVar[str] = "add"
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = MERGE
    inputs_allowed: ClassVar[tuple[int, int | None]] = (2, None)
    keras_layer: ClassVar[str] = "layers.Add"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        first = inputs[0]
        for index, shape in enumerate(inputs[1:], start=2):
            if shape != first:
                if len(shape) == len(first) == 3 and shape[:2] == first[:2]:
                    hint = f"match the channels with a 1x1 conv on one path, e.g. `conv({first[2]}, 1)`"
                elif len(shape) == len(first) == 3:
                    hint = "downsample the other path too, e.g. a strided 1x1 conv"
                else:
                    hint = None
                raise ShapeError(f"needs inputs of equal shape; input 1 is {format_shape(first)} but input {index} is {format_shape(shape)}", hint=hint)
        return first

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return (len(inputs) - 1) * elements(output)

    def mismatch_hint(self, shapes: Sequence[Shape]) -> str | None:
        """A residual's body and shortcut differ: project the shortcut to the body's shape."""
        main, shortcut = shapes[0], shapes[-1]
        if len(main) != 3 or len(shortcut) != 3:
            return None
        stride = shortcut[0] // max(main[0], 1)
        return f"project the shortcut: `shortcut {{ conv({main[2]}, 1" + (f", stride={stride}" if stride > 1 else "") + ", bias=false) bn }`"


class Concat(Layer):
    """Concatenation along an axis, channels by default (keras.layers.Concatenate)."""

    op: ClassVar[str] = "concat"
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = MERGE
    inputs_allowed: ClassVar[tuple[int, int | None]] = (2, None)
    keras_layer: ClassVar[str] = "layers.Concatenate"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("axis", "axis"),)

    axis: StrictInt = Field(default=-1, le=-1)  # counted from the end (-1: channels), as Keras counts the batch axis too

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        rank = len(inputs[0])
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 <= axis < rank:
            raise ShapeError(f"axis {self.axis} is out of range for {rank}-axis inputs", argument="axis")
        for index, shape in enumerate(inputs[1:], start=2):
            others = [n for i, n in enumerate(shape) if i != axis]
            expected = [n for i, n in enumerate(inputs[0]) if i != axis]
            if len(shape) != rank or others != expected:
                raise ShapeError(
                    f"needs inputs that agree except on axis {self.axis}; input 1 is {format_shape(inputs[0])} but input {index} is {format_shape(shape)}",
                    hint="give every branch the same stride and padding so their spatial sizes match",
                )
        return tuple(sum(shape[axis] for shape in inputs) if i == axis else n for i, n in enumerate(inputs[0]))


