"""The layer kinds: one class per kind, holding every rule for that kind, grouped by family.

Each class validates its arguments (pydantic fields), and answers, from input shapes alone:
its output shape, parameter counts (Keras and torch conventions), MACs, FLOPs under the
`tfprof` profile, its sliding window for receptive fields, and a pure description of its Keras
call (`KerasCall`), from which both the Keras and the Python emitters work. It also declares
its names (`op`, and in the language `entry` and `presets`), its family (colour, legend, node shape)
and its label. `REGISTRY` (in `registry`) is derived from the classes.
"""

from .base import (
    ACTIVATIONS,
    CUSTOM_PREFIX,
    FAMILIES,
    INITIALIZERS,
    MAX_DIMENSION,
    REGULARIZER,
    ActivationFunction,
    Family,
    KerasArgument,
    KerasCall,
    Layer,
    ParamCount,
    Retained,
    Shape,
    ShapeError,
    Weight,
    Window,
    elements,
    format_shape,
    pair,
)
from .conv import Conv, DepthwiseConv, SeparableConv
from .core import Activation, BatchNorm, Dense, Elu, LeakyRelu
from .merge import Add, Average, Concat, Maximum, Minimum, Multiply, Subtract
from .norm import LayerNorm, Rescaling
from .pool import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool
from .registry import REGISTRY, Entry
from .reshape import Dropout, Flatten, Identity, Reshape, Upsample, ZeroPad

__all__ = [
    "CUSTOM_PREFIX",
    "ACTIVATIONS", "FAMILIES", "INITIALIZERS", "MAX_DIMENSION", "REGISTRY", "REGULARIZER", "ActivationFunction", "Activation",
    "Add", "Average", "AvgPool", "BatchNorm", "Concat", "Conv", "Dense", "DepthwiseConv", "Dropout", "Elu", "Entry", "Family", "Flatten",
    "GlobalAvgPool", "GlobalMaxPool", "Identity", "KerasArgument", "KerasCall", "Layer", "LayerNorm", "LeakyRelu", "MaxPool", "Maximum", "Minimum", "Multiply", "ParamCount", "Retained",
    "Reshape", "Rescaling", "SeparableConv", "Subtract", "Shape", "ShapeError", "Upsample", "Weight", "Window", "ZeroPad", "elements", "format_shape",
    "pair",
]
