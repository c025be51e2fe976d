"""Pooling over 1, 2 or 3 spatial axes (the input says which): max and average windows, and
global pooling."""


from math import prod
from typing import ClassVar, Sequence

from pydantic import StrictBool, field_validator

from .base import POOL, Family, Layer, Pair, Shape, elements, per_axis, spatial_input
from .window import Windowed, positive_pair


class _Pool(Windowed):
    family: ClassVar[Family] = POOL
    positional: ClassVar[tuple[str, ...]] = ("pool", "stride")
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("pool_size", "pool"), ("strides", "stride"), ("padding", "padding"))
    keras_required: ClassVar[tuple[str, ...]] = ("pool",)  # AveragePooling2D has no default pool size
    keras_positional: ClassVar[int] = 1

    pool: Pair = 2
    stride: Pair | None = None  # Keras: defaults to the pool size

    _pairs = field_validator("pool", "stride")(lambda value: value if value is None else positive_pair(value))

    def _kernel(self, rank: int) -> tuple[int, ...]:
        return per_axis(self.pool, rank, "pool")

    def _stride(self, rank: int) -> tuple[int, ...]:
        return per_axis(self.stride, rank, "stride") if self.stride is not None else self._kernel(rank)

    def label(self) -> str:
        pool, stride = self._kernel(self.spatial_axes), self._stride(self.spatial_axes)
        text = f"{self.op} {'x'.join(map(str, pool))}"
        if set(stride) == {1}:
            return text
        return text + (f", /{stride[0]}" if len(set(stride)) == 1 else f", /{'x'.join(map(str, stride))}")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (*self.spatial_output(inputs[0]), inputs[0][-1])

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # MaxPool and AvgPool count one per window element and output; tf.profiler registers
        # nothing for MaxPool3D and AvgPool3D (measured with TF 2.21).
        rank = len(output) - 1
        return 0 if rank == 3 else prod(self._kernel(rank)) * elements(output)


class MaxPool(_Pool):
    """Max pooling (keras.layers.MaxPooling1D/2D/3D, by the input)."""

    op: ClassVar[str] = "maxpool"
    gradient_keeps: ClassVar[tuple[str, ...]] = ("inputs", "output")
    keras_layer: ClassVar[str] = "layers.MaxPooling2D"


class AvgPool(_Pool):
    """Average pooling (keras.layers.AveragePooling1D/2D/3D, by the input)."""

    op: ClassVar[str] = "avgpool"
    keras_layer: ClassVar[str] = "layers.AveragePooling2D"


class _GlobalPool(Layer):
    family: ClassVar[Family] = POOL
    starts_line: ClassVar[bool] = True
    mixes_positions: ClassVar[bool] = True
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("keepdims", "keepdims"),)

    spatial_ranks: ClassVar[tuple[int, ...]] = (1, 2, 3)
    keepdims: StrictBool = False  # keep a 1x1 spatial grid (as keras.applications' MobileNet head)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        sizes, channels = spatial_input(self, inputs[0])
        return (*(1,) * len(sizes), channels) if self.keepdims else (channels,)


class GlobalAvgPool(_GlobalPool):
    """Global average pooling (keras.layers.GlobalAveragePooling1D/2D/3D, by the input)."""

    op: ClassVar[str] = "global_avg_pool"
    keras_layer: ClassVar[str] = "layers.GlobalAveragePooling2D"

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return elements(inputs[0])  # Mean: one operation per input element


class GlobalMaxPool(_GlobalPool):
    """Global max pooling (keras.layers.GlobalMaxPooling1D/2D/3D, by the input)."""

    op: ClassVar[str] = "global_max_pool"
    gradient_keeps: ClassVar[tuple[str, ...]] = ("inputs", "output")
    keras_layer: ClassVar[str] = "layers.GlobalMaxPooling2D"  # Max has no registered FLOPs


