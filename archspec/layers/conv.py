"""Convolutions over 1, 2 or 3 spatial axes (the input says which): Conv1D/2D/3D, DepthwiseConv1D/2D,
SeparableConv1D/2D and Conv1D/2D/3DTranspose."""


from fractions import Fraction
from math import prod
from typing import Sequence

from pydantic import Field, field_validator

from ..errors import show_value
from .base import (
    CONV,
    MAX_DIMENSION,
    REGULARIZER,
    SPATIAL_AXES,
    Pair,
    PositiveInt,
    Retained,
    Shape,
    ShapeError,
    Weight,
    Window,
    dilated_positions,
    elements,
    epilogue_flops,
    per_axis,
    same_padding,
    spatial_input,
)
from .window import Convolution, Multiplier


class Conv(Convolution):
    """Convolution (keras.layers.Conv1D, Conv2D or Conv3D, by the input), with dilation and groups."""

    op = "conv"
    gradient_keeps = ("inputs",)
    family = CONV
    positional = ("filters", "kernel", "stride")
    keras_layer = "layers.Conv2D"
    keras_arguments = (
        ("filters", "filters"), ("kernel_size", "kernel"), ("strides", "stride"), ("padding", "padding"),
        ("dilation_rate", "dilation"), ("groups", "groups"), ("activation", "activation"), ("use_bias", "bias"),
        ("kernel_initializer", "kernel_init"), ("bias_initializer", "bias_init"), ("kernel_regularizer", REGULARIZER),
    )
    keras_positional = 2

    filters: int = PositiveInt
    groups: int = Field(default=1, strict=True, ge=1, le=MAX_DIMENSION)

    def label(self) -> str:
        return f"conv {self.kernel_text()}, {self.filters}" + self.stride_label()

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        sizes, channels = spatial_input(self, inputs[0])
        self.check_stride_and_dilation(len(sizes))
        if channels % self.groups or self.filters % self.groups:
            raise ShapeError(
                f"groups={self.groups} must divide both the input channels ({channels}) and filters ({self.filters})",
                argument="groups",
            )
        return (*self.spatial_output(inputs[0]), self.filters)

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        kernel = self._kernel(len(inputs[0]) - 1)
        channels = inputs[0][-1]
        result = [Weight("kernel", (*kernel, channels // self.groups, self.filters))]
        if self.bias:
            result.append(Weight("bias", (self.filters,)))
        return tuple(result)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return elements(output) * prod(self._kernel(len(output) - 1)) * (inputs[0][-1] // self.groups)

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # Keras runs a grouped convolution inside a compiled function that tf.profiler does not
        # look into, so only the bias is counted; a dilated one is counted on Keras' padded grid.
        rank = len(output) - 1
        per_position = output[-1] * prod(self._kernel(rank)) * inputs[0][-1]
        convolution = 0 if self.groups > 1 else 2 * dilated_positions(output, self._dilation(rank)) * per_position
        return convolution + epilogue_flops(self.bias, self.activation, output)


class DepthwiseConv(Convolution):
    """Depthwise convolution (keras.layers.DepthwiseConv1D or DepthwiseConv2D, by the input)."""

    spatial_ranks = (1, 2)

    op = "depthwise_conv"
    gradient_keeps = ("inputs",)
    family = CONV
    positional = ("kernel", "stride")
    keras_layer = "layers.DepthwiseConv2D"
    keras_arguments = (
        ("kernel_size", "kernel"), ("strides", "stride"), ("padding", "padding"), ("depth_multiplier", "multiplier"),
        ("dilation_rate", "dilation"), ("activation", "activation"), ("use_bias", "bias"),
        ("depthwise_initializer", "kernel_init"), ("bias_initializer", "bias_init"), ("depthwise_regularizer", REGULARIZER),
    )
    keras_positional = 1

    multiplier: int = Multiplier

    def label(self) -> str:
        return f"depthwise {self.kernel_text()}" + self.stride_label()

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        sizes, channels = spatial_input(self, inputs[0])
        self.check_stride_and_dilation(len(sizes))
        return (*self.spatial_output(inputs[0]), channels * self.multiplier)

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        channels = inputs[0][-1]
        result = [Weight("kernel", (*self._kernel(len(inputs[0]) - 1), channels, self.multiplier))]
        if self.bias:
            result.append(Weight("bias", (channels * self.multiplier,)))
        return tuple(result)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return elements(output) * prod(self._kernel(len(output) - 1))

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        rank = len(output) - 1
        positions = dilated_positions(output, self._dilation(rank))
        return 2 * positions * output[-1] * prod(self._kernel(rank)) + epilogue_flops(self.bias, self.activation, output)


class SeparableConv(Convolution):
    """Depthwise then pointwise convolution (keras.layers.SeparableConv1D or SeparableConv2D, by the input)."""

    spatial_ranks = (1, 2)

    op = "separable_conv"
    gradient_keeps = ("inputs",)
    family = CONV
    positional = ("filters", "kernel", "stride")
    keras_layer = "layers.SeparableConv2D"
    keras_arguments = (
        ("filters", "filters"), ("kernel_size", "kernel"), ("strides", "stride"), ("padding", "padding"),
        ("depth_multiplier", "multiplier"), ("dilation_rate", "dilation"), ("activation", "activation"), ("use_bias", "bias"),
        ("depthwise_initializer", "kernel_init"), ("pointwise_initializer", "kernel_init"), ("bias_initializer", "bias_init"),
        ("depthwise_regularizer", REGULARIZER), ("pointwise_regularizer", REGULARIZER),
    )
    keras_positional = 2

    filters: int = PositiveInt
    multiplier: int = Multiplier

    def label(self) -> str:
        return f"separable {self.kernel_text()}, {self.filters}" + self.stride_label()

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        sizes, _ = spatial_input(self, inputs[0])
        self.check_stride_and_dilation(len(sizes))
        return (*self.spatial_output(inputs[0]), self.filters)

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        channels, rank = inputs[0][-1], len(inputs[0]) - 1
        result = [
            Weight("depthwise_kernel", (*self._kernel(rank), channels, self.multiplier)),
            Weight("pointwise_kernel", (*(1,) * rank, channels * self.multiplier, self.filters)),
        ]
        if self.bias:
            result.append(Weight("bias", (self.filters,)))
        return tuple(result)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        depthwise_channels = inputs[0][-1] * self.multiplier
        positions = elements(output[:-1])
        return positions * depthwise_channels * prod(self._kernel(len(output) - 1)) + positions * depthwise_channels * self.filters

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        rank = len(output) - 1
        depthwise_channels = inputs[0][-1] * self.multiplier
        depthwise = 2 * dilated_positions(output, self._dilation(rank)) * depthwise_channels * prod(self._kernel(rank))
        pointwise = 2 * elements(output[:-1]) * depthwise_channels * self.filters
        return depthwise + pointwise + epilogue_flops(self.bias, self.activation, output)

    def kept_for_gradient(self, inputs: Sequence[Shape], output: Shape) -> Retained:
        # the pointwise conv's kernel gradient reads the depthwise conv's output as well
        depthwise = elements(output[:-1]) * inputs[0][-1] * self.multiplier
        return super().kept_for_gradient(inputs, output) + Retained(own=depthwise)

class ConvTranspose(Convolution):
    """Transposed convolution (keras.layers.Conv1DTranspose, Conv2DTranspose or Conv3DTranspose,
    by the input): the learned upsampling of a U-Net's decoder. Each input value scatters a
    kernel-sized patch of `filters` outputs."""

    op = "conv_transpose"
    gradient_keeps = ("inputs",)
    family = CONV
    positional = ("filters", "kernel", "stride")
    keras_layer = "layers.Conv2DTranspose"
    keras_arguments = (
        ("filters", "filters"), ("kernel_size", "kernel"), ("strides", "stride"), ("padding", "padding"),
        ("output_padding", "output_padding"), ("dilation_rate", "dilation"), ("activation", "activation"), ("use_bias", "bias"),
        ("kernel_initializer", "kernel_init"), ("bias_initializer", "bias_init"), ("kernel_regularizer", REGULARIZER),
    )
    keras_positional = 2

    filters: int = PositiveInt
    output_padding: Pair | None = None  # None: Keras infers it; else each less than its stride

    _output_padding = field_validator("output_padding")(
        lambda value: value if value is None or min((value,) if isinstance(value, int) else value) >= 0 else _negative(value))

    def label(self) -> str:
        return f"conv_transpose {self.kernel_text()}, {self.filters}" + self.stride_label().replace(", /", ", x", 1)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        sizes, _ = spatial_input(self, inputs[0])
        rank = len(sizes)
        self.check_stride_and_dilation(rank)
        if self.output_padding is not None:
            for axis, extra, stride in zip(SPATIAL_AXES[rank].split(" x "), per_axis(self.output_padding, rank, "output_padding"),
                                           self._stride(rank)):
                if extra >= stride:
                    raise ShapeError(f"output_padding {show_value(self.output_padding)} must be less than the stride "
                                     f"{show_value(self.stride)} on each axis ({axis}: {extra} >= {stride})",
                                     argument="output_padding")
        return (*self.transposed_sizes(inputs[0]), self.filters)

    def transposed_sizes(self, shape: Shape) -> tuple[int, ...]:
        """Keras' output size per axis: valid n·s + max(k - s, 0), same n·s; with output_padding
        (n - 1)·s + k (valid) or + k % 2 (same), plus it (k the dilated extent)."""
        rank = len(shape) - 1
        extras = per_axis(self.output_padding, rank, "output_padding") if self.output_padding is not None else (None,) * rank
        sizes = []
        for size, kernel, stride, extra in zip(shape[:-1], self.effective_kernel(rank), self._stride(rank), extras):
            if self.padding == "valid":
                sizes.append((size - 1) * stride + kernel + (max(kernel, stride) - kernel if extra is None else extra))
            else:
                sizes.append(size * stride if extra is None else (size - 1) * stride + kernel % 2 + extra)
        return tuple(sizes)

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        result = [Weight("kernel", (*self._kernel(len(inputs[0]) - 1), self.filters, inputs[0][-1]))]
        if self.bias:
            result.append(Weight("bias", (self.filters,)))
        return tuple(result)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return elements(inputs[0]) * prod(self._kernel(len(output) - 1)) * self.filters  # every input value times every tap

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # tf.profiler's Conv2DBackpropInput rule (1-D runs as 2-D): 2 · output elements · kernel
        # elements, divided by the filters and the strides' product; it registers nothing for
        # Conv3DBackpropInputV2, so a 3-D one counts its bias alone (checked with TF 2.21).
        rank = len(output) - 1
        if rank == 3:
            return epilogue_flops(self.bias, self.activation, output)
        products = 2 * elements(output[:-1]) * prod(self._kernel(rank)) * self.filters * inputs[0][-1]
        return int(products / prod(self._stride(rank))) + epilogue_flops(self.bias, self.activation, output)

    def window(self, inputs: Sequence[Shape]) -> Window:
        """As upsampling by the stride then a stride-1 conv: in input pixels the kernel spans
        (k - 1)/s + 1, the stride is 1/s, and the first output's field starts (k - 1 - pad)/s
        before the input, pad being what TensorFlow's forward conv pads before on the output."""
        rank = len(inputs[0]) - 1
        output = self.transposed_sizes(inputs[0])
        kernel, stride = self.effective_kernel(rank), self._stride(rank)
        befores = [same_padding(n, k, s)[0] if self.padding == "same" else 0 for n, k, s in zip(output, kernel, stride)]
        return Window(
            tuple(Fraction(k - 1, s) + 1 for k, s in zip(kernel, stride)),
            tuple(Fraction(1, s) for s in stride),
            tuple(Fraction(k - 1 - b, s) for k, b, s in zip(kernel, befores, stride)),
            (0,) * rank, self.padding)


def _negative(value: object) -> object:
    raise ValueError(f"expected non-negative sizes; received {show_value(value)}")
