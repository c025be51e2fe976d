"""The base of every layer kind: `Layer` with its rules' defaults, the pure description of a
Keras call, families (how diagrams draw kinds), windows, weights, shape arithmetic, and the
table of Keras initializer names (the activations' table is functions.py).
"""

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from math import ceil, prod
from typing import Any, Callable, ClassVar, Literal, NamedTuple, Sequence, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictFloat, StrictInt

# The activation functions (functions.py) are the kinds' vocabulary: the kinds import them from here.
from .functions import ACTIVATIONS, ActivationFunction, ActivationName, Retained, activation_flops, activation_retained  # noqa: F401

Shape = tuple[int, ...]

MAX_DIMENSION = 1 << 20  # filters, units, kernel and input sizes above this are refused

PositiveInt = Field(strict=True, ge=1, le=MAX_DIMENSION)

INITIALIZERS = (
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
    "ones", "orthogonal", "random_normal", "random_uniform", "truncated_normal", "zeros",
)
InitializerName = Literal[INITIALIZERS]  # type: ignore[valid-type]
Padding = Literal["valid", "same"]
Pair = Union[StrictInt, tuple[StrictInt, ...]]  # one size for every spatial axis, or one per axis
SPATIAL_AXES = {1: "length", 2: "height x width", 3: "depth x height x width"}  # by the number of spatial axes
MAP_WORDS = {1: "a sequence LxC", 2: "an image HxWxC", 3: "a volume DxHxWxC"}


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
class KerasEquivalent:
    """A Keras class not of Keras' layers (one of keras.applications' own, or a keras.ops
    operation such as `x + y`) that computes a kind: what `archspec import` reads it as."""

    fields: Callable[[dict], dict] = lambda config: {}  # the kind's fields, from the class's config
    reversed_inputs: bool = False  # the kind takes the inputs in the other order
    operation: bool = False  # a keras.ops operation (its tensors only; a constant operand is not a merge)


@dataclass(frozen=True)
class KerasCall:
    """A pure description of one Keras constructor call: `keras.<path>(**kwargs)`.

    `positional` says how many leading arguments read well without their keyword.
    """

    path: str  # e.g. "layers.Conv2D", "regularizers.L2"
    arguments: tuple[KerasArgument, ...] = ()
    positional: int = 0


CUSTOM_PREFIX = "archspec"  # a KerasCall path `archspec.NAME` is one of archspec.keras_layers' classes
REGULARIZER = "<regularizer>"  # a Keras argument built from the l1 and l2 fields
REGULARIZER_FIELDS = ("l1", "l2")


class Family(NamedTuple):
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
MERGE = Family("merge", "#ffffff", "merge (add, multiply, concat, ...)", shape="ellipse", style="filled,bold")
FAMILIES = (CONV, DENSE, NORM, ACTIVATION, POOL, DROPOUT, RESHAPE, MERGE)  # the legend's order


class Window(NamedTuple):
    """How a layer slides over each spatial axis: the receptive-field recurrence's inputs."""

    kernel: tuple[int | Fraction, ...]  # effective (dilated) kernel extent, per spatial axis
    stride: tuple[int | Fraction, ...]
    pad_before: tuple[int | Fraction, ...]
    pad_after: tuple[int | Fraction, ...]
    padding_mode: str | None = None  # "same" or "valid" for kinds that take a padding mode


class ParamCount(NamedTuple):
    trainable: int = 0
    non_trainable: int = 0


class Weight(NamedTuple):
    name: str
    shape: Shape
    trainable: bool = True


# ---------------------------------------------------------------------------------------------
# Shape arithmetic shared by the windowed kinds (Keras semantics)


def pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def per_axis(value: int | Sequence[int], rank: int, argument: str) -> tuple[int, ...]:
    """A size given once for every spatial axis, or once per axis, as one size per axis."""
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise ShapeError(f"{argument} {show_sizes(value)} has {len(value)} sizes for the input's {rank} spatial "
                         f"{'axis' if rank == 1 else 'axes'} ({SPATIAL_AXES[rank]})", argument=argument,
                         hint=f"give one size for every axis, or {rank}")
    return tuple(int(v) for v in value)


def show_sizes(value: int | Sequence[int]) -> str:
    return str(value) if isinstance(value, int) else "[" + ", ".join(str(v) for v in value) + "]"


def axis_text(sizes: Sequence[Any]) -> str:
    """Sizes per axis as `3` when all agree, else `3x5`."""
    texts = [str(v) for v in sizes]
    return texts[0] if len(set(texts)) == 1 else "x".join(texts)


def window_output(size: int, kernel: int, stride: int, padding: str) -> int:
    """Keras: `valid` floors, `same` gives ceil(n / s) whatever the kernel."""
    if padding == "same":
        return ceil(size / stride)
    return (size - kernel) // stride + 1


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's `same`: the total padding, with the odd pixel after (asymmetric when strided)."""
    total = max((ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def spatial_input(layer: "Layer", shape: Shape) -> tuple[tuple[int, ...], int]:
    """(spatial sizes, channels) of a map the layer slides over, refusing ranks Keras has no
    layer for (`spatial_ranks`: 1-D sequences, 2-D images, 3-D volumes)."""
    ranks = layer.spatial_ranks
    if len(shape) - 1 not in ranks:
        maps = [MAP_WORDS[r] for r in ranks]
        expected = maps[0] if len(maps) == 1 else ", ".join(maps[:-1]) + " or " + maps[-1]
        hint = ("spatial layers must come before `flatten`, `dense` and global pooling" if len(shape) == 1
                else f"Keras has no {len(shape) - 1}-D {layer.op}")
        raise ShapeError(f"expects a spatial input ({expected}); received {format_shape(shape)}", hint=hint)
    return tuple(shape[:-1]), shape[-1]


def format_shape(shape: Shape) -> str:
    return "x".join(str(n) for n in shape) if shape else "a scalar"


def elements(shape: Shape) -> int:
    return prod(shape)


# ---------------------------------------------------------------------------------------------
# The base class


class Layer(BaseModel):
    """One layer kind. Subclasses declare fields (the language's arguments), set the class
    attributes typed here (once: pydantic evaluates every annotation of a model's bases again
    for each subclass, 50 kinds at every start) and override rules."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False, defer_build=True, allow_inf_nan=False)

    op: ClassVar[str]  # the kind's own name in messages and labels ("conv", "activation"); a class that sets it is a kind
    entry: ClassVar[str | None] = None  # its name in the language (a report's `kind`) when that is not `op` (`act`)
    presets: ClassVar[dict[str, dict[str, Any]]] = {}  # more names of the language, each with preset arguments
    family: ClassVar[Family]  # how diagrams draw it
    positional: ClassVar[tuple[str, ...]] = ()
    inputs_allowed: ClassVar[tuple[int, int | None]] = (1, 1)  # (min, max) number of inputs
    mixes_positions: ClassVar[bool] = False  # ends the spatial receptive field
    elementwise: ClassVar[bool] = False  # merges inputs value by value (can join a residual's body and shortcut)
    preserves_values: ClassVar[bool] = False  # passes values through unchanged at inference (dropout, reshape)
    starts_line: ClassVar[bool] = False  # fmt's layout without a source: a CBAPD row starts at this kind
    keras_required: ClassVar[tuple[str, ...]] = ()  # fields Keras needs even at our default (no Keras default)
    regularizer_fields: ClassVar[tuple[str, ...]] = ()  # fields that make a Keras regularizer exist or not
    spatial_ranks: ClassVar[tuple[int, ...]] = (2,)  # spatial axes of the maps it takes (`keras_layer` names the 2-D class)
    # What TensorFlow's gradient of the kind reads from the forward pass, so training keeps it:
    # "inputs" (a conv's or a matmul's kernel gradient), "output" (Relu, Sigmoid, Softmax), and a
    # "mask" of the output's size (dropout's). Nothing for adds, concats, reshapes, average pools.
    gradient_keeps: ClassVar[tuple[str, ...]] = ()

    _rank: int = PrivateAttr(default=2)  # the spatial axes of this layer's input, once bound to it

    def bound(self, inputs: Sequence[Shape]) -> "Layer":
        """This layer for its input: a kind that takes 1-D, 2-D and 3-D maps learns which (its
        Keras class, Conv1D or Conv3D, depends on it)."""
        rank = len(inputs[0]) - 1 if inputs else 2
        if len(self.spatial_ranks) < 2 or rank == self.spatial_axes or rank not in self.spatial_ranks:
            return self
        copy = self.model_copy()
        copy._rank = rank
        return copy

    @property
    def spatial_axes(self) -> int:
        """The spatial axes of the input this layer is bound to (2 until bound)."""
        # Read from pydantic's store of private attributes: `self._rank` would go through its
        # fallback lookup, several microseconds a read, and the analysis reads it for each layer.
        return self.__pydantic_private__["_rank"]  # type: ignore[index]

    @property
    def keras_class(self) -> str:
        """The Keras class for the bound input: keras_layer with 2D read as the input's rank."""
        rank = self.spatial_axes
        return self.keras_layer if rank == 2 else self.keras_layer.replace("2D", f"{rank}D")

    # -- description

    @classmethod
    @cache  # asked for every call the spec makes; a class's fields never change
    def argument_names(cls) -> tuple[str, ...]:
        """In reading order: the positional ones, the others as declared, regularizers last."""
        rest = [name for name in cls.model_fields if name not in cls.positional and name not in cls.regularizer_fields]
        return (*cls.positional, *rest, *(name for name in cls.model_fields if name in cls.regularizer_fields))

    @classmethod
    @cache
    def required_arguments(cls) -> tuple[str, ...]:
        return tuple(name for name in cls.argument_names() if cls.model_fields[name].is_required())

    def arguments(self) -> dict[str, Any]:
        """The arguments that differ from the defaults, in reading order."""
        defaults = type(self).argument_defaults()
        return {name: getattr(self, name) for name in self.argument_names()
                if name not in defaults or getattr(self, name) != defaults[name]}

    @classmethod
    @cache
    def argument_defaults(cls) -> dict[str, Any]:
        """The default of each argument that has one."""
        return {name: info.default for name, info in cls.model_fields.items() if not info.is_required()}

    def label(self) -> str:
        """A short text for diagrams and tables: the kind and its key arguments."""
        return self.op

    @property
    def final_activation(self) -> str | None:
        """The activation function its output ends with (`softmax`, `sigmoid`...), or None for
        a linear end: what a loss is told (logits or probabilities)."""
        return None

    @property
    def outputs_probabilities(self) -> bool:
        """Whether its outputs are class probabilities (a softmax ends it), not logits."""
        return self.final_activation == "softmax"

    def on_map(self, inputs: Sequence[Shape]) -> bool:
        """Whether a kind that usually takes a flat vector is applied here to each position of a
        map (dense on HxWxC): fine inside a network, a forgotten `flatten` when it reaches the output."""
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

    def kept_for_gradient(self, inputs: Sequence[Shape], output: Shape) -> "Retained":
        """What TensorFlow's gradient of this layer holds from the forward pass until the
        backward pass, by `gradient_keeps` (the training-memory ledger)."""
        keeps = self.gradient_keeps
        return Retained("inputs" in keeps, "output" in keeps, elements(output) if "mask" in keeps else 0)

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
    keras_equivalents: ClassVar[dict[str, KerasEquivalent]] = {}  # by class name: what import reads as this kind

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
        return KerasCall(self.keras_class, tuple(arguments), positional)


def _regularizer(l1: float | None, l2: float | None) -> KerasCall | None:
    if l1 is not None and l2 is not None:
        return KerasCall("regularizers.L1L2", (KerasArgument("l1", l1, "l1"), KerasArgument("l2", l2, "l2")))
    if l2 is not None:
        return KerasCall("regularizers.L2", (KerasArgument("l2", l2, "l2"),))
    if l1 is not None:
        return KerasCall("regularizers.L1", (KerasArgument("l1", l1, "l1"),))
    return None


def epilogue_flops(bias: bool, activation: str | None, output: Shape) -> int:
    """What a conv or dense layer adds after its products: BiasAdd (one operation per output
    element for tf.profiler) and its fused activation."""
    return (elements(output) if bias else 0) + activation_flops(activation, output)


def dilated_positions(output: Shape, dilation: Sequence[int]) -> int:
    """Output positions tf.profiler sees: Keras' TF backend runs a dilated convolution as
    space-to-batch on a grid padded up to a multiple of the dilation on each axis."""
    return prod(d * ceil(n / d) for n, d in zip(output[:-1], dilation))


class Regularized(BaseModel):
    """The l2 and l1 fields, which make the kernel's Keras regularizer. A kind lists it before
    `Layer` in its bases, so its `regularizer_fields` is found before Layer's empty default."""

    model_config = ConfigDict(defer_build=True)  # never validated alone: its kinds build the schema
    regularizer_fields: ClassVar[tuple[str, ...]] = REGULARIZER_FIELDS

    l2: StrictFloat | StrictInt | None = Field(default=None, ge=0)
    l1: StrictFloat | StrictInt | None = Field(default=None, ge=0)


class Activated:
    """A kind with a fused `activation` field (conv, dense): softmax there makes it output
    probabilities. (A plain mixin: each kind declares the field where its argument order wants it.)"""

    @property
    def final_activation(self) -> str | None:
        return None if self.activation in (None, "linear") else self.activation

    def kept_for_gradient(self, inputs: Sequence[Shape], output: Shape) -> Retained:
        return super().kept_for_gradient(inputs, output) + activation_retained(self.activation, output, fused=True)  # type: ignore[misc]


