"""Pooling: max and average windows, and global pooling."""

from __future__ import annotations

from typing import ClassVar, Sequence

from pydantic import StrictBool, field_validator

from .base import POOL, Family, Layer, Pair, Shape, elements, pair, spatial_input
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

    def _kernel(self) -> tuple[int, int]:
        return pair(self.pool)

    def _stride(self) -> tuple[int, int]:
        return pair(self.stride if self.stride is not None else self.pool)

    def label(self) -> str:
        pool, stride = pair(self.pool), self._stride()
        text = f"{self.op} {pool[0]}x{pool[1]}"
        return text + (f", /{stride[0]}" if stride[0] == stride[1] else f", /{stride[0]}x{stride[1]}") if stride != (1, 1) else text

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (*self.spatial_output(inputs[0]), inputs[0][2])

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        pool = pair(self.pool)
        return pool[0] * pool[1] * elements(output)


class MaxPool(_Pool):
    """Max pooling (keras.layers.MaxPooling2D)."""

    op: ClassVar[str] = "maxpool"
    keras_layer: ClassVar[str] = "layers.MaxPooling2D"


class AvgPool(_Pool):
    """Average pooling (keras.layers.AveragePooling2D)."""

    op: ClassVar[str] = "avgpool"
    keras_layer: ClassVar[str] = "layers.AveragePooling2D"


class _GlobalPool(Layer):
    family: ClassVar[Family] = POOL
    starts_line: ClassVar[bool] = True
    mixes_positions: ClassVar[bool] = True
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("keepdims", "keepdims"),)

    keepdims: StrictBool = False  # keep a 1x1 spatial grid (as keras.applications' MobileNet head)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        channels = spatial_input(self, inputs[0])[2]
        return (1, 1, channels) if self.keepdims else (channels,)


class GlobalAvgPool(_GlobalPool):
    """Global average pooling (keras.layers.GlobalAveragePooling2D)."""

    op: ClassVar[str] = "global_avg_pool"
    keras_layer: ClassVar[str] = "layers.GlobalAveragePooling2D"

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return elements(inputs[0])  # Mean: one operation per input element


class GlobalMaxPool(_GlobalPool):
    """Global max pooling (keras.layers.GlobalMaxPooling2D)."""

    op: ClassVar[str] = "global_max_pool"
    keras_layer: ClassVar[str] = "layers.GlobalMaxPooling2D"  # Max has no registered FLOPs


