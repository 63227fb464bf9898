"""``Parameter`` (a trainable Tensor) and ``ParamAttr`` (how a layer creates one), with Paddle's names."""

from __future__ import annotations

import copy
import re
import weakref
from collections import defaultdict

from lasandbox.autograd.tensor import Tensor
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

    ``learning_rate`` other than 1 and ``regularizer`` are per-parameter optimizer settings that
    lasandbox's optimizers do not apply yet: they raise NotImplementedError rather than be ignored.
    ``do_model_average`` only matters to Paddle's ModelAverage, which lasandbox does not have.
    """

    def __init__(self, name=None, initializer=None, learning_rate=1.0, regularizer=None, trainable=True,
                 do_model_average=True, need_clip=True):
        if learning_rate != 1.0:
            raise NotImplementedError("ParamAttr(learning_rate=...) is not applied by lasandbox's optimizers yet; "
                                      "use a parameter group {'params': [...], 'learning_rate': scale}")
        if regularizer is not None:
            raise NotImplementedError("ParamAttr(regularizer=...) is not applied by lasandbox's optimizers yet; "
                                      "use the optimizer's weight_decay or a parameter group's 'weight_decay'")
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
