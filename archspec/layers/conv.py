"""Convolutions: Conv2D, DepthwiseConv2D, SeparableConv2D and Conv2DTranspose."""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar, Sequence

from pydantic import Field, field_validator

from ..errors import show_value
from .base import (
    CONV,
    MAX_DIMENSION,
    REGULARIZER,
    Family,
    Pair,
    PositiveInt,
    Shape,
    ShapeError,
    Weight,
    Window,
    dilated_positions,
    elements,
    epilogue_flops,
    pair,
    same_padding,
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




class ConvTranspose(Convolution):
    """Transposed 2-D convolution (keras.layers.Conv2DTranspose): the learned upsampling of a
    U-Net's decoder. Each input value scatters a kernel-sized patch of `filters` outputs."""

    op: ClassVar[str] = "conv_transpose"
    family: ClassVar[Family] = CONV
    positional: ClassVar[tuple[str, ...]] = ("filters", "kernel", "stride")
    keras_layer: ClassVar[str] = "layers.Conv2DTranspose"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (
        ("filters", "filters"), ("kernel_size", "kernel"), ("strides", "stride"), ("padding", "padding"),
        ("output_padding", "output_padding"), ("dilation_rate", "dilation"), ("activation", "activation"), ("use_bias", "bias"),
        ("kernel_initializer", "kernel_init"), ("bias_initializer", "bias_init"), ("kernel_regularizer", REGULARIZER),
    )
    keras_positional: ClassVar[int] = 2

    filters: int = PositiveInt
    output_padding: Pair | None = None  # None: Keras infers it; else each less than its stride

    _output_padding = field_validator("output_padding")(
        lambda value: value if value is None or all(v >= 0 for v in pair(value)) else _negative(value))

    def label(self) -> str:
        kernel = pair(self.kernel)
        return f"conv_transpose {kernel[0]}x{kernel[1]}, {self.filters}" + self.stride_label().replace(", /", ", x", 1)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        spatial_input(self, inputs[0])
        self.check_stride_and_dilation()
        if self.output_padding is not None:
            for axis, (extra, stride) in enumerate(zip(pair(self.output_padding), self._stride())):
                if extra >= stride:
                    raise ShapeError(f"output_padding {show_value(self.output_padding)} must be less than the stride "
                                     f"{show_value(self.stride)} on each axis ({('height', 'width')[axis]}: {extra} >= {stride})",
                                     argument="output_padding")
        return (*self.transposed_sizes(inputs[0]), self.filters)

    def transposed_sizes(self, shape: Shape) -> tuple[int, int]:
        """Keras' output size per axis: valid n·s + max(k - s, 0), same n·s; with output_padding
        (n - 1)·s + k (valid) or + k % 2 (same), plus it (k the dilated extent)."""
        extras = pair(self.output_padding) if self.output_padding is not None else (None, None)
        sizes = []
        for size, kernel, stride, extra in zip(shape[:2], self.effective_kernel(), self._stride(), extras):
            if self.padding == "valid":
                sizes.append((size - 1) * stride + kernel + (max(kernel, stride) - kernel if extra is None else extra))
            else:
                sizes.append(size * stride if extra is None else (size - 1) * stride + kernel % 2 + extra)
        return sizes[0], sizes[1]

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        result = [Weight("kernel", (*pair(self.kernel), self.filters, inputs[0][-1]))]
        if self.bias:
            result.append(Weight("bias", (self.filters,)))
        return tuple(result)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        kernel = pair(self.kernel)
        return elements(inputs[0]) * kernel[0] * kernel[1] * self.filters  # every input value times every tap

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # tf.profiler's Conv2DBackpropInput rule: 2 · output elements · kernel elements, divided
        # by the filters and the strides' product (checked against it with TF 2.21).
        kernel, stride = pair(self.kernel), self._stride()
        products = 2 * output[0] * output[1] * kernel[0] * kernel[1] * self.filters * inputs[0][-1]
        return int(products / (stride[0] * stride[1])) + epilogue_flops(self.bias, self.activation, output)

    def window(self, inputs: Sequence[Shape]) -> Window:
        """As upsampling by the stride then a stride-1 conv: in input pixels the kernel spans
        (k - 1)/s + 1, the stride is 1/s, and the first output's field starts (k - 1 - pad)/s
        before the input, pad being what TensorFlow's forward conv pads before on the output."""
        output = self.transposed_sizes(inputs[0])
        kernel, stride = self.effective_kernel(), self._stride()
        befores = [same_padding(n, k, s)[0] if self.padding == "same" else 0 for n, k, s in zip(output, kernel, stride)]
        return Window(
            tuple(Fraction(k - 1, s) + 1 for k, s in zip(kernel, stride)),  # type: ignore[arg-type]
            tuple(Fraction(1, s) for s in stride),  # type: ignore[arg-type]
            tuple(Fraction(k - 1 - b, s) for k, b, s in zip(kernel, befores, stride)),  # type: ignore[arg-type]
            (0, 0), self.padding)


def _negative(value: object) -> object:
    raise ValueError(f"expected non-negative sizes; received {show_value(value)}")
