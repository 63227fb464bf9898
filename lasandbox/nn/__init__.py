"""Neural-network layers with Paddle's names (``lasandbox.nn`` ~ ``paddle.nn``)."""

from lasandbox.nn import functional, initializer
from lasandbox.nn.conv import Conv1D, Conv2D
from lasandbox.nn.layer import Layer, ParamAttr, Parameter
from lasandbox.nn.layers import (
    CrossEntropyLoss,
    Dropout,
    Flatten,
    LayerList,
    Linear,
    LogSoftmax,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from lasandbox.nn.norm import BatchNorm1D, BatchNorm2D, Dropout2D
from lasandbox.nn.pooling import AdaptiveAvgPool1D, AdaptiveAvgPool2D, AvgPool1D, AvgPool2D, MaxPool1D, MaxPool2D

__all__ = [
    "functional", "initializer", "Layer", "Parameter", "ParamAttr", "Linear", "Sequential", "LayerList",
    "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Flatten", "Dropout", "CrossEntropyLoss", "MSELoss",
    "Conv1D", "Conv2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "AdaptiveAvgPool1D",
    "AdaptiveAvgPool2D", "BatchNorm1D", "BatchNorm2D", "Dropout2D",
]
