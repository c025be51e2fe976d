"""Dropout and the kinds that move values without arithmetic: flatten, padding, upsampling,
reshape and identity."""


from fractions import Fraction
from math import prod
from typing import Any, Literal, Sequence

from pydantic import Field, StrictFloat, StrictInt, field_validator

from ..errors import show_value
from .base import (
    DROPOUT,
    MAX_DIMENSION,
    RESHAPE,
    SPATIAL_AXES,
    KerasArgument,
    KerasCall,
    Layer,
    Pair,
    Retained,
    Shape,
    ShapeError,
    Window,
    elements,
    format_shape,
    per_axis,
    spatial_input,
)
from .window import positive_pair


class Dropout(Layer):
    """Dropout (keras.layers.Dropout); the identity at inference."""

    op = "dropout"
    gradient_keeps = ("mask",)
    preserves_values = True
    family = DROPOUT
    positional = ("rate",)
    keras_layer = "layers.Dropout"
    keras_arguments = (("rate", "rate"), ("noise_shape", "noise_shape"))
    keras_positional = 1

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

    op = "flatten"
    preserves_values = True
    starts_line = True
    family = RESHAPE
    mixes_positions = True
    keras_layer = "layers.Flatten"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (elements(inputs[0]),)


Border = StrictInt | tuple[StrictInt, ...] | tuple[tuple[StrictInt, StrictInt], ...]


class _Border(Layer):
    """Kinds that add or remove rows and columns at the borders of a 1-, 2- or 3-D map: n (all
    sides), one size per axis (both sides of it: [h, w]) or a [before, after] pair per axis
    ([[top, bottom], [left, right]]); on a sequence, as Keras, n or [before, after]."""

    starts_line = True
    family = RESHAPE
    spatial_ranks = (1, 2, 3)

    def amounts(self, rank: int) -> tuple[tuple[int, int], ...]:
        """(before, after) per spatial axis."""
        value, argument = self._border()
        if isinstance(value, int):
            return ((value, value),) * rank
        flat = all(isinstance(v, int) for v in value)
        if rank == 1 and flat and len(value) == 2:
            return ((value[0], value[1]),)
        if rank > 1 and len(value) == rank:
            return tuple((v, v) if isinstance(v, int) else (v[0], v[1]) for v in value)
        forms = "n or [before, after]" if rank == 1 else f"n, {rank} sizes, or {rank} [before, after] pairs"
        raise ShapeError(f"{argument} {show_value(value)} does not fit the input's {rank} spatial "
                         f"{'axis' if rank == 1 else 'axes'} ({SPATIAL_AXES[rank]})", argument=argument, hint=f"give {forms}")

    def _border(self) -> tuple[Any, str]:
        raise NotImplementedError


def _border_sizes(value: Any) -> Any:
    flat = [value] if isinstance(value, int) else [v for item in value for v in ((item,) if isinstance(item, int) else item)]
    if any(v < 0 or v > MAX_DIMENSION for v in flat):
        raise ValueError(f"expected sizes between 0 and {MAX_DIMENSION}; received {show_value(value)}")
    if not isinstance(value, int) and not 1 <= len(value) <= 3:
        raise ValueError(f"expected one to three sizes or [before, after] pairs; received {show_value(value)}")
    return value


class ZeroPad(_Border):
    """Zero padding at the borders (keras.layers.ZeroPadding1D/2D/3D, by the input)."""

    op = "zero_pad"
    positional = ("padding",)
    keras_layer = "layers.ZeroPadding2D"
    keras_arguments = (("padding", "padding"),)
    keras_positional = 1

    padding: Border = 1

    _sizes = field_validator("padding")(_border_sizes)

    def _border(self) -> tuple[Any, str]:
        return self.padding, "padding"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        sizes, channels = spatial_input(self, inputs[0])
        return (*(n + before + after for n, (before, after) in zip(sizes, self.amounts(len(sizes)))), channels)

    def window(self, inputs: Sequence[Shape]) -> Window:
        amounts = self.amounts(len(inputs[0]) - 1)
        rank = len(amounts)
        return Window((1,) * rank, (1,) * rank, tuple(a[0] for a in amounts), tuple(a[1] for a in amounts))


class Crop(_Border):
    """Removes rows and columns at the borders (keras.layers.Cropping1D/2D/3D, by the input), as
    NASNet aligns its two paths and a U-Net its skips: `crop([[1, 0], [1, 0]])` drops the first
    row and column."""

    op = "crop"
    positional = ("cropping",)
    keras_layer = "layers.Cropping2D"
    keras_arguments = (("cropping", "cropping"),)
    keras_positional = 1

    cropping: Border

    _sizes = field_validator("cropping")(_border_sizes)

    def _border(self) -> tuple[Any, str]:
        return self.cropping, "cropping"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        sizes, channels = spatial_input(self, inputs[0])
        amounts = self.amounts(len(sizes))
        if any(before + after >= n for n, (before, after) in zip(sizes, amounts)):
            raise ShapeError(f"cropping {show_value(self.cropping)} leaves nothing of the {format_shape(inputs[0])} input",
                             argument="cropping", hint="crop less than the size of each axis")
        return (*(n - before - after for n, (before, after) in zip(sizes, amounts)), channels)

    def window(self, inputs: Sequence[Shape]) -> Window:
        amounts = self.amounts(len(inputs[0]) - 1)  # the first output is the input's (top, left)
        rank = len(amounts)
        return Window((1,) * rank, (1,) * rank, tuple(-a[0] for a in amounts), tuple(-a[1] for a in amounts))


class Upsample(Layer):
    """Repeats values along each spatial axis (keras.layers.UpSampling1D/2D/3D, by the input)."""

    op = "upsample"
    starts_line = True
    family = RESHAPE
    spatial_ranks = (1, 2, 3)
    positional = ("size",)
    keras_layer = "layers.UpSampling2D"
    keras_arguments = (("size", "size"), ("interpolation", "interpolation"))
    keras_positional = 1

    size: Pair = 2
    interpolation: Literal["nearest", "bilinear"] = "nearest"  # images only

    _pairs = field_validator("size")(positive_pair)

    def label(self) -> str:
        """`upsample x2`, `upsample x2x3, bilinear`: the factor shows on the node and in the table."""
        factor = "x".join(map(str, self.size)) if isinstance(self.size, tuple) else str(self.size)
        return f"upsample x{factor}" + (f", {self.interpolation}" if self.interpolation != "nearest" else "")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        sizes, channels = spatial_input(self, inputs[0])
        if len(sizes) != 2 and self.interpolation != "nearest":
            raise ShapeError(f"interpolation={self.interpolation} is for images; Keras repeats the values of a "
                             f"{len(sizes)}-D map", argument="interpolation")
        return (*(n * k for n, k in zip(sizes, per_axis(self.size, len(sizes), "size"))), channels)

    def keras_call(self, explicit: bool = False, keep: Sequence[str] = ()) -> KerasCall:
        call = super().keras_call(explicit, keep)
        if self.spatial_axes == 2:
            return call
        # UpSampling1D takes one size and neither takes an interpolation
        arguments = tuple(a for a in call.arguments if a.name != "interpolation")
        if self.spatial_axes == 1 and isinstance(self.size, tuple) and "size" not in keep:
            arguments = tuple(KerasArgument("size", self.size[0], "size") if a.name == "size" else a for a in arguments)
        return KerasCall(call.path, arguments, call.positional)

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # nearest: Keras repeats along each axis, and tf.profiler counts the scalar Mul that
        # computes each repeated size (one per spatial axis); bilinear's ResizeBilinear has no
        # registered FLOPs.
        return len(output) - 1 if self.interpolation == "nearest" else 0

    def window(self, inputs: Sequence[Shape]) -> Window:
        rank = len(inputs[0]) - 1
        size = per_axis(self.size, rank, "size")
        return Window((1,) * rank, tuple(Fraction(1, k) for k in size), (0,) * rank, (0,) * rank)

    def kept_for_gradient(self, inputs: Sequence[Shape], output: Shape) -> Retained:
        # ResizeBilinearGrad takes the original image; the nearest-neighbour gradient only its size
        return Retained(inputs=self.interpolation == "bilinear")

class Reshape(Layer):
    """Reshapes to a target shape with the same number of elements (keras.layers.Reshape)."""

    op = "reshape"
    preserves_values = True
    starts_line = True
    family = RESHAPE
    positional = ("shape",)
    mixes_positions = True
    keras_layer = "layers.Reshape"
    keras_arguments = (("target_shape", "shape"),)
    keras_positional = 1

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

    op = "identity"
    preserves_values = True
    starts_line = True
    family = RESHAPE
    keras_layer = "layers.Identity"




class SpatialDropout(Layer):
    """Drops whole channels (keras.layers.SpatialDropout1D/2D/3D, by the input); the identity
    at inference."""

    op = "spatial_dropout"
    preserves_values = True
    family = DROPOUT
    spatial_ranks = (1, 2, 3)
    positional = ("rate",)
    keras_layer = "layers.SpatialDropout2D"
    keras_arguments = (("rate", "rate"),)
    keras_positional = 1

    rate: StrictFloat | StrictInt = Field(ge=0, lt=1)

    def label(self) -> str:
        return f"spatial_dropout {self.rate}"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        spatial_input(self, inputs[0])
        return inputs[0]

    def kept_for_gradient(self, inputs: Sequence[Shape], output: Shape) -> Retained:
        return Retained(own=output[-1])  # its mask has one value per channel (noise shape 1x1xC)

class Permute(Layer):
    """Reorders the axes (keras.layers.Permute): `permute([2, 1])` swaps a sequence's steps
    and channels; Keras' axes count from 1 (0 is the batch)."""

    op = "permute"
    starts_line = True
    family = RESHAPE
    mixes_positions = True  # the spatial axes are no longer the spatial axes
    positional = ("dims",)
    keras_layer = "layers.Permute"
    keras_arguments = (("dims", "dims"),)
    keras_positional = 1

    dims: tuple[StrictInt, ...]

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = inputs[0]
        if sorted(self.dims) != list(range(1, len(shape) + 1)):
            raise ShapeError(f"dims {show_value(self.dims)} is not an order of the axes 1 to {len(shape)} of the "
                             f"{format_shape(shape)} input", argument="dims",
                             hint=f"list each of 1..{len(shape)} once, e.g. {show_value(tuple(range(len(shape), 0, -1)))}")
        return tuple(shape[axis - 1] for axis in self.dims)


class RepeatVector(Layer):
    """Repeats a vector n times (keras.layers.RepeatVector): C -> n x C, a sequence of it."""

    op = "repeat_vector"
    starts_line = True
    family = RESHAPE
    positional = ("n",)
    keras_layer = "layers.RepeatVector"
    keras_arguments = (("n", "n"),)
    keras_positional = 1

    n: int = Field(strict=True, ge=1, le=MAX_DIMENSION)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if len(inputs[0]) != 1:
            raise ShapeError(f"repeats a vector; received {format_shape(inputs[0])}", hint="flatten or pool to a vector first")
        return (self.n, inputs[0][0])

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return 1  # the scalar Mul of the repeated shape (Tile has no registered FLOPs)


class StochasticDepth(Layer):
    """Drops a residual branch for whole samples in training (stochastic depth, ConvNeXt's
    StochasticDepth, timm's DropPath); the identity at inference. Emitted as Keras' own Dropout
    with a per-sample mask (`noise_shape` of the batch and 1s), as EfficientNet writes it: the
    same distribution and scaling, and no custom layer."""

    op = "stochastic_depth"
    preserves_values = True
    family = DROPOUT
    spatial_ranks = (0, 1, 2, 3)  # any input: the mask's shape follows its rank
    positional = ("rate",)
    keras_layer = "layers.Dropout"
    keras_arguments = (("rate", "rate"),)
    keras_positional = 1

    rate: StrictFloat | StrictInt = Field(ge=0, lt=1)

    def label(self) -> str:
        return f"stochastic_depth {self.rate}"

    def keras_call(self, explicit: bool = False, keep: Sequence[str] = ()) -> KerasCall:
        call = super().keras_call(explicit, keep)
        mask = KerasArgument("noise_shape", (None, *(1,) * (self.spatial_axes + 1)))  # one value per sample
        return KerasCall(call.path, (*call.arguments, mask), call.positional)
