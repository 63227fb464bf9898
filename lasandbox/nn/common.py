"""Common layers: Linear, Embedding, Flatten, Dropout, Identity."""

from __future__ import annotations

import numpy as np

from lasandbox.autograd import ops_shape
from lasandbox.autograd.engine import no_grad
from lasandbox.autograd.tensor import as_dtype
from lasandbox.nn import functional as F
from lasandbox.nn.functional_common import _padding_index
from lasandbox.nn.layer import Layer
from lasandbox.utils.validation import AssertedValueError, check_choice, check_int, check_real


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


class Embedding(Layer):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim`` (Xavier-uniform init).

    ``padding_idx`` (negative counts from the end) is a row kept at zero that gets no gradient;
    ``max_norm`` / ``norm_type`` renormalise used rows; ``_weight`` supplies the table and
    ``_freeze`` stops its gradient; ``sparse`` gives the same (dense) gradient here.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0, *,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None,
                 weight_attr=None, name=None):
        super().__init__()
        if device is not None:
            from lasandbox.device import check_cpu_device

            check_cpu_device(device)
        for arg, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{arg} must be a positive int, got {value!r}")
        self._num_embeddings, self._embedding_dim = int(num_embeddings), int(embedding_dim)
        self._padding_idx = padding_idx
        pad = _padding_index(padding_idx, self._num_embeddings)
        self._max_norm = None if max_norm is None else check_real("max_norm", max_norm, low=0.0)
        self._norm_type = check_real("norm_type", norm_type, low=0.0, low_open=True)
        self._scale_grad_by_freq = bool(scale_grad_by_freq)
        self._sparse = bool(sparse)
        if _weight is not None:
            if list(_weight.shape) != [self._num_embeddings, self._embedding_dim]:
                raise AssertedValueError(f"_weight must have shape [{num_embeddings}, {embedding_dim}], "
                                         f"got {list(_weight.shape)}")
            self.weight = _weight
            self.weight.stop_gradient = bool(_freeze)
        else:
            self.weight = self.create_parameter([self._num_embeddings, self._embedding_dim], attr=weight_attr,
                                                dtype=as_dtype(dtype))
            if weight_attr is None:
                self.weight.stop_gradient = bool(_freeze)
        if pad is not None:
            with no_grad():
                self.weight._value[pad] = 0

    @property
    def padding_idx(self):
        return self._padding_idx

    def forward(self, x):
        return F.embedding(x, self.weight, padding_idx=self._padding_idx, max_norm=self._max_norm,
                           norm_type=self._norm_type, sparse=self._sparse, scale_grad_by_freq=self._scale_grad_by_freq)

    def extra_repr(self):
        pad = "" if self._padding_idx is None else f", padding_idx={self._padding_idx}"
        return f"{self._num_embeddings}, {self._embedding_dim}{pad}, sparse={self._sparse}"


class Flatten(Layer):
    """Flatten dims ``start_axis..stop_axis`` (default: all but the batch dim)."""

    def __init__(self, start_axis=1, stop_axis=-1):
        super().__init__()
        self.start_axis, self.stop_axis = start_axis, stop_axis

    def forward(self, x):
        return ops_shape.flatten(x, self.start_axis, self.stop_axis)


class Dropout(Layer):
    """Dropout in training mode, identity in eval mode (``upscale_in_train``); ``axis``: see ``F.dropout``."""

    def __init__(self, p=0.5, axis=None, mode="upscale_in_train", name=None):
        super().__init__()
        self.p = check_real("p", p, low=0.0, high=1.0)
        self.mode = check_choice("mode", mode, ("upscale_in_train", "downscale_in_infer"))
        F.dropout_axes(axis)  # its type now; its range against the input's dimensions in forward
        self.axis = axis

    def forward(self, x):
        return F.dropout(x, self.p, axis=self.axis, training=self.training, mode=self.mode)

    def extra_repr(self):
        return f"p={self.p}"


class Identity(Layer):
    """Returns its input unchanged (the constructor takes and ignores any arguments, as Paddle's)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):  # noqa: A002 - Paddle's name
        return input


__all__ = ["Linear", "Embedding", "Flatten", "Dropout", "Identity"]
