"""``LayerNorm``: normalise over the trailing dims, then scale and shift (weight 1, bias 0 at start)."""

from __future__ import annotations

import numbers

import numpy as np

from lasandbox.nn import functional as F
from lasandbox.nn import initializer as init
from lasandbox.nn.layer import Layer
from lasandbox.utils.validation import check_real


class LayerNorm(Layer):
    """Layer normalisation over the last ``len(normalized_shape)`` dims (``weight_attr=False``: no scale)."""

    def __init__(self, normalized_shape, epsilon=1e-05, weight_attr=None, bias_attr=None, name=None):
        super().__init__()
        shape = [normalized_shape] if isinstance(normalized_shape, numbers.Integral) else list(normalized_shape)
        if not shape or any(int(s) <= 0 for s in shape):
            raise ValueError(f"normalized_shape must be positive sizes, got {normalized_shape!r}")
        self._normalized_shape = [int(s) for s in shape]
        self._epsilon = check_real("epsilon", epsilon, low=0.0)
        param_shape = [int(np.prod(self._normalized_shape))]
        self.weight = self.create_parameter(param_shape, attr=weight_attr, default_initializer=init.Constant(1.0))
        self.bias = self.create_parameter(param_shape, attr=bias_attr, is_bias=True)

    def forward(self, x):
        return F.layer_norm(x, self._normalized_shape, weight=self.weight, bias=self.bias, epsilon=self._epsilon)

    def extra_repr(self):
        return f"normalized_shape={self._normalized_shape}, epsilon={self._epsilon}"


__all__ = ["LayerNorm"]
