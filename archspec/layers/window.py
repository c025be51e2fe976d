"""Kinds that slide a window (convolutions and pooling): the shared output-size, padding and
receptive-field rules, and the fields every convolution has."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, ClassVar, Sequence

from pydantic import Field, StrictBool, field_validator

from ..errors import show_value
from .base import (
    MAX_DIMENSION,
    POOL,
    Activated,
    ActivationName,
    InitializerName,
    Layer,
    Padding,
    Pair,
    Regularized,
    Shape,
    ShapeError,
    Window,
    pair,
    same_padding,
    spatial_input,
    window_output,
)


def positive_pair(value: Any) -> Any:
    for item in (value,) if isinstance(value, int) else value:
        if item < 1:
            raise ValueError(f"expected a positive size or a pair of them; received {show_value(value)}")
        if item > MAX_DIMENSION:
            raise ValueError(f"expected at most {MAX_DIMENSION}; received {show_value(value)}")
    return value


class Windowed(Layer):
    """Shared rules of kinds that slide a window: convolutions and pooling."""

    padding: Padding = "valid"

    def _kernel(self) -> tuple[int, int]:
        raise NotImplementedError

    def _stride(self) -> tuple[int, int]:
        raise NotImplementedError

    def _dilation(self) -> tuple[int, int]:
        return (1, 1)

    def effective_kernel(self) -> tuple[int, int]:
        kernel, dilation = self._kernel(), self._dilation()
        return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))  # type: ignore[return-value]

    def extent(self) -> str:
        kernel = self.effective_kernel()
        return f"{kernel[0]}x{kernel[1]}" if kernel[0] != kernel[1] else str(kernel[0])

    def spatial_output(self, shape: Shape) -> tuple[int, int]:
        height, width, _ = spatial_input(self, shape)
        kernel, stride = self.effective_kernel(), self._stride()
        if self.padding == "valid":
            for axis, size, k in (("height", height, kernel[0]), ("width", width, kernel[1])):
                if k > size:
                    what = "pool" if self.family is POOL else "kernel"
                    raise ShapeError(
                        f"{what} {self.extent()} exceeds its {height}x{width} input with padding=valid "
                        f"({axis} {k} > {size})",
                        argument="pool" if what == "pool" else "kernel",
                        hint="use padding=same, a smaller window, or less downsampling before this layer",
                    )
        return (window_output(height, kernel[0], stride[0], self.padding), window_output(width, kernel[1], stride[1], self.padding))

    def window(self, inputs: Sequence[Shape]) -> Window:
        height, width, _ = inputs[0]
        kernel, stride = self.effective_kernel(), self._stride()
        if self.padding == "same":
            pads = [same_padding(n, k, s) for n, k, s in zip((height, width), kernel, stride)]
        else:
            pads = [(0, 0), (0, 0)]
        return Window(kernel, (Fraction(stride[0]), Fraction(stride[1])), (pads[0][0], pads[1][0]), (pads[0][1], pads[1][1]),
                      self.padding)


class Convolution(Activated, Regularized, Windowed):
    """The fields and rules every convolution kind shares: kernel, stride and dilation pairs,
    padding, a fused activation, bias, initializers and regularizers. Each kind adds its own
    (filters, groups, multiplier)."""

    starts_line: ClassVar[bool] = True

    kernel: Pair
    stride: Pair = 1
    dilation: Pair = 1
    activation: ActivationName | None = None
    bias: StrictBool = True
    kernel_init: InitializerName = "glorot_uniform"
    bias_init: InitializerName = "zeros"

    _pairs = field_validator("kernel", "stride", "dilation")(positive_pair)

    def _kernel(self) -> tuple[int, int]:
        return pair(self.kernel)

    def _stride(self) -> tuple[int, int]:
        return pair(self.stride)

    def _dilation(self) -> tuple[int, int]:
        return pair(self.dilation)

    def check_stride_and_dilation(self) -> None:
        if self._stride() != (1, 1) and self._dilation() != (1, 1):
            raise ShapeError(f"stride {show_value(self.stride)} and dilation {show_value(self.dilation)} "
                             "cannot both exceed 1 in Keras", argument="dilation")

    def stride_label(self) -> str:
        """What follows the kind in a label: the stride when not 1, the fused activation if any."""
        text = f", /{show_value(self.stride)}" if self._stride() != (1, 1) else ""
        return text + (f", {self.activation}" if self.activation else "")


Multiplier = Field(default=1, strict=True, ge=1, le=MAX_DIMENSION)  # depthwise channels per input channel
