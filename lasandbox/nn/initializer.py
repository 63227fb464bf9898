"""Weight initialisers (Paddle's defaults: Xavier-uniform weights, zero biases)."""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.creation import get_generator


def _fans(shape):
    # Paddle's Linear weight is [in, out]: fan_in is the first dim.
    if len(shape) < 2:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[0] * receptive, shape[1] * receptive


class Initializer:
    def __call__(self, shape, dtype):
        raise NotImplementedError


class XavierUniform(Initializer):
    """U(-limit, limit) with limit = gain * sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, fan_in=None, fan_out=None, gain=1.0):
        self.fan_in, self.fan_out, self.gain = fan_in, fan_out, gain

    def __call__(self, shape, dtype):
        fan_in, fan_out = _fans(shape)
        fan_in = self.fan_in or fan_in
        fan_out = self.fan_out or fan_out
        limit = self.gain * np.sqrt(6.0 / (fan_in + fan_out))
        return get_generator().uniform(-limit, limit, shape).astype(dtype)


class Normal(Initializer):
    def __init__(self, mean=0.0, std=1.0):
        self.mean, self.std = mean, std

    def __call__(self, shape, dtype):
        return get_generator().normal(self.mean, self.std, shape).astype(dtype)


class Uniform(Initializer):
    def __init__(self, low=-1.0, high=1.0):
        self.low, self.high = low, high

    def __call__(self, shape, dtype):
        return get_generator().uniform(self.low, self.high, shape).astype(dtype)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype):
        return np.full(shape, self.value, dtype=dtype)


class Assign(Initializer):
    """Initialise from a given array (its shape must match)."""

    def __init__(self, value):
        self.value = np.asarray(getattr(value, "_value", value))

    def __call__(self, shape, dtype):
        if list(self.value.shape) != list(shape):
            raise ValueError(f"Assign initializer has shape {list(self.value.shape)}, parameter needs {list(shape)}")
        return self.value.astype(dtype)
