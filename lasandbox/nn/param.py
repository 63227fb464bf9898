"""``Parameter`` (a trainable Tensor) and ``ParamAttr`` (how a layer creates one), with Paddle's names."""

from __future__ import annotations

import copy
import re
import weakref
from collections import defaultdict

import numpy as np

from lasandbox.autograd.tensor import Tensor, as_dtype
from lasandbox.nn import initializer as init

# Parameters with need_clip=False, so that a clipper handed bare gradient arrays (by an optimizer's
# grad_clip) can still leave theirs alone: see nn.clip.ClipGradBase.clip_.
# Keyed by id (a WeakSet would compare Tensors with their elementwise ==); entries vanish with the parameter.
UNCLIPPED = weakref.WeakValueDictionary()

# Paddle's unique_name counters: "linear" -> linear_0, linear_1, ...; "linear_0.w" -> linear_0.w_0, ...
_NAME_COUNTS = defaultdict(int)


def unique_name(key):
    """``key_<n>`` with a per-key counter, as Paddle's ``unique_name.generate``."""
    index = _NAME_COUNTS[key]
    _NAME_COUNTS[key] += 1
    return f"{key}_{index}"


def camel_to_snake(name):
    """``LeNetDygraph`` -> ``le_net_dygraph`` (Paddle's default name scope of a Layer class)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Parameter(Tensor):
    """A trainable Tensor (``stop_gradient=False``) owned by a Layer.

    Carries Paddle's per-parameter options: ``need_clip`` (gradient clipping skips it when
    False), ``optimize_attr['learning_rate']`` (a scale of the optimizer's rate),
    ``regularizer`` and ``do_model_average``.
    """

    def __init__(self, value, name=None, trainable=True):
        super().__init__(value, stop_gradient=not trainable, name=name)
        self.persistable = True
        self.need_clip = True
        self.optimize_attr = {"learning_rate": 1.0}
        self.regularizer = None
        self.do_model_average = True

    @property
    def need_clip(self):
        """Whether gradient clipping applies to this parameter (Paddle's ``ParamAttr(need_clip=...)``)."""
        return UNCLIPPED.get(id(self)) is not self

    @need_clip.setter
    def need_clip(self, flag):
        if flag:
            UNCLIPPED.pop(id(self), None)
        else:
            UNCLIPPED[id(self)] = self

    @property
    def trainable(self):
        return not self.stop_gradient

    @trainable.setter
    def trainable(self, flag):
        self.stop_gradient = not flag


class ParamAttr:
    """Parameter options, as in Paddle: name, initializer, learning-rate scale, trainable, need_clip.

    ``learning_rate`` (a scale of the optimizer's rate) and ``regularizer`` (an ``L2Decay`` or ``L1Decay``, used
    instead of the optimizer's ``weight_decay``) are per-parameter optimizer settings, applied by
    every optimizer as Paddle does. ``do_model_average`` only matters to Paddle's ModelAverage,
    which lasandbox does not have.
    """

    def __init__(self, name=None, initializer=None, learning_rate=1.0, regularizer=None, trainable=True,
                 do_model_average=True, need_clip=True):
        if initializer is not None and not isinstance(initializer, init.Initializer):
            raise TypeError(f"initializer must be a paddle.nn.initializer object, got {type(initializer).__name__}")
        self.name = name
        self.initializer = initializer
        self.learning_rate = learning_rate
        self.regularizer = regularizer
        self.trainable = bool(trainable)
        self.do_model_average = do_model_average
        self.need_clip = bool(need_clip)


def resolve_attr(attr, default_initializer):
    """The ``ParamAttr`` a layer should use (a copy), or None when ``attr is False`` (no parameter)."""
    if attr is False:
        return None
    if attr is None or (isinstance(attr, str) and attr == ""):
        resolved = ParamAttr()
    elif isinstance(attr, ParamAttr):
        resolved = copy.copy(attr)
    elif isinstance(attr, init.Initializer):
        resolved = ParamAttr(initializer=attr)
    elif isinstance(attr, str):
        resolved = ParamAttr(name=attr)
    else:
        raise TypeError(f"parameter attribute must be None, False, a name, a ParamAttr or an Initializer, got {attr!r}")
    if resolved.initializer is None:
        resolved.initializer = default_initializer
    return resolved


def make_parameter(shape, attr, dtype, is_bias, default_initializer, scope):
    """A Parameter of ``shape`` made as ``attr`` says (None when ``attr is False``), named
    ``<scope>.w_<n>`` / ``<scope>.b_<n>`` unless ``attr`` names it."""
    fallback = default_initializer or (init.Constant(0.0) if is_bias else init.XavierUniform())
    resolved = resolve_attr(attr, fallback)
    if resolved is None:
        return None
    shape = [int(s) for s in shape]
    if any(s < 0 for s in shape):
        raise ValueError(f"shape of a parameter must not be negative, got {shape}")
    name = resolved.name
    if name is None:  # Paddle-style unique names, e.g. "linear_0.w_0" / "linear_0.b_0"
        name = unique_name(f"{scope}.{'b' if is_bias else 'w'}")
    param = Parameter(np.ascontiguousarray(resolved.initializer(shape, dtype)), name=name,
                      trainable=resolved.trainable)
    param.need_clip = resolved.need_clip
    param.do_model_average = resolved.do_model_average
    param.optimize_attr = {"learning_rate": resolved.learning_rate}
    param.regularizer = resolved.regularizer
    return param


def create_parameter(shape, dtype, name=None, attr=None, is_bias=False, default_initializer=None):
    """``paddle.create_parameter``: a free-standing Parameter (named ``create_parameter_<n>.w_0``
    unless ``name`` or ``attr`` names it), initialised as ``Layer.create_parameter`` does."""
    dtype = as_dtype(dtype)
    if dtype is None:
        raise ValueError("create_parameter: dtype must be given (e.g. 'float32')")
    if attr is None and name is not None:
        attr = ParamAttr(name=name)
    return make_parameter(shape, attr, dtype, is_bias, default_initializer, unique_name("create_parameter"))
