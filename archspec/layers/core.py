"""Dense, batch normalization and the activations."""


from typing import Sequence

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from .base import (
    ACTIVATION,
    ACTIVATIONS,
    DENSE,
    NORM,
    REGULARIZER,
    Activated,
    ActivationName,
    InitializerName,
    Layer,
    PositiveInt,
    Regularized,
    Retained,
    Shape,
    Weight,
    activation_flops,
    activation_retained,
    elements,
    epilogue_flops,
)


class Dense(Activated, Regularized, Layer):
    """Fully connected layer (keras.layers.Dense); on a map it applies to the last axis, as Keras
    does (a pointwise MLP, as ConvNeXt's)."""

    op = "dense"
    gradient_keeps = ("inputs",)
    starts_line = True
    family = DENSE
    positional = ("units", "activation")
    keras_layer = "layers.Dense"
    keras_arguments = (
        ("units", "units"), ("activation", "activation"), ("use_bias", "bias"), ("kernel_initializer", "kernel_init"),
        ("bias_initializer", "bias_init"), ("kernel_regularizer", REGULARIZER),
    )
    keras_positional = 1

    units: int = PositiveInt
    activation: ActivationName | None = None
    bias: StrictBool = True
    kernel_init: InitializerName = "glorot_uniform"
    bias_init: InitializerName = "zeros"

    def label(self) -> str:
        return f"dense {self.units}" + (f", {self.activation}" if self.activation else "")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        return (*inputs[0][:-1], self.units)

    def on_map(self, inputs: Sequence[Shape]) -> bool:
        return len(inputs[0]) > 1

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        result = [Weight("kernel", (inputs[0][-1], self.units))]
        if self.bias:
            result.append(Weight("bias", (self.units,)))
        return tuple(result)

    def macs(self, inputs: Sequence[Shape], output: Shape) -> int:
        return elements(inputs[0][:-1]) * inputs[0][-1] * self.units  # one product per position

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return 2 * self.macs(inputs, output) + epilogue_flops(self.bias, self.activation, output)


class BatchNorm(Layer):
    """Batch normalization over the channel axis (keras.layers.BatchNormalization)."""

    op = "bn"
    gradient_keeps = ("inputs",)
    family = NORM
    keras_layer = "layers.BatchNormalization"
    keras_arguments = (
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

    op = "activation"
    family = ACTIVATION
    positional = ("function",)

    entry = "act"  # `act(gelu)`; the common functions are names of their own
    presets = {
        name: {"function": name} for name, function in ACTIVATIONS.items() if function.preset
    }
    keras_layer = "layers.Activation"
    keras_arguments = (("activation", "function"),)
    keras_positional = 1

    function: ActivationName

    def label(self) -> str:
        return self.function

    @property
    def final_activation(self) -> str | None:
        return None if self.function == "linear" else self.function

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return activation_flops(self.function, output)

    def kept_for_gradient(self, inputs: Sequence[Shape], output: Shape) -> Retained:
        return activation_retained(self.function, output, fused=False)

class LeakyRelu(Layer):
    """Leaky ReLU with its negative slope (keras.layers.LeakyReLU; Keras' default slope 0.3)."""

    op = "leaky_relu"
    gradient_keeps = ("inputs",)
    family = ACTIVATION
    positional = ("slope",)
    keras_layer = "layers.LeakyReLU"
    keras_arguments = (("negative_slope", "slope"),)

    slope: StrictFloat | StrictInt = Field(default=0.3, ge=0)

    def label(self) -> str:
        return f"leaky_relu {self.slope}"


class Elu(Layer):
    """ELU with its alpha (keras.layers.ELU)."""

    op = "elu"
    gradient_keeps = ("output",)
    family = ACTIVATION
    positional = ("alpha",)
    keras_layer = "layers.ELU"
    keras_arguments = (("alpha", "alpha"),)

    alpha: StrictFloat | StrictInt = 1.0

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # keras.layers.ELU with alpha 1 is one Elu op (no FLOPs registered); any other alpha
        # scales the negative part: a Mul and a Select-like op per element.
        return 0 if self.alpha == 1 else 2 * elements(output)


