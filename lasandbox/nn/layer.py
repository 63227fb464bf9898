"""``Layer``: the base of every model; registers parameters and sub-layers by attribute."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from lasandbox.autograd.tensor import Tensor, as_dtype, float32
from lasandbox.nn import initializer as init

_LAYER_COUNTS = {}  # per layer type, for Paddle-style parameter names


class Parameter(Tensor):
    """A trainable Tensor (``stop_gradient=False``) owned by a Layer."""

    def __init__(self, value, name=None, trainable=True):
        super().__init__(value, stop_gradient=not trainable, name=name)
        self.persistable = True

    @property
    def trainable(self):
        return not self.stop_gradient

    @trainable.setter
    def trainable(self, flag):
        self.stop_gradient = not flag


class ParamAttr:
    """Parameter options, as in Paddle: name, initializer, learning-rate scale, trainable."""

    def __init__(self, name=None, initializer=None, learning_rate=1.0, regularizer=None, trainable=True,
                 do_model_average=True, need_clip=True):
        self.name = name
        self.initializer = initializer
        self.learning_rate = learning_rate
        self.trainable = trainable


def _resolve_attr(attr, default_initializer):
    """Returns (initializer, trainable, name, lr_scale), or None when ``attr is False`` (no parameter)."""
    if attr is False:
        return None
    if attr is None:
        return default_initializer, True, None, 1.0
    if isinstance(attr, init.Initializer):
        return attr, True, None, 1.0
    if isinstance(attr, ParamAttr):
        return attr.initializer or default_initializer, attr.trainable, attr.name, attr.learning_rate
    if isinstance(attr, str):
        return default_initializer, True, attr, 1.0
    raise TypeError(f"parameter attribute must be None, False, a ParamAttr or an Initializer, got {attr!r}")


class Layer:
    """Base class for models: assign Parameters and Layers as attributes and they are registered."""

    def __init__(self, name_scope=None, dtype="float32"):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_sub_layers", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        self.training = True
        self._dtype = as_dtype(dtype)
        self._full_name = name_scope or type(self).__name__.lower()

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            if isinstance(value, (Tensor, Layer)):
                raise RuntimeError(f"call super().__init__() in {type(self).__name__}.__init__ before assigning {name}")
            object.__setattr__(self, name, value)
            return
        for registry in (self._parameters, self._sub_layers, self._buffers):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Layer):
            self._sub_layers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in (self._parameters, self._sub_layers, self._buffers):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def create_parameter(self, shape, attr=None, dtype=None, is_bias=False, default_initializer=None):
        """Make a Parameter; default init is Xavier-uniform for weights and zeros for biases."""
        fallback = default_initializer or (init.Constant(0.0) if is_bias else init.XavierUniform())
        resolved = _resolve_attr(attr, fallback)
        if resolved is None:
            return None
        initializer, trainable, name, lr_scale = resolved
        if name is None:  # Paddle-style unique names, e.g. "linear_0.w_0" / "linear_0.b_0"
            kind = "b" if is_bias else "w"
            name = f"{self._unique_prefix()}.{kind}_{self._param_counts.setdefault(kind, 0)}"
            self._param_counts[kind] += 1
        dtype = as_dtype(dtype) or self._dtype or float32
        param = Parameter(np.ascontiguousarray(initializer(list(shape), dtype)), name=name, trainable=trainable)
        param.optimize_attr = {"learning_rate": lr_scale}
        return param

    def _unique_prefix(self):
        if "_prefix" not in self.__dict__:
            base = type(self).__name__.lower()
            index = _LAYER_COUNTS.get(base, 0)
            _LAYER_COUNTS[base] = index + 1
            object.__setattr__(self, "_prefix", f"{base}_{index}")
            object.__setattr__(self, "_param_counts", {})
        return self._prefix

    def add_parameter(self, name, parameter):
        setattr(self, name, parameter)
        return parameter

    def add_sublayer(self, name, sublayer):
        setattr(self, name, sublayer)
        return sublayer

    def register_buffer(self, name, tensor, persistable=True):
        object.__setattr__(self, name, tensor)
        self._buffers[name] = tensor

    # ---------------------------------------------------------------- queries
    def named_sublayers(self, prefix="", include_self=False, layers_set=None):
        """Sub-layers depth-first, each before its children (Paddle's order, which fixes the order of
        ``named_parameters()`` and ``state_dict()`` for nested models)."""
        seen = set() if layers_set is None else layers_set
        stack = [(prefix, self)]
        while stack:
            path, layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if layer is not self or include_self:
                yield path, layer
            children = [(f"{path}.{name}" if path else name, child)
                        for name, child in layer._sub_layers.items() if child is not None]
            stack.extend(reversed(children))

    def sublayers(self, include_self=False):
        return [layer for _, layer in self.named_sublayers(include_self=include_self)]

    def children(self):
        return iter(layer for layer in self._sub_layers.values() if layer is not None)

    def named_children(self):
        return iter((n, layer) for n, layer in self._sub_layers.items() if layer is not None)

    def _all_named_parameters(self, prefix=""):
        """Every (structured name, parameter) pair, duplicates included."""
        for path, layer in self.named_sublayers(prefix=prefix, include_self=True):
            for name, param in layer._parameters.items():
                if param is not None:
                    yield (f"{path}.{name}" if path else name), param

    def named_parameters(self, prefix="", include_sublayers=True):
        """Each parameter once, under the first name it was found by."""
        seen = set()
        for name, param in self._all_named_parameters(prefix):
            if id(param) not in seen:
                seen.add(id(param))
                yield name, param

    def parameters(self, include_sublayers=True):
        """Each parameter once, even when a layer holds it under two names."""
        return [p for _, p in self.named_parameters()]

    # ------------------------------------------------------------------ modes
    def train(self):
        for layer in self.sublayers(include_self=True):
            layer.training = True
        return self

    def eval(self):
        for layer in self.sublayers(include_self=True):
            layer.training = False
        return self

    def clear_gradients(self, set_to_zero=True):
        for p in self.parameters():
            p.clear_gradient(set_to_zero)

    # ------------------------------------------------------------------ state
    def state_dict(self, destination=None, include_sublayers=True, structured_name_prefix=""):
        """Ordered mapping structured name -> Tensor (every name, shared ones too)."""
        state = OrderedDict() if destination is None else destination
        for name, param in self._all_named_parameters(structured_name_prefix):
            state[name] = param
        for path, layer in self.named_sublayers(prefix=structured_name_prefix, include_self=True):
            for name, buf in layer._buffers.items():
                state[f"{path}.{name}" if path else name] = buf
        return state

    def set_state_dict(self, state_dict, use_structured_name=True):
        """Load values in place; missing or mis-shaped entries are reported before anything is written.

        Returns ``(missing_keys, unexpected_keys)`` as Paddle does.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        for key, target in own.items():
            if key in state_dict:
                value = np.asarray(getattr(state_dict[key], "_value", state_dict[key]))
                if list(value.shape) != target.shape:
                    raise ValueError(
                        f"state_dict[{key!r}] has shape {list(value.shape)}, the layer expects {target.shape}"
                    )
        for key, target in own.items():
            if key in state_dict:
                target.set_value(state_dict[key])
        return missing, unexpected

    load_dict = set_state_dict
    set_dict = set_state_dict

    # ---------------------------------------------------------------- calling
    def forward(self, *inputs, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *inputs, **kwargs):
        return self.forward(*inputs, **kwargs)

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._sub_layers.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        return "\n".join(lines) + ("\n)" if len(lines) > 1 else ")")
