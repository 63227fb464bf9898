"""Tensor factories and the package-wide random generator (``seed``)."""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.tensor import Tensor, as_dtype, default_float

_generator = np.random.default_rng()


def seed(value: int):
    """Seed the generator behind ``randn``/``rand``, weight init, dropout and shuffling."""
    global _generator
    _generator = np.random.default_rng(int(value))
    return _generator


def get_generator() -> np.random.Generator:
    """The package's random generator (re-created by ``seed``)."""
    return _generator


def _shape(shape):
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    if np.isscalar(shape):
        shape = [shape]
    return [int(getattr(s, "_value", s)) for s in shape]


def zeros(shape, dtype=None, name=None):
    return Tensor(np.zeros(_shape(shape), dtype=as_dtype(dtype) or default_float()))


def ones(shape, dtype=None, name=None):
    return Tensor(np.ones(_shape(shape), dtype=as_dtype(dtype) or default_float()))


def full(shape, fill_value, dtype=None, name=None):
    return Tensor(np.full(_shape(shape), fill_value, dtype=as_dtype(dtype) or default_float()))


def zeros_like(x, dtype=None, name=None):
    return Tensor(np.zeros_like(x._value, dtype=as_dtype(dtype)))


def ones_like(x, dtype=None, name=None):
    return Tensor(np.ones_like(x._value, dtype=as_dtype(dtype)))


def full_like(x, fill_value, dtype=None, name=None):
    return Tensor(np.full_like(x._value, fill_value, dtype=as_dtype(dtype)))


def arange(start=0, end=None, step=1, dtype=None, name=None):
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    default = np.int64 if values.dtype.kind in "iu" else default_float()
    return Tensor(values.astype(as_dtype(dtype) or default))


def linspace(start, stop, num, dtype=None, name=None):
    return Tensor(np.linspace(start, stop, int(num)).astype(as_dtype(dtype) or default_float()))


def randn(shape, dtype=None, name=None):
    return Tensor(_generator.standard_normal(_shape(shape)).astype(as_dtype(dtype) or default_float()))


def rand(shape, dtype=None, name=None):
    return Tensor(_generator.random(_shape(shape)).astype(as_dtype(dtype) or default_float()))


def uniform(shape, dtype=None, min=-1.0, max=1.0, seed=0, name=None):  # noqa: A002 - Paddle's names
    return Tensor(_generator.uniform(min, max, _shape(shape)).astype(as_dtype(dtype) or default_float()))


def normal(mean=0.0, std=1.0, shape=None, name=None):
    return Tensor(_generator.normal(mean, std, _shape(shape or [1])).astype(default_float()))


def randint(low=0, high=None, shape=(1,), dtype=None, name=None):
    if high is None:
        low, high = 0, low
    return Tensor(_generator.integers(low, high, _shape(shape)).astype(as_dtype(dtype) or np.int64))


def randperm(n, dtype="int64", name=None):
    """A random permutation of ``0 .. n-1`` (from the package generator, so ``seed`` fixes it)."""
    return Tensor(_generator.permutation(int(n)).astype(as_dtype(dtype)))


def eye(num_rows, num_columns=None, dtype=None, name=None):
    return Tensor(np.eye(num_rows, num_columns, dtype=as_dtype(dtype) or default_float()))
