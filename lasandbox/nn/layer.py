"""``Layer``: the base of every model, with Paddle's registration rules.

Assigning a ``Parameter`` to an attribute registers it as a parameter, a
``Layer`` as a sub-layer, any other Tensor as a (non-persistable) buffer;
``register_buffer`` adds persistable ones. Like Paddle, the three live in
ordered dicts (``_parameters``, ``_sub_layers``, ``_buffers``) and attribute
access falls back to them, so ``del layer.name`` and ``layer.name = None``
work as in Paddle. Queries walk the layer tree depth-first in registration
order; a layer or tensor reachable twice is listed once unless
``remove_duplicate=False``.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from lasandbox.autograd.tensor import Tensor, as_dtype, default_float
from lasandbox.nn import hooks
from lasandbox.nn.layer_dtype import DtypeConversions
from lasandbox.nn.param import ParamAttr, Parameter, camel_to_snake, make_parameter, unique_name

__all__ = ["Layer", "Parameter", "ParamAttr"]


class MissingSuperInitError(RuntimeError, ValueError):
    """Raised when a Layer subclass registers something before calling ``super().__init__()``.

    A RuntimeError (lasandbox's) and a ValueError (what Paddle raises).
    """


def _check_member_name(kind, name, layer, registry):
    # The phrases are Paddle's, which its tests match on.
    if not isinstance(name, str):
        raise TypeError(f"The name of {kind} should be a string, got {type(name).__name__}")
    if "." in name:
        raise KeyError(f"The name of {kind} can not contain '.' (it would not be reachable as an attribute), "
                       f"got {name!r}")
    if name == "":
        raise KeyError(f"The name of {kind} can not be empty")
    if hasattr(layer, name) and name not in registry:
        raise KeyError(f"attribute {name!r} already exists on {type(layer).__name__}")


class Layer(DtypeConversions):
    """Base class for models: assign Parameters, Layers and Tensors as attributes and they are registered."""

    def __init__(self, name_scope=None, dtype=None):
        state = self.__dict__
        for table in ("_parameters", "_sub_layers", "_buffers", "_forward_pre_hooks", "_forward_post_hooks",
                      "_forward_pre_hooks_with_kwargs_flag", "_forward_post_hooks_with_kwargs_flag",
                      "_forward_post_hooks_always_called"):
            state[table] = OrderedDict()
        state["_non_persistable_buffer_names_set"] = set()
        state["_param_counts"] = {}
        self.training = True
        self._dtype = as_dtype(dtype) or default_float()  # None: the default dtype (set_default_dtype) now
        # Paddle's unique full name ("linear_0"), also the prefix of its parameters' names.
        self._full_name = unique_name(name_scope or camel_to_snake(type(self).__name__))

    # ------------------------------------------------------------ registration
    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters, sub-layers and buffers live in dicts.
        state = self.__dict__
        for table in ("_parameters", "_sub_layers", "_buffers"):
            if table in state and name in state[table]:
                return state[table][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _require_init(self, name):
        if "_parameters" not in self.__dict__:
            raise MissingSuperInitError(
                f"call super().__init__() in {type(self).__name__}.__init__ before assigning {name}")

    def _forget(self, name, *tables):
        for table in tables:
            registry = self.__dict__ if table == "__dict__" else self.__dict__[table]
            registry.pop(name, None)

    def __setattr__(self, name, value):
        if isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
            return
        if isinstance(value, (Parameter, Layer, Tensor)):
            self._require_init(name)
        state = self.__dict__
        params, layers, buffers = (state.get(t) for t in ("_parameters", "_sub_layers", "_buffers"))
        if isinstance(value, Parameter):
            self._forget(name, "__dict__", "_buffers", "_sub_layers")
            params[name] = value
        elif params is not None and name in params:
            self._set_existing(params, name, value, "parameter", "Parameter")
        elif isinstance(value, Layer):
            self._forget(name, "__dict__", "_parameters", "_buffers")
            layers[name] = value
        elif layers is not None and name in layers:
            self._set_existing(layers, name, value, "sub-layer", "Layer")
        elif isinstance(value, Tensor):
            self._forget(name, "__dict__", "_parameters", "_sub_layers")
            if name not in buffers:  # a plain Tensor attribute is a buffer that state_dict() leaves out
                self._non_persistable_buffer_names_set.add(name)
            buffers[name] = value
        elif buffers is not None and name in buffers:
            self._set_existing(buffers, name, value, "buffer", "Tensor")
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _set_existing(registry, name, value, kind, expected):
        if value is not None:
            raise TypeError(f"assignment to {kind} {name!r} must be a {expected} or None, got {type(value).__name__}")
        registry[name] = None

    def __delattr__(self, name):
        for table in ("_parameters", "_sub_layers", "_buffers"):
            if name in self.__dict__.get(table, ()):
                del self.__dict__[table][name]
                self._non_persistable_buffer_names_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return [*super().__dir__(), *self._parameters, *self._sub_layers, *self._buffers]

    def full_name(self):
        """The layer's unique name, e.g. ``linear_0`` (its parameters are ``linear_0.w_0``, ...)."""
        return self._full_name

    def create_parameter(self, shape, attr=None, dtype=None, is_bias=False, default_initializer=None):
        """Make a Parameter named after this layer; default init is Xavier-uniform for weights and zeros for biases."""
        return make_parameter(shape, attr, as_dtype(dtype) or self._dtype, is_bias, default_initializer,
                              self._full_name)

    def add_parameter(self, name, parameter):
        """Register ``parameter`` (a Parameter, or None) under ``name``."""
        self._require_init(name)
        _check_member_name("parameter", name, self, self._parameters)
        if parameter is not None and not isinstance(parameter, Parameter):
            raise TypeError(f"add_parameter takes a Parameter, got {type(parameter).__name__}")
        self._parameters[name] = parameter
        return parameter

    register_parameter = add_parameter

    def add_sublayer(self, name, sublayer):
        """Register ``sublayer`` (a Layer, or None) under ``name``."""
        if sublayer is not None and not isinstance(sublayer, Layer):
            raise TypeError(f"add_sublayer takes a Layer, got {type(sublayer).__name__}")
        self._require_init(name)
        self._sub_layers[str(name)] = sublayer
        return sublayer

    def register_buffer(self, name, tensor, persistable=True):
        """Register ``tensor`` as a buffer; persistable buffers are part of ``state_dict()``."""
        self._require_init(name)
        _check_member_name("buffer", name, self, self._buffers)
        if tensor is not None and (not isinstance(tensor, Tensor) or isinstance(tensor, Parameter)):
            raise TypeError(f"The registered buffer should be a Paddle.Tensor (not a Parameter), "
                            f"got {type(tensor).__name__}")
        self._buffers[name] = tensor
        if persistable:
            self._non_persistable_buffer_names_set.discard(name)
        else:
            self._non_persistable_buffer_names_set.add(name)

    # ---------------------------------------------------------------- queries
    def named_sublayers(self, prefix="", include_self=False, layers_set=None, remove_duplicate=True):
        """(path, layer) for every layer below (and with ``include_self``, this one), depth first."""
        seen = set() if layers_set is None else layers_set
        stack = [(prefix, self, include_self)]
        while stack:
            path, layer, emit = stack.pop()
            if emit:
                if id(layer) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(layer))
                yield path, layer
            children = [(f"{path}.{name}" if path else name, child, True)
                        for name, child in layer._sub_layers.items() if child is not None]
            stack.extend(reversed(children))

    def sublayers(self, include_self=False):
        return [layer for _, layer in self.named_sublayers(include_self=include_self)]

    def named_children(self):
        seen = set()
        for name, layer in self._sub_layers.items():
            if layer is not None and id(layer) not in seen:
                seen.add(id(layer))
                yield name, layer

    def children(self):
        return (layer for _, layer in self.named_children())

    def _named_members(self, table, prefix, include_sublayers, remove_duplicate):
        layers = (self.named_sublayers(prefix=prefix, include_self=True, remove_duplicate=remove_duplicate)
                  if include_sublayers else [(prefix, self)])
        seen = set()
        for path, layer in layers:
            for name, member in layer.__dict__[table].items():
                if member is None or id(member) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(member))
                yield (f"{path}.{name}" if path else name), member

    def named_parameters(self, prefix="", include_sublayers=True, remove_duplicate=True):
        """(structured name, parameter); a parameter held twice is listed once unless ``remove_duplicate=False``."""
        return self._named_members("_parameters", prefix, include_sublayers, remove_duplicate)

    def parameters(self, include_sublayers=True):
        """Each parameter once, even when a layer holds it under two names."""
        return [p for _, p in self.named_parameters(include_sublayers=include_sublayers)]

    def named_buffers(self, prefix="", include_sublayers=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, include_sublayers, remove_duplicate)

    def buffers(self, include_sublayers=True):
        return [b for _, b in self.named_buffers(include_sublayers=include_sublayers)]

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``named_sublayers(include_self=True)`` (PyTorch's spelling, also in Paddle)."""
        return self.named_sublayers(prefix=prefix, include_self=True, layers_set=memo,
                                    remove_duplicate=remove_duplicate)

    def modules(self):
        return (layer for _, layer in self.named_modules())

    def add_module(self, name, module):
        self.add_sublayer(name, module)

    def get_sublayer(self, target):
        """The sub-layer at dotted path ``target`` ('' is this layer)."""
        layer = self
        for part in filter(None, target.split(".")):
            child = layer._sub_layers.get(part)
            if child is None:
                raise AttributeError(f"{type(layer).__name__} has no sub-layer {part!r} (path {target!r})")
            layer = child
        return layer

    def get_parameter(self, target):
        path, _, name = target.rpartition(".")
        layer = self.get_sublayer(path)
        if layer._parameters.get(name) is None:
            raise AttributeError(f"{type(layer).__name__} has no parameter {name!r} (path {target!r})")
        return layer._parameters[name]

    def get_buffer(self, target):
        path, _, name = target.rpartition(".")
        layer = self.get_sublayer(path)
        if name not in layer._buffers:
            raise AttributeError(f"{type(layer).__name__} has no buffer {name!r} (path {target!r})")
        return layer._buffers[name]

    def apply(self, fn):
        """Call ``fn`` on every sub-layer (children first, depth first) and then on this layer."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError(f"mode of train() must be a bool, got {mode!r}")
        for layer in self.sublayers(include_self=True):
            layer.training = mode
        return self

    def eval(self):
        return self.train(False)

    def clear_gradients(self, set_to_zero=True):
        for p in self.parameters():
            if p.trainable:
                p.clear_gradient(set_to_zero)

    # ------------------------------------------------------------------ state
    def state_dict(self, destination=None, include_sublayers=True, structured_name_prefix="", use_hook=True,
                   keep_vars=True, *, prefix=None):
        """Ordered mapping structured name -> Tensor: each layer's parameters and persistable buffers,
        then its sub-layers' (Paddle's order; a shared parameter appears under each of its names)."""
        state = OrderedDict() if destination is None else destination
        self._collect_state(state, structured_name_prefix if prefix is None else prefix, include_sublayers, False)
        return state

    def to_static_state_dict(self, destination=None, include_sublayers=True, structured_name_prefix="",
                             use_hook=True, keep_vars=True):
        """``state_dict()`` plus the non-persistable buffers."""
        state = OrderedDict() if destination is None else destination
        self._collect_state(state, structured_name_prefix, include_sublayers, True)
        return state

    def _collect_state(self, state, prefix, include_sublayers, all_buffers):
        for name, param in self._parameters.items():
            if param is not None:
                state[prefix + name] = param
        for name, buf in self._buffers.items():
            if buf is not None and (all_buffers or name not in self._non_persistable_buffer_names_set):
                state[prefix + name] = buf
        if include_sublayers:
            for name, layer in self._sub_layers.items():
                if layer is not None:
                    layer._collect_state(state, f"{prefix}{name}.", True, all_buffers)

    def set_state_dict(self, state_dict, use_structured_name=True):
        """Load values in place; mis-shaped entries are reported before anything is written.

        Returns ``(missing_keys, unexpected_keys)`` as Paddle does. With
        ``use_structured_name=False`` the keys are the Tensors' names (``linear_0.w_0``).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict must be a dict of name -> Tensor or array (from state_dict() or paddle.load), "
                            f"got {type(state_dict).__name__}")
        own = self.state_dict()
        keyed = own if use_structured_name else OrderedDict((t.name, t) for t in own.values())
        missing = [k for k in keyed if k not in state_dict]
        unexpected = [k for k in state_dict if k not in keyed]
        for key, target in keyed.items():
            if key in state_dict:
                value = np.asarray(getattr(state_dict[key], "_value", state_dict[key]))
                if list(value.shape) != target.shape:
                    raise ValueError(
                        f"state_dict[{key!r}] has shape {list(value.shape)}, the layer expects {target.shape}"
                    )
        for key in missing:  # Paddle's warning, one per entry the layer keeps as it was
            warnings.warn(f"Skip loading for {key}. {key} is not found in the provided dict.", stacklevel=2)
        for key, target in keyed.items():
            if key in state_dict:
                target.set_value(state_dict[key])
        return missing, unexpected

    load_dict = set_state_dict
    set_dict = set_state_dict

    # ---------------------------------------------------------------- calling
    def forward(self, *inputs, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *inputs, **kwargs):
        if not self._forward_pre_hooks and not self._forward_post_hooks:
            return self.forward(*inputs, **kwargs)
        return hooks.call_with_hooks(self, inputs, kwargs)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Run ``hook(layer, inputs)`` before ``forward``; a non-None return replaces the inputs."""
        return hooks.register(self, "pre", hook, prepend=prepend, with_kwargs=with_kwargs)

    def register_forward_post_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Run ``hook(layer, inputs, output)`` after ``forward``; a non-None return replaces the output."""
        return hooks.register(self, "post", hook, prepend=prepend, with_kwargs=with_kwargs, always_call=always_call)

    register_forward_hook = register_forward_post_hook

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._sub_layers.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        return "\n".join(lines) + ("\n)" if len(lines) > 1 else ")")


