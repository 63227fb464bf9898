"""Record convolution, pooling and batch-norm reference numbers from real PaddlePaddle 3.3.1.

Run by hand, once, with the Paddle environment (the test suite reads the
fixture and never imports Paddle)::

    /work/paddle-venv/bin/python tools/record_paddle_cnn.py      # writes tests/fixtures/paddle_cnn.npz

What it records (the format is in ``tests/fixtures/README.md``):

* ``ops/<case>/...``: one layer or functional call per case (the case tables
  ``CASES``, ``EDGE_CASES``, ``EXTRA_CASES`` and ``TRANSPOSE_CASES`` below; their spec is stored in ``meta`` so the
  test replays exactly it):
  the input, the parameters and preset running statistics, the output, the
  gradients of ``sum(out * grad_out)`` with respect to the input and every
  parameter, and the running statistics after the call;
* ``repr/<layer>``: Paddle's ``repr()`` of a few layers (table ``REPR_LAYERS``);
* ``init/<layer>``: the standard deviation of Paddle's default weight
  initialisation on large layers (``init_transpose/<layer>``: std and max for
  the transposed layers);
* ``calls/<call>``: the output shape of a ``conv2d_transpose`` call, or the
  ValueError Paddle raised (table ``TRANSPOSE_CALLS``);
* ``names/<model>``: Paddle's ``state_dict()`` keys and
  ``named_parameters()`` names of a small model;
* ``train/<model>/...``: a small CNN (a plain 2-D CNN, a one-block ResNet,
  a 1-D CNN) trained 8 steps inside ``paddle.incubate.LookAhead(Momentum)``:
  the initial state, the per-step losses (before each step), the final
  parameters and running statistics, and eval-mode logits after training.

Inputs, parameters and output-gradient weights come from fixed NumPy
generators and are stored, so another framework can start from the same values.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import warnings
from pathlib import Path

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

warnings.filterwarnings("ignore")  # BatchNorm warns at every training-mode call
paddle.set_device("cpu")

SEED = 2024
TRAIN_STEPS = 8
TRAIN_BATCH = 6


def layer(name, cls, args, kwargs=None, shape=(2, 3, 6, 7), mode="train", preset_stats=False):
    return {"name": name, "kind": "layer", "cls": cls, "args": list(args), "kwargs": kwargs or {},
            "shape": list(shape), "mode": mode, "preset_stats": preset_stats}


def functional(name, fn, tensors, kwargs=None, shape=(2, 3, 6, 7)):
    """``tensors``: {argument name: shape or 'x'} for the Tensor arguments after x (weights, stats)."""
    return {"name": name, "kind": "functional", "fn": fn, "tensors": tensors, "kwargs": kwargs or {},
            "shape": list(shape)}


X2 = (2, 3, 6, 7)
NHWC = (2, 6, 7, 3)
X1 = (2, 3, 10)
NLC = (2, 10, 3)
CASES = [
    # --- Conv2D: stride, every padding form, dilation, groups, bias, layouts, padding modes
    layer("conv2d_basic", "Conv2D", [3, 4, 3], {"padding": 1}),
    layer("conv2d_stride2", "Conv2D", [3, 4, 3], {"stride": 2}, shape=(2, 3, 7, 8)),
    layer("conv2d_same_stride2", "Conv2D", [3, 4, 3], {"stride": 2, "padding": "same"}, shape=(2, 3, 7, 8)),
    layer("conv2d_same_dilation2", "Conv2D", [3, 4, 3], {"padding": "SAME", "dilation": 2}, shape=(2, 3, 7, 6)),
    layer("conv2d_same_even_kernel", "Conv2D", [3, 4, [2, 4]], {"padding": "same"}, shape=(2, 3, 6, 7)),
    layer("conv2d_valid", "Conv2D", [3, 4, [2, 3]], {"padding": "valid"}),
    layer("conv2d_pad_per_dim", "Conv2D", [3, 4, 3], {"padding": [1, 2]}),
    layer("conv2d_pad_four", "Conv2D", [3, 4, 3], {"padding": [0, 1, 2, 1]}),
    layer("conv2d_pad_pairs", "Conv2D", [3, 4, 3], {"padding": [[0, 0], [0, 0], [1, 0], [0, 2]]}),
    layer("conv2d_dilation", "Conv2D", [3, 4, 3], {"dilation": [2, 1], "padding": 2}),
    layer("conv2d_groups", "Conv2D", [4, 6, 3], {"padding": 1, "groups": 2}, shape=(2, 4, 6, 7)),
    layer("conv2d_depthwise", "Conv2D", [4, 8, 3], {"padding": 1, "groups": 4}, shape=(2, 4, 6, 7)),
    layer("conv2d_no_bias_attr", "Conv2D", [3, 4, 3], {"padding": 1, "bias_attr": False}),
    layer("conv2d_bias_false", "Conv2D", [3, 4, 3], {"padding": 1, "bias": False}),
    layer("conv2d_rect_stride", "Conv2D", [3, 4, [2, 3]], {"stride": [1, 2], "padding": [1, 0]}),
    layer("conv2d_stride_dilation_groups", "Conv2D", [4, 4, 3],
          {"stride": [2, 3], "dilation": [1, 2], "padding": [1, 2, 0, 3], "groups": 2}, shape=(2, 4, 9, 11)),
    layer("conv2d_nhwc", "Conv2D", [3, 4, 3], {"padding": 1, "data_format": "NHWC"}, shape=NHWC),
    layer("conv2d_nhwc_pairs", "Conv2D", [3, 4, 3],
          {"padding": [[0, 0], [1, 1], [0, 2], [0, 0]], "stride": 2, "data_format": "NHWC"}, shape=NHWC),
    layer("conv2d_reflect", "Conv2D", [3, 4, 3], {"padding": 1, "padding_mode": "reflect"}),
    layer("conv2d_replicate", "Conv2D", [3, 4, 3], {"padding": 2, "padding_mode": "replicate"}),
    layer("conv2d_circular", "Conv2D", [3, 4, 3], {"padding": 2, "padding_mode": "circular", "stride": 2}),
    layer("conv2d_1x1", "Conv2D", [3, 5, 1]),
    # --- Conv1D
    layer("conv1d_basic", "Conv1D", [3, 4, 3], {"padding": 1}, shape=X1),
    layer("conv1d_stride_same", "Conv1D", [3, 4, 3], {"stride": 2, "padding": "same"}, shape=X1),
    layer("conv1d_dilation_groups", "Conv1D", [4, 6, 3], {"dilation": 2, "groups": 2, "padding": 2},
          shape=(2, 4, 10)),
    layer("conv1d_pad_two", "Conv1D", [3, 4, 3], {"padding": [1, 2]}, shape=X1),
    layer("conv1d_valid_stride", "Conv1D", [3, 4, 4], {"padding": "valid", "stride": 3}, shape=X1),
    layer("conv1d_nlc", "Conv1D", [3, 4, 3], {"padding": 1, "data_format": "NLC"}, shape=NLC),
    layer("conv1d_no_bias", "Conv1D", [3, 4, 5], {"padding": 2, "bias_attr": False}, shape=X1),
    layer("conv1d_reflect", "Conv1D", [3, 4, 3], {"padding": 2, "padding_mode": "reflect"}, shape=X1),
    # --- max pooling
    layer("max_pool2d_k2", "MaxPool2D", [2]),
    layer("max_pool2d_k3_s2_p1", "MaxPool2D", [3, 2, 1]),
    layer("max_pool2d_ceil", "MaxPool2D", [3, 2], {"ceil_mode": True}),
    layer("max_pool2d_ceil_all_padding", "MaxPool2D", [2, 2, 1], {"ceil_mode": True}, shape=(2, 3, 5, 5)),
    layer("max_pool2d_mask", "MaxPool2D", [3, 2, 1], {"return_mask": True}),
    layer("max_pool2d_same", "MaxPool2D", [3, 2, "SAME"]),
    layer("max_pool2d_pad_four", "MaxPool2D", [[2, 3], [1, 2], [1, 0, 0, 2]]),
    layer("max_pool2d_nhwc", "MaxPool2D", [2, 2], {"data_format": "NHWC"}, shape=NHWC),
    layer("max_pool1d_k2", "MaxPool1D", [2], shape=(2, 3, 9)),
    layer("max_pool1d_mask", "MaxPool1D", [3, 2, 1], {"return_mask": True}, shape=(2, 3, 9)),
    layer("max_pool1d_ceil", "MaxPool1D", [2], {"ceil_mode": True}, shape=(2, 3, 9)),
    # --- average pooling
    layer("avg_pool2d_k2", "AvgPool2D", [2]),
    layer("avg_pool2d_exclusive", "AvgPool2D", [3, 2, 1]),
    layer("avg_pool2d_inclusive", "AvgPool2D", [3, 2, 1], {"exclusive": False}),
    layer("avg_pool2d_ceil_exclusive", "AvgPool2D", [3, 2], {"ceil_mode": True}),
    layer("avg_pool2d_ceil_inclusive", "AvgPool2D", [3, 2, 1], {"ceil_mode": True, "exclusive": False}),
    layer("avg_pool2d_inclusive_asymmetric_ceil", "AvgPool2D", [3, 2, [1, 2, 0, 1]],
          {"ceil_mode": True, "exclusive": False}),
    layer("avg_pool2d_ceil_all_padding", "AvgPool2D", [2, 2, 1], {"ceil_mode": True}, shape=(2, 3, 5, 5)),
    layer("avg_pool2d_divisor", "AvgPool2D", [3, 2, 1], {"divisor_override": 4}),
    layer("avg_pool2d_nhwc", "AvgPool2D", [3, 2, 1], {"data_format": "NHWC"}, shape=NHWC),
    layer("avg_pool1d_exclusive", "AvgPool1D", [3, 2, 1], shape=(2, 3, 9)),
    layer("avg_pool1d_inclusive", "AvgPool1D", [3, 2, 1], {"exclusive": False}, shape=(2, 3, 9)),
    layer("avg_pool1d_ceil", "AvgPool1D", [2], {"ceil_mode": True}, shape=(2, 3, 9)),
    # --- adaptive average pooling
    layer("adaptive_avg_pool2d_1", "AdaptiveAvgPool2D", [1]),
    layer("adaptive_avg_pool2d_3x2", "AdaptiveAvgPool2D", [[3, 2]], shape=(2, 3, 7, 5)),
    layer("adaptive_avg_pool2d_none", "AdaptiveAvgPool2D", [[2, None]]),
    layer("adaptive_avg_pool2d_upsample", "AdaptiveAvgPool2D", [4], shape=(2, 3, 3, 3)),
    layer("adaptive_avg_pool2d_nhwc", "AdaptiveAvgPool2D", [[3, 2]], {"data_format": "NHWC"}, shape=NHWC),
    layer("adaptive_avg_pool1d_1", "AdaptiveAvgPool1D", [1], shape=(2, 3, 8)),
    layer("adaptive_avg_pool1d_3", "AdaptiveAvgPool1D", [3], shape=(2, 3, 8)),
    layer("adaptive_avg_pool1d_4", "AdaptiveAvgPool1D", [4], shape=(2, 3, 10)),
    # --- batch norm: modes, use_global_stats, momentum/epsilon, no affine, layouts
    layer("bn2d_train", "BatchNorm2D", [3], shape=(4, 3, 5, 6), preset_stats=True),
    layer("bn2d_eval", "BatchNorm2D", [3], shape=(4, 3, 5, 6), mode="eval", preset_stats=True),
    layer("bn2d_train_global_stats", "BatchNorm2D", [3], {"use_global_stats": True}, shape=(4, 3, 5, 6),
          preset_stats=True),
    layer("bn2d_eval_batch_stats", "BatchNorm2D", [3], {"use_global_stats": False}, shape=(4, 3, 5, 6),
          mode="eval", preset_stats=True),
    layer("bn2d_momentum_epsilon", "BatchNorm2D", [3], {"momentum": 0.5, "epsilon": 1e-3}, shape=(4, 3, 5, 6),
          preset_stats=True),
    layer("bn2d_no_affine", "BatchNorm2D", [3], {"weight_attr": False, "bias_attr": False}, shape=(4, 3, 5, 6),
          preset_stats=True),
    layer("bn2d_nhwc", "BatchNorm2D", [3], {"data_format": "NHWC"}, shape=(4, 5, 6, 3), preset_stats=True),
    layer("bn1d_2d_train", "BatchNorm1D", [3], shape=(8, 3), preset_stats=True),
    layer("bn1d_3d_train", "BatchNorm1D", [3], shape=(4, 3, 7), preset_stats=True),
    layer("bn1d_3d_eval", "BatchNorm1D", [3], shape=(4, 3, 7), mode="eval", preset_stats=True),
    layer("bn1d_nlc", "BatchNorm1D", [3], {"data_format": "NLC"}, shape=(4, 7, 3), preset_stats=True),
    # --- the functional forms (positional arguments as Paddle orders them)
    functional("F_conv2d", "conv2d", {"weight": [4, 3, 3, 2], "bias": [4]},
               {"stride": [2, 1], "padding": [1, 0], "dilation": 1, "groups": 1}),
    functional("F_conv1d", "conv1d", {"weight": [4, 3, 3]}, {"padding": "same", "dilation": 2}, shape=X1),
    functional("F_max_pool2d", "max_pool2d", {}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    functional("F_avg_pool2d", "avg_pool2d", {}, {"kernel_size": [2, 3], "stride": [2, 1], "exclusive": False}),
    functional("F_avg_pool1d", "avg_pool1d", {}, {"kernel_size": 4, "stride": 3, "padding": 1}, shape=X1),
    functional("F_max_pool1d", "max_pool1d", {}, {"kernel_size": 3, "stride": 1, "padding": 1}, shape=X1),
    functional("F_adaptive_avg_pool2d", "adaptive_avg_pool2d", {}, {"output_size": [2, 3]}),
    functional("F_adaptive_avg_pool1d", "adaptive_avg_pool1d", {}, {"output_size": 3}, shape=X1),
    functional("F_batch_norm_train", "batch_norm",
               {"running_mean": [3], "running_var": [3], "weight": [3], "bias": [3]},
               {"training": True, "momentum": 0.8, "epsilon": 1e-4}),
    functional("F_batch_norm_eval", "batch_norm", {"running_mean": [3], "running_var": [3]}, {}),
]

# Batch norm with fewer than two values per channel, where Paddle's kernel skips the normalisation
# (one value: y = x, dx = dy, zero weight/bias gradients, running statistics kept), the boundary
# just past it (two values), and empty inputs (N = 0, or an empty spatial dim). Their inputs come
# from a generator of their own (EDGE_SEED), drawn after everything else, so adding them left
# every array recorded before bitwise as it was.
EDGE_SEED = 2025
EDGE_CASES = [
    layer("bn1d_2d_one_value", "BatchNorm1D", [3], shape=(1, 3), preset_stats=True),
    layer("bn1d_3d_one_value", "BatchNorm1D", [3], shape=(1, 3, 1), preset_stats=True),
    layer("bn1d_nlc_one_value", "BatchNorm1D", [3], {"data_format": "NLC"}, shape=(1, 1, 3), preset_stats=True),
    layer("bn2d_one_value", "BatchNorm2D", [3], shape=(1, 3, 1, 1), preset_stats=True),
    layer("bn2d_nhwc_one_value", "BatchNorm2D", [3], {"data_format": "NHWC"}, shape=(1, 1, 1, 3),
          preset_stats=True),
    layer("bn2d_one_value_no_affine", "BatchNorm2D", [3], {"weight_attr": False, "bias_attr": False},
          shape=(1, 3, 1, 1), preset_stats=True),
    layer("bn2d_one_value_eval", "BatchNorm2D", [3], shape=(1, 3, 1, 1), mode="eval", preset_stats=True),
    layer("bn2d_one_value_eval_batch_stats", "BatchNorm2D", [3], {"use_global_stats": False}, shape=(1, 3, 1, 1),
          mode="eval", preset_stats=True),
    layer("bn2d_one_value_global_stats", "BatchNorm2D", [3], {"use_global_stats": True}, shape=(1, 3, 1, 1),
          preset_stats=True),
    layer("bn2d_two_values", "BatchNorm2D", [3], shape=(1, 3, 2, 1), preset_stats=True),
    layer("bn1d_2d_two_samples", "BatchNorm1D", [3], shape=(2, 3), preset_stats=True),
    layer("bn1d_2d_empty", "BatchNorm1D", [3], shape=(0, 3), preset_stats=True),
    layer("bn1d_2d_empty_eval", "BatchNorm1D", [3], shape=(0, 3), mode="eval", preset_stats=True),
    layer("bn1d_3d_empty", "BatchNorm1D", [3], shape=(0, 3, 4), preset_stats=True),
    layer("bn2d_empty", "BatchNorm2D", [3], shape=(0, 3, 2, 2), preset_stats=True),
    layer("bn2d_empty_eval", "BatchNorm2D", [3], shape=(0, 3, 2, 2), mode="eval", preset_stats=True),
    layer("bn2d_empty_eval_batch_stats", "BatchNorm2D", [3], {"use_global_stats": False}, shape=(0, 3, 2, 2),
          mode="eval", preset_stats=True),
    layer("bn2d_nhwc_empty", "BatchNorm2D", [3], {"data_format": "NHWC"}, shape=(0, 2, 2, 3), preset_stats=True),
    layer("bn2d_empty_spatial", "BatchNorm2D", [3], shape=(2, 3, 0, 2), preset_stats=True),
    functional("F_batch_norm_one_value", "batch_norm",
               {"running_mean": [3], "running_var": [3], "weight": [3], "bias": [3]},
               {"training": True, "momentum": 0.8}, shape=(1, 3, 1, 1)),
    functional("F_batch_norm_empty", "batch_norm",
               {"running_mean": [3], "running_var": [3], "weight": [3], "bias": [3]},
               {"training": True, "momentum": 0.8}, shape=(0, 3)),
]

# Adaptive max pooling (with its mask: overlapping bins, None, more bins than inputs), added later with a
# generator of its own (EXTRA_SEED) drawn after the edge cases, so every array recorded before stays as it was.
EXTRA_SEED = 2026
EXTRA_CASES = [
    layer("adaptive_max_pool2d_overlap_mask", "AdaptiveMaxPool2D", [[4, 3]], {"return_mask": True},
          shape=(2, 3, 7, 5)),
    layer("adaptive_max_pool2d_none", "AdaptiveMaxPool2D", [[None, 2]], shape=(2, 3, 7, 5)),
    layer("adaptive_max_pool2d_upsample_mask", "AdaptiveMaxPool2D", [4], {"return_mask": True}, shape=(2, 3, 3, 3)),
    layer("adaptive_max_pool1d_mask", "AdaptiveMaxPool1D", [4], {"return_mask": True}, shape=(2, 3, 7)),
    layer("adaptive_max_pool1d_global", "AdaptiveMaxPool1D", [1], shape=(2, 3, 8)),
    functional("F_adaptive_max_pool2d_mask", "adaptive_max_pool2d", {}, {"output_size": [2, 3], "return_mask": True}),
    functional("F_adaptive_max_pool1d", "adaptive_max_pool1d", {}, {"output_size": 6}, shape=(2, 3, 9)),
]

# Transposed convolutions, added later with a generator of their own (TRANSPOSE_SEED) drawn after the extra
# cases, so every array recorded before stays as it was. ``forward_kwargs``: arguments of the layer's call.
TRANSPOSE_SEED = 2027
XT = (2, 3, 4, 5)  # the transposed cases' inputs are small: their outputs are up to stride^2 times larger
XT_NHWC = (2, 4, 5, 3)
TRANSPOSE_CASES = [
    layer("conv2d_transpose_basic", "Conv2DTranspose", [3, 4, 3], shape=XT),
    layer("conv2d_transpose_stride2_output_padding", "Conv2DTranspose", [3, 4, 3],
          {"stride": 2, "padding": 1, "output_padding": 1}, shape=XT),
    layer("conv2d_transpose_pad_four_rect", "Conv2DTranspose", [3, 4, [2, 3]],
          {"stride": [2, 3], "padding": [1, 0, 2, 1], "output_padding": [1, 2]}, shape=XT),
    layer("conv2d_transpose_pad_pairs", "Conv2DTranspose", [3, 4, 3],
          {"stride": 2, "padding": [[0, 0], [0, 0], [1, 0], [0, 2]]}, shape=XT),
    layer("conv2d_transpose_dilation", "Conv2DTranspose", [3, 4, 3],
          {"stride": 2, "dilation": [2, 1], "padding": [2, 1]}, shape=XT),
    layer("conv2d_transpose_stride1_dilation", "Conv2DTranspose", [3, 4, 3], {"padding": 2, "dilation": 2},
          shape=XT),
    layer("conv2d_transpose_groups", "Conv2DTranspose", [4, 6, 3], {"stride": 2, "padding": 1, "groups": 2},
          shape=(2, 4, 4, 5)),
    layer("conv2d_transpose_depthwise", "Conv2DTranspose", [4, 4, 3], {"stride": 2, "groups": 4},
          shape=(2, 4, 4, 5)),
    layer("conv2d_transpose_same_stride2", "Conv2DTranspose", [3, 4, 4], {"stride": 2, "padding": "same"},
          shape=(2, 3, 5, 4)),
    layer("conv2d_transpose_same_dilation", "Conv2DTranspose", [3, 4, 3], {"padding": "SAME", "dilation": 2},
          shape=XT),
    layer("conv2d_transpose_valid", "Conv2DTranspose", [3, 4, [2, 3]], {"stride": 2, "padding": "valid"},
          shape=XT),
    layer("conv2d_transpose_nhwc", "Conv2DTranspose", [3, 4, 3],
          {"stride": 2, "padding": 1, "output_padding": 1, "data_format": "NHWC"}, shape=XT_NHWC),
    layer("conv2d_transpose_no_bias", "Conv2DTranspose", [3, 4, 3], {"stride": 2, "bias_attr": False}, shape=XT),
    dict(layer("conv2d_transpose_layer_output_size", "Conv2DTranspose", [3, 4, 3],
               {"stride": 2, "padding": 1, "output_padding": 1}, shape=XT), forward_kwargs={"output_size": [8, 10]}),
    functional("F_conv2d_transpose_output_size", "conv2d_transpose", {"weight": [3, 4, 3, 3], "bias": [4]},
               {"stride": 3, "padding": 1, "output_size": [11, 14]}, shape=XT),
    layer("conv1d_transpose_output_padding", "Conv1DTranspose", [3, 4, 3],
          {"stride": 2, "padding": 1, "output_padding": 1}, shape=X1),
    layer("conv1d_transpose_groups_dilation", "Conv1DTranspose", [4, 6, 3],
          {"stride": 3, "padding": [1, 2], "groups": 2, "dilation": 2}, shape=(2, 4, 10)),
    layer("conv1d_transpose_nlc_same", "Conv1DTranspose", [3, 4, 3],
          {"stride": 2, "padding": "same", "data_format": "NLC"}, shape=NLC),
    functional("F_conv1d_transpose_output_size", "conv1d_transpose", {"weight": [3, 4, 5], "bias": [4]},
               {"stride": 2, "padding": 1, "output_size": 22}, shape=X1),
]

# conv2d_transpose calls on x [1, 2, 4, 4], weight [2, 3, 3, 3]: Paddle's output shape, or the error it raised.
TRANSPOSE_CALLS = {
    "stride2": {"stride": 2},
    "output_padding_1_stride_2": {"stride": 2, "output_padding": 1},
    "output_padding_2_stride_2": {"stride": 2, "output_padding": 2},
    "output_padding_1_stride_1": {"output_padding": 1},
    "output_padding_1_below_dilation_2": {"dilation": 2, "output_padding": 1},
    "output_padding_2_below_dilation_3": {"stride": 2, "dilation": 3, "output_padding": 2},
    "output_size_in_range": {"stride": 2, "output_size": [10, 9]},
    "output_size_int": {"stride": 2, "output_size": 10},
    "output_size_below": {"stride": 2, "output_size": [8, 9]},
    "output_size_at_inferred_plus_stride": {"stride": 2, "output_size": [11, 10]},
    "output_size_stride1_dilation2": {"dilation": 2, "output_size": [9, 8]},
    "output_size_with_output_padding": {"stride": 2, "output_size": [10, 10], "output_padding": 1},
    "same_output_size": {"stride": 2, "padding": "same", "output_size": [9, 9]},
    "groups_3": {"groups": 3},
    "padding_3_empty_output": {"padding": 3},
    "padding_5_negative_output": {"padding": 5},
}

# Large transposed layers whose default weight initialisation (Xavier-uniform) is compared by std and max.
TRANSPOSE_INIT_LAYERS = {
    "conv2d_transpose_64_32_3": ("Conv2DTranspose", [64, 32, 3], {}),
    "conv2d_transpose_32_64_3_groups4": ("Conv2DTranspose", [32, 64, 3], {"groups": 4}),
    "conv1d_transpose_32_48_5": ("Conv1DTranspose", [32, 48, 5], {}),
}

# Layers whose repr() is recorded (Paddle prints stride, padding, dilation, groups only when not the default).
REPR_LAYERS = {
    "conv2d_default": ("Conv2D", [3, 4, 3], {}),
    "conv2d_all": ("Conv2D", [4, 4, [3, 2]], {"stride": [1, 2], "padding": [1, 0], "dilation": 2, "groups": 2,
                                              "data_format": "NHWC"}),
    "conv2d_circular": ("Conv2D", [3, 4, 3], {"padding": 1, "padding_mode": "circular"}),
    "conv1d_same": ("Conv1D", [3, 4, 3], {"padding": "same", "dilation": 2}),
    "bn1d": ("BatchNorm1D", [3], {}),
    "bn2d_nhwc": ("BatchNorm2D", [3], {"momentum": 0.5, "data_format": "NHWC"}),
    "adaptive_max_pool2d": ("AdaptiveMaxPool2D", [3], {"return_mask": True}),
    "max_pool2d": ("MaxPool2D", [3, 2, 1], {"ceil_mode": True}),
    "dropout2d": ("Dropout2D", [0.5], {"data_format": "NHWC"}),
    "conv2d_transpose_default": ("Conv2DTranspose", [4, 6, 3], {}),
    "conv2d_transpose_all": ("Conv2DTranspose", [4, 6, [3, 2]], {"stride": 2, "padding": [1, 0], "output_padding": 1,
                                                                 "dilation": 2, "groups": 2, "data_format": "NHWC"}),
    "conv1d_transpose": ("Conv1DTranspose", [4, 6, 3], {"stride": [2], "padding": "same", "output_padding": 1}),
}

# Large layers whose default weight initialisation is compared by its standard deviation.
INIT_LAYERS = {
    "conv2d_64_32_3": ("Conv2D", [64, 32, 3], {}),
    "conv2d_64_64_3_groups4": ("Conv2D", [64, 64, 3], {"groups": 4}),
    "conv1d_32_48_5": ("Conv1D", [32, 48, 5], {}),
}

PLAIN_CNN = [
    ("Conv2D", [1, 4, 3], {"padding": 1}), ("BatchNorm2D", [4], {}), ("ReLU", [], {}), ("MaxPool2D", [2], {}),
    ("Conv2D", [4, 8, 3], {"padding": 1}), ("BatchNorm2D", [8], {}), ("ReLU", [], {}),
    ("AdaptiveAvgPool2D", [1], {}), ("Flatten", [], {}), ("Linear", [8, 3], {}),
]


class BasicBlock(nn.Layer):
    """Mirror of ``lasandbox.models.BasicBlock``: same attribute names, so the same state_dict keys."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2D(channels, channels, 3, padding=1, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(channels)
        self.conv2 = nn.Conv2D(channels, channels, 3, padding=1, bias_attr=False)
        self.bn2 = nn.BatchNorm2D(channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


class SmallResNet(nn.Layer):
    """Mirror of ``lasandbox.models.SmallResNet(in_channels, num_classes, width, num_blocks)``."""

    def __init__(self, in_channels, num_classes, width, num_blocks):
        super().__init__()
        self.stem = nn.Conv2D(in_channels, width, 3, padding=1, bias_attr=False)
        self.stem_bn = nn.BatchNorm2D(width)
        self.relu = nn.ReLU()
        self.blocks = nn.Sequential(*[BasicBlock(width) for _ in range(num_blocks)])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        x = self.blocks(self.relu(self.stem_bn(self.stem(x))))
        return self.fc(self.flatten(self.pool(x)))


class MNIST1DCNN(nn.Layer):
    """Mirror of ``lasandbox.models.MNIST1DCNN(num_classes, channels)``."""

    def __init__(self, num_classes, channels):
        super().__init__()
        self.conv1 = nn.Conv1D(1, channels, 5, padding=2, bias_attr=False)
        self.bn1 = nn.BatchNorm1D(channels)
        self.pool1 = nn.MaxPool1D(2)
        self.conv2 = nn.Conv1D(channels, channels, 3, padding=1, bias_attr=False)
        self.bn2 = nn.BatchNorm1D(channels)
        self.pool2 = nn.MaxPool1D(2)
        self.conv3 = nn.Conv1D(channels, channels, 3, padding=1, bias_attr=False)
        self.bn3 = nn.BatchNorm1D(channels)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool1D(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = self.pool1(self.relu(self.bn1(self.conv1(x))))
        x = self.pool2(self.relu(self.bn2(self.conv2(x))))
        x = self.relu(self.bn3(self.conv3(x)))
        return self.fc(self.flatten(self.pool(x)))


TRAIN_MODELS = {
    "plain_cnn": {"input": [1, 8, 8], "spec": PLAIN_CNN},
    "resnet": {"input": [1, 8, 8], "kwargs": {"in_channels": 1, "num_classes": 3, "width": 4, "num_blocks": 1}},
    "cnn1d": {"input": [1, 16], "kwargs": {"num_classes": 3, "channels": 4}},
}
OPTIMIZER = {"learning_rate": 0.1, "momentum": 0.9}
LOOKAHEAD = {"alpha": 0.5, "k": 3}


def build(name):
    spec = TRAIN_MODELS[name]
    if name == "plain_cnn":
        return nn.Sequential(*[getattr(nn, cls)(*args, **kwargs) for cls, args, kwargs in spec["spec"]])
    return (SmallResNet if name == "resnet" else MNIST1DCNN)(**spec["kwargs"])


def tensor(array, trainable=False):
    t = paddle.to_tensor(array)
    t.stop_gradient = not trainable
    return t


def record_layer_case(case, rng, out):
    key = f"ops/{case['name']}"
    x = rng.standard_normal(case["shape"]).astype(np.float32)
    lay = getattr(nn, case["cls"])(*case["args"], **case["kwargs"])
    lay.train() if case["mode"] == "train" else lay.eval()
    for pname, param in lay.named_parameters():
        if pname in ("_mean", "_variance"):
            continue
        value = (rng.standard_normal(param.shape) * 0.5).astype(np.float32)
        param.set_value(value)
        out[f"{key}/param/{pname}"] = value
    if case["preset_stats"]:
        channels = lay._mean.shape[0]
        lay._mean.set_value((rng.standard_normal(channels) * 0.3).astype(np.float32))
        lay._variance.set_value(rng.uniform(0.5, 2.0, channels).astype(np.float32))
        out[f"{key}/before/_mean"] = lay._mean.numpy().copy()
        out[f"{key}/before/_variance"] = lay._variance.numpy().copy()
    xt = tensor(x, trainable=True)
    result = lay(xt, **case.get("forward_kwargs", {}))
    y, mask = (result if isinstance(result, tuple) else (result, None))
    finish(key, x, xt, y, mask, [(n, p) for n, p in lay.named_parameters() if not p.stop_gradient], rng, out)
    if case["preset_stats"]:
        out[f"{key}/after/_mean"] = lay._mean.numpy().copy()
        out[f"{key}/after/_variance"] = lay._variance.numpy().copy()


def record_functional_case(case, rng, out):
    key = f"ops/{case['name']}"
    x = rng.standard_normal(case["shape"]).astype(np.float32)
    xt = tensor(x, trainable=True)
    extra, trainable = {}, []
    for arg, shape in case["tensors"].items():
        if arg == "running_var":
            value = rng.uniform(0.5, 2.0, shape).astype(np.float32)
        else:
            value = (rng.standard_normal(shape) * 0.5).astype(np.float32)
        out[f"{key}/param/{arg}"] = value
        is_param = not arg.startswith("running")
        extra[arg] = tensor(value, trainable=is_param)
        if is_param:
            trainable.append((arg, extra[arg]))
    result = getattr(F, case["fn"])(xt, **extra, **case["kwargs"])
    y, mask = (result if isinstance(result, tuple) else (result, None))
    finish(key, x, xt, y, mask, trainable, rng, out)
    for arg in ("running_mean", "running_var"):
        if arg in extra:
            out[f"{key}/after/{arg}"] = extra[arg].numpy().copy()


def finish(key, x, xt, y, mask, params, rng, out):
    grad_out = rng.standard_normal(y.shape).astype(np.float32)
    # sum(out * grad_out): its gradient wrt out is grad_out. Non-finite outputs (Paddle's all-padding
    # windows) get weight 0 so they do not turn every gradient into nan.
    finite = np.isfinite(y.numpy())
    grad_out = np.where(finite, grad_out, 0).astype(np.float32)
    y_safe = paddle.where(paddle.to_tensor(finite), y, paddle.zeros_like(y))
    (y_safe * tensor(grad_out)).sum().backward()
    out[f"{key}/x"] = x
    out[f"{key}/out"] = y.numpy().copy()
    out[f"{key}/grad_out"] = grad_out
    out[f"{key}/grad/x"] = xt.grad.numpy().copy()
    if mask is not None:
        out[f"{key}/mask"] = mask.numpy().copy()
    for name, p in params:
        out[f"{key}/grad/{name}"] = p.grad.numpy().copy()


def record_init(out):
    paddle.seed(SEED)
    for name, (cls, args, kwargs) in INIT_LAYERS.items():
        weight = getattr(nn, cls)(*args, **kwargs).weight.numpy()
        out[f"init/{name}/std"] = np.float64(weight.std())
        out[f"init/{name}/mean"] = np.float64(weight.mean())
        out[f"init/{name}/size"] = np.int64(weight.size)


def record_transpose_init(out):
    paddle.seed(TRANSPOSE_SEED)
    for name, (cls, args, kwargs) in TRANSPOSE_INIT_LAYERS.items():
        weight = getattr(nn, cls)(*args, **kwargs).weight.numpy()
        out[f"init_transpose/{name}/shape"] = np.array(weight.shape, dtype=np.int64)
        out[f"init_transpose/{name}/std"] = np.float64(weight.std())
        out[f"init_transpose/{name}/max"] = np.float64(np.abs(weight).max())
        out[f"init_transpose/{name}/mean"] = np.float64(weight.mean())


def record_transpose_calls(out):
    x = paddle.ones([1, 2, 4, 4])
    w = paddle.ones([2, 3, 3, 3])
    for name, kwargs in TRANSPOSE_CALLS.items():
        try:
            shape = F.conv2d_transpose(x, w, **kwargs).shape
        except ValueError as error:
            out[f"calls/{name}/error"] = np.array(str(error).strip().splitlines()[0][:300])
        else:
            out[f"calls/{name}/shape"] = np.array(list(shape), dtype=np.int64)


def record_names(out):
    model = build("resnet")
    out["names/resnet/state_dict"] = np.array(list(model.state_dict().keys()))
    out["names/resnet/named_parameters"] = np.array([n for n, _ in model.named_parameters()])


def record_training(name, rng, out):
    paddle.seed(SEED)
    model = build(name)
    model.train()
    shape = TRAIN_MODELS[name]["input"]
    xs = rng.standard_normal((TRAIN_STEPS, TRAIN_BATCH, *shape)).astype(np.float32)
    ys = rng.integers(0, 3, (TRAIN_STEPS, TRAIN_BATCH, 1)).astype(np.int64)
    x_eval = rng.standard_normal((TRAIN_BATCH, *shape)).astype(np.float32)
    key = f"train/{name}"
    for pname, value in model.state_dict().items():
        out[f"{key}/init/{pname}"] = value.numpy().copy()
    inner = paddle.optimizer.Momentum(parameters=model.parameters(), **OPTIMIZER)
    opt = paddle.incubate.LookAhead(inner, **LOOKAHEAD)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for t in range(TRAIN_STEPS):
        loss = loss_fn(model(tensor(xs[t])), tensor(ys[t]))
        losses.append(float(loss.numpy()))
        loss.backward()
        opt.step()
        opt.clear_grad()
    model.eval()
    out[f"{key}/x"], out[f"{key}/y"], out[f"{key}/x_eval"] = xs, ys, x_eval
    out[f"{key}/losses"] = np.array(losses, dtype=np.float64)
    out[f"{key}/eval_logits"] = model(tensor(x_eval)).numpy().copy()
    for pname, value in model.state_dict().items():
        out[f"{key}/final/{pname}"] = value.numpy().copy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "tests/fixtures/paddle_cnn.npz"))
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    out = {}
    for case in CASES:
        (record_layer_case if case["kind"] == "layer" else record_functional_case)(case, rng, out)
    record_init(out)
    record_names(out)
    for name in TRAIN_MODELS:
        record_training(name, rng, out)
    edge_rng = np.random.default_rng(EDGE_SEED)
    for case in EDGE_CASES:
        (record_layer_case if case["kind"] == "layer" else record_functional_case)(case, edge_rng, out)
    extra_rng = np.random.default_rng(EXTRA_SEED)
    for case in EXTRA_CASES:
        (record_layer_case if case["kind"] == "layer" else record_functional_case)(case, extra_rng, out)
    transpose_rng = np.random.default_rng(TRANSPOSE_SEED)
    for case in TRANSPOSE_CASES:
        (record_layer_case if case["kind"] == "layer" else record_functional_case)(case, transpose_rng, out)
    record_transpose_init(out)
    record_transpose_calls(out)
    for name, (cls, layer_args, kwargs) in REPR_LAYERS.items():
        out[f"repr/{name}"] = np.array(repr(getattr(nn, cls)(*layer_args, **kwargs)))
    meta = {
        "paddle_version": paddle.__version__, "numpy_version": np.__version__, "python": platform.python_version(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cases": CASES + EDGE_CASES + EXTRA_CASES + TRANSPOSE_CASES, "edge_seed": EDGE_SEED, "extra_seed": EXTRA_SEED,
        "transpose_seed": TRANSPOSE_SEED, "transpose_calls": TRANSPOSE_CALLS,
        "transpose_init_layers": TRANSPOSE_INIT_LAYERS, "init_layers": INIT_LAYERS, "repr_layers": REPR_LAYERS,
        "train_models": TRAIN_MODELS, "optimizer": OPTIMIZER,
        "lookahead": LOOKAHEAD, "train_steps": TRAIN_STEPS,
    }
    out["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(args.out, **out)
    n_cases = len(CASES) + len(EDGE_CASES) + len(EXTRA_CASES) + len(TRANSPOSE_CASES)
    print(f"wrote {len(out)} arrays ({n_cases} op cases, {len(TRAIN_MODELS)} training runs) to {args.out}")


if __name__ == "__main__":
    main()
