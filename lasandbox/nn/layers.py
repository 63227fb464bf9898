"""The concrete layers, gathered (kept for ``from lasandbox.nn.layers import ...``; they live in
``common``, ``container``, ``activation``, ``layer_norm`` and ``loss``)."""

from lasandbox.nn.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Silu, Softmax, Softplus, Tanh
from lasandbox.nn.common import Dropout, Embedding, Flatten, Identity, Linear
from lasandbox.nn.container import LayerList, Sequential
from lasandbox.nn.layer_norm import LayerNorm
from lasandbox.nn.loss import CrossEntropyLoss, MSELoss

__all__ = [
    "Linear", "Embedding", "Flatten", "Dropout", "Identity", "Sequential", "LayerList", "ReLU", "Tanh", "Sigmoid",
    "Softmax", "LogSoftmax", "GELU", "Softplus", "LeakyReLU", "Silu", "LayerNorm", "CrossEntropyLoss", "MSELoss",
]
