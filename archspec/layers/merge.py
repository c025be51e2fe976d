"""Merges of several inputs: the element-wise ones (add, multiply, subtract, average, maximum,
minimum; broadcasting as Keras 3 does) and concatenation."""


from typing import Sequence

from pydantic import Field, StrictFloat, StrictInt

from .base import CUSTOM_PREFIX, MERGE, KerasArgument, KerasCall, KerasEquivalent, Layer, Shape, ShapeError, elements, format_shape


def broadcast(inputs: Sequence[Shape]) -> Shape:
    """Keras 3's element-wise broadcasting for inputs of one rank: on each axis the sizes agree,
    or all but one are 1 (a 1x1xC gate times an HxWxC map)."""
    first = inputs[0]
    result = list(first)
    for index, shape in enumerate(inputs[1:], start=2):
        if len(shape) != len(first):
            raise ShapeError(
                f"needs inputs of one rank; input 1 is {format_shape(first)} but input {index} is {format_shape(shape)}",
                hint=_rank_hint(first, shape),
            )
        for axis, (have, size) in enumerate(zip(result, shape)):
            if have != size and 1 not in (have, size):
                raise ShapeError(
                    f"needs inputs of equal shape (or size 1 on an axis, to broadcast); input 1 is {format_shape(first)} "
                    f"but input {index} is {format_shape(shape)}",
                    hint=_match_hint(first, shape),
                )
            result[axis] = max(have, size)
    return tuple(result)


def _rank_hint(first: Shape, other: Shape) -> str | None:
    flat = first if len(first) == 1 else other if len(other) == 1 else None
    if flat is None or 3 not in (len(first), len(other)):
        return None
    return f"give the vector a 1x1 grid to broadcast over the map: `reshape([1, 1, {flat[0]}])`, or `global_avg_pool(keepdims=true)`"


def _match_hint(first: Shape, other: Shape) -> str | None:
    if len(other) == len(first) == 3 and other[:2] == first[:2]:
        return f"match the channels with a 1x1 conv on one path, e.g. `conv({first[2]}, 1)`"
    if len(other) == len(first) == 3:
        return "downsample the other path too, e.g. a strided 1x1 conv"
    return None


class _Elementwise(Layer):
    """Merges that combine inputs value by value, broadcasting as Keras 3 does; tf.profiler counts
    one binary op per output element for each input after the first."""

    starts_line = True
    family = MERGE
    inputs_allowed = (2, None)
    elementwise = True

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return broadcast(inputs)

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return (len(inputs) - 1) * elements(output)


class Add(_Elementwise):
    """Element-wise sum (keras.layers.Add); with `scale`, the first input is scaled first:
    `residual(scale=0.17) { ... }` is InceptionResNetV2's x + 0.17·F(x), emitted as archspec's
    ScaledAdd layer (Keras has none; InceptionResNetV2 defines its own CustomScaleLayer)."""

    op = "add"
    keras_layer = "layers.Add"
    keras_equivalents = {
        "Add": KerasEquivalent(operation=True),  # `x + y` in a functional model
        # InceptionResNetV2's own layer: x + s*y, which is ScaledAdd(y, x)
        "CustomScaleLayer": KerasEquivalent(lambda config: {"scale": config["scale"]}, reversed_inputs=True),
    }
    keras_arguments = (("scale", "scale"),)

    scale: StrictFloat | StrictInt | None = None  # given (1 included, as Keras' CustomScaleLayer(1.0)): a scaled add

    def _scaled(self, keep: Sequence[str] = ()) -> bool:
        return self.scale is not None or "scale" in keep

    def label(self) -> str:
        return f"add, x{self.scale:g}" if self.scale is not None else "add"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if self._scaled() and len(inputs) != 2:
            raise ShapeError(f"a scaled add takes exactly two inputs (the scaled one first); received {len(inputs)}",
                             argument="scale")
        return broadcast(inputs)

    def keras_call(self, explicit: bool = False, keep: Sequence[str] = ()) -> KerasCall:
        if self._scaled(keep):
            return KerasCall(f"{CUSTOM_PREFIX}.ScaledAdd", (KerasArgument("scale", self.scale, "scale"),), positional=1)
        return KerasCall(self.keras_layer)

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # ScaledAdd: a Mul over the first input, then the AddV2 over the output
        return elements(inputs[0]) + elements(output) if self._scaled() else super().tfprof_flops(inputs, output)

    def mismatch_hint(self, shapes: Sequence[Shape]) -> str | None:
        """A residual's body and shortcut differ: project the shortcut to the body's shape."""
        main, shortcut = shapes[0], shapes[-1]
        if len(main) != 3 or len(shortcut) != 3:
            return None
        stride = shortcut[0] // max(main[0], 1)
        return f"project the shortcut: `shortcut {{ conv({main[2]}, 1" + (f", stride={stride}" if stride > 1 else "") + ", bias=false) bn }`"


class Multiply(_Elementwise):
    """Element-wise product (keras.layers.Multiply): squeeze-and-excitation's gate."""

    op = "multiply"
    gradient_keeps = ("inputs",)
    keras_layer = "layers.Multiply"
    keras_equivalents = {"Multiply": KerasEquivalent(operation=True)}


class Subtract(_Elementwise):
    """The first input minus the second (keras.layers.Subtract): exactly two inputs."""

    op = "subtract"
    inputs_allowed = (2, 2)
    keras_layer = "layers.Subtract"
    keras_equivalents = {"Subtract": KerasEquivalent(operation=True)}


class Average(_Elementwise):
    """Element-wise mean (keras.layers.Average)."""

    op = "average"
    keras_layer = "layers.Average"

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return len(inputs) * elements(output)  # the sums, then one division per element


class Maximum(_Elementwise):
    """Element-wise maximum (keras.layers.Maximum)."""

    op = "maximum"
    gradient_keeps = ("inputs",)
    keras_layer = "layers.Maximum"
    keras_equivalents = {"Maximum": KerasEquivalent(operation=True)}


class Minimum(_Elementwise):
    """Element-wise minimum (keras.layers.Minimum)."""

    op = "minimum"
    gradient_keeps = ("inputs",)
    keras_layer = "layers.Minimum"
    keras_equivalents = {"Minimum": KerasEquivalent(operation=True)}


class Concat(Layer):
    """Concatenation along an axis, channels by default (keras.layers.Concatenate)."""

    op = "concat"
    starts_line = True
    family = MERGE
    inputs_allowed = (2, None)
    keras_layer = "layers.Concatenate"
    keras_arguments = (("axis", "axis"),)

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


