"""Pooling over 1, 2 or 3 spatial axes (the input says which): max and average windows, and
global pooling."""


from math import prod
from typing import Sequence

from pydantic import StrictBool, field_validator

from .base import POOL, Layer, Pair, Shape, elements, per_axis, spatial_input
from .window import Windowed, positive_pair


class _Pool(Windowed):
    family = POOL
    positional = ("pool", "stride")
    keras_arguments = (("pool_size", "pool"), ("strides", "stride"), ("padding", "padding"))
    keras_required = ("pool",)  # AveragePooling2D has no default pool size
    keras_positional = 1

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

    op = "maxpool"
    gradient_keeps = ("inputs", "output")
    keras_layer = "layers.MaxPooling2D"


class AvgPool(_Pool):
    """Average pooling (keras.layers.AveragePooling1D/2D/3D, by the input)."""

    op = "avgpool"
    keras_layer = "layers.AveragePooling2D"


class _GlobalPool(Layer):
    family = POOL
    starts_line = True
    mixes_positions = True
    keras_arguments = (("keepdims", "keepdims"),)

    spatial_ranks = (1, 2, 3)
    keepdims: StrictBool = False  # keep a 1x1 spatial grid (as keras.applications' MobileNet head)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        sizes, channels = spatial_input(self, inputs[0])
        return (*(1,) * len(sizes), channels) if self.keepdims else (channels,)


class GlobalAvgPool(_GlobalPool):
    """Global average pooling (keras.layers.GlobalAveragePooling1D/2D/3D, by the input)."""

    op = "global_avg_pool"
    keras_layer = "layers.GlobalAveragePooling2D"

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return elements(inputs[0])  # Mean: one operation per input element


class GlobalMaxPool(_GlobalPool):
    """Global max pooling (keras.layers.GlobalMaxPooling1D/2D/3D, by the input)."""

    op = "global_max_pool"
    gradient_keeps = ("inputs", "output")
    keras_layer = "layers.GlobalMaxPooling2D"  # Max has no registered FLOPs


