"""Neural-network layers with Paddle's names (``lasandbox.nn`` ~ ``paddle.nn``)."""

from lasandbox.nn import clip, functional, initializer, loss
from lasandbox.nn.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Silu, Softmax, Softplus, Tanh
from lasandbox.nn.clip import ClipGradByGlobalNorm, ClipGradByNorm, ClipGradByValue
from lasandbox.nn.common import Dropout, Embedding, Flatten, Identity, Linear
from lasandbox.nn.container import LayerList, Sequential
from lasandbox.nn.conv import Conv1D, Conv2D
from lasandbox.nn.conv_transpose import Conv1DTranspose, Conv2DTranspose
from lasandbox.nn.layer import Layer
from lasandbox.nn.layer_norm import LayerNorm
from lasandbox.nn.loss import CrossEntropyLoss, MSELoss
from lasandbox.nn.norm import BatchNorm1D, BatchNorm2D, Dropout2D
from lasandbox.nn.param import ParamAttr, Parameter
from lasandbox.nn.pooling import (
    AdaptiveAvgPool1D,
    AdaptiveAvgPool2D,
    AdaptiveMaxPool1D,
    AdaptiveMaxPool2D,
    AvgPool1D,
    AvgPool2D,
    MaxPool1D,
    MaxPool2D,
)

__all__ = [
    "functional", "initializer", "clip", "loss", "Layer", "Parameter", "ParamAttr", "Linear", "Embedding", "Flatten",
    "Dropout", "Identity", "Sequential", "LayerList", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "GELU",
    "Softplus", "LeakyReLU", "Silu", "LayerNorm", "CrossEntropyLoss", "MSELoss", "ClipGradByGlobalNorm",
    "ClipGradByNorm", "ClipGradByValue", "Conv1D", "Conv2D", "Conv1DTranspose", "Conv2DTranspose", "MaxPool1D",
    "MaxPool2D", "AvgPool1D", "AvgPool2D", "AdaptiveAvgPool1D", "AdaptiveAvgPool2D", "AdaptiveMaxPool1D",
    "AdaptiveMaxPool2D", "BatchNorm1D", "BatchNorm2D", "Dropout2D",
]

# Paddle's convolutional-network names that lasandbox does not implement: an AttributeError that says so
# (hasattr stays False), rather than Python's bare "has no attribute".
NOT_IMPLEMENTED = frozenset({
    "Conv3D", "Conv3DTranspose", "MaxPool3D", "AvgPool3D",
    "AdaptiveAvgPool3D", "AdaptiveMaxPool3D", "BatchNorm", "BatchNorm3D", "SyncBatchNorm", "InstanceNorm1D",
    "InstanceNorm2D", "InstanceNorm3D", "GroupNorm", "LocalResponseNorm", "Dropout3D", "AlphaDropout",
    "MaxUnPool1D", "MaxUnPool2D", "MaxUnPool3D", "LPPool1D", "LPPool2D", "FractionalMaxPool2D", "Upsample",
    "UpsamplingNearest2D", "UpsamplingBilinear2D", "PixelShuffle", "Unfold", "Fold", "ZeroPad2D", "Pad1D", "Pad2D",
})


def __getattr__(name):
    if name in NOT_IMPLEMENTED:
        raise AttributeError(f"paddle.nn.{name} is not implemented in lasandbox (its CNN layers: Conv1D, Conv2D, "
                             f"Conv1DTranspose, Conv2DTranspose, Max/Avg/AdaptiveAvg/AdaptiveMaxPool1D/2D, "
                             f"BatchNorm1D/2D, Dropout2D)")
    raise AttributeError(f"module 'lasandbox.nn' has no attribute {name!r}")
