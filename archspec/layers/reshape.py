"""Dropout and the kinds that move values without arithmetic: flatten, padding, upsampling,
reshape and identity."""

from __future__ import annotations

from fractions import Fraction
from math import prod
from typing import Any, ClassVar, Literal, Sequence

from pydantic import Field, StrictFloat, StrictInt, field_validator

from ..errors import show_value
from .base import (
    DROPOUT,
    MAX_DIMENSION,
    RESHAPE,
    Family,
    Layer,
    Pair,
    Shape,
    ShapeError,
    Window,
    elements,
    format_shape,
    pair,
    spatial_input,
)
from .window import positive_pair


class Dropout(Layer):
    """Dropout (keras.layers.Dropout); the identity at inference."""

    op: ClassVar[str] = "dropout"
    preserves_values: ClassVar[bool] = True
    family: ClassVar[Family] = DROPOUT
    positional: ClassVar[tuple[str, ...]] = ("rate",)
    keras_layer: ClassVar[str] = "layers.Dropout"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("rate", "rate"), ("noise_shape", "noise_shape"))
    keras_positional: ClassVar[int] = 1

    rate: StrictFloat | StrictInt = Field(ge=0, lt=1)
    noise_shape: tuple[StrictInt | None, ...] | None = None  # Keras' form, the batch first: [none, 1, 1, 1]

    def label(self) -> str:
        return f"dropout {self.rate}" + (", shared mask" if self.noise_shape is not None else "")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if self.noise_shape is not None:
            _check_noise_shape(self.noise_shape, inputs[0])
        return inputs[0]


def _check_noise_shape(noise_shape: tuple[int | None, ...], shape: Shape) -> None:
    """Keras draws one mask of `noise_shape` and broadcasts it: each size is none (the input's),
    1 (shared along that axis) or the input's own size, the batch's included."""
    if len(noise_shape) != len(shape) + 1:
        raise ShapeError(
            f"noise_shape {show_value(noise_shape)} has {len(noise_shape)} sizes; the {format_shape(shape)} input "
            f"with its batch has {len(shape) + 1}", argument="noise_shape",
            hint=f"give the batch first, as Keras does: {show_value((None, *(1 for _ in shape[:-1]), shape[-1]))} "
                 "drops whole channels")
    batch, *sizes = noise_shape
    if batch not in (None, 1) or any(size not in (None, 1, axis) for size, axis in zip(sizes, shape)):
        raise ShapeError(f"noise_shape {show_value(noise_shape)} does not broadcast to the {format_shape(shape)} input",
                         argument="noise_shape", hint="each size is none, 1 (one mask value shared along that axis) "
                                                      "or the input's size on that axis")


class Flatten(Layer):
    """Flattens to one axis (keras.layers.Flatten)."""

    op: ClassVar[str] = "flatten"
    preserves_values: ClassVar[bool] = True
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = RESHAPE
    mixes_positions: ClassVar[bool] = True
    keras_layer: ClassVar[str] = "layers.Flatten"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (elements(inputs[0]),)


Border = StrictInt | tuple[StrictInt, StrictInt] | tuple[tuple[StrictInt, StrictInt], tuple[StrictInt, StrictInt]]


class _Border(Layer):
    """Kinds that add or remove rows and columns at the borders: n (all sides), [h, w] (top and
    bottom h, left and right w) or [[top, bottom], [left, right]]."""

    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = RESHAPE

    def amounts(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right))."""
        value = self._border()
        if isinstance(value, int):
            return ((value, value), (value, value))
        if isinstance(value[0], int):
            return ((value[0], value[0]), (value[1], value[1]))  # type: ignore[return-value]
        return (tuple(value[0]), tuple(value[1]))  # type: ignore[return-value]

    def _border(self) -> Any:
        raise NotImplementedError


def _border_sizes(value: Any) -> Any:
    flat = [value] if isinstance(value, int) else [v for item in value for v in ((item,) if isinstance(item, int) else item)]
    if any(v < 0 or v > MAX_DIMENSION for v in flat):
        raise ValueError(f"expected sizes between 0 and {MAX_DIMENSION}; received {show_value(value)}")
    return value


class ZeroPad(_Border):
    """Zero padding of height and width (keras.layers.ZeroPadding2D)."""

    op: ClassVar[str] = "zero_pad"
    positional: ClassVar[tuple[str, ...]] = ("padding",)
    keras_layer: ClassVar[str] = "layers.ZeroPadding2D"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("padding", "padding"),)
    keras_positional: ClassVar[int] = 1

    padding: Border = 1

    _sizes = field_validator("padding")(_border_sizes)

    def _border(self) -> Any:
        return self.padding

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        height, width, channels = spatial_input(self, inputs[0])
        (top, bottom), (left, right) = self.amounts()
        return (height + top + bottom, width + left + right, channels)

    def window(self, inputs: Sequence[Shape]) -> Window:
        (top, bottom), (left, right) = self.amounts()
        return Window((1, 1), (Fraction(1), Fraction(1)), (top, left), (bottom, right))


class Crop(_Border):
    """Removes rows and columns at the borders (keras.layers.Cropping2D), as NASNet aligns its
    two paths and a U-Net its skips: `crop([[1, 0], [1, 0]])` drops the first row and column."""

    op: ClassVar[str] = "crop"
    positional: ClassVar[tuple[str, ...]] = ("cropping",)
    keras_layer: ClassVar[str] = "layers.Cropping2D"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("cropping", "cropping"),)
    keras_positional: ClassVar[int] = 1

    cropping: Border

    _sizes = field_validator("cropping")(_border_sizes)

    def _border(self) -> Any:
        return self.cropping

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        height, width, channels = spatial_input(self, inputs[0])
        (top, bottom), (left, right) = self.amounts()
        if top + bottom >= height or left + right >= width:
            raise ShapeError(f"cropping {show_value(self.cropping)} leaves nothing of the {format_shape(inputs[0])} input",
                             argument="cropping", hint="crop less than the height and the width")
        return (height - top - bottom, width - left - right, channels)

    def window(self, inputs: Sequence[Shape]) -> Window:
        (top, bottom), (left, right) = self.amounts()  # the first output is the input's (top, left)
        return Window((1, 1), (Fraction(1), Fraction(1)), (-top, -left), (-bottom, -right))


class Upsample(Layer):
    """Repeats rows and columns (keras.layers.UpSampling2D)."""

    op: ClassVar[str] = "upsample"
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = RESHAPE
    positional: ClassVar[tuple[str, ...]] = ("size",)
    keras_layer: ClassVar[str] = "layers.UpSampling2D"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("size", "size"), ("interpolation", "interpolation"))
    keras_positional: ClassVar[int] = 1

    size: Pair = 2
    interpolation: Literal["nearest", "bilinear"] = "nearest"

    _pairs = field_validator("size")(positive_pair)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        height, width, channels = spatial_input(self, inputs[0])
        size = pair(self.size)
        return (height * size[0], width * size[1], channels)

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # nearest: Keras repeats rows and columns, and tf.profiler counts the two scalar Muls
        # that compute the repeated sizes; bilinear's ResizeBilinear has no registered FLOPs.
        return 2 if self.interpolation == "nearest" else 0

    def window(self, inputs: Sequence[Shape]) -> Window:
        size = pair(self.size)
        return Window((1, 1), (Fraction(1, size[0]), Fraction(1, size[1])), (0, 0), (0, 0))


class Reshape(Layer):
    """Reshapes to a target shape with the same number of elements (keras.layers.Reshape)."""

    op: ClassVar[str] = "reshape"
    preserves_values: ClassVar[bool] = True
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = RESHAPE
    positional: ClassVar[tuple[str, ...]] = ("shape",)
    mixes_positions: ClassVar[bool] = True
    keras_layer: ClassVar[str] = "layers.Reshape"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("target_shape", "shape"),)
    keras_positional: ClassVar[int] = 1

    shape: tuple[StrictInt, ...]  # always a list, so Keras gets a tuple even when sizes are parameters

    @field_validator("shape")
    @classmethod
    def _sizes(cls, value: Any) -> Any:
        sizes = value
        if not 1 <= len(sizes) <= 3 or any(n == 0 or n < -1 or n > MAX_DIMENSION for n in sizes) or list(sizes).count(-1) > 1:
            raise ValueError(f"expected one to three positive sizes, at most one of them -1; received {show_value(value)}")
        return value

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        sizes = tuple(self.shape)
        total = elements(inputs[0])
        known = prod(n for n in sizes if n != -1)
        if -1 in sizes:
            if total % known:
                raise ShapeError(f"cannot reshape {format_shape(inputs[0])} ({total} values) to {show_value(self.shape)}", argument="shape")
            sizes = tuple(total // known if n == -1 else n for n in sizes)
        elif known != total:
            raise ShapeError(f"cannot reshape {format_shape(inputs[0])} ({total} values) to {format_shape(sizes)} ({known} values)", argument="shape")
        return sizes


class Identity(Layer):
    """Passes its input through (keras.layers.Identity)."""

    op: ClassVar[str] = "identity"
    preserves_values: ClassVar[bool] = True
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = RESHAPE
    keras_layer: ClassVar[str] = "layers.Identity"


