"""Convolutions: Conv2D, DepthwiseConv2D and SeparableConv2D."""

from __future__ import annotations

from typing import ClassVar, Sequence

from pydantic import Field

from .base import (
    CONV,
    MAX_DIMENSION,
    REGULARIZER,
    Family,
    PositiveInt,
    Shape,
    ShapeError,
    Weight,
    dilated_positions,
    elements,
    epilogue_flops,
    pair,
    spatial_input,
)
from .window import Convolution, Multiplier


class Conv(Convolution):
    """2-D convolution (keras.layers.Conv2D), with dilation and groups."""

    op: ClassVar[str] = "conv"
    family: ClassVar[Family] = CONV
    positional: ClassVar[tuple[str, ...]] = ("filters", "kernel", "stride")
    keras_layer: ClassVar[str] = "layers.Conv2D"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (
        ("filters", "filters"), ("kernel_size", "kernel"), ("strides", "stride"), ("padding", "padding"),
        ("dilation_rate", "dilation"), ("groups", "groups"), ("activation", "activation"), ("use_bias", "bias"),
        ("kernel_initializer", "kernel_init"), ("bias_initializer", "bias_init"), ("kernel_regularizer", REGULARIZER),
    )
    keras_positional: ClassVar[int] = 2

    filters: int = PositiveInt
    groups: int = Field(default=1, strict=True, ge=1, le=MAX_DIMENSION)

    def label(self) -> str:
        kernel = pair(self.kernel)
        return f"conv {kernel[0]}x{kernel[1]}, {self.filters}" + self.stride_label()

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        _, _, channels = spatial_input(self, inputs[0])
        self.check_stride_and_dilation()
        if channels % self.groups or self.filters % self.groups:
            raise ShapeError(
                f"groups={self.groups} must divide both the input channels ({channels}) and filters ({self.filters})",
                argument="groups",
            )
        return (*self.spatial_output(inputs[0]), self.filters)

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        kernel = pair(self.kernel)
        channels = inputs[0][-1]
        result = [Weight("kernel", (*kernel, channels // self.groups, self.filters))]
        if self.bias:
            result.append(Weight("bias", (self.filters,)))
        return tuple(result)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        kernel = pair(self.kernel)
        return elements(output) * kernel[0] * kernel[1] * (inputs[0][-1] // self.groups)

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # Keras runs a grouped convolution inside a compiled function that tf.profiler does not
        # look into, so only the bias is counted; a dilated one is counted on Keras' padded grid.
        kernel = pair(self.kernel)
        per_position = output[2] * kernel[0] * kernel[1] * inputs[0][-1]
        convolution = 0 if self.groups > 1 else 2 * dilated_positions(output, pair(self.dilation)) * per_position
        return convolution + epilogue_flops(self.bias, self.activation, output)


class DepthwiseConv(Convolution):
    """Depthwise 2-D convolution (keras.layers.DepthwiseConv2D)."""

    op: ClassVar[str] = "depthwise_conv"
    family: ClassVar[Family] = CONV
    positional: ClassVar[tuple[str, ...]] = ("kernel", "stride")
    keras_layer: ClassVar[str] = "layers.DepthwiseConv2D"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (
        ("kernel_size", "kernel"), ("strides", "stride"), ("padding", "padding"), ("depth_multiplier", "multiplier"),
        ("dilation_rate", "dilation"), ("activation", "activation"), ("use_bias", "bias"),
        ("depthwise_initializer", "kernel_init"), ("bias_initializer", "bias_init"), ("depthwise_regularizer", REGULARIZER),
    )
    keras_positional: ClassVar[int] = 1

    multiplier: int = Multiplier

    def label(self) -> str:
        kernel = pair(self.kernel)
        return f"depthwise {kernel[0]}x{kernel[1]}" + self.stride_label()

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        _, _, channels = spatial_input(self, inputs[0])
        self.check_stride_and_dilation()
        return (*self.spatial_output(inputs[0]), channels * self.multiplier)

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        channels = inputs[0][-1]
        result = [Weight("kernel", (*pair(self.kernel), channels, self.multiplier))]
        if self.bias:
            result.append(Weight("bias", (channels * self.multiplier,)))
        return tuple(result)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        kernel = pair(self.kernel)
        return elements(output) * kernel[0] * kernel[1]

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        kernel = pair(self.kernel)
        positions = dilated_positions(output, pair(self.dilation))
        return 2 * positions * output[2] * kernel[0] * kernel[1] + epilogue_flops(self.bias, self.activation, output)


class SeparableConv(Convolution):
    """Depthwise then pointwise convolution (keras.layers.SeparableConv2D)."""

    op: ClassVar[str] = "separable_conv"
    family: ClassVar[Family] = CONV
    positional: ClassVar[tuple[str, ...]] = ("filters", "kernel", "stride")
    keras_layer: ClassVar[str] = "layers.SeparableConv2D"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (
        ("filters", "filters"), ("kernel_size", "kernel"), ("strides", "stride"), ("padding", "padding"),
        ("depth_multiplier", "multiplier"), ("dilation_rate", "dilation"), ("activation", "activation"), ("use_bias", "bias"),
        ("depthwise_initializer", "kernel_init"), ("pointwise_initializer", "kernel_init"), ("bias_initializer", "bias_init"),
        ("depthwise_regularizer", REGULARIZER), ("pointwise_regularizer", REGULARIZER),
    )
    keras_positional: ClassVar[int] = 2

    filters: int = PositiveInt
    multiplier: int = Multiplier

    def label(self) -> str:
        kernel = pair(self.kernel)
        return f"separable {kernel[0]}x{kernel[1]}, {self.filters}" + self.stride_label()

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        spatial_input(self, inputs[0])
        self.check_stride_and_dilation()
        return (*self.spatial_output(inputs[0]), self.filters)

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        channels = inputs[0][-1]
        result = [
            Weight("depthwise_kernel", (*pair(self.kernel), channels, self.multiplier)),
            Weight("pointwise_kernel", (1, 1, channels * self.multiplier, self.filters)),
        ]
        if self.bias:
            result.append(Weight("bias", (self.filters,)))
        return tuple(result)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        kernel = pair(self.kernel)
        depthwise_channels = inputs[0][-1] * self.multiplier
        positions = output[0] * output[1]
        return positions * depthwise_channels * kernel[0] * kernel[1] + positions * depthwise_channels * self.filters

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        kernel = pair(self.kernel)
        depthwise_channels = inputs[0][-1] * self.multiplier
        depthwise = 2 * dilated_positions(output, pair(self.dilation)) * depthwise_channels * kernel[0] * kernel[1]
        pointwise = 2 * output[0] * output[1] * depthwise_channels * self.filters
        return depthwise + pointwise + epilogue_flops(self.bias, self.activation, output)


