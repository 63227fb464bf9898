"""Containers: ``Sequential`` (layers applied in order) and ``LayerList`` (a registered list)."""

from __future__ import annotations

from collections import OrderedDict

from lasandbox.nn.layer import Layer
from lasandbox.utils.validation import AssertedTypeError


def _check_layer(layer, where):
    if not isinstance(layer, Layer):
        raise AssertedTypeError(f"{where} takes Layers, got {type(layer).__name__}")
    return layer


def _insert_positional(layers_dict, index, layer, owner):
    """Insert ``layer`` at ``index`` of an index-named ('0', '1', ...) sub-layer dict, renumbering the rest."""
    n = len(layers_dict)
    if isinstance(index, bool) or not isinstance(index, int):
        raise AssertedTypeError(f"index must be an int, got {type(index).__name__}")
    if not -n <= index <= n:
        raise IndexError(f"index {index} is out of range for inserting into a {owner} of length {n}")
    if list(layers_dict) != [str(i) for i in range(n)]:
        raise ValueError(f"insert() needs a {owner} whose layers are named by position ('0', '1', ...)")
    index = index + n if index < 0 else index
    ordered = list(layers_dict.values())
    ordered.insert(index, layer)
    layers_dict.clear()
    layers_dict.update((str(i), item) for i, item in enumerate(ordered))


class Sequential(Layer):
    """Layers applied in order.

    Built from layers (named '0', '1', ...), from ``(name, layer)`` pairs (tuples or lists), or
    from an OrderedDict. Indexable by position or name, sliceable (a slice is a new Sequential),
    iterable; ``seq[i] = layer``, ``del seq[name]``, ``append``, ``insert``, ``extend``.
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            named = list(layers[0].items())
        elif layers and isinstance(layers[0], (list, tuple)):
            named = []
            for i, item in enumerate(layers):
                if not (isinstance(item, (list, tuple)) and len(item) == 2):
                    raise AssertedTypeError(f"Sequential takes Layers or (name, layer) pairs; item {i} is {item!r}")
                named.append((item[0], item[1]))
        else:
            named = [(str(i), layer) for i, layer in enumerate(layers)]
        for name, layer in named:
            self.add_sublayer(name, _check_layer(layer, "Sequential"))

    def __getitem__(self, key):
        layers = list(self._sub_layers.values())
        if isinstance(key, slice):
            return type(self)(*layers[key])
        if isinstance(key, str):
            return self._sub_layers[key]
        if not -len(layers) <= key < len(layers):
            raise IndexError(f"index {key} is out of range for a Sequential of length {len(layers)}")
        return layers[key]

    def __setitem__(self, name, layer):
        setattr(self, str(name), _check_layer(layer, "Sequential"))

    def __delitem__(self, name):
        name = str(name)
        if name not in self._sub_layers:
            raise KeyError(f"Sequential has no layer named {name!r} (it has {list(self._sub_layers)})")
        del self._sub_layers[name]

    def __len__(self):
        return len(self._sub_layers)

    def __iter__(self):
        return iter(self._sub_layers.values())

    def append(self, layer):
        self.add_sublayer(str(len(self)), _check_layer(layer, "Sequential.append"))
        return self

    def insert(self, index, layer):
        _insert_positional(self._sub_layers, index, _check_layer(layer, "Sequential.insert"), "Sequential")
        return self

    def extend(self, layers):
        for layer in layers:
            self.append(layer)
        return self

    def forward(self, x):
        for layer in self._sub_layers.values():
            x = layer(x)
        return x


class LayerList(Layer):
    """A list of sub-layers (registered, so their parameters are found); named '0', '1', ..."""

    def __init__(self, sublayers=None):
        super().__init__()
        self.extend(sublayers or [])

    def _position(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a LayerList of length {n}")
        return index + n if index < 0 else index

    def __getitem__(self, index):
        layers = list(self._sub_layers.values())
        if isinstance(index, slice):
            return type(self)(layers[index])
        return layers[self._position(index)]

    def __setitem__(self, index, layer):
        setattr(self, str(self._position(index)), _check_layer(layer, "LayerList"))

    def __delitem__(self, index):
        layers = list(self._sub_layers.values())
        doomed = set(range(len(layers))[index]) if isinstance(index, slice) else {self._position(index)}
        self._sub_layers.clear()
        self._sub_layers.update((str(i), layer) for i, layer in enumerate(
            layer for j, layer in enumerate(layers) if j not in doomed))

    def __len__(self):
        return len(self._sub_layers)

    def __iter__(self):
        return iter(self._sub_layers.values())

    def __iadd__(self, layers):
        return self.extend(layers)

    def append(self, layer):
        self.add_sublayer(str(len(self)), _check_layer(layer, "LayerList.append"))
        return self

    def insert(self, index, layer):
        _insert_positional(self._sub_layers, index, _check_layer(layer, "LayerList.insert"), "LayerList")

    def extend(self, layers):
        for layer in layers:
            self.append(layer)
        return self

    def pop(self, index=-1):
        layer = self[index]
        del self[index]
        return layer
