"""Kinds that slide a window (convolutions and pooling): the shared output-size, padding and
receptive-field rules, and the fields every convolution has."""


from typing import Any, Sequence

from pydantic import Field, StrictBool, field_validator

from ..errors import show_value
from .base import (
    MAX_DIMENSION,
    POOL,
    SPATIAL_AXES,
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
    axis_text,
    format_shape,
    per_axis,
    same_padding,
    spatial_input,
    window_output,
)


def positive_pair(value: Any) -> Any:
    """A positive size, or one per spatial axis (one to three)."""
    if not isinstance(value, int) and not 1 <= len(value) <= 3:
        raise ValueError(f"expected a positive size or one per spatial axis (one to three); received {show_value(value)}")
    for item in (value,) if isinstance(value, int) else value:
        if item < 1:
            raise ValueError(f"expected a positive size or one per spatial axis; received {show_value(value)}")
        if item > MAX_DIMENSION:
            raise ValueError(f"expected at most {MAX_DIMENSION}; received {show_value(value)}")
    return value


class Windowed(Layer):
    """Shared rules of kinds that slide a window over 1, 2 or 3 spatial axes: convolutions and
    pooling. Sizes are given once for every axis or once per axis (`[3, 5]` on an image)."""

    spatial_ranks = (1, 2, 3)
    padding: Padding = "valid"

    def _kernel(self, rank: int) -> tuple[int, ...]:
        raise NotImplementedError

    def _stride(self, rank: int) -> tuple[int, ...]:
        raise NotImplementedError

    def _dilation(self, rank: int) -> tuple[int, ...]:
        return (1,) * rank

    def effective_kernel(self, rank: int) -> tuple[int, ...]:
        kernel, dilation = self._kernel(rank), self._dilation(rank)
        return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))

    def extent(self, rank: int) -> str:
        return axis_text(self.effective_kernel(rank))

    def spatial_output(self, shape: Shape) -> tuple[int, ...]:
        sizes, _ = spatial_input(self, shape)
        rank = len(sizes)
        kernel, stride = self.effective_kernel(rank), self._stride(rank)
        if self.padding == "valid":
            for axis, size, k in zip(SPATIAL_AXES[rank].split(" x "), sizes, kernel):
                if k > size:
                    what = "pool" if self.family is POOL else "kernel"
                    raise ShapeError(
                        f"{what} {self.extent(rank)} exceeds its {format_shape(sizes)} input with padding=valid "
                        f"({axis} {k} > {size})",
                        argument="pool" if what == "pool" else "kernel",
                        hint="use padding=same, a smaller window, or less downsampling before this layer",
                    )
        return tuple(window_output(n, k, s, self.padding) for n, k, s in zip(sizes, kernel, stride))

    def window(self, inputs: Sequence[Shape]) -> Window:
        sizes = inputs[0][:-1]
        rank = len(sizes)
        kernel, stride = self.effective_kernel(rank), self._stride(rank)
        if self.padding == "same":
            pads = [same_padding(n, k, s) for n, k, s in zip(sizes, kernel, stride)]
        else:
            pads = [(0, 0)] * rank
        return Window(kernel, tuple(stride), tuple(p[0] for p in pads), tuple(p[1] for p in pads),
                      self.padding)


class Convolution(Activated, Regularized, Windowed):
    """The fields and rules every convolution kind shares: kernel, stride and dilation pairs,
    padding, a fused activation, bias, initializers and regularizers. Each kind adds its own
    (filters, groups, multiplier)."""

    starts_line = True

    kernel: Pair
    stride: Pair = 1
    dilation: Pair = 1
    activation: ActivationName | None = None
    bias: StrictBool = True
    kernel_init: InitializerName = "glorot_uniform"
    bias_init: InitializerName = "zeros"

    _pairs = field_validator("kernel", "stride", "dilation")(positive_pair)

    def _kernel(self, rank: int) -> tuple[int, ...]:
        return per_axis(self.kernel, rank, "kernel")

    def _stride(self, rank: int) -> tuple[int, ...]:
        return per_axis(self.stride, rank, "stride")

    def _dilation(self, rank: int) -> tuple[int, ...]:
        return per_axis(self.dilation, rank, "dilation")

    def check_stride_and_dilation(self, rank: int) -> None:
        if set(self._stride(rank)) != {1} and set(self._dilation(rank)) != {1}:
            raise ShapeError(f"stride {show_value(self.stride)} and dilation {show_value(self.dilation)} "
                             "cannot both exceed 1 in Keras", argument="dilation")

    def kernel_text(self) -> str:
        """The kernel for labels: 3x3 on an image, 3 on a sequence, 3x3x3 on a volume."""
        kernel = (self.kernel,) * self.spatial_axes if isinstance(self.kernel, int) else self.kernel
        return "x".join(map(str, kernel))

    def stride_label(self) -> str:
        """What follows the kind in a label: the stride when not 1, the fused activation if any."""
        strided = self.stride != 1 and (isinstance(self.stride, int) or set(self.stride) != {1})
        text = f", /{show_value(self.stride)}" if strided else ""
        return text + (f", {self.activation}" if self.activation else "")


Multiplier = Field(default=1, strict=True, ge=1, le=MAX_DIMENSION)  # depthwise channels per input channel
