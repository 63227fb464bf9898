"""Activation layers (``paddle.nn.ReLU`` ...): each wraps one ``nn.functional`` op."""

from __future__ import annotations

from lasandbox.nn import functional as F
from lasandbox.nn.functional_activation import _gelu_mode
from lasandbox.nn.layer import Layer
from lasandbox.utils.validation import check_real


class ReLU(Layer):
    def __init__(self, name=None):
        super().__init__()

    def forward(self, x):
        return F.relu(x)


class Tanh(Layer):
    def __init__(self, name=None):
        super().__init__()

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Layer):
    def __init__(self, name=None):
        super().__init__()

    def forward(self, x):
        return F.sigmoid(x)


class Softmax(Layer):
    def __init__(self, axis=-1, name=None):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return F.softmax(x, axis=self.axis)


class LogSoftmax(Layer):
    def __init__(self, axis=-1, name=None):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return F.log_softmax(x, axis=self.axis)


class GELU(Layer):
    """Gaussian error linear unit; ``approximate`` (True / 'tanh') uses the tanh form."""

    def __init__(self, approximate=False, name=None):
        super().__init__()
        _gelu_mode(approximate)  # bad values fail here, before any input
        self._approximate = approximate

    def forward(self, x):
        return F.gelu(x, self._approximate)

    def extra_repr(self):
        return f"approximate={self._approximate}"


class Softplus(Layer):
    """``log(1 + exp(beta x)) / beta`` (linear above ``threshold``)."""

    def __init__(self, beta=1, threshold=20, name=None):
        super().__init__()
        self._beta = check_real("beta", beta)
        self._threshold = check_real("threshold", threshold)

    def forward(self, x):
        return F.softplus(x, self._beta, self._threshold)

    def extra_repr(self):
        return f"beta={self._beta}, threshold={self._threshold}"


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise."""

    def __init__(self, negative_slope=0.01, name=None):
        super().__init__()
        self._negative_slope = check_real("negative_slope", negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self._negative_slope)

    def extra_repr(self):
        return f"negative_slope={self._negative_slope}"


class Silu(Layer):
    """``x * sigmoid(x)``."""

    def __init__(self, inplace=False, name=None):
        super().__init__()
        self._inplace = bool(inplace)

    def forward(self, x):
        return F.silu(x, self._inplace)

    def extra_repr(self):
        return f"inplace={self._inplace}"


__all__ = ["ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "GELU", "Softplus", "LeakyReLU", "Silu"]
