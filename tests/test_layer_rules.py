"""Hand-computed rule table: every layer kind of the registry, through the public API.

Every expected number below is worked out by hand from shared/reference/counting-conventions.md
(shapes, params, MACs, receptive fields) and the measured tf.profiler rules for Keras 3.15 on
TensorFlow 2.21 (the `tfprof` profile); the arithmetic is written out as Python expressions.
Nothing here was read back from archspec.

Reminders used throughout:
  same:  out = ceil(n/s), total = max((out-1)*s + k - n, 0), before = total//2, after = rest
  valid: out = (n - k)//s + 1          (k is the dilated extent d*(k-1)+1)
  RF:    r += (k_eff-1)*j,  p += q*j,  j *= s        (q = padding before)
  tfprof conv: 2*N_out*kh*kw*Cin (+N_out bias); dilation d: positions padded up to d*ceil(H/d)
  2mac = 2*MACs
"""

from __future__ import annotations

import re
from fractions import Fraction as F

import pytest

import archspec
from archspec.layers import ACTIVATIONS, REGISTRY


def analyze(body: str, params: str = "keras"):
    return archspec.parse("network T\n" + body.strip() + "\n").analyze(params=params)


def pairs(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def rf(size, stride, padding):
    """Expected receptive field; each part a number (both axes) or a (height, width) pair."""
    return (pairs(size), pairs(stride), pairs(padding))


def case(id, body, shape, params, macs, tfprof, field, *, layer=None, convention="keras"):
    """params: (trainable, non_trainable); field: rf(...) or None; layer: an `as` name, else the last layer."""
    values = dict(body=body, shape=shape, params=params, macs=macs, tfprof=tfprof, field=field, layer=layer,
                  convention=convention)
    return pytest.param(values, id=id)


N7 = 7 * 9 * 5  # elements of the 7x9x5 activation input
RF1 = rf(1, 1, 0)  # a layer that maps each position to itself, straight after the input

CASES = [
    # ---------------------------------------------------------------- conv: same padding, strides
    case("conv_same_s2_odd17", "input 17x17x8\nconv(16, 3, stride=2, padding=same)",
         # ceil(17/2)=9; total=(9-1)*2+3-17=2 -> pad 1 before / 1 after
         (9, 9, 16), (3 * 3 * 8 * 16 + 16, 0), 9 * 9 * 16 * 3 * 3 * 8,
         2 * (9 * 9 * 16 * 3 * 3 * 8) + 9 * 9 * 16, rf(3, 2, 1)),
    case("conv_same_s2_even32", "input 32x32x3\nconv(8, 3, stride=2, padding=same)",
         # ceil(32/2)=16; total=(16-1)*2+3-32=1 -> pad 0 before / 1 after
         (16, 16, 8), (3 * 3 * 3 * 8 + 8, 0), 16 * 16 * 8 * 3 * 3 * 3,
         2 * (16 * 16 * 8 * 27) + 16 * 16 * 8, rf(3, 2, 0)),
    case("conv_same_s2_mixed_32x33", "input 32x33x4\nconv(8, 3, stride=2, padding=same)",
         # H: 16, total 1 -> (0,1); W: ceil(33/2)=17, total=16*2+3-33=2 -> (1,1)
         (16, 17, 8), (3 * 3 * 4 * 8 + 8, 0), 16 * 17 * 8 * 3 * 3 * 4,
         2 * (16 * 17 * 8 * 36) + 16 * 17 * 8, rf(3, 2, (0, 1))),
    case("conv_same_k5_s2_even_nobias", "input 32x32x1\nconv(2, 5, stride=2, padding=same, bias=false)",
         # total=(16-1)*2+5-32=3 -> (1,2)
         (16, 16, 2), (5 * 5 * 1 * 2, 0), 16 * 16 * 2 * 25, 2 * (16 * 16 * 2 * 25), rf(5, 2, 1)),
    case("conv_same_k1_s2", "input 8x8x4\nconv(6, 1, stride=2, padding=same)",
         # total=max((4-1)*2+1-8, 0)=0
         (4, 4, 6), (1 * 1 * 4 * 6 + 6, 0), 4 * 4 * 6 * 4, 2 * (4 * 4 * 6 * 4) + 4 * 4 * 6, rf(1, 2, 0)),
    case("conv_same_s1", "input 7x7x2\nconv(3, 3, padding=same)",
         # total=6+3-7=2 -> (1,1)
         (7, 7, 3), (3 * 3 * 2 * 3 + 3, 0), 7 * 7 * 3 * 3 * 3 * 2, 2 * (49 * 3 * 18) + 49 * 3, rf(3, 1, 1)),
    # ---------------------------------------------------------------- conv: valid floors
    case("conv_valid_floor", "input 10x10x3\nconv(4, 3, stride=2)",
         # (10-3)//2+1 = 4
         (4, 4, 4), (3 * 3 * 3 * 4 + 4, 0), 4 * 4 * 4 * 27, 2 * (4 * 4 * 4 * 27) + 4 * 4 * 4, rf(3, 2, 0)),
    case("conv_valid_floor_k4_s3", "input 11x11x1\nconv(1, 4, stride=3)",
         # (11-4)//3+1 = 3
         (3, 3, 1), (4 * 4 * 1 * 1 + 1, 0), 3 * 3 * 1 * 16, 2 * (9 * 16) + 9, rf(4, 3, 0)),
    case("conv_rect_kernel_stride", "input 9x11x2\nconv(4, [3, 5], stride=[1, 2])",
         # H: (9-3)//1+1=7; W: (11-5)//2+1=4
         (7, 4, 4), (3 * 5 * 2 * 4 + 4, 0), 7 * 4 * 4 * 3 * 5 * 2, 2 * (7 * 4 * 4 * 30) + 7 * 4 * 4,
         rf((3, 5), (1, 2), 0)),
    # ---------------------------------------------------------------- conv: dilation
    case("conv_dilation_valid", "input 11x13x3\nconv(4, 3, dilation=2)",
         # k_eff=2*2+1=5: 7x9; tfprof grid (2*ceil(7/2))*(2*ceil(9/2)) = 8*10
         (7, 9, 4), (3 * 3 * 3 * 4 + 4, 0), 7 * 9 * 4 * 27, 2 * (8 * 10) * 4 * 27 + 7 * 9 * 4, rf(5, 1, 0)),
    case("conv_dilation_divisible", "input 12x10x3\nconv(4, 3, dilation=2)",
         # 8x6, both divisible by 2: the plain formula
         (8, 6, 4), (112, 0), 8 * 6 * 4 * 27, 2 * (8 * 6 * 4 * 27) + 8 * 6 * 4, rf(5, 1, 0)),
    case("conv_dilation_same", "input 11x13x3\nconv(4, 3, dilation=2, padding=same)",
         # total H=10+5-11=4 -> (2,2), W=12+5-13=4 -> (2,2); grid 12*14
         (11, 13, 4), (112, 0), 11 * 13 * 4 * 27, 2 * (12 * 14) * 4 * 27 + 11 * 13 * 4, rf(5, 1, 2)),
    # ---------------------------------------------------------------- conv: groups, bias, activation
    case("conv_groups2", "input 8x8x4\nconv(8, 3, groups=2)",
         # kernel 3x3x(4/2)x8; tfprof counts only BiasAdd
         (6, 6, 8), (3 * 3 * 2 * 8 + 8, 0), 6 * 6 * 8 * 3 * 3 * 2, 6 * 6 * 8, rf(3, 1, 0)),
    case("conv_groups2_nobias", "input 8x8x4\nconv(8, 3, groups=2, bias=false)",
         (6, 6, 8), (3 * 3 * 2 * 8, 0), 6 * 6 * 8 * 18, 0, rf(3, 1, 0)),
    case("conv_groups4_same_s2", "input 9x9x8\nconv(12, 3, stride=2, padding=same, groups=4)",
         # ceil(9/2)=5, total=4*2+3-9=2 -> (1,1); kernel 3x3x2x12
         (5, 5, 12), (3 * 3 * 2 * 12 + 12, 0), 5 * 5 * 12 * 3 * 3 * 2, 5 * 5 * 12, rf(3, 2, 1)),
    case("conv_nobias", "input 8x8x4\nconv(8, 3, bias=false)",
         (6, 6, 8), (3 * 3 * 4 * 8, 0), 6 * 6 * 8 * 36, 2 * (6 * 6 * 8 * 36), rf(3, 1, 0)),
    case("conv_act_softmax", "input 8x8x4\nconv(8, 3, activation=softmax)",
         # 20736 + BiasAdd 288 + Softmax 5*288
         (6, 6, 8), (296, 0), 10368, 2 * 10368 + 288 + 5 * 288, rf(3, 1, 0)),
    case("conv_act_relu", "input 8x8x4\nconv(8, 3, activation=relu)",
         (6, 6, 8), (296, 0), 10368, 2 * 10368 + 288, rf(3, 1, 0)),
    case("conv_act_gelu", "input 8x8x4\nconv(8, 3, activation=gelu)",
         (6, 6, 8), (296, 0), 10368, 2 * 10368 + 288 + 4 * 288, rf(3, 1, 0)),
    case("conv_act_celu", "input 8x8x4\nconv(8, 3, activation=celu)",
         (6, 6, 8), (296, 0), 10368, 2 * 10368 + 288 + 5 * 288, rf(3, 1, 0)),
    # ---------------------------------------------------------------- depthwise_conv
    case("depthwise_dilation_valid", "input 11x13x6\ndepthwise_conv(3, dilation=2)",
         # 7x9x6; grid 8*10
         (7, 9, 6), (3 * 3 * 6 * 1 + 6, 0), 7 * 9 * 6 * 9, 2 * 9 * 6 * (8 * 10) + 7 * 9 * 6, rf(5, 1, 0)),
    case("depthwise_dilation_same_even", "input 8x8x4\ndepthwise_conv(3, dilation=2, padding=same)",
         # total=7+5-8=4 -> (2,2); grid 8*8
         (8, 8, 4), (3 * 3 * 4 + 4, 0), 8 * 8 * 4 * 9, 2 * 9 * 4 * (8 * 8) + 8 * 8 * 4, rf(5, 1, 2)),
    case("depthwise_dilation_same_odd", "input 11x13x6\ndepthwise_conv(3, dilation=2, padding=same)",
         # grid (2*ceil(11/2))*(2*ceil(13/2)) = 12*14
         (11, 13, 6), (60, 0), 11 * 13 * 6 * 9, 2 * 9 * 6 * (12 * 14) + 11 * 13 * 6, rf(5, 1, 2)),
    case("depthwise_s2_same_mult2", "input 11x13x6\ndepthwise_conv(3, stride=2, padding=same, multiplier=2)",
         # H: 6, total=5*2+3-11=2 -> (1,1); W: 7, total=6*2+3-13=2 -> (1,1)
         (6, 7, 12), (3 * 3 * 6 * 2 + 12, 0), 6 * 7 * 12 * 9, 2 * (6 * 7 * 12) * 9 + 6 * 7 * 12, rf(3, 2, 1)),
    case("depthwise_s2_same_even_nobias", "input 8x8x4\ndepthwise_conv(3, 2, padding=same, bias=false)",
         # total=3*2+3-8=1 -> (0,1)
         (4, 4, 4), (3 * 3 * 4, 0), 4 * 4 * 4 * 9, 2 * (4 * 4 * 4) * 9, rf(3, 2, 0)),
    # ---------------------------------------------------------------- separable_conv
    case("separable_valid", "input 11x13x6\nseparable_conv(8, 3)",
         # depthwise 3*3*6, pointwise 6*8, bias 8; MACs 9*11*6*9 + 9*11*6*8
         (9, 11, 8), (3 * 3 * 6 + 6 * 8 + 8, 0), 9 * 11 * 6 * 9 + 9 * 11 * 6 * 8,
         2 * (5346 + 4752) + 9 * 11 * 8, rf(3, 1, 0)),
    case("separable_s2_same_mult2_nobias", "input 8x8x4\nseparable_conv(8, 3, stride=2, padding=same, multiplier=2, bias=false)",
         # depthwise 3*3*4*2, pointwise (4*2)*8; total=3*2+3-8=1 -> (0,1)
         (4, 4, 8), (3 * 3 * 4 * 2 + 8 * 8, 0), 4 * 4 * 8 * 9 + 4 * 4 * 8 * 8, 2 * (1152 + 1024), rf(3, 2, 0)),
    case("separable_dilation_valid", "input 11x13x6\nseparable_conv(8, 3, dilation=2)",
         # depthwise on grid 8*10: 2*9*6*80=8640; pointwise 2*7*9*6*8=6048; bias 7*9*8=504
         (7, 9, 8), (110, 0), 7 * 9 * 6 * 9 + 7 * 9 * 6 * 8, 2 * 9 * 6 * (8 * 10) + 2 * 7 * 9 * 6 * 8 + 7 * 9 * 8,
         rf(5, 1, 0)),
    case("separable_dilation_same", "input 11x13x6\nseparable_conv(8, 3, dilation=2, padding=same)",
         # depthwise grid 12*14: 18144; pointwise 2*143*48=13728; bias 1144
         (11, 13, 8), (110, 0), 143 * 54 + 143 * 48, 2 * 9 * 6 * (12 * 14) + 2 * 143 * 6 * 8 + 143 * 8,
         rf(5, 1, 2)),
    # ---------------------------------------------------------------- dense
    case("dense", "input 20\ndense(7)", (7,), (20 * 7 + 7, 0), 20 * 7, 2 * 20 * 7 + 7, None),
    case("dense_softmax", "input 20\ndense(7, softmax)", (7,), (147, 0), 140, 2 * 140 + 7 + 5 * 7, None),
    case("dense_relu", "input 20\ndense(7, relu)", (7,), (147, 0), 140, 2 * 140 + 7, None),
    case("dense_nobias", "input 20\ndense(7, bias=false)", (7,), (20 * 7, 0), 140, 2 * 140, None),
    case("dense_nobias_softmax", "input 147\ndense(10, softmax, bias=false)",
         (10,), (147 * 10, 0), 1470, 2 * 1470 + 5 * 10, None),
    case("flatten_dense", "input 4x4x3\nflatten\ndense(5)", (5,), (48 * 5 + 5, 0), 48 * 5, 2 * 48 * 5 + 5, None),
    # ---------------------------------------------------------------- bn
    case("bn", "input 8x8x6\nbn", (8, 8, 6), (2 * 6, 2 * 6), 0, 2 * (8 * 8 * 6) + 6 * 6, RF1),
    case("bn_center_false", "input 8x8x6\nbn(center=false)", (8, 8, 6), (6, 12), 0, 2 * 384 + 6 * 6, RF1),
    case("bn_scale_false", "input 8x8x6\nbn(scale=false)", (8, 8, 6), (6, 12), 0, 2 * 384 + 5 * 6, RF1),
    case("bn_center_scale_false", "input 8x8x6\nbn(center=false, scale=false)", (8, 8, 6), (0, 12), 0,
         2 * 384 + 5 * 6, RF1),
    case("bn_odd", "input 5x7x3\nbn", (5, 7, 3), (6, 6), 0, 2 * (5 * 7 * 3) + 6 * 3, RF1),
    case("bn_rank1", "input 16\nbn", (16,), (32, 32), 0, 8 * 16, None),
    case("bn_rank1_scale_false", "input 37\nbn(scale=false)", (37,), (37, 74), 0, 7 * 37, None),
    case("bn_after_dense", "input 20\ndense(16)\nbn", (16,), (32, 32), 0, 2 * 16 + 6 * 16, None),
    # torch convention: BN counts only gamma/beta; running statistics are buffers
    case("torch_bn", "input 8x8x6\nbn", (8, 8, 6), (12, 0), 0, 804, RF1, convention="torch"),
    case("torch_bn_scale_false", "input 8x8x6\nbn(scale=false)", (8, 8, 6), (6, 0), 0, 798, RF1, convention="torch"),
    case("torch_bn_no_affine", "input 8x8x6\nbn(center=false, scale=false)", (8, 8, 6), (0, 0), 0, 798, RF1,
         convention="torch"),
    case("torch_conv", "input 8x8x4\nconv(8, 3)", (6, 6, 8), (296, 0), 10368, 2 * 10368 + 288, rf(3, 1, 0),
         convention="torch"),
    case("torch_dense", "input 20\ndense(7)", (7,), (147, 0), 140, 287, None, convention="torch"),
    # ---------------------------------------------------------------- pooling
    case("maxpool_same_s2_odd", "input 9x7x2\nmaxpool(3, stride=2, padding=same)",
         # H: 5, total=4*2+3-9=2 -> (1,1); W: 4, total=3*2+3-7=2 -> (1,1)
         (5, 4, 2), (0, 0), 0, 3 * 3 * (5 * 4 * 2), rf(3, 2, 1)),
    case("maxpool_default_stride", "input 9x7x2\nmaxpool(2)",
         # stride defaults to the pool: (9-2)//2+1=4, (7-2)//2+1=3
         (4, 3, 2), (0, 0), 0, 2 * 2 * (4 * 3 * 2), rf(2, 2, 0)),
    case("maxpool_same_k2_s2_odd", "input 5x5x4\nmaxpool(2, stride=2, padding=same)",
         # ceil(5/2)=3, total=2*2+2-5=1 -> (0,1)
         (3, 3, 4), (0, 0), 0, 2 * 2 * (3 * 3 * 4), rf(2, 2, 0)),
    case("maxpool_rect", "input 8x9x1\nmaxpool([2, 3], stride=[2, 1])",
         # (8-2)//2+1=4, (9-3)//1+1=7
         (4, 7, 1), (0, 0), 0, 2 * 3 * (4 * 7), rf((2, 3), (2, 1), 0)),
    case("avgpool_valid", "input 8x8x3\navgpool(3, stride=2)",
         # (8-3)//2+1=3
         (3, 3, 3), (0, 0), 0, 9 * 27, rf(3, 2, 0)),
    case("avgpool_same_s1", "input 5x5x4\navgpool(3, stride=1, padding=same)",
         (5, 5, 4), (0, 0), 0, 9 * 100, rf(3, 1, 1)),
    case("avgpool_same_s2_even", "input 8x8x3\navgpool(3, stride=2, padding=same)",
         # total=3*2+3-8=1 -> (0,1)
         (4, 4, 3), (0, 0), 0, 9 * 48, rf(3, 2, 0)),
    case("global_avg_pool", "input 5x7x4\nglobal_avg_pool", (4,), (0, 0), 0, 5 * 7 * 4, None),
    case("global_max_pool", "input 5x7x4\nglobal_max_pool", (4,), (0, 0), 0, 0, None),
    # ---------------------------------------------------------------- reshaping and pass-through
    case("dropout", "input 5x7x4\ndropout(0.5)", (5, 7, 4), (0, 0), 0, 0, RF1),
    case("flatten", "input 5x7x4\nflatten", (140,), (0, 0), 0, 0, None),
    case("identity", "input 5x7x4\nidentity", (5, 7, 4), (0, 0), 0, 0, RF1),
    # reshape keeps the element count (5*7*4 = 140) and mixes positions: the RF ends.
    case("reshape", "input 5x7x4\nreshape([7, 20])", (7, 20), (0, 0), 0, 0, None),
    case("reshape_infer", "input 5x7x4\nreshape([2, -1])", (2, 70), (0, 0), 0, 0, None),
    # keepdims: a 1x1 grid of channels; Mean still counts every input element (5*7*4).
    case("global_avg_pool_keepdims", "input 5x7x4\nglobal_avg_pool(keepdims=true)", (1, 1, 4), (0, 0), 0, 5 * 7 * 4, None),
    case("zero_pad_default", "input 5x7x4\nzero_pad", (7, 9, 4), (0, 0), 0, 0, rf(1, 1, 1)),
    case("zero_pad_2", "input 5x7x4\nzero_pad(2)", (9, 11, 4), (0, 0), 0, 0, rf(1, 1, 2)),
    case("zero_pad_pair", "input 5x7x4\nzero_pad([1, 2])", (5 + 2, 7 + 4, 4), (0, 0), 0, 0, rf(1, 1, (1, 2))),
    case("zero_pad_asymmetric", "input 5x7x4\nzero_pad([[1, 2], [3, 4]])",
         # ((top, bottom), (left, right)); RF padding is the part before: (1, 3)
         (5 + 1 + 2, 7 + 3 + 4, 4), (0, 0), 0, 0, rf(1, 1, (1, 3))),
    case("upsample_2", "input 5x7x4\nupsample(2)", (10, 14, 4), (0, 0), 0, 2, rf(1, F(1, 2), 0)),
    case("upsample_3", "input 5x7x4\nupsample(3)", (15, 21, 4), (0, 0), 0, 2, rf(1, F(1, 3), 0)),
    case("upsample_rect", "input 5x7x4\nupsample([2, 3])", (10, 21, 4), (0, 0), 0, 2, rf(1, (F(1, 2), F(1, 3)), 0)),
    case("upsample_bilinear", "input 5x7x4\nupsample(2, interpolation=bilinear)", (10, 14, 4), (0, 0), 0, 0,
         rf(1, F(1, 2), 0)),
    # ---------------------------------------------------------------- merges
    case("add_tap", "input 8x8x3\nconv(3, 1) as x\nrelu\nadd(@x)",
         (8, 8, 3), (0, 0), 0, 8 * 8 * 3, rf(1, 1, 0)),
    case("add_three_inputs", "input 5x7x4\nidentity as a\nidentity as b\nrelu\nadd(@a, @b)",
         (5, 7, 4), (0, 0), 0, (3 - 1) * 140, RF1),
    case("add_reports_largest_path", "input 8x8x3\nconv(3, 3, padding=same) as x\nconv(3, 3, padding=same)\nadd(@x)",
         # x: r=3, p=1 (centre 0); main: r=3+2=5, p=1+1=2 (centre 0): aligned, report r=5
         (8, 8, 3), (0, 0), 0, 192, rf(5, 1, 2)),
    case("add_input_tap", "input 8x8x3\nconv(3, 3, padding=same)\nadd(@input)",
         (8, 8, 3), (0, 0), 0, 192, rf(3, 1, 1)),
    # Element-wise merges broadcast as Keras 3 does; tf.profiler counts one binary op per output
    # element for each input after the first (Average adds one division per element).
    case("multiply_gate", "input 4x5x3\nidentity as x\nglobal_avg_pool(keepdims=true)\nmultiply(@x)",
         # a 1x1x3 gate times a 4x5x3 map; the gate's RF ended at the global pool, so the product's does too
         (4, 5, 3), (0, 0), 0, 60, None),
    case("multiply_same", "input 4x5x3\nidentity as x\nrelu\nmultiply(@x)", (4, 5, 3), (0, 0), 0, 60, RF1),
    case("subtract_tap", "input 4x5x3\nidentity as x\nrelu\nsubtract(@x)", (4, 5, 3), (0, 0), 0, 60, RF1),
    case("subtract_row_broadcast", "input 4x5x3\nidentity as x\navgpool([1, 5])\nsubtract(@x)",
         # 4x1x3 minus 4x5x3 broadcasts to 4x5x3: every column sees the same pooled row, so no
         # single window describes an output position and the spatial field ends
         (4, 5, 3), (0, 0), 0, 60, None),
    case("average_three", "input 4x5x3\nidentity as a\nrelu as b\nsigmoid\naverage(@a, @b)",
         (4, 5, 3), (0, 0), 0, 3 * 60, RF1),
    case("maximum_tap", "input 4x5x3\nidentity as a\nrelu\nmaximum(@a)", (4, 5, 3), (0, 0), 0, 60, RF1),
    case("minimum_three", "input 4x5x3\nidentity as a\nidentity as b\nrelu\nminimum(@a, @b)",
         (4, 5, 3), (0, 0), 0, 2 * 60, RF1),
    case("add_broadcast", "input 4x5x3\nidentity as x\nglobal_max_pool(keepdims=true)\nadd(@x)", (4, 5, 3), (0, 0), 0, 60, None),
    # A residual can merge with any element-wise kind: squeeze-and-excitation as x * gate(x).
    case("residual_multiply_gate", "input 4x5x3\nresidual(merge=multiply) { global_avg_pool(keepdims=true) conv(3, 1, activation=sigmoid) }",
         # the merge: 4x5x3 outputs, one Mul each; the gate broadcasts, so the field ends
         (4, 5, 3), (0, 0), 0, 60, None),
    case("residual_maximum", "input 4x5x3\nresidual(merge=maximum) { relu }", (4, 5, 3), (0, 0), 0, 60, RF1),
    # ---------------------------------------------------------------- features and preprocessing
    # dense on a map: the last axis, position by position (4*5 positions * 3*6 products); like a
    # 1x1 conv, it keeps the receptive field
    case("dense_on_map", "input 4x5x3\ndense(6)", (4, 5, 6), (3 * 6 + 6, 0), 20 * 3 * 6, 2 * 360 + 120, RF1),
    case("dense_on_map_gelu", "input 28\nreshape([7, 4])\ndense(6, gelu, bias=false)", (7, 6), (4 * 6, 0), 7 * 4 * 6, 2 * 168 + 4 * 42, None),
    # layer_norm: N = 60 values, P = 20 positions: 6N + 5P, + (2N - P) for gamma, + N for beta
    case("layer_norm", "input 4x5x3\nlayer_norm", (4, 5, 3), (6, 0), 0, 6 * 60 + 5 * 20 + (120 - 20) + 60, RF1),
    case("layer_norm_bare", "input 4x5x3\nlayer_norm(center=false, scale=false, epsilon=0.000001)", (4, 5, 3), (0, 0), 0, 460, RF1),
    case("layer_norm_flat", "input 7\nlayer_norm(center=false)", (7,), (7, 0), 0, 6 * 7 + 5 + (14 - 1), None),
    # rescaling: a Mul and an AddV2 per element, offset or not
    case("rescaling", "input 4x5x3\nrescaling(1 / 255)", (4, 5, 3), (0, 0), 0, 120, RF1),
    case("rescaling_offset", "input 4x5x3\nrescaling(1 / 127.5, -1)", (4, 5, 3), (0, 0), 0, 120, RF1),
    case("concat_tap", "input 5x7x4\nconv(2, 1) as a\n@input\nconv(3, 1)\nconcat(@a)",
         (5, 7, 2 + 3), (0, 0), 0, 0, rf(1, 1, 0)),
    case("concat_three", "input 5x7x4\nidentity as a\nrelu as b\n@input\nsigmoid\nconcat(@a, @b)",
         (5, 7, 12), (0, 0), 0, 0, RF1),
    case("concat_flat", "input 10\ndense(3) as a\n@input\ndense(4)\nconcat(@a)", (7,), (0, 0), 0, 0, None),
    case("conv_params_in_merge_graph", "input 5x7x4\nconv(2, 1) as a\n@input\nconv(3, 1)\nconcat(@a)",
         (5, 7, 2), (1 * 1 * 4 * 2 + 2, 0), 35 * 2 * 4, 2 * (35 * 8) + 35 * 2, rf(1, 1, 0), layer="a"),
    # ---------------------------------------------------------------- receptive-field chains
    case("chain_conv_conv_pool", "input 32x32x3\nconv(8, 3)\nconv(8, 3)\nmaxpool(2)",
         # r: 1 -> 3 -> 5 -> 5+(2-1)*1 = 6; j 1,1,2; shapes 30, 28, 14
         (14, 14, 8), (0, 0), 0, 4 * (14 * 14 * 8), rf(6, 2, 0)),
    case("chain_conv_conv_pool_mid", "input 32x32x3\nconv(8, 3)\nconv(8, 3) as c2\nmaxpool(2)",
         (28, 28, 8), (3 * 3 * 8 * 8 + 8, 0), 28 * 28 * 8 * 72, 2 * (28 * 28 * 8 * 72) + 28 * 28 * 8, rf(5, 1, 0),
         layer="c2"),
    case("chain_strided_same_odd", "input 33x33x3\nconv(8, 3, stride=2, padding=same)\n"
         "conv(8, 3, stride=2, padding=same)\nmaxpool(3, stride=2, padding=same)",
         # 33->17 pads(1,1): r3 j2 p1; 17->9 total=8*2+3-17=2 (1,1): r=3+2*2=7, p=1+1*2=3, j4;
         # 9->5 total=4*2+3-9=2 (1,1): r=7+2*4=15, p=3+1*4=7, j8
         (5, 5, 8), (0, 0), 0, 9 * (5 * 5 * 8), rf(15, 8, 7)),
    case("chain_strided_same_even", "input 32x32x3\nconv(8, 3, stride=2, padding=same)\n"
         "conv(8, 3, stride=2, padding=same)\nmaxpool(3, stride=2, padding=same)",
         # every stage pads (0,1): r 3 -> 7 -> 15, j 8, p 0
         (4, 4, 8), (0, 0), 0, 9 * (4 * 4 * 8), rf(15, 8, 0)),
    case("chain_zero_pad_conv", "input 5x7x1\nzero_pad([[1, 2], [3, 4]])\nconv(1, 3, stride=2)",
         # 8x14 -> (8-3)//2+1=3, (14-3)//2+1=6; r=1+2=3, j=2, p=(1,3)
         (3, 6, 1), (3 * 3 + 1, 0), 3 * 6 * 1 * 9, 2 * (18 * 9) + 18, rf(3, 2, (1, 3))),
    case("chain_upsample_conv", "input 5x7x4\nconv(4, 3)\nupsample(2)\nconv(4, 3, padding=same)",
         # 3x5 -> 6x10 -> 6x10; r: 3, j 1 -> 1/2, r=3+2*(1/2)=4, p=0+1*(1/2)=1/2
         (6, 10, 4), (3 * 3 * 4 * 4 + 4, 0), 6 * 10 * 4 * 36, 2 * (6 * 10 * 4 * 36) + 6 * 10 * 4,
         rf(4, F(1, 2), F(1, 2))),
    case("chain_dilated", "input 16x16x1\nconv(1, 3)\nconv(1, 3, dilation=2)",
         # r: 3 -> 3+(5-1)*1 = 7; 14 -> 10; grid 2*ceil(10/2)=10
         (10, 10, 1), (3 * 3 + 1, 0), 10 * 10 * 9, 2 * (10 * 10) * 9 + 100, rf(7, 1, 0)),
    case("chain_ends_at_dense", "input 8x8x3\nconv(4, 3)\nflatten\ndense(10)",
         (10,), (6 * 6 * 4 * 10 + 10, 0), 144 * 10, 2 * 1440 + 10, None),
    case("chain_ends_at_flatten", "input 8x8x3\nconv(4, 3)\nflatten", (144,), (0, 0), 0, 0, None),
    case("chain_ends_at_global_pool", "input 8x8x3\nconv(4, 3, stride=2)\nglobal_avg_pool",
         # (8-3)//2+1=3; Mean over 3*3*4 inputs
         (4,), (0, 0), 0, 3 * 3 * 4, None),
    case("spatial_after_global_pool_stays_none", "input 8x8x3\nglobal_max_pool\ndense(4)\nrelu",
         (4,), (0, 0), 0, 0, None),
]

# activations by their own name, on a 7x9x5 input (N=315): no params, no MACs, position-wise
ACTIVATION_TFPROF = {  # flops per element, from the findings' table
    "relu": 0, "sigmoid": 0, "tanh": 0, "softmax": 5, "leaky_relu": 0, "elu": 0, "gelu": 4, "silu": 2,
    "swish": 2, "relu6": 0, "selu": 0, "softplus": 0, "softsign": 0, "hard_sigmoid": 2, "mish": 1, "linear": 0,
    # only through act(...):
    "celu": 5, "exponential": 0, "hard_silu": 3, "hard_swish": 3, "log_softmax": 0,
    "hard_shrink": 1, "hard_tanh": 2, "log_sigmoid": 2, "soft_shrink": 4, "sparse_plus": 5, "sparse_sigmoid": 4,
    "squareplus": 4, "tanh_shrink": 1, "sparsemax": 8,
}
ACTIVATION_CONSTANT = {"sparsemax": 1}  # counted once, whatever the size
for _name in ("relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "gelu", "silu", "swish", "relu6",
              "selu", "softplus", "softsign", "hard_sigmoid", "mish", "linear"):
    CASES.append(case(f"activation_{_name}", f"input 7x9x5\n{_name}", (7, 9, 5), (0, 0), 0,
                      ACTIVATION_TFPROF[_name] * N7, RF1))
for _name in ACTIVATIONS:
    CASES.append(case(f"act_{_name}", f"input 7x9x5\nact({_name})", (7, 9, 5), (0, 0), 0,
                      ACTIVATION_TFPROF[_name] * N7 + ACTIVATION_CONSTANT.get(_name, 0), RF1))
CASES += [
    case("leaky_relu_slope", "input 7x9x5\nleaky_relu(slope=0.1)", (7, 9, 5), (0, 0), 0, 0, RF1),
    case("elu_alpha_1", "input 7x9x5\nelu(alpha=1)", (7, 9, 5), (0, 0), 0, 0, RF1),
    case("elu_alpha_half", "input 7x9x5\nelu(alpha=0.5)", (7, 9, 5), (0, 0), 0, 2 * N7, RF1),  # Greater + Mul
    case("elu_alpha_positional", "input 7x9x5\nelu(0.5)", (7, 9, 5), (0, 0), 0, 2 * N7, RF1),
    case("leaky_relu_slope_positional", "input 7x9x5\nleaky_relu(0.1)", (7, 9, 5), (0, 0), 0, 0, RF1),
    case("softmax_rank1", "input 10\nsoftmax", (10,), (0, 0), 0, 5 * 10, None),
    case("gelu_rank1", "input 37\ngelu", (37,), (0, 0), 0, 4 * 37, None),
    case("hard_silu_rank1", "input 10\nact(hard_silu)", (10,), (0, 0), 0, 3 * 10, None),
    # normalization: (x - mean) / max(sqrt(var), eps): Sub + RealDiv per element, Maximum per feature;
    # kept for adapt, mean and variance (C each) and a count (1) are non-trainable weights
    case("normalization_adapt", "input 7x9x5\nnormalization", (7, 9, 5), (0, 2 * 5 + 1), 0, 2 * N7 + 5, RF1),
    case("normalization_given", "input 7x9x5\nnormalization(mean=[1, 2, 3, 4, 5], variance=[1, 1, 2, 2, 3])",
         (7, 9, 5), (0, 0), 0, 2 * N7 + 5, RF1),
    case("normalization_scalar_invert", "input 10\nnormalization(mean=0.5, variance=4, invert=true)",
         (10,), (0, 0), 0, 2 * 10 + 10, None),
    case("dropout_noise_shape", "input 7x9x5\ndropout(0.2, noise_shape=[none, 1, 1, 5])", (7, 9, 5), (0, 0), 0, 0, RF1),
    # conv_transpose: valid n·s + max(k - s, 0), same n·s; output_padding: (n-1)·s + k (valid) or k % 2 (same), + it.
    # kernel (kh, kw, filters, cin); MACs = input values · kh·kw·filters; tfprof (Conv2DBackpropInput):
    # int(2·out positions·kh·kw·filters·cin / (sh·sw)) + bias. RF as upsample-then-conv: size (k-1)/s + 1,
    # stride 1/s, padding (k - 1 - before)/s with `before` the forward conv's same-padding on the output.
    case("conv_transpose_valid", "input 5x6x4\nconv_transpose(3, 3, 2)",
         # 4*2 + 3 = 11, 5*2 + 3 = 13
         (11, 13, 3), (3 * 3 * 3 * 4 + 3, 0), 5 * 6 * 4 * 9 * 3, 2 * 11 * 13 * 9 * 3 * 4 // 4 + 11 * 13 * 3,
         rf(2, F(1, 2), 1)),
    case("conv_transpose_same", "input 5x6x4\nconv_transpose(3, 3, 2, padding=same)",
         # 10x12; forward same padding on 10: (5-1)*2+3-10 = 1 -> before 0
         (10, 12, 3), (111, 0), 5 * 6 * 4 * 9 * 3, 2 * 10 * 12 * 108 // 4 + 360, rf(2, F(1, 2), 1)),
    case("conv_transpose_k2_unet", "input 4x4x8\nconv_transpose(4, 2, 2, padding=same, bias=false)",
         # 8x8; before 0 -> padding (2-1)/2; size 1/2 + 1
         (8, 8, 4), (2 * 2 * 4 * 8, 0), 4 * 4 * 8 * 4 * 4, 2 * 64 * 4 * 4 * 8 // 4, rf(F(3, 2), F(1, 2), F(1, 2))),
    case("conv_transpose_output_padding", "input 5x6x4\nconv_transpose(3, 4, 3, output_padding=[1, 2], activation=relu)",
         # valid: 4*3 + 4 + 1 = 17, 5*3 + 4 + 2 = 21; 2*357*16*12/9 = 15232
         (17, 21, 3), (4 * 4 * 3 * 4 + 3, 0), 5 * 6 * 4 * 16 * 3, 15232 + 17 * 21 * 3, rf(2, F(1, 3), 1)),
    case("conv_transpose_truncated_flops", "input 1x1x1\nconv_transpose(1, 1, 3, padding=same, output_padding=1, bias=false)",
         # (1-1)*3 + 1 % 2 + 1 = 2; int(2*4/9) = 0
         (2, 2, 1), (1, 0), 1, 0, rf(1, F(1, 3), 0)),
    # crop: the first output is input (top, left): a negative padding in the field
    case("crop_per_side", "input 7x9x5\ncrop([[1, 0], [2, 1]])", (6, 6, 5), (0, 0), 0, 0, rf(1, 1, (-1, -2))),
    case("crop_symmetric", "input 7x9x5\ncrop(2)", (3, 5, 5), (0, 0), 0, 0, rf(1, 1, -2)),
    case("crop_hw", "input 7x9x5\nconv(5, 3, padding=same)\ncrop([1, 3])",
         # the conv's field (3, pad 1) then 1 and 3 removed before: padding 1 - 1, 1 - 3
         (5, 3, 5), (0, 0), 0, 0, rf(3, 1, (0, -2))),
    # ---------------------------------------------------------------- 1-D and 3-D: the rank comes from the input
    case("conv1d_same_s2", "input 50x3\nconv(8, 5, stride=2, padding=same)",
         # ceil(50/2)=25; total=(25-1)*2+5-50=3 -> (1,2); kernel (5, 3, 8)
         (25, 8), (5 * 3 * 8 + 8, 0), 25 * 8 * 5 * 3, 2 * 25 * 8 * 5 * 3 + 25 * 8, ((5,), (2,), (1,))),
    case("conv1d_dilated", "input 50x3\nconv(4, 3, dilation=2)",
         # valid: 50 - 5 + 1 = 46; tf.profiler's positions 2*ceil(46/2) = 46
         (46, 4), (3 * 3 * 4 + 4, 0), 46 * 4 * 9, 2 * 46 * 4 * 9 + 46 * 4, ((5,), (1,), (0,))),
    case("depthwise_conv1d", "input 20x4\ndepthwise_conv(3, multiplier=2, bias=false)",
         (18, 8), (3 * 4 * 2, 0), 18 * 8 * 3, 2 * 18 * 8 * 3, ((3,), (1,), (0,))),
    case("separable_conv1d", "input 20x4\nseparable_conv(6, 3, padding=same)",
         # depthwise (3, 4, 1) + pointwise (1, 4, 6) + bias 6
         (20, 6), (12 + 24 + 6, 0), 20 * 4 * 3 + 20 * 4 * 6, 2 * 20 * 4 * 3 + 2 * 20 * 4 * 6 + 20 * 6, ((3,), (1,), (1,))),
    case("maxpool1d", "input 50x3\nmaxpool(2)", (25, 3), (0, 0), 0, 2 * 75, ((2,), (2,), (0,))),
    case("avgpool1d_same", "input 50x3\navgpool(3, stride=2, padding=same)",
         # 25; total (24*2+3-50)=1 -> (0,1)
         (25, 3), (0, 0), 0, 3 * 75, ((3,), (2,), (0,))),
    case("global_avg_pool1d", "input 50x3\nglobal_avg_pool", (3,), (0, 0), 0, 150, None),
    case("global_max_pool1d_keepdims", "input 50x3\nglobal_max_pool(keepdims=true)", (1, 3), (0, 0), 0, 0, None),
    case("zero_pad1d", "input 50x3\nzero_pad([1, 2])", (53, 3), (0, 0), 0, 0, ((1,), (1,), (1,))),
    case("crop1d", "input 50x3\ncrop(4)", (42, 3), (0, 0), 0, 0, ((1,), (1,), (-4,))),
    case("upsample1d", "input 50x3\nupsample(3)", (150, 3), (0, 0), 0, 1, ((1,), (F(1, 3),), (0,))),  # one scalar Mul
    case("conv_transpose1d", "input 50x3\nconv_transpose(4, 3, 2, padding=same)",
         # 100; int(2*100*3*4*3/2) + bias 400
         (100, 4), (3 * 4 * 3 + 4, 0), 50 * 3 * 3 * 4, 2 * 100 * 3 * 4 * 3 // 2 + 400, ((2,), (F(1, 2),), (1,))),
    case("conv3d_same", "input 6x8x8x2\nconv(4, 3, padding=same)",
         (6, 8, 8, 4), (27 * 2 * 4 + 4, 0), 6 * 64 * 4 * 27 * 2, 2 * 6 * 64 * 4 * 54 + 6 * 64 * 4, ((3,) * 3, (1,) * 3, (1,) * 3)),
    case("conv3d_per_axis_stride", "input 6x8x8x2\nconv(4, [1, 3, 3], stride=2)",
         # (6-1)//2+1 = 3, (8-3)//2+1 = 3
         (3, 3, 3, 4), (9 * 2 * 4 + 4, 0), 27 * 4 * 18, 2 * 27 * 4 * 18 + 27 * 4, ((1, 3, 3), (2, 2, 2), (0, 0, 0))),
    case("maxpool3d_no_flops", "input 6x8x8x2\nmaxpool(2, padding=same)", (3, 4, 4, 2), (0, 0), 0, 0, ((2,) * 3, (2,) * 3, (0,) * 3)),
    case("upsample3d", "input 6x8x8x2\nupsample([1, 2, 2])", (6, 16, 16, 2), (0, 0), 0, 3,
         ((1,) * 3, (1, F(1, 2), F(1, 2)), (0,) * 3)),
    case("conv_transpose3d_bias_only", "input 6x8x8x2\nconv_transpose(2, 2, 2)",
         # valid: 6*2 + 0 = 12, 16, 16; tf.profiler counts only the BiasAdd
         (12, 16, 16, 2), (8 * 2 * 2 + 2, 0), 6 * 64 * 2 * 8 * 2, 12 * 16 * 16 * 2,
         ((F(3, 2),) * 3, (F(1, 2),) * 3, (F(1, 2),) * 3)),
    case("global_avg_pool3d_keepdims", "input 6x8x8x2\nglobal_avg_pool(keepdims=true)", (1, 1, 1, 2), (0, 0), 0, 768, None),
    # group_norm: 6N + 5G + C (beta) + 2C - G (gamma), N = 7*9*6 = 378, C = 6; gamma and beta C each
    case("group_norm", "input 7x9x6\ngroup_norm(2)", (7, 9, 6), (12, 0), 0, 6 * 378 + 5 * 2 + 6 + (12 - 2), RF1),
    case("group_norm_no_center", "input 7x9x6\ngroup_norm(3, center=false)", (7, 9, 6), (6, 0), 0, 6 * 378 + 15 + 9, RF1),
    case("group_norm_plain_flat", "input 12\ngroup_norm(4, center=false, scale=false)", (12,), (0, 0), 0, 6 * 12 + 20, None),
    # unit_norm: Square, Mul per element, Sum C-1 per vector, Rsqrt 2 and Minimum 1 per vector
    case("unit_norm", "input 7x9x6\nunit_norm", (7, 9, 6), (0, 0), 0, 3 * 378 + 2 * 63, RF1),
    case("spatial_dropout", "input 7x9x6\nspatial_dropout(0.3)", (7, 9, 6), (0, 0), 0, 0, RF1),
    case("spatial_dropout1d", "input 20x4\nspatial_dropout(0.3)", (20, 4), (0, 0), 0, 0, ((1,), (1,), (0,))),
    case("stochastic_depth", "input 7x9x6\nstochastic_depth(0.2)", (7, 9, 6), (0, 0), 0, 0, RF1),
    case("stochastic_depth_flat", "input 12\nstochastic_depth(0.1)", (12,), (0, 0), 0, 0, None),
    case("scale", "input 7x9x6\nscale(0.17)", (7, 9, 6), (0, 0), 0, 2 * 378, RF1),  # Rescaling: Mul and AddV2 of 0
    case("permute", "input 7x9x6\npermute([2, 1, 3])", (9, 7, 6), (0, 0), 0, 0, None),
    case("repeat_vector", "input 10\nrepeat_vector(3)", (3, 10), (0, 0), 0, 1, None),
    # layer_scale: C trainable scales, one Mul per element
    case("layer_scale", "input 7x9x5\nlayer_scale", (7, 9, 5), (5, 0), 0, N7, RF1),
    case("layer_scale_flat", "input 12\nlayer_scale(0.5)", (12,), (12, 0), 0, 12, None),
    # a scaled add: Mul over the first (scaled) input, AddV2 over the output
    case("add_scaled_tap", "input 7x9x5\nidentity as a\nrelu\nadd(@a, scale=0.5)", (7, 9, 5), (0, 0), 0, 2 * N7, RF1),
    case("add_scaled_broadcast", "input 7x9x5\nidentity as a\nglobal_avg_pool(keepdims=true) as g\nadd(@a, scale=2)",
         (7, 9, 5), (0, 0), 0, 5 + N7, None),
    case("residual_scaled", "input 7x9x5\nresidual(scale=0.17) { conv(5, 1) }", (7, 9, 5), (0, 0), 0, 2 * N7, RF1),
    # relu with arguments is Keras' ReLU: a cap of 6 alone is Relu6, a slope alone LeakyRelu (0);
    # a cap clips (Minimum + Maximum: 2), a threshold adds Greater (1), a slope with either of
    # them -x, Relu, Mul, Sub (3; 4 with the threshold's AddV2).
    case("relu_cap6", "input 7x9x5\nrelu(6)", (7, 9, 5), (0, 0), 0, 0, RF1),
    case("relu_slope_alone", "input 7x9x5\nrelu(negative_slope=0.1)", (7, 9, 5), (0, 0), 0, 0, RF1),
    case("relu_cap5", "input 7x9x5\nrelu(max_value=5)", (7, 9, 5), (0, 0), 0, 2 * N7, RF1),
    case("relu_threshold", "input 7x9x5\nrelu(threshold=0.5)", (7, 9, 5), (0, 0), 0, 1 * N7, RF1),
    case("relu_cap6_threshold", "input 7x9x5\nrelu(6, threshold=1)", (7, 9, 5), (0, 0), 0, (1 + 2) * N7, RF1),
    case("relu_cap6_slope", "input 7x9x5\nrelu(6, negative_slope=0.2)", (7, 9, 5), (0, 0), 0, 3 * N7, RF1),
    case("relu_all", "input 7x9x5\nrelu(4, negative_slope=0.1, threshold=0.5)", (7, 9, 5), (0, 0), 0,
         (1 + 2 + 4) * N7, RF1),
    # softmax over another axis: + the scalar ops of the axis swap (2, 5 for an axis from the end)
    case("softmax_axis_last", "input 7x9x5\nsoftmax(axis=3)", (7, 9, 5), (0, 0), 0, 5 * N7, RF1),
    case("softmax_axis_1", "input 7x9x5\nsoftmax(axis=1)", (7, 9, 5), (0, 0), 0, 5 * N7 + 2, RF1),
    case("softmax_axis_minus2", "input 7x9x5\nsoftmax(-2)", (7, 9, 5), (0, 0), 0, 5 * N7 + 5, RF1),
    # prelu: one alpha per value, or shared along Keras' axes; Neg(x), Mul, Add per value + Neg(alpha)
    case("prelu", "input 7x9x5\nprelu", (7, 9, 5), (N7, 0), 0, 3 * N7 + N7, RF1),
    case("prelu_shared_hw", "input 7x9x5\nprelu(shared_axes=[1, 2])", (7, 9, 5), (5, 0), 0, 3 * N7 + 5, RF1),
    case("prelu_shared_c", "input 7x9x5\nprelu(shared_axes=[-1])", (7, 9, 5), (63, 0), 0, 3 * N7 + 63, RF1),
    case("activation_after_strided_conv", "input 9x9x2\nconv(2, 3, stride=2, padding=same)\nrelu",
         # the activation carries the conv's field on unchanged: ceil(9/2)=5, total 2 -> (1,1)
         (5, 5, 2), (0, 0), 0, 0, rf(3, 2, 1)),
]


@pytest.mark.parametrize("expected", CASES)
def test_layer_rules(expected):
    report = analyze(expected["body"], expected["convention"])
    layer = report.layer(expected["layer"]) if expected["layer"] else report.layers[-1]
    assert tuple(layer.output_shape) == expected["shape"]
    assert (layer.trainable_params, layer.non_trainable_params) == expected["params"]
    assert layer.params == sum(expected["params"])
    assert layer.macs == expected["macs"]
    assert layer.flops["tfprof"] == expected["tfprof"]
    assert layer.flops["2mac"] == 2 * expected["macs"]
    field = layer.receptive_field
    if expected["field"] is None:
        assert field is None
    else:
        assert field is not None
        assert (tuple(field.size), tuple(field.stride), tuple(field.padding)) == expected["field"]
        # Exact numbers: integers while every window is integral, Fractions after an upsampling one.
        assert all(isinstance(v, (int, F)) and not isinstance(v, bool) for part in (field.size, field.stride, field.padding) for v in part)


def test_every_registry_name_and_activation_is_covered():
    """The table above exercises every name of the language and every act(...) function."""
    used = set()
    for param in CASES:
        report = analyze(param.values[0]["body"])
        used.update(layer.kind for layer in report.layers)
    assert set(REGISTRY) <= used, sorted(set(REGISTRY) - used)
    act_functions = {m for p in CASES for m in re.findall(r"\bact\((\w+)", p.values[0]["body"])}
    assert set(ACTIVATIONS) <= act_functions, sorted(set(ACTIVATIONS) - act_functions)


# ---------------------------------------------------------------------------------------------
# Totals


TOTALS_SPEC = "input 8x8x3\nconv(4, 3)\nbn\nrelu as r\nflatten\ndense(10)"
# conv: 6x6x4 = 144 out; params 3*3*3*4+4 = 112; MACs 6*6*4*27 = 3888; tfprof 2*3888+144 = 7920
# bn:   144 out; params gamma+beta = 2*4 trainable, moving mean+variance = 2*4 frozen; tfprof 2*144+6*4 = 312
# relu, flatten: 144 out each, nothing else
# dense: 10 out; params 144*10+10 = 1450; MACs 1440; tfprof 2*1440+10 = 2890
TOTALS_KERAS = dict(
    params=112 + 16 + 1450, trainable=112 + 8 + 1450, non_trainable=8, macs=3888 + 1440,
    tfprof=7920 + 312 + 0 + 0 + 2890, activation_elements=144 * 4 + 10,
)


def test_totals_keras():
    totals = analyze(TOTALS_SPEC).totals
    assert totals.params == TOTALS_KERAS["params"] == 1578
    assert totals.trainable_params == TOTALS_KERAS["trainable"] == 1570
    assert totals.non_trainable_params == TOTALS_KERAS["non_trainable"]
    assert totals.macs == TOTALS_KERAS["macs"] == 5328
    assert totals.flops["tfprof"] == TOTALS_KERAS["tfprof"] == 11122
    assert totals.flops["2mac"] == 2 * 5328
    assert totals.activation_elements == TOTALS_KERAS["activation_elements"] == 586
    assert totals.activation_bytes == 4 * 586
    assert totals.param_bytes == 4 * 1578
    # the field ends at flatten: reported at the last spatial layer, relu `r`
    assert totals.receptive_field_layer == "r"
    assert (tuple(totals.receptive_field.size), tuple(totals.receptive_field.stride),
            tuple(totals.receptive_field.padding)) == rf(3, 1, 0)
    assert totals.aligned


def test_totals_torch():
    totals = analyze(TOTALS_SPEC, params="torch").totals
    assert (totals.params, totals.trainable_params, totals.non_trainable_params) == (112 + 8 + 1450, 1570, 0)
    assert totals.param_bytes == 4 * 1570
    assert totals.macs == 5328 and totals.flops["tfprof"] == 11122  # the convention changes params only


def test_totals_sum_of_layers():
    report = analyze(TOTALS_SPEC)
    assert report.totals.params == sum(layer.params for layer in report.layers)
    assert report.totals.activation_elements == sum(
        __import__("math").prod(layer.output_shape) for layer in report.layers)


SHORTCUT = "conv(4, 3, stride=2, padding=same) as a\n@input\nconv(4, 1, stride=2)\nadd(@a)"


def test_totals_aligned_strided_shortcut_on_odd_input():
    # 9x9x3: a = 3x3/2 same, ceil(9/2)=5, total=4*2+3-9=2 -> pads (1,1): r3 j2 p1, centre (3-1)/2-1 = 0
    # shortcut 1x1/2 valid: (9-1)//2+1 = 5: r1 j2 p0, centre 0 -> aligned
    report = analyze("input 9x9x3\n" + SHORTCUT)
    totals = report.totals
    assert [tuple(layer.output_shape) for layer in report.layers] == [(5, 5, 4)] * 3
    assert totals.params == (3 * 3 * 3 * 4 + 4) + (1 * 1 * 3 * 4 + 4) == 128
    assert totals.macs == 5 * 5 * 4 * 27 + 5 * 5 * 4 * 3 == 3000
    assert totals.flops["tfprof"] == (2 * 2700 + 100) + (2 * 300 + 100) + 100 == 6300
    assert totals.flops["2mac"] == 6000
    assert totals.activation_elements == 3 * 100
    assert totals.param_bytes == 4 * 128
    assert totals.aligned and not report.diagnostics
    field = report.layers[-1].receptive_field
    assert (tuple(field.size), tuple(field.stride), tuple(field.padding)) == rf(3, 2, 1)


def test_totals_misaligned_strided_shortcut_on_even_input():
    # 8x8x3: a pads (0,1): r3 j2 p0, centre 1; shortcut centre 0 -> not aligned, a warning naming
    # the add; the largest path (a, r=3) is reported
    report = analyze("input 8x8x3\n" + SHORTCUT)
    totals = report.totals
    add = report.layers[-1]
    assert tuple(add.output_shape) == (4, 4, 4)
    assert totals.macs == 4 * 4 * 4 * 27 + 4 * 4 * 4 * 3 == 1920
    assert totals.flops["tfprof"] == (2 * 1728 + 64) + (2 * 192 + 64) + 64 == 4032
    assert not totals.aligned
    assert [d.code for d in report.diagnostics] == ["rf-misaligned"]
    assert add.name in report.diagnostics[0].message
    assert (tuple(add.receptive_field.size), tuple(add.receptive_field.stride),
            tuple(add.receptive_field.padding)) == rf(3, 2, 0)
    assert totals.receptive_field == add.receptive_field
