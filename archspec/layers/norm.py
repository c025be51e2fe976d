"""Normalization over features and input preprocessing: LayerNormalization, GroupNormalization,
UnitNormalization, Rescaling and Normalization, and the learned LayerScale.
(Batch normalization, which the course's CBAPD unit uses, sits with dense in `core`.)"""


from typing import Literal, Sequence

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from ..errors import show_value
from .base import CUSTOM_PREFIX, NORM, KerasEquivalent, Layer, Shape, ShapeError, Weight, elements


class LayerNorm(Layer):
    """Layer normalization over the last axis (keras.layers.LayerNormalization)."""

    op = "layer_norm"
    gradient_keeps = ("inputs",)
    family = NORM
    keras_layer = "layers.LayerNormalization"
    keras_arguments = (
        ("axis", "axis"), ("epsilon", "epsilon"), ("center", "center"), ("scale", "scale"),
    )

    axis: Literal[-1] = -1  # the features axis; other axes are not supported yet
    epsilon: StrictFloat | StrictInt = Field(default=0.001, gt=0)
    center: StrictBool = True
    scale: StrictBool = True

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        features = (inputs[0][-1],)
        return (*((Weight("gamma", features),) if self.scale else ()), *((Weight("beta", features),) if self.center else ()))

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # Keras 3 on TensorFlow (measured with TF 2.21, pinned by a test): the moments (mean,
        # square, mean, square and subtract, a floor at 0), + epsilon, rsqrt (2 per value), then
        # x * inv - mean * inv: 6 per element and 5 per position; gamma scales inv per element
        # (and so the mean's product grows to every element), beta adds one per element.
        values, positions = elements(inputs[0]), elements(inputs[0][:-1])
        flops = 6 * values + 5 * positions
        if self.scale:
            flops += 2 * values - positions
        if self.center:
            flops += values
        return flops


class Rescaling(Layer):
    """x * scale + offset, element by element (keras.layers.Rescaling): `rescaling(1/255)`."""

    op = "rescaling"
    presets = {"scale": {"offset": 0.0}}  # `scale(s)`: a constant multiple, x·s
    family = NORM
    starts_line = True
    positional = ("scale", "offset")
    keras_layer = "layers.Rescaling"
    keras_arguments = (("scale", "scale"), ("offset", "offset"))
    keras_positional = 1

    scale: StrictFloat | StrictInt
    offset: StrictFloat | StrictInt = 0.0

    def label(self) -> str:
        return f"rescaling x{self.scale:g}" + (f" {self.offset:+g}" if self.offset else "")

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return 2 * elements(output)  # a Mul and an AddV2 per element, the offset 0 included


Numbers = StrictFloat | StrictInt | tuple[StrictFloat | StrictInt, ...]


class Normalization(Layer):
    """(x - mean) / sqrt(variance) per feature (keras.layers.Normalization), over the last axis.
    Without `mean` and `variance` Keras keeps them (and a count) as non-trainable weights, to
    be set by `adapt`: 2 per feature + 1; given, they are constants and no weights."""

    op = "normalization"
    family = NORM
    starts_line = True
    keras_layer = "layers.Normalization"
    keras_arguments = (
        ("axis", "axis"), ("mean", "mean"), ("variance", "variance"), ("invert", "invert"),
    )

    axis: Literal[-1] = -1  # the features axis; other axes are not supported yet
    mean: Numbers | None = None  # one number, or one per feature
    variance: Numbers | None = None
    invert: StrictBool = False  # x * sqrt(variance) + mean: undoes a normalization

    def _given(self) -> bool:
        return self.mean is not None

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        if (self.mean is None) != (self.variance is None):
            raise ShapeError("give both `mean` and `variance`, or neither (Keras then keeps them as weights for adapt)",
                             argument="mean" if self.mean is None else "variance")
        shapes = [len(v) if isinstance(v, tuple) else None for v in (self.mean, self.variance)]
        if shapes[0] != shapes[1]:
            raise ShapeError(f"mean {show_value(self.mean)} and variance {show_value(self.variance)} differ in shape",
                             argument="variance", hint="Keras needs both as one number, or both as lists of one length")
        features = inputs[0][-1]
        for name in ("mean", "variance"):
            value = getattr(self, name)
            if isinstance(value, tuple) and len(value) not in (1, features):
                raise ShapeError(f"{name} has {len(value)} values for {features} features", argument=name,
                                 hint=f"give one number, or {features} (one per feature of the last axis)")
        values = self.variance if isinstance(self.variance, tuple) else (self.variance,)
        if self._given() and any(v < 0 for v in values):
            raise ShapeError("a variance cannot be negative", argument="variance")
        return inputs[0]

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        if self._given():
            return ()
        features = (inputs[0][-1],)
        return (Weight("mean", features, False), Weight("variance", features, False), Weight("count", (), False))

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # (x - mean) / max(sqrt(variance), epsilon): Sub and RealDiv per element, Maximum per
        # feature (Sqrt has no registered FLOPs; invert: Mul and AddV2 per element instead).
        # Keras broadcasts a single mean or variance to every feature first (measured, TF 2.21).
        return 2 * elements(output) + inputs[0][-1]


class LayerScale(Layer):
    """Multiplies each channel by a learned scale (ConvNeXt's LayerScale, CaiT): C trainable
    weights, initialised to `init`. Keras has no such layer: archspec emits its own
    (archspec.keras_layers.LayerScale)."""

    op = "layer_scale"
    gradient_keeps = ("inputs",)
    family = NORM
    positional = ("init",)
    keras_layer = f"{CUSTOM_PREFIX}.LayerScale"
    keras_arguments = (("init_value", "init"),)
    # keras.applications' ConvNeXt defines its own, with `init_values`
    keras_equivalents = {"LayerScale": KerasEquivalent(lambda config: {"init": config["init_values"]})}
    keras_positional = 1

    init: StrictFloat | StrictInt = 1e-6

    def label(self) -> str:
        return f"layer_scale {self.init:g}"

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        return (Weight("gamma", (inputs[0][-1],)),)

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        return elements(output)  # one Mul per element


class GroupNorm(Layer):
    """Normalization over groups of channels at each sample (keras.layers.GroupNormalization):
    `group_norm(32)`; the channels divide into `groups`."""

    op = "group_norm"
    gradient_keeps = ("inputs",)
    family = NORM
    positional = ("groups",)
    keras_layer = "layers.GroupNormalization"
    keras_arguments = (
        ("groups", "groups"), ("epsilon", "epsilon"), ("center", "center"), ("scale", "scale"),
    )
    keras_positional = 1

    groups: int = Field(default=32, strict=True, ge=1, le=1 << 20)
    epsilon: StrictFloat | StrictInt = Field(default=0.001, gt=0)
    center: StrictBool = True
    scale: StrictBool = True

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        channels = inputs[0][-1]
        if channels % self.groups:
            raise ShapeError(f"groups={self.groups} must divide the {channels} channels", argument="groups",
                             hint=f"a divisor of {channels}, e.g. {max(d for d in range(1, min(channels, self.groups) + 1) if channels % d == 0)}")
        return inputs[0]

    def weights(self, inputs: Sequence[Shape]) -> tuple[Weight, ...]:
        channels = (inputs[0][-1],)
        return (*((Weight("gamma", channels),) if self.scale else ()), *((Weight("beta", channels),) if self.center else ()))

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # Keras 3 on TensorFlow (measured with TF 2.21): the group moments (Mean and
        # SquaredDifference, 2 per element each), x * inv + offset (2 per element), and per group
        # + epsilon, Rsqrt (2), Neg, * (5); gamma scales inv per channel (2C - G more), beta adds C.
        values, channels, groups = elements(inputs[0]), inputs[0][-1], self.groups
        return 6 * values + 5 * groups + (channels if self.center else 0) + (2 * channels - groups if self.scale else 0)


class UnitNorm(Layer):
    """Scales each vector along the last axis to unit L2 norm (keras.layers.UnitNormalization)."""

    op = "unit_norm"
    gradient_keeps = ("inputs",)
    family = NORM
    keras_layer = "layers.UnitNormalization"
    keras_arguments = (("axis", "axis"),)

    axis: Literal[-1] = -1  # the features axis; other axes are not supported yet

    def tfprof_flops(self, inputs: Sequence[Shape], output: Shape) -> int:
        # Square and Mul per element, the Sum (C - 1 per vector), Rsqrt (2) and Minimum per vector
        values = elements(inputs[0])
        return 3 * values + 2 * (values // inputs[0][-1])
