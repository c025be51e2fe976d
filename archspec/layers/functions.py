"""The Keras activation functions archspec names, and what each costs: the operations
tf.profiler counts for it, and what its gradient holds from the forward pass (`Retained`, the
training-memory ledger's unit, which every layer kind's `kept_for_gradient` answers in).
"""

from dataclasses import dataclass
from math import prod
from typing import Literal, NamedTuple

Shape = tuple[int, ...]


class ActivationFunction(NamedTuple):
    """A Keras 3 activation name (keras.activations.get accepts each): what tf.profiler counts
    per element for it, and whether the name is also a layer of the language (`gelu`; relu and
    softmax are kinds of their own, with arguments)."""

    tfprof_per_element: int = 0
    preset: bool = False
    tfprof_constant: int = 0  # what it counts once whatever the size (sparsemax's one scalar AddV2)
    # What its gradient reads from the forward pass: TensorFlow's Relu, Elu, Selu, Sigmoid, Tanh
    # and Softmax gradients read the output, the others their input (linear: nothing); those
    # Keras composes of several ops keep intermediates of that size too (gelu its erf term).
    reads: str = "input"
    intermediates: int = 0


# tf.profiler registers no FLOPs for Relu, Sigmoid, Tanh, Elu, Selu, LeakyRelu, Softplus...;
# Softmax counts 5 per element, and activations Keras composes from Mul/Add/Erf ops count those
# ops (measured with TensorFlow 2.21 and Keras 3.15, pinned by a test).
ACTIVATIONS: dict[str, ActivationFunction] = {
    "celu": ActivationFunction(5, intermediates=1), "elu": ActivationFunction(reads="output"), "exponential": ActivationFunction(reads="output"),
    "gelu": ActivationFunction(4, preset=True, intermediates=1), "hard_sigmoid": ActivationFunction(2, preset=True),
    "hard_silu": ActivationFunction(3, intermediates=1), "hard_swish": ActivationFunction(3, intermediates=1), "leaky_relu": ActivationFunction(),
    "linear": ActivationFunction(preset=True, reads=""), "log_softmax": ActivationFunction(reads="output"), "mish": ActivationFunction(1, preset=True, intermediates=2),
    "relu": ActivationFunction(reads="output"), "relu6": ActivationFunction(preset=True), "selu": ActivationFunction(preset=True, reads="output"),
    "sigmoid": ActivationFunction(preset=True, reads="output"), "silu": ActivationFunction(2, preset=True),
    "softmax": ActivationFunction(5, reads="output"), "softplus": ActivationFunction(preset=True),
    "softsign": ActivationFunction(preset=True), "swish": ActivationFunction(2, preset=True), "tanh": ActivationFunction(preset=True, reads="output"),
    # Keras 3's newer names, composed of counted ops: Greater; Maximum, Minimum; Neg x2; Greater,
    # Less, Sub, AddV2; LessEqual, Less, AddV2, Pow, Mul; LessEqual, GreaterEqual, AddV2, Mul;
    # Square, AddV2 x2, RealDiv; Sub; and sparsemax's sort-free form 8 per element + 1.
    "hard_shrink": ActivationFunction(1), "hard_tanh": ActivationFunction(2), "log_sigmoid": ActivationFunction(2),
    "soft_shrink": ActivationFunction(4), "sparse_plus": ActivationFunction(5), "sparse_sigmoid": ActivationFunction(4),
    "squareplus": ActivationFunction(4, intermediates=1), "tanh_shrink": ActivationFunction(1), "sparsemax": ActivationFunction(8, tfprof_constant=1, intermediates=1),
}
# Not here: `glu` halves the last axis while keras.layers.Activation reports it unchanged, and
# `threshold` needs arguments a string cannot give (Keras cannot call it by name).
ActivationName = Literal[tuple(ACTIVATIONS)]  # type: ignore[valid-type]


def activation_flops(activation: str | None, shape: Shape) -> int:
    function = ACTIVATIONS[activation or "linear"]
    return function.tfprof_per_element * prod(shape) + function.tfprof_constant


@dataclass(frozen=True)
class Retained:
    """What a layer's gradient holds from the forward pass: its input tensors, its output
    tensor (each shared with the other layers that hold it), and values of its own (a dropout
    mask, a fused activation's input), per sample."""

    inputs: bool = False
    output: bool = False
    own: int = 0

    def __add__(self, other: "Retained") -> "Retained":
        return Retained(self.inputs or other.inputs, self.output or other.output, self.own + other.own)


def activation_retained(activation: str | None, output: Shape, fused: bool) -> Retained:
    """What an activation's gradient holds (see ActivationFunction). Fused into a conv or a
    dense layer, its input is the layer's own pre-activation, not a tensor of the network."""
    function = ACTIVATIONS[activation or "linear"]
    own = function.intermediates * prod(output)
    if function.reads == "output":
        return Retained(output=True, own=own)
    if function.reads == "input":
        return Retained(own=own + prod(output)) if fused else Retained(inputs=True, own=own)
    return Retained(own=own)
