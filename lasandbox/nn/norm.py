"""``nn.BatchNorm1D`` / ``nn.BatchNorm2D`` (Paddle 3.3.1's signature and numerics) and ``nn.Dropout2D``.

Parameters and statistics keep Paddle's names: ``weight`` (init 1),
``bias`` (init 0), and the running statistics ``_mean`` (init 0) and
``_variance`` (init 1), which appear in ``state_dict()`` under those names.

One deliberate difference: Paddle creates ``_mean``/``_variance`` as
non-trainable *parameters* (so ``parameters()`` lists four per layer);
here they are registered buffers, so ``parameters()`` lists ``weight`` and
``bias`` only. An optimizer's flat buffer, LookAhead's slow weights and a
landscape's weight vector then hold trainable weights alone, and the
running statistics are never interpolated by a Lookahead sync (Paddle's
LookAhead skips them too, as they have no gradient). ``state_dict()`` and
``set_state_dict()`` carry them as in Paddle. The statistics are updated
in place, so a Tensor taken from ``state_dict()`` stays live.

``momentum`` is Paddle's: ``running = momentum*running + (1-momentum)*batch``
with ``momentum=0.9`` by default; the running variance uses the biased batch
variance; ``use_global_stats``, and Paddle's pass-through for a single value
per channel and for an empty batch, as in ``functional_norm.batch_norm``.
"""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.tensor import Tensor
from lasandbox.nn import conv_args
from lasandbox.nn import functional_norm as F
from lasandbox.nn import initializer as init
from lasandbox.nn.layer import Layer
from lasandbox.utils.validation import check_choice, check_int, check_real


class _BatchNormBase(Layer):
    _formats = ("NCHW", "NHWC")
    _ranks = (4,)

    def __init__(self, num_features, momentum=0.9, epsilon=1e-05, weight_attr=None, bias_attr=None,
                 data_format="NCHW", use_global_stats=None, name=None):
        super().__init__()
        self._num_features = check_int("num_features", num_features, low=1)
        self._momentum = check_real("momentum", momentum, low=0.0, high=1.0)
        self._epsilon = check_real("epsilon", epsilon, low=0.0)
        self._data_format = check_choice("data_format", data_format, self._formats)
        if use_global_stats is not None and not isinstance(use_global_stats, (bool, np.bool_)):
            raise TypeError(f"use_global_stats must be None or a bool, got {use_global_stats!r}")
        self._use_global_stats = use_global_stats
        self._name = name
        self.weight = self.create_parameter([num_features], attr=weight_attr, default_initializer=init.Constant(1.0))
        self.bias = self.create_parameter([num_features], attr=bias_attr, is_bias=True)
        self.register_buffer("_mean", Tensor(np.zeros(num_features, dtype=np.float32)))
        self.register_buffer("_variance", Tensor(np.ones(num_features, dtype=np.float32)))

    def _check_input(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__} takes a Tensor, got {type(x).__name__}")
        if x.ndim not in self._ranks:
            ranks = " or ".join(f"{r}-D" for r in self._ranks)
            raise ValueError(f"{type(self).__name__} expects a {ranks} input, got shape {x.shape}")
        channel_axis = -1 if self._data_format in ("NHWC", "NLC") else 1
        if x.shape[channel_axis] != self._num_features:
            raise ValueError(f"{type(self).__name__}({self._num_features}) got an input with "
                             f"{x.shape[channel_axis]} channels: shape {x.shape}, data_format={self._data_format!r}")

    def forward(self, x):
        self._check_input(x)
        data_format = self._data_format
        if data_format in ("NC", "NCL") and x.ndim == 2:
            data_format = "NC"
        return F.batch_norm(x, self._mean, self._variance, weight=self.weight, bias=self.bias, training=self.training,
                            momentum=self._momentum, epsilon=self._epsilon, data_format=data_format,
                            use_global_stats=self._use_global_stats)

    def extra_repr(self):
        text = f"num_features={self._num_features}, momentum={self._momentum}, epsilon={self._epsilon}"
        if self._data_format != "NCHW":  # Paddle's rule: BatchNorm1D's default 'NCL' is shown too
            text += f", data_format={self._data_format}"
        return text


class BatchNorm1D(_BatchNormBase):
    """Batch norm over ``[N, C]`` or ``[N, C, L]`` (``data_format`` ``'NCL'``/``'NC'``; ``'NLC'``: channels last)."""

    _formats = ("NC", "NCL", "NLC")
    _ranks = (2, 3)

    def __init__(self, num_features, momentum=0.9, epsilon=1e-05, weight_attr=None, bias_attr=None,
                 data_format="NCL", use_global_stats=None, name=None):
        super().__init__(num_features, momentum, epsilon, weight_attr, bias_attr, data_format, use_global_stats,
                         name)


class BatchNorm2D(_BatchNormBase):
    """Batch norm over ``[N, C, H, W]`` (``data_format='NCHW'``) or ``[N, H, W, C]`` (``'NHWC'``)."""


class Dropout2D(Layer):
    """Drops whole channels of ``[N, C, H, W]`` with probability ``p`` in training; identity in eval mode."""

    def __init__(self, p=0.5, data_format="NCHW", name=None):
        super().__init__()
        self.p = check_real("p", p, low=0.0, high=1.0)
        conv_args.check_data_format(data_format, 2)
        self.data_format = data_format

    def forward(self, x):
        return F.dropout2d(x, self.p, training=self.training, data_format=self.data_format)

    def extra_repr(self):
        return f"p={self.p}, data_format={self.data_format}"
