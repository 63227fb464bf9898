"""Neural-network layers with Paddle's names (``lasandbox.nn`` ~ ``paddle.nn``)."""

from lasandbox.nn import functional, initializer
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

__all__ = [
    "functional", "initializer", "Layer", "Parameter", "ParamAttr", "Linear", "Sequential", "LayerList",
    "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Flatten", "Dropout", "CrossEntropyLoss", "MSELoss",
]
