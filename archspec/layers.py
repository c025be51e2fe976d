"""THE layer registry: one class per layer kind, holding every rule for that kind.

Each class validates its arguments (pydantic fields), and answers, from input shapes alone:
its output shape, parameter counts (Keras and torch conventions), MACs, FLOPs under the
`tfprof` profile, its sliding window for receptive fields, and a pure description of its Keras
call (`KerasCall`), from which both the Keras and the Python emitters work. `REGISTRY` maps each
name of the language (`conv`, `relu`, ...) to its class and preset arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil, prod
from typing import Any, ClassVar, Literal, Sequence, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, field_validator

from .errors import show_value

Shape = tuple[int, ...]

MAX_DIMENSION = 1 << 20  # filters, units, kernel and input sizes above this are refused

PositiveInt = Field(strict=True, ge=1, le=MAX_DIMENSION)

# Keras 3 activation names (keras.activations.get accepts each).
ACTIVATIONS = (
    "celu", "elu", "exponential", "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu",
    "linear", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "softmax",
    "softplus", "softsign", "swish", "tanh",
)
ActivationName = Literal[ACTIVATIONS]  # type: ignore[valid-type]
INITIALIZERS = (
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
    "ones", "orthogonal", "random_normal", "random_uniform", "truncated_normal", "zeros",
)
InitializerName = Literal[INITIALIZERS]  # type: ignore[valid-type]
Padding = Literal["valid", "same"]
Pair = Union[StrictInt, tuple[StrictInt, StrictInt]]


class ShapeError(Exception):
    """A layer cannot take the shapes it is given; `argument` names the culprit, if one is."""

    def __init__(self, message: str, argument: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.argument = argument
        self.hint = hint


@dataclass(frozen=True)
class KerasArgument:
    """One keyword of a Keras constructor call: its value, and the layer field it comes from."""

    name: str
    value: Any
    field: str | None = None


@dataclass(frozen=True)
class KerasCall:
    """A pure description of one Keras constructor call: `keras.<path>(**kwargs)`.

    `positional` says how many leading arguments read well without their keyword.
    """

    path: str  # e.g. "layers.Conv2D", "regularizers.L2"
    arguments: tuple[KerasArgument, ...] = ()
    positional: int = 0


REGULARIZER = "<regularizer>"  # a Keras argument built from the l1 and l2 fields
REGULARIZER_FIELDS = ("l1", "l2")


@dataclass(frozen=True)
class Family:
    """A group of kinds drawn alike: its colour, its legend entry and its node's shape."""

    name: str
    colour: str
    legend: str
    shape: str = "box"
    style: str = "filled,rounded"


CONV = Family("conv", "#cfe2ff", "convolution")
DENSE = Family("dense", "#e0d4f7", "dense")
NORM = Family("norm", "#fff3cd", "normalization")
ACTIVATION = Family("activation", "#d1e7dd", "activation")
POOL = Family("pool", "#f8d7da", "pooling")
DROPOUT = Family("dropout", "#e9ecef", "dropout")
RESHAPE = Family("reshape", "#ffe5d0", "reshape / pad")
MERGE = Family("merge", "#ffffff", "merge (add, concat)", shape="ellipse", style="filled,bold")
FAMILIES = (CONV, DENSE, NORM, ACTIVATION, POOL, DROPOUT, RESHAPE, MERGE)  # the legend's order


@dataclass(frozen=True)
class Window:
    """How a layer slides over each spatial axis: the receptive-field recurrence's inputs."""

    kernel: tuple[int, int]  # effective (dilated) kernel extent
    stride: tuple[Fraction, Fraction]
    pad_before: tuple[int, int]
    pad_after: tuple[int, int]
    padding_mode: str | None = None  # "same" or "valid" for kinds that take a padding mode


@dataclass(frozen=True)
class ParamCount:
    trainable: int = 0
    non_trainable: int = 0


@dataclass(frozen=True)
class Weight:
    name: str
    shape: Shape
    trainable: bool = True


# ---------------------------------------------------------------------------------------------
# Shape arithmetic shared by the windowed kinds (Keras semantics)


def pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def window_output(size: int, kernel: int, stride: int, padding: str) -> int:
    """Keras: `valid` floors, `same` gives ceil(n / s) whatever the kernel."""
    if padding == "same":
        return ceil(size / stride)
    return (size - kernel) // stride + 1


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's `same`: the total padding, with the odd pixel after (asymmetric when strided)."""
    total = max((ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def spatial_input(layer: "Layer", shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(
            f"expects a spatial input (height x width x channels); received {format_shape(shape)}",
            hint="spatial layers must come before `flatten`, `dense` and global pooling",
        )
    return shape  # type: ignore[return-value]


def format_shape(shape: Shape) -> str:
    return "x".join(str(n) for n in shape) if shape else "a scalar"


def elements(shape: Shape) -> int:
    return prod(shape)


# ---------------------------------------------------------------------------------------------
# The base class


class Layer(BaseModel):
    """One layer kind. Subclasses declare fields (the language's arguments) and override rules."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False, defer_build=True, allow_inf_nan=False)

    kind: ClassVar[str]  # the family name used in reports ("conv", "activation", ...)
    family: ClassVar[Family]  # how diagrams draw it
    positional: ClassVar[tuple[str, ...]] = ()
    inputs_allowed: ClassVar[tuple[int, int | None]] = (1, 1)  # (min, max) number of inputs
    mixes_positions: ClassVar[bool] = False  # ends the spatial receptive field
    preserves_values: ClassVar[bool] = False  # passes values through unchanged at inference (dropout, reshape)
    starts_line: ClassVar[bool] = False  # fmt's layout without a source: a CBAPD row starts at this kind
    keras_required: ClassVar[tuple[str, ...]] = ()  # fields Keras needs even at our default (no Keras default)
    regularizer_fields: ClassVar[tuple[str, ...]] = ()  # fields that make a Keras regularizer exist or not

    # -- description

    @classmethod
    def argument_names(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)

    @classmethod
    def required_arguments(cls) -> tuple[str, ...]:
        return tuple(name for name, info in cls.model_fields.items() if info.is_required())

    def arguments(self) -> dict[str, Any]:
        """The arguments that differ from the defaults, in declaration order."""
        return {
            name: getattr(self, name) for name, info in type(self).model_fields.items()
            if info.is_required() or getattr(self, name) != info.default
        }

    def label(self) -> str:
        """A short text for diagrams and tables: the kind and its key arguments."""
        return self.kind

    @property
    def outputs_probabilities(self) -> bool:
        """Whether its outputs are class probabilities (a softmax ends it), not logits."""
        return False

    def mismatch_hint(self, shapes: Sequence[Shape]) -> str | None:
        """How to make the outputs of a construct this kind merges fit (a residual's body and
        shortcut, for add); None when there is nothing to suggest."""
        return None

    # -- rules

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        return ()

    def params(self, inputs: Sequence[Shape], convention: str = "keras") -> ParamCount:
        trainable = sum(elements(w.shape) for w in self.weights(inputs) if w.trainable)
        frozen = sum(elements(w.shape) for w in self.weights(inputs) if not w.trainable)
        if convention == "torch":
            frozen = 0  # PyTorch counts only parameters; running statistics are buffers
        return ParamCount(trainable, frozen)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return 0

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        """What tf.profiler's float_operation() counts for the emitted Keras layer at batch 1."""
        return 0

    def window(self, inputs: Sequence[Shape]) -> Window | None:
        """The sliding window, or None for a layer that maps each position to itself."""
        return None

    # -- Keras: the class and how its keyword arguments come from the fields

    keras_layer: ClassVar[str]
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = ()  # (Keras keyword, field or REGULARIZER)
    keras_positional: ClassVar[int] = 0

    def keras_call(self, explicit: bool = False, keep: Sequence[str] = ()) -> KerasCall:
        """The Keras constructor call; with `explicit`, only arguments that differ from the
        defaults (which equal Keras' own), as a person would write it, and the fields in `keep`."""
        changed = (set(self.arguments()) | set(self.keras_required) | set(keep)) if explicit else None
        arguments = []
        for keras_name, source in self.keras_arguments:
            if source == REGULARIZER:
                value = _regularizer(*(getattr(self, name) for name in self.regularizer_fields))
                if value is not None or not explicit:
                    arguments.append(KerasArgument(keras_name, value))
            elif changed is None or source in changed:
                arguments.append(KerasArgument(keras_name, getattr(self, source), source))
        positional = 0
        for argument, (keras_name, _) in zip(arguments, self.keras_arguments[: self.keras_positional]):
            if argument.name != keras_name:
                break
            positional += 1
        return KerasCall(self.keras_layer, tuple(arguments), positional)


def _regularizer(l1: float | None, l2: float | None) -> KerasCall | None:
    if l1 is not None and l2 is not None:
        return KerasCall("regularizers.L1L2", (KerasArgument("l1", l1, "l1"), KerasArgument("l2", l2, "l2")))
    if l2 is not None:
        return KerasCall("regularizers.L2", (KerasArgument("l2", l2, "l2"),))
    if l1 is not None:
        return KerasCall("regularizers.L1", (KerasArgument("l1", l1, "l1"),))
    return None


def _activation_flops(activation: str | None, shape: Shape) -> int:
    return Activation.TFPROF_PER_ELEMENT.get(activation or "linear", 0) * elements(shape)


def _epilogue_flops(bias: bool, activation: str | None, output: Shape) -> int:
    """What a conv or dense layer adds after its products: BiasAdd (one operation per output
    element for tf.profiler) and its fused activation."""
    return (elements(output) if bias else 0) + _activation_flops(activation, output)


def _dilated_positions(output: Shape, dilation: tuple[int, int]) -> int:
    """Output positions tf.profiler sees: Keras' TF backend runs a dilated convolution as
    space-to-batch on a grid padded up to a multiple of the dilation on each axis."""
    return (dilation[0] * ceil(output[0] / dilation[0])) * (dilation[1] * ceil(output[1] / dilation[1]))


class _Regularized(BaseModel):
    """The l2 and l1 fields; a kind that has them also names them in `regularizer_fields`
    (the class variable must be set below `Layer` in the bases, where it is looked up first)."""

    l2: StrictFloat | StrictInt | None = Field(default=None, ge=0)
    l1: StrictFloat | StrictInt | None = Field(default=None, ge=0)


class _Activated:
    """A kind with a fused `activation` field (conv, dense): softmax there makes it output
    probabilities. (A plain mixin: each kind declares the field where its argument order wants it.)"""

    @property
    def outputs_probabilities(self) -> bool:
        return self.activation == "softmax"


class _Windowed(Layer):
    """Shared rules of kinds that slide a window: convolutions and pooling."""

    def _kernel(self) -> tuple[int, int]:
        raise NotImplementedError

    def _stride(self) -> tuple[int, int]:
        raise NotImplementedError

    def _dilation(self) -> tuple[int, int]:
        return (1, 1)

    def effective_kernel(self) -> tuple[int, int]:
        kernel, dilation = self._kernel(), self._dilation()
        return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))  # type: ignore[return-value]

    def spatial_output(self, shape: Shape) -> tuple[int, int]:
        height, width, _ = spatial_input(self, shape)
        kernel, stride = self.effective_kernel(), self._stride()
        padding = getattr(self, "padding")
        if padding == "valid":
            for axis, size, k in (("height", height, kernel[0]), ("width", width, kernel[1])):
                if k > size:
                    what = "pool" if self.family is POOL else "kernel"
                    raise ShapeError(
                        f"{what} {_extent(self)} exceeds its {height}x{width} input with padding=valid "
                        f"({axis} {k} > {size})",
                        argument="pool" if what == "pool" else "kernel",
                        hint="use padding=same, a smaller window, or less downsampling before this layer",
                    )
        out = (window_output(height, kernel[0], stride[0], padding), window_output(width, kernel[1], stride[1], padding))
        return out

    def window(self, inputs: Sequence[Shape]) -> Window:
        height, width, _ = inputs[0]
        kernel, stride = self.effective_kernel(), self._stride()
        if getattr(self, "padding") == "same":
            pads = [same_padding(n, k, s) for n, k, s in zip((height, width), kernel, stride)]
        else:
            pads = [(0, 0), (0, 0)]
        return Window(kernel, (Fraction(stride[0]), Fraction(stride[1])), (pads[0][0], pads[1][0]), (pads[0][1], pads[1][1]),
                      getattr(self, "padding"))


class _Convolution(_Activated, _Windowed, _Regularized):
    """Shared rules of the convolution kinds: kernel, stride and dilation pairs."""

    regularizer_fields: ClassVar[tuple[str, ...]] = REGULARIZER_FIELDS

    def _kernel(self) -> tuple[int, int]:
        return pair(getattr(self, "kernel"))

    def _stride(self) -> tuple[int, int]:
        return pair(getattr(self, "stride"))

    def _dilation(self) -> tuple[int, int]:
        return pair(getattr(self, "dilation"))

    def check_stride_and_dilation(self) -> None:
        if self._stride() != (1, 1) and self._dilation() != (1, 1):
            raise ShapeError(f"stride {show_value(getattr(self, 'stride'))} and dilation {show_value(getattr(self, 'dilation'))} "
                             "cannot both exceed 1 in Keras", argument="dilation")

    def stride_label(self) -> str:
        """What follows the kind in a label: the stride when not 1, the fused activation if any."""
        text = f", /{show_value(getattr(self, 'stride'))}" if self._stride() != (1, 1) else ""
        activation = getattr(self, "activation", None)
        return text + (f", {activation}" if activation else "")


def _extent(layer: _Windowed) -> str:
    kernel = layer.effective_kernel()
    return f"{kernel[0]}x{kernel[1]}" if kernel[0] != kernel[1] else str(kernel[0])


def _positive_pair(value: Any) -> Any:
    for item in (value,) if isinstance(value, int) else value:
        if item < 1:
            raise ValueError(f"expected a positive size or a pair of them; received {show_value(value)}")
        if item > MAX_DIMENSION:
            raise ValueError(f"expected at most {MAX_DIMENSION}; received {show_value(value)}")
    return value


# ---------------------------------------------------------------------------------------------
# Convolutions


class Conv(_Convolution):
    """2-D convolution (keras.layers.Conv2D), with dilation and groups."""

    kind: ClassVar[str] = "conv"
    starts_line: ClassVar[bool] = True
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
    kernel: Pair
    stride: Pair = 1
    padding: Padding = "valid"
    dilation: Pair = 1
    groups: int = Field(default=1, strict=True, ge=1, le=MAX_DIMENSION)
    activation: ActivationName | None = None
    bias: StrictBool = True
    kernel_init: InitializerName = "glorot_uniform"
    bias_init: InitializerName = "zeros"

    _pairs = field_validator("kernel", "stride", "dilation")(_positive_pair)

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
        convolution = 0 if self.groups > 1 else 2 * _dilated_positions(output, pair(self.dilation)) * per_position
        return convolution + _epilogue_flops(self.bias, self.activation, output)


class DepthwiseConv(_Convolution):
    """Depthwise 2-D convolution (keras.layers.DepthwiseConv2D)."""

    kind: ClassVar[str] = "depthwise_conv"
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = CONV
    positional: ClassVar[tuple[str, ...]] = ("kernel", "stride")
    keras_layer: ClassVar[str] = "layers.DepthwiseConv2D"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (
        ("kernel_size", "kernel"), ("strides", "stride"), ("padding", "padding"), ("depth_multiplier", "multiplier"),
        ("dilation_rate", "dilation"), ("activation", "activation"), ("use_bias", "bias"),
        ("depthwise_initializer", "kernel_init"), ("bias_initializer", "bias_init"), ("depthwise_regularizer", REGULARIZER),
    )
    keras_positional: ClassVar[int] = 1

    kernel: Pair
    stride: Pair = 1
    padding: Padding = "valid"
    multiplier: int = Field(default=1, strict=True, ge=1, le=MAX_DIMENSION)
    dilation: Pair = 1
    activation: ActivationName | None = None
    bias: StrictBool = True
    kernel_init: InitializerName = "glorot_uniform"
    bias_init: InitializerName = "zeros"

    _pairs = field_validator("kernel", "stride", "dilation")(_positive_pair)

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
        positions = _dilated_positions(output, pair(self.dilation))
        return 2 * positions * output[2] * kernel[0] * kernel[1] + _epilogue_flops(self.bias, self.activation, output)


class SeparableConv(_Convolution):
    """Depthwise then pointwise convolution (keras.layers.SeparableConv2D)."""

    kind: ClassVar[str] = "separable_conv"
    starts_line: ClassVar[bool] = True
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
    kernel: Pair
    stride: Pair = 1
    padding: Padding = "valid"
    multiplier: int = Field(default=1, strict=True, ge=1, le=MAX_DIMENSION)
    dilation: Pair = 1
    activation: ActivationName | None = None
    bias: StrictBool = True
    kernel_init: InitializerName = "glorot_uniform"
    bias_init: InitializerName = "zeros"

    _pairs = field_validator("kernel", "stride", "dilation")(_positive_pair)

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
        depthwise = 2 * _dilated_positions(output, pair(self.dilation)) * depthwise_channels * kernel[0] * kernel[1]
        pointwise = 2 * output[0] * output[1] * depthwise_channels * self.filters
        return depthwise + pointwise + _epilogue_flops(self.bias, self.activation, output)


# ---------------------------------------------------------------------------------------------
# Dense, normalization, activations


class Dense(_Activated, Layer, _Regularized):
    """Fully connected layer (keras.layers.Dense) on a flat input."""

    regularizer_fields: ClassVar[tuple[str, ...]] = REGULARIZER_FIELDS

    kind: ClassVar[str] = "dense"
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = DENSE
    positional: ClassVar[tuple[str, ...]] = ("units", "activation")
    mixes_positions: ClassVar[bool] = True
    keras_layer: ClassVar[str] = "layers.Dense"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (
        ("units", "units"), ("activation", "activation"), ("use_bias", "bias"), ("kernel_initializer", "kernel_init"),
        ("bias_initializer", "bias_init"), ("kernel_regularizer", REGULARIZER),
    )
    keras_positional: ClassVar[int] = 1

    units: int = PositiveInt
    activation: ActivationName | None = None
    bias: StrictBool = True
    kernel_init: InitializerName = "glorot_uniform"
    bias_init: InitializerName = "zeros"

    def label(self) -> str:
        return f"dense {self.units}" + (f", {self.activation}" if self.activation else "")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if len(inputs[0]) != 1:
            raise ShapeError(
                f"expects a flat input; received {format_shape(inputs[0])}",
                hint="add `flatten` or `global_avg_pool` before it (Keras would apply dense to the last axis only)",
            )
        return (self.units,)

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        result = [Weight("kernel", (inputs[0][-1], self.units))]
        if self.bias:
            result.append(Weight("bias", (self.units,)))
        return tuple(result)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return inputs[0][-1] * self.units

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return 2 * self.macs(inputs, output) + _epilogue_flops(self.bias, self.activation, output)


class BatchNorm(Layer):
    """Batch normalization over the channel axis (keras.layers.BatchNormalization)."""

    kind: ClassVar[str] = "bn"
    family: ClassVar[Family] = NORM
    keras_layer: ClassVar[str] = "layers.BatchNormalization"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (
        ("momentum", "momentum"), ("epsilon", "epsilon"), ("center", "center"), ("scale", "scale"),
    )

    momentum: StrictFloat | StrictInt = Field(default=0.99, ge=0, le=1)
    epsilon: StrictFloat | StrictInt = Field(default=0.001, gt=0)
    center: StrictBool = True
    scale: StrictBool = True

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        channels = (inputs[0][-1],)
        result = []
        if self.scale:
            result.append(Weight("gamma", channels))
        if self.center:
            result.append(Weight("beta", channels))
        return (*result, Weight("moving_mean", channels, False), Weight("moving_variance", channels, False))

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # Keras 3 never fuses it: rsqrt(var + eps) (Rsqrt counts 2 per element), * gamma,
        # mean * inv, beta - that: 6 per channel (5 without gamma; `center` adds no op), then
        # x * inv + offset: 2 per element.
        per_channel = 6 if self.scale else 5
        return per_channel * inputs[0][-1] + 2 * elements(inputs[0])


class Activation(Layer):
    """An element-wise activation by Keras name (keras.layers.Activation)."""

    kind: ClassVar[str] = "activation"
    family: ClassVar[Family] = ACTIVATION
    positional: ClassVar[tuple[str, ...]] = ("function",)

    # tf.profiler registers no FLOPs for Relu, Sigmoid, Tanh, Elu, Selu, LeakyRelu, Softplus...;
    # Softmax counts 5 per element, and activations Keras composes from Mul/Add/Erf ops count
    # those ops (measured with TensorFlow 2.21 and Keras 3.15, pinned by a test).
    TFPROF_PER_ELEMENT: ClassVar[dict[str, int]] = {
        "softmax": 5, "celu": 5, "gelu": 4, "silu": 2, "swish": 2, "hard_sigmoid": 2, "hard_silu": 3, "hard_swish": 3, "mish": 1,
    }
    keras_layer: ClassVar[str] = "layers.Activation"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("activation", "function"),)
    keras_positional: ClassVar[int] = 1

    function: ActivationName

    def label(self) -> str:
        return self.function

    @property
    def outputs_probabilities(self) -> bool:
        return self.function == "softmax"

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return _activation_flops(self.function, output)


class LeakyRelu(Layer):
    """Leaky ReLU with its negative slope (keras.layers.LeakyReLU; Keras' default slope 0.3)."""

    kind: ClassVar[str] = "leaky_relu"
    family: ClassVar[Family] = ACTIVATION
    positional: ClassVar[tuple[str, ...]] = ("slope",)
    keras_layer: ClassVar[str] = "layers.LeakyReLU"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("negative_slope", "slope"),)

    slope: StrictFloat | StrictInt = Field(default=0.3, ge=0)

    def label(self) -> str:
        return f"leaky_relu {self.slope}"


class Elu(Layer):
    """ELU with its alpha (keras.layers.ELU)."""

    kind: ClassVar[str] = "elu"
    family: ClassVar[Family] = ACTIVATION
    positional: ClassVar[tuple[str, ...]] = ("alpha",)
    keras_layer: ClassVar[str] = "layers.ELU"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("alpha", "alpha"),)

    alpha: StrictFloat | StrictInt = 1.0

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # keras.layers.ELU with alpha 1 is one Elu op (no FLOPs registered); any other alpha
        # scales the negative part: a Mul and a Select-like op per element.
        return 0 if self.alpha == 1 else 2 * elements(output)


# ---------------------------------------------------------------------------------------------
# Pooling


class _Pool(_Windowed):
    family: ClassVar[Family] = POOL
    positional: ClassVar[tuple[str, ...]] = ("pool", "stride")
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("pool_size", "pool"), ("strides", "stride"), ("padding", "padding"))
    keras_required: ClassVar[tuple[str, ...]] = ("pool",)  # AveragePooling2D has no default pool size
    keras_positional: ClassVar[int] = 1

    pool: Pair = 2
    stride: Pair | None = None  # Keras: defaults to the pool size
    padding: Padding = "valid"

    _pairs = field_validator("pool", "stride")(lambda value: value if value is None else _positive_pair(value))

    def _kernel(self) -> tuple[int, int]:
        return pair(self.pool)

    def _stride(self) -> tuple[int, int]:
        return pair(self.stride if self.stride is not None else self.pool)

    def label(self) -> str:
        pool, stride = pair(self.pool), self._stride()
        text = f"{self.kind} {pool[0]}x{pool[1]}"
        return text + (f", /{stride[0]}" if stride[0] == stride[1] else f", /{stride[0]}x{stride[1]}") if stride != (1, 1) else text

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (*self.spatial_output(inputs[0]), inputs[0][2])

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        pool = pair(self.pool)
        return pool[0] * pool[1] * elements(output)


class MaxPool(_Pool):
    """Max pooling (keras.layers.MaxPooling2D)."""

    kind: ClassVar[str] = "maxpool"
    keras_layer: ClassVar[str] = "layers.MaxPooling2D"


class AvgPool(_Pool):
    """Average pooling (keras.layers.AveragePooling2D)."""

    kind: ClassVar[str] = "avgpool"
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

    kind: ClassVar[str] = "global_avg_pool"
    keras_layer: ClassVar[str] = "layers.GlobalAveragePooling2D"

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return elements(inputs[0])  # Mean: one operation per input element


class GlobalMaxPool(_GlobalPool):
    """Global max pooling (keras.layers.GlobalMaxPooling2D)."""

    kind: ClassVar[str] = "global_max_pool"
    keras_layer: ClassVar[str] = "layers.GlobalMaxPooling2D"  # Max has no registered FLOPs


# ---------------------------------------------------------------------------------------------
# Regularization and reshaping


class Dropout(Layer):
    """Dropout (keras.layers.Dropout); the identity at inference."""

    kind: ClassVar[str] = "dropout"
    preserves_values: ClassVar[bool] = True
    family: ClassVar[Family] = DROPOUT
    positional: ClassVar[tuple[str, ...]] = ("rate",)
    keras_layer: ClassVar[str] = "layers.Dropout"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("rate", "rate"),)
    keras_positional: ClassVar[int] = 1

    rate: StrictFloat | StrictInt = Field(ge=0, lt=1)

    def label(self) -> str:
        return f"dropout {self.rate}"


class Flatten(Layer):
    """Flattens to one axis (keras.layers.Flatten)."""

    kind: ClassVar[str] = "flatten"
    preserves_values: ClassVar[bool] = True
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = RESHAPE
    mixes_positions: ClassVar[bool] = True
    keras_layer: ClassVar[str] = "layers.Flatten"

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (elements(inputs[0]),)


class ZeroPad(Layer):
    """Zero padding of height and width (keras.layers.ZeroPadding2D)."""

    kind: ClassVar[str] = "zero_pad"
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = RESHAPE
    positional: ClassVar[tuple[str, ...]] = ("padding",)
    keras_layer: ClassVar[str] = "layers.ZeroPadding2D"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("padding", "padding"),)
    keras_positional: ClassVar[int] = 1

    padding: StrictInt | tuple[StrictInt, StrictInt] | tuple[tuple[StrictInt, StrictInt], tuple[StrictInt, StrictInt]] = 1

    @field_validator("padding")
    @classmethod
    def _non_negative(cls, value: Any) -> Any:
        flat = [value] if isinstance(value, int) else [v for item in value for v in ((item,) if isinstance(item, int) else item)]
        if any(v < 0 or v > MAX_DIMENSION for v in flat):
            raise ValueError(f"expected padding sizes between 0 and {MAX_DIMENSION}; received {show_value(value)}")
        return value

    def amounts(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right))."""
        value = self.padding
        if isinstance(value, int):
            return ((value, value), (value, value))
        if isinstance(value[0], int):
            return ((value[0], value[0]), (value[1], value[1]))  # type: ignore[return-value]
        return (tuple(value[0]), tuple(value[1]))  # type: ignore[return-value]

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        height, width, channels = spatial_input(self, inputs[0])
        (top, bottom), (left, right) = self.amounts()
        return (height + top + bottom, width + left + right, channels)

    def window(self, inputs: Sequence[Shape]) -> Window:
        (top, bottom), (left, right) = self.amounts()
        return Window((1, 1), (Fraction(1), Fraction(1)), (top, left), (bottom, right))


class Upsample(Layer):
    """Repeats rows and columns (keras.layers.UpSampling2D)."""

    kind: ClassVar[str] = "upsample"
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = RESHAPE
    positional: ClassVar[tuple[str, ...]] = ("size",)
    keras_layer: ClassVar[str] = "layers.UpSampling2D"
    keras_arguments: ClassVar[tuple[tuple[str, str], ...]] = (("size", "size"), ("interpolation", "interpolation"))
    keras_positional: ClassVar[int] = 1

    size: Pair = 2
    interpolation: Literal["nearest", "bilinear"] = "nearest"

    _pairs = field_validator("size")(_positive_pair)

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

    kind: ClassVar[str] = "reshape"
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

    kind: ClassVar[str] = "identity"
    preserves_values: ClassVar[bool] = True
    starts_line: ClassVar[bool] = True
    family: ClassVar[Family] = RESHAPE
    keras_layer: ClassVar[str] = "layers.Identity"


# ---------------------------------------------------------------------------------------------
# Merges


class Add(Layer):
    """Element-wise sum of equal shapes (keras.layers.Add)."""

    kind: ClassVar[str] = "add"
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

    kind: ClassVar[str] = "concat"
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


# ---------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True)
class Entry:
    """One name of the language: the class it builds and the arguments the name presets."""

    name: str
    cls: type[Layer]
    presets: dict[str, Any] = field(default_factory=dict)
    summary: str = ""

    @property
    def positional(self) -> tuple[str, ...]:
        return tuple(p for p in self.cls.positional if p not in self.presets)

    @property
    def argument_names(self) -> tuple[str, ...]:
        return tuple(n for n in self.cls.argument_names() if n not in self.presets)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(n for n in self.cls.required_arguments() if n not in self.presets)

    def field_accepting(self, value: str) -> str | None:
        """The argument whose fixed set of words includes `value` (`same` -> `padding`)."""
        import typing

        for name in self.argument_names:
            annotation = self.cls.model_fields[name].annotation
            options = typing.get_args(annotation)
            words = [a for option in (options or (annotation,)) for a in typing.get_args(option) if typing.get_origin(option) is Literal]
            if typing.get_origin(annotation) is Literal:
                words += list(typing.get_args(annotation))
            if value in words:
                return name
        return None

    def build(self, arguments: dict[str, Any]) -> Layer:
        return self.cls(**self.presets, **arguments)


def _entries() -> dict[str, Entry]:
    entries = [
        Entry("conv", Conv, summary="2-D convolution (Conv2D): filters, kernel, stride"),
        Entry("depthwise_conv", DepthwiseConv, summary="depthwise convolution (DepthwiseConv2D)"),
        Entry("separable_conv", SeparableConv, summary="depthwise-separable convolution (SeparableConv2D)"),
        Entry("dense", Dense, summary="fully connected layer (Dense): units, activation"),
        Entry("bn", BatchNorm, summary="batch normalization (BatchNormalization)"),
        Entry("act", Activation, summary="any Keras activation by name: act(gelu)"),
        Entry("leaky_relu", LeakyRelu, summary="leaky ReLU: slope (default 0.3, as keras.layers.LeakyReLU)"),
        Entry("elu", Elu, summary="ELU: alpha (default 1.0)"),
        Entry("maxpool", MaxPool, summary="max pooling (MaxPooling2D): pool, stride"),
        Entry("avgpool", AvgPool, summary="average pooling (AveragePooling2D): pool, stride"),
        Entry("global_avg_pool", GlobalAvgPool, summary="global average pooling"),
        Entry("global_max_pool", GlobalMaxPool, summary="global max pooling"),
        Entry("dropout", Dropout, summary="dropout: rate"),
        Entry("flatten", Flatten, summary="flatten to one axis"),
        Entry("zero_pad", ZeroPad, summary="zero padding (ZeroPadding2D)"),
        Entry("upsample", Upsample, summary="upsampling (UpSampling2D): size"),
        Entry("identity", Identity, summary="passes its input through"),
        Entry("reshape", Reshape, summary="reshape to a shape with as many values: reshape([1, 1, 10])"),
        Entry("add", Add, summary="element-wise sum of taps: add(@a)"),
        Entry("concat", Concat, summary="concatenation of taps: concat(@a)"),
    ]
    for name in ("relu", "sigmoid", "tanh", "softmax", "gelu", "silu", "swish", "relu6",
                 "selu", "softplus", "softsign", "hard_sigmoid", "mish", "linear"):
        entries.append(Entry(name, Activation, {"function": name}, summary=f"{name} activation"))
    return {entry.name: entry for entry in entries}


REGISTRY: dict[str, Entry] = _entries()
