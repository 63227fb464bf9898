"""Neural-network layers with Paddle's names (``lasandbox.nn`` ~ ``paddle.nn``)."""

from lasandbox.nn import clip, functional, initializer, loss
from lasandbox.nn.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Silu, Softmax, Softplus, Tanh
from lasandbox.nn.clip import ClipGradByGlobalNorm, ClipGradByNorm, ClipGradByValue
from lasandbox.nn.common import Dropout, Embedding, Flatten, Identity, Linear
from lasandbox.nn.container import LayerList, Sequential
from lasandbox.nn.conv import Conv1D, Conv2D
from lasandbox.nn.layer import Layer
from lasandbox.nn.layer_norm import LayerNorm
from lasandbox.nn.loss import CrossEntropyLoss, MSELoss
from lasandbox.nn.norm import BatchNorm1D, BatchNorm2D, Dropout2D
from lasandbox.nn.param import ParamAttr, Parameter
from lasandbox.nn.pooling import AdaptiveAvgPool1D, AdaptiveAvgPool2D, AvgPool1D, AvgPool2D, MaxPool1D, MaxPool2D

__all__ = [
    "functional", "initializer", "clip", "loss", "Layer", "Parameter", "ParamAttr", "Linear", "Embedding", "Flatten",
    "Dropout", "Identity", "Sequential", "LayerList", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "GELU",
    "Softplus", "LeakyReLU", "Silu", "LayerNorm", "CrossEntropyLoss", "MSELoss", "ClipGradByGlobalNorm",
    "ClipGradByNorm", "ClipGradByValue", "Conv1D", "Conv2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D",
    "AdaptiveAvgPool1D", "AdaptiveAvgPool2D", "BatchNorm1D", "BatchNorm2D", "Dropout2D",
]
