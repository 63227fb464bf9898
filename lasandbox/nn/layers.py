"""Concrete layers: Linear, containers, activations, Flatten, Dropout and the loss layers."""

from __future__ import annotations

from collections import OrderedDict

from lasandbox.autograd import ops_shape
from lasandbox.nn import functional as F
from lasandbox.nn.layer import Layer
from lasandbox.utils.validation import check_choice, check_int, check_real


class Linear(Layer):
    """``y = x @ W + b`` with ``W`` of shape ``[in_features, out_features]`` (Paddle's layout)."""

    def __init__(self, in_features, out_features, weight_attr=None, bias_attr=None, name=None):
        super().__init__()
        self.in_features = check_int("in_features", in_features, low=1)
        self.out_features = check_int("out_features", out_features, low=1)
        self.weight = self.create_parameter([in_features, out_features], attr=weight_attr)
        self.bias = self.create_parameter([out_features], attr=bias_attr, is_bias=True)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}"


class Sequential(Layer):
    """Layers applied in order; indexable, iterable, sliceable (a slice is a new Sequential)."""

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)) and layers[0] and isinstance(
            layers[0][0], (list, tuple)
        ):
            layers = layers[0]
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            layers = tuple(layers[0].items())
        for i, item in enumerate(layers):
            name, layer = item if isinstance(item, (list, tuple)) else (str(i), item)
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes Layers, got {type(layer).__name__} at position {i}")
            self.add_sublayer(name, layer)

    def __getitem__(self, index):
        layers = list(self._sub_layers.values())
        if isinstance(index, slice):
            return Sequential(*layers[index])
        return layers[index]

    def __len__(self):
        return len(self._sub_layers)

    def __iter__(self):
        return iter(self._sub_layers.values())

    def append(self, layer):
        self.add_sublayer(str(len(self)), layer)
        return self

    def forward(self, x):
        for layer in self._sub_layers.values():
            x = layer(x)
        return x


class LayerList(Layer):
    """A list of sub-layers (registered, so their parameters are found)."""

    def __init__(self, sublayers=None):
        super().__init__()
        for layer in sublayers or []:
            self.append(layer)

    def append(self, layer):
        self.add_sublayer(str(len(self._sub_layers)), layer)
        return self

    def __getitem__(self, index):
        return list(self._sub_layers.values())[index]

    def __len__(self):
        return len(self._sub_layers)

    def __iter__(self):
        return iter(self._sub_layers.values())


class ReLU(Layer):
    def forward(self, x):
        return F.relu(x)


class Tanh(Layer):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Layer):
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


class Flatten(Layer):
    """Flatten dims ``start_axis..stop_axis`` (default: all but the batch dim)."""

    def __init__(self, start_axis=1, stop_axis=-1):
        super().__init__()
        self.start_axis, self.stop_axis = start_axis, stop_axis

    def forward(self, x):
        return ops_shape.flatten(x, self.start_axis, self.stop_axis)


class Dropout(Layer):
    """Dropout in training mode, identity in eval mode (``upscale_in_train``)."""

    def __init__(self, p=0.5, axis=None, mode="upscale_in_train", name=None):
        super().__init__()
        self.p = check_real("p", p, low=0.0, high=1.0)
        self.mode = check_choice("mode", mode, ("upscale_in_train", "downscale_in_infer"))

    def forward(self, x):
        return F.dropout(x, self.p, training=self.training, mode=self.mode)

    def extra_repr(self):
        return f"p={self.p}"


class CrossEntropyLoss(Layer):
    """Softmax cross-entropy; int64 labels of shape ``[N, 1]`` or ``[N]``; reduction mean/sum/none."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", soft_label=False, axis=-1,
                 use_softmax=True, label_smoothing=0.0, name=None):
        super().__init__()
        self.weight = weight
        self.ignore_index = ignore_index
        self.reduction = check_choice("reduction", reduction, ("mean", "sum", "none"))
        self.soft_label = soft_label
        self.axis = axis
        self.use_softmax = use_softmax

    def forward(self, input, label):  # noqa: A002 - Paddle's name
        return F.cross_entropy(input, label, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, soft_label=self.soft_label, axis=self.axis,
                               use_softmax=self.use_softmax)


class MSELoss(Layer):
    """Mean squared error with reduction mean/sum/none."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = check_choice("reduction", reduction, ("mean", "sum", "none"))

    def forward(self, input, label):  # noqa: A002 - Paddle's name
        return F.mse_loss(input, label, reduction=self.reduction)
