"""No silently ignored argument, beyond the optimizers (tests/test_argument_audit.py): every argument with
a default that a public ``nn`` layer, ``nn.functional`` function, ``optimizer.lr`` schedule or ``io`` class
accepts either changes what happens (a probe value is run against the default, and the results must
differ), or raises NotImplementedError for a non-default value, or is listed in NO_EFFECT with the reason
it changes nothing (in Paddle's eager mode on the CPU too), which is then checked (identical results).

The test walks the ``__all__`` lists and the signatures, so a new public argument without an entry here
fails ``test_every_argument_is_classified``.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import io, nn
from lasandbox.nn import functional as F
from lasandbox.optimizer import lr

RNG = np.random.default_rng(0)
X4 = RNG.standard_normal((2, 4, 4, 4)).astype(np.float32)  # valid as NCHW and as NHWC
X3 = RNG.standard_normal((2, 4, 4)).astype(np.float32)  # valid as NCL and as NLC
X3_ODD = RNG.standard_normal((2, 4, 5)).astype(np.float32)  # an odd length, where ceil_mode matters
X2 = RNG.standard_normal((3, 4)).astype(np.float32)
LABELS = np.array([0, 2, 3], dtype=np.int64)
P2 = (np.exp(X2) / np.exp(X2).sum(axis=1, keepdims=True)).astype(np.float32)  # rows of probabilities
SOFT = np.abs(RNG.standard_normal((3, 4))).astype(np.float32)
SOFT /= SOFT.sum(axis=1, keepdims=True)
LABELS_AXIS0 = np.array([[0, 2, 1, 1]], dtype=np.int64)  # classes along axis 0 (3 of them)
IDS = np.array([[0, 2, 2], [1, 0, 3]], dtype=np.int64)


def _observe(result):
    """Every array a result holds (values, dtypes), in order."""
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in _observe(r)]
    if isinstance(result, paddle.Tensor):
        return [result.numpy().copy()]
    return [np.asarray(result)]


def _with_grad(array):
    return paddle.to_tensor(array, stop_gradient=False)


def _values_and_input_grad(make_output, x):
    """The output of ``make_output(x)`` and the gradient of a fixed weighted sum of it with respect to x."""
    paddle.seed(0)
    out = make_output(x)
    first = out[0] if isinstance(out, (tuple, list)) else out
    observed = _observe(out)
    if np.issubdtype(first.numpy().dtype, np.floating) and not first.stop_gradient:
        weights = np.random.default_rng(1).standard_normal(first.shape).astype(first.numpy().dtype)
        (first * paddle.to_tensor(weights)).sum().backward()
        observed += [g.numpy().copy() for g in _leaf_grads(x)]
    return observed


def _leaf_grads(x):
    leaves = x if isinstance(x, (tuple, list)) else [x]
    return [t.grad for t in leaves if isinstance(t, paddle.Tensor) and t.grad is not None]


def _layer(make, x, train=True):
    """Run a layer made by ``make(**kw)`` on input ``x`` (one forward, one backward); observe the output,
    the input gradient, the parameters' values, their gradients and their names (counters stripped)."""

    def run(**kw):
        paddle.seed(0)
        layer = make(**kw)
        if not train:
            layer.eval()
        dtype = next((p.numpy().dtype for p in layer.parameters()), x.dtype)
        inputs = _with_grad(x.astype(dtype)) if x.dtype.kind == "f" else paddle.to_tensor(x)
        observed = _values_and_input_grad(layer, inputs)
        for name, p in layer.named_parameters():
            observed += [p.numpy().copy(), np.array(re.sub(r"_\d+", "_#", p.name)), np.array(name)]
            if p.grad is not None:
                observed.append(p.grad.numpy().copy())
        for _, buffer in layer.named_buffers():
            observed.append(buffer.numpy().copy())
        return observed

    return run


def _function(fn, *inputs):
    """Run ``fn(*inputs, **kw)``; observe the output and the first input's gradient."""

    def run(**kw):
        tensors = [_with_grad(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else
                   (paddle.to_tensor(a) if isinstance(a, np.ndarray) else a) for a in inputs]
        return _values_and_input_grad(lambda _: fn(*tensors, **kw), tensors[0])

    return run


def _schedule(make, steps=12, metric=None):
    """The learning rates a schedule gives over ``steps`` steps (``metric``: what ReduceOnPlateau sees)."""

    def run(**kw):
        sched = make(**kw)
        rates = []
        for i in range(steps):
            rates.append(sched())
            sched.step(metric(i)) if metric else sched.step()
        return [np.array(rates)]

    return run


def _cross_entropy(call, label_shape=(3,)):
    """A cross entropy on rows of probabilities; the label as the arguments need it (soft with
    ``soft_label``, along axis 0 with ``axis=0``)."""

    def run(**kw):
        label = LABELS.reshape(label_shape)
        if kw.get("soft_label"):
            label = SOFT
        if kw.get("axis") == 0:
            label = LABELS_AXIS0
        x = _with_grad(P2)
        return _values_and_input_grad(lambda _: call(x, paddle.to_tensor(label), **kw), x)

    return run


def _batch_norm(**kw):
    """F.batch_norm with fresh running statistics each run; observes them too (momentum moves them)."""
    mean, var = paddle.zeros([4]), paddle.ones([4])
    x = _with_grad(X4)
    return _values_and_input_grad(lambda _: F.batch_norm(x, mean, var, **kw), x) + [mean.numpy(), var.numpy()]


def _silu(make):
    """Silu on an input that needs no gradient (in place is refused on one that does, as in Paddle)."""

    def run(**kw):
        x = paddle.to_tensor(X2.copy())
        return [make(**kw)(x).numpy().copy()]

    return run


class Squares(io.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), np.int64(i % 3)


def _loader(**kw):
    paddle.seed(0)
    return [a for batch in io.DataLoader(Squares(), **kw) for a in _observe(batch)]


def _sampler(make):
    def run(**kw):
        paddle.seed(0)
        return [np.array(list(make(**kw)), dtype=object)]

    return run


def _clip(make):
    def run(**kw):
        rng = np.random.default_rng(7)
        grads = [rng.standard_normal(5).astype(np.float32) * 3 for _ in range(2)]
        clip = make(**kw)
        copies = [g.copy() for g in grads]
        clip.clip_(copies)
        return copies

    return run


def _param_attr_step(**kw):
    """A Linear built with ``weight_attr=ParamAttr(**kw)``, one SGD step under a grad clip."""
    paddle.seed(0)
    layer = nn.Linear(4, 3, weight_attr=nn.ParamAttr(**kw))
    opt = paddle.optimizer.SGD(learning_rate=0.1, parameters=layer.parameters(), weight_decay=0.01,
                               grad_clip=nn.ClipGradByValue(0.05))
    paddle.mean(layer(paddle.to_tensor(X2)) ** 2).backward()
    opt.step()
    return [p.numpy().copy() for p in layer.parameters()] + [np.array(re.sub(r"_\d+", "_#", p.name))
                                                             for p in layer.parameters()]


ZEROS = nn.initializer.Constant(0.3)
# What to run for each public callable, and a non-default value for each of its arguments with a default.
RUNS = {
    "nn.Linear": (_layer(lambda **kw: nn.Linear(4, 3, **kw), X2),
                  {"weight_attr": nn.ParamAttr(initializer=ZEROS), "bias_attr": False, "name": "fc"}),
    "nn.Embedding": (_layer(lambda **kw: nn.Embedding(4, 3, **kw), IDS),
                     {"padding_idx": 2, "max_norm": 0.5, "norm_type": 1.0, "scale_grad_by_freq": True,
                      "sparse": True, "_weight": paddle.ones([4, 3]), "_freeze": True, "device": "cpu",
                      "dtype": "float64", "weight_attr": nn.ParamAttr(initializer=ZEROS), "name": "emb"}),
    "nn.Flatten": (_layer(lambda **kw: nn.Flatten(**kw), X4), {"start_axis": 0, "stop_axis": 2}),
    "nn.Dropout": (_layer(lambda **kw: nn.Dropout(**kw), X2), {"p": 0.2, "axis": 1, "mode": "downscale_in_infer",
                                                            "name": "drop"}),
    "nn.Softmax": (_layer(lambda **kw: nn.Softmax(**kw), X2), {"axis": 0, "name": "s"}),
    "nn.LogSoftmax": (_layer(lambda **kw: nn.LogSoftmax(**kw), X2), {"axis": 0, "name": "s"}),
    "nn.ReLU": (_layer(lambda **kw: nn.ReLU(**kw), X2), {"name": "r"}),
    "nn.Tanh": (_layer(lambda **kw: nn.Tanh(**kw), X2), {"name": "t"}),
    "nn.Sigmoid": (_layer(lambda **kw: nn.Sigmoid(**kw), X2), {"name": "s"}),
    "nn.GELU": (_layer(lambda **kw: nn.GELU(**kw), X2), {"approximate": True, "name": "g"}),
    "nn.Softplus": (_layer(lambda **kw: nn.Softplus(**kw), X2), {"beta": 2.0, "threshold": 0.5, "name": "s"}),
    "nn.LeakyReLU": (_layer(lambda **kw: nn.LeakyReLU(**kw), X2), {"negative_slope": 0.2, "name": "l"}),
    "nn.Silu": (_silu(lambda **kw: nn.Silu(**kw)), {"inplace": True, "name": "s"}),
    "nn.LayerNorm": (_layer(lambda **kw: nn.LayerNorm(4, **kw), X2),
                     {"epsilon": 0.5, "weight_attr": False, "bias_attr": False, "name": "ln"}),
    "nn.CrossEntropyLoss": (_cross_entropy(lambda x, y, **kw: nn.CrossEntropyLoss(**kw)(x, y)),
                            {"weight": paddle.to_tensor([1.0, 2.0, 0.5, 1.0]), "ignore_index": 2,
                             "reduction": "sum", "soft_label": True, "axis": 0, "use_softmax": False,
                             "label_smoothing": 0.1, "name": "ce"}),
    "nn.MSELoss": (_layer(lambda **kw: _LossOn(nn.MSELoss(**kw), np.zeros((3, 4), np.float32)), X2),
                   {"reduction": "sum"}),
    "nn.ClipGradByGlobalNorm": (_clip(lambda **kw: nn.ClipGradByGlobalNorm(1.0, **kw)),
                                {"group_name": "other", "auto_skip_clip": True}),
    "nn.ClipGradByValue": (_clip(lambda **kw: nn.ClipGradByValue(1.0, **kw)), {"min": -0.5}),
    "nn.Conv1D": (_layer(lambda **kw: nn.Conv1D(4, 6, 3, **kw), X3),
                  {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False, "padding_mode": "reflect",
                   "device": "cpu", "dtype": "float64", "weight_attr": nn.ParamAttr(initializer=ZEROS),
                   "bias_attr": False, "data_format": "NLC"}),
    "nn.Conv2D": (_layer(lambda **kw: nn.Conv2D(4, 6, 3, **kw), X4),
                  {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False, "padding_mode": "reflect",
                   "device": "cpu", "dtype": "float64", "weight_attr": nn.ParamAttr(initializer=ZEROS),
                   "bias_attr": False, "data_format": "NHWC"}),
    "nn.Conv1DTranspose": (_layer(lambda **kw: nn.Conv1DTranspose(4, 6, 3, **kw), X3),
                           {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 2,
                            "weight_attr": nn.ParamAttr(initializer=ZEROS), "bias_attr": False,
                            "data_format": "NLC"}),
    "nn.Conv2DTranspose": (_layer(lambda **kw: nn.Conv2DTranspose(4, 6, 3, **kw), X4),
                           {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 2,
                            "weight_attr": nn.ParamAttr(initializer=ZEROS), "bias_attr": False,
                            "data_format": "NHWC"}),
    "nn.MaxPool1D": (_layer(lambda **kw: nn.MaxPool1D(2, **kw), X3_ODD),
                     {"stride": 1, "padding": 1, "return_mask": True, "ceil_mode": True, "name": "p"}),
    "nn.MaxPool2D": (_layer(lambda **kw: nn.MaxPool2D(3, **kw), X4),
                     {"stride": 1, "padding": 1, "return_mask": True, "ceil_mode": True, "data_format": "NHWC",
                      "name": "p"}),
    "nn.AvgPool1D": (_layer(lambda **kw: nn.AvgPool1D(2, **kw), X3_ODD),
                     {"stride": 1, "padding": 1, "exclusive": False, "ceil_mode": True, "name": "p"}),
    "nn.AvgPool2D": (_layer(lambda **kw: nn.AvgPool2D(3, **kw), X4),
                     {"stride": 1, "padding": 1, "ceil_mode": True, "exclusive": False, "divisor_override": 2,
                      "data_format": "NHWC", "name": "p"}),
    "nn.AdaptiveAvgPool1D": (_layer(lambda **kw: nn.AdaptiveAvgPool1D(4, **kw), X3), {"name": "p"}),
    "nn.AdaptiveAvgPool2D": (_layer(lambda **kw: nn.AdaptiveAvgPool2D(3, **kw), X4),
                             {"data_format": "NHWC", "name": "p"}),
    "nn.AdaptiveMaxPool1D": (_layer(lambda **kw: nn.AdaptiveMaxPool1D(3, **kw), X3_ODD),
                             {"return_mask": True, "name": "p"}),
    "nn.AdaptiveMaxPool2D": (_layer(lambda **kw: nn.AdaptiveMaxPool2D(3, **kw), X4),
                             {"return_mask": True, "name": "p"}),
    "nn.BatchNorm1D": (_layer(lambda **kw: nn.BatchNorm1D(4, **kw), X3),
                       {"momentum": 0.5, "epsilon": 0.5, "weight_attr": False, "bias_attr": False,
                        "data_format": "NLC", "use_global_stats": True, "name": "bn"}),
    "nn.BatchNorm2D": (_layer(lambda **kw: nn.BatchNorm2D(4, **kw), X4),
                       {"momentum": 0.5, "epsilon": 0.5, "weight_attr": False, "bias_attr": False,
                        "data_format": "NHWC", "use_global_stats": True, "name": "bn"}),
    "nn.Dropout2D": (_layer(lambda **kw: nn.Dropout2D(**kw), X4), {"p": 0.2, "data_format": "NHWC", "name": "d"}),
    "nn.ParamAttr": (_param_attr_step,
                     {"name": "mine", "initializer": ZEROS, "learning_rate": 0.5,
                      "regularizer": paddle.regularizer.L2Decay(0.5), "trainable": False,
                      "do_model_average": False, "need_clip": False}),
    # ----------------------------------------------------------------------------- nn.functional
    "F.relu": (_function(F.relu, X2), {"name": "r"}),
    "F.sigmoid": (_function(F.sigmoid, X2), {"name": "s"}),
    "F.tanh": (_function(F.tanh, X2), {"name": "t"}),
    "F.softmax": (_function(F.softmax, X2), {"axis": 0, "dtype": "float64", "name": "s"}),
    "F.log_softmax": (_function(F.log_softmax, X2), {"axis": 0, "dtype": "float64", "name": "s"}),
    "F.linear": (_function(F.linear, X2, RNG.standard_normal((4, 3)).astype(np.float32)),
                 {"bias": paddle.ones([3]), "name": "fc"}),
    "F.dropout": (_function(lambda x, **kw: (paddle.seed(0), F.dropout(x, **kw))[1], X2),
                  {"p": 0.2, "axis": 1, "training": False, "mode": "downscale_in_infer", "name": "d"}),
    "F.gelu": (_function(F.gelu, X2), {"approximate": True, "name": "g"}),
    "F.leaky_relu": (_function(F.leaky_relu, X2), {"negative_slope": 0.2, "name": "l"}),
    "F.silu": (_silu(lambda **kw: lambda x: F.silu(x, **kw)), {"inplace": True, "name": "s"}),
    "F.softplus": (_function(F.softplus, X2), {"beta": 2.0, "threshold": 0.5, "name": "s"}),
    "F.embedding": (_function(lambda w, x, **kw: F.embedding(x, w, **kw), RNG.standard_normal((4, 3)).astype(
        np.float32), IDS), {"padding_idx": 2, "max_norm": 0.5, "norm_type": 1.0, "sparse": True,
                            "scale_grad_by_freq": True, "name": "e"}),
    "F.layer_norm": (_function(lambda x, **kw: F.layer_norm(x, 4, **kw), X2),
                     {"weight": paddle.full([4], 2.0), "bias": paddle.ones([4]), "epsilon": 0.5, "name": "ln"}),
    "F.one_hot": (_function(F.one_hot, LABELS), {"num_classes": 6, "name": "o"}),
    "F.cross_entropy": (_cross_entropy(F.cross_entropy),
                        {"weight": paddle.to_tensor([1.0, 2.0, 0.5, 1.0]), "ignore_index": 2, "reduction": "sum",
                         "soft_label": True, "axis": 0, "use_softmax": False, "label_smoothing": 0.1,
                         "name": "ce"}),
    "F.label_smooth": (_function(F.label_smooth, np.eye(4, dtype=np.float32)[LABELS]),
                       {"prior_dist": paddle.to_tensor([[0.1, 0.2, 0.3, 0.4]]), "epsilon": 0.3, "name": "ls"}),
    "F.mse_loss": (_function(F.mse_loss, X2, np.zeros((3, 4), np.float32)), {"reduction": "sum", "name": "m"}),
    "F.softmax_with_cross_entropy": (
        _cross_entropy(F.softmax_with_cross_entropy, label_shape=(3, 1)),
        {"soft_label": True, "ignore_index": 2, "numeric_stable_mode": False, "return_softmax": True, "axis": 0}),
    "F.conv1d": (_function(F.conv1d, X3, RNG.standard_normal((6, 4, 3)).astype(np.float32)),
                 {"bias": paddle.ones([6]), "stride": 2, "padding": 1, "dilation": 2, "groups": 1,
                  "data_format": "NLC", "name": "c"}),
    "F.conv2d": (_function(F.conv2d, X4, RNG.standard_normal((6, 4, 3, 3)).astype(np.float32)),
                 {"bias": paddle.ones([6]), "stride": 2, "padding": 1, "dilation": 2, "groups": 1,
                  "data_format": "NHWC", "name": "c"}),
    "F.conv1d_transpose": (_function(F.conv1d_transpose, X3, RNG.standard_normal((4, 6, 3)).astype(np.float32)),
                           {"bias": paddle.ones([6]), "stride": 2, "padding": 1, "output_padding": 1, "groups": 2,
                            "dilation": 2, "output_size": 10, "data_format": "NLC", "name": "c"}),
    "F.conv2d_transpose": (_function(F.conv2d_transpose, X4,
                                     RNG.standard_normal((4, 6, 3, 3)).astype(np.float32)),
                           {"bias": paddle.ones([6]), "stride": 2, "padding": 1, "output_padding": 1, "groups": 2,
                            "dilation": 2, "output_size": [10, 9], "data_format": "NHWC", "name": "c"}),
    "F.batch_norm": (_batch_norm,
                     {"weight": paddle.full([4], 2.0), "bias": paddle.ones([4]), "training": True, "momentum": 0.5,
                      "epsilon": 0.5, "data_format": "NHWC", "use_global_stats": False, "name": "bn"}),
    "F.dropout2d": (_function(lambda x, **kw: (paddle.seed(0), F.dropout2d(x, **kw))[1], X4),
                    {"p": 0.2, "training": False, "data_format": "NHWC", "name": "d"}),
    "F.adaptive_avg_pool1d": (_function(lambda x, **kw: F.adaptive_avg_pool1d(x, 4, **kw), X3), {"name": "p"}),
    "F.adaptive_avg_pool2d": (_function(lambda x, **kw: F.adaptive_avg_pool2d(x, 3, **kw), X4),
                              {"data_format": "NHWC", "name": "p"}),
    "F.adaptive_max_pool1d": (_function(lambda x, **kw: F.adaptive_max_pool1d(x, 3, **kw), X3_ODD),
                              {"return_mask": True, "name": "p"}),
    "F.adaptive_max_pool2d": (_function(lambda x, **kw: F.adaptive_max_pool2d(x, 3, **kw), X4),
                              {"return_mask": True, "name": "p"}),
    "F.avg_pool1d": (_function(lambda x, **kw: F.avg_pool1d(x, 2, **kw), X3_ODD),
                     {"stride": 1, "padding": 1, "exclusive": False, "ceil_mode": True, "name": "p"}),
    "F.avg_pool2d": (_function(lambda x, **kw: F.avg_pool2d(x, 3, **kw), X4),
                     {"stride": 1, "padding": 1, "ceil_mode": True, "exclusive": False, "divisor_override": 2,
                      "data_format": "NHWC", "name": "p"}),
    "F.max_pool1d": (_function(lambda x, **kw: F.max_pool1d(x, 2, **kw), X3_ODD),
                     {"stride": 1, "padding": 1, "return_mask": True, "ceil_mode": True, "name": "p"}),
    "F.max_pool2d": (_function(lambda x, **kw: F.max_pool2d(x, 3, **kw), X4),
                     {"stride": 1, "padding": 1, "return_mask": True, "ceil_mode": True, "data_format": "NHWC",
                      "name": "p"}),
    # ------------------------------------------------------------------------------ optimizer.lr
    "lr.NoamDecay": (_schedule(lambda **kw: lr.NoamDecay(64, 4, **kw)), {"learning_rate": 0.5, "last_epoch": 3,
                                                                         "verbose": True}),
    "lr.PiecewiseDecay": (_schedule(lambda **kw: lr.PiecewiseDecay([3, 6], [0.1, 0.05, 0.01], **kw)),
                          {"last_epoch": 3, "verbose": True}),
    "lr.NaturalExpDecay": (_schedule(lambda **kw: lr.NaturalExpDecay(0.1, 0.5, **kw)),
                           {"last_epoch": 3, "verbose": True}),
    "lr.InverseTimeDecay": (_schedule(lambda **kw: lr.InverseTimeDecay(0.1, 0.5, **kw)),
                            {"last_epoch": 3, "verbose": True}),
    "lr.PolynomialDecay": (_schedule(lambda **kw: lr.PolynomialDecay(0.1, 5, **kw)),
                           {"end_lr": 0.01, "power": 2.0, "cycle": True, "last_epoch": 3, "verbose": True}),
    "lr.LinearWarmup": (_schedule(lambda **kw: lr.LinearWarmup(0.1, 4, 0.0, 0.1, **kw)),
                        {"last_epoch": 3, "verbose": True}),
    "lr.ExponentialDecay": (_schedule(lambda **kw: lr.ExponentialDecay(0.1, 0.5, **kw)),
                            {"last_epoch": 3, "verbose": True}),
    "lr.MultiStepDecay": (_schedule(lambda **kw: lr.MultiStepDecay(0.1, [3, 6], **kw)),
                          {"gamma": 0.5, "last_epoch": 3, "verbose": True}),
    "lr.StepDecay": (_schedule(lambda **kw: lr.StepDecay(0.1, 3, **kw)), {"gamma": 0.5, "last_epoch": 3,
                                                                          "verbose": True}),
    "lr.LambdaDecay": (_schedule(lambda **kw: lr.LambdaDecay(0.1, lambda e: 0.9 ** e, **kw)),
                       {"last_epoch": 3, "verbose": True}),
    "lr.MultiplicativeDecay": (_schedule(lambda **kw: lr.MultiplicativeDecay(0.1, lambda e: 0.9, **kw)),
                               {"last_epoch": 3, "verbose": True}),
    "lr.CosineAnnealingDecay": (_schedule(lambda **kw: lr.CosineAnnealingDecay(0.1, 5, **kw)),
                                {"eta_min": 0.01, "last_epoch": 3, "verbose": True}),
    "lr.LinearLR": (_schedule(lambda **kw: lr.LinearLR(0.1, 6, **kw)),
                    {"start_factor": 0.5, "end_factor": 0.8, "last_epoch": 3, "verbose": True}),
    "lr.ReduceOnPlateau": (_schedule(lambda **kw: lr.ReduceOnPlateau(0.1, **kw), steps=40,
                                     metric=lambda i: 10.0 - 0.01 * i),
                           {"mode": "max", "factor": 0.5, "patience": 3, "threshold": 0.1, "threshold_mode": "abs",
                            "cooldown": 2, "min_lr": 0.05, "epsilon": 0.1, "verbose": True}),
    "lr.OneCycleLR": (_schedule(lambda **kw: lr.OneCycleLR(0.1, 12, **kw), steps=8),
                      {"divide_factor": 5.0, "end_learning_rate": 0.01, "phase_pct": 0.5,
                       "anneal_strategy": "linear", "three_phase": True, "last_epoch": 3, "verbose": True}),
    "lr.CyclicLR": (_schedule(lambda **kw: lr.CyclicLR(0.01, 0.1, 2, **kw)),
                    {"step_size_down": 4, "mode": "exp_range", "exp_gamma": 0.9, "scale_fn": lambda x: 0.5,
                     "scale_mode": "iterations", "last_epoch": 4, "verbose": True}),
    "lr.CosineAnnealingWarmRestarts": (_schedule(lambda **kw: lr.CosineAnnealingWarmRestarts(0.1, 3, **kw)),
                                       {"T_mult": 2, "eta_min": 0.01, "last_epoch": 3, "verbose": True}),
    # ---------------------------------------------------------------------------------------- io
    "io.DataLoader": (_loader,
                      {"feed_list": [], "places": "cpu", "return_list": False,
                       "batch_sampler": io.BatchSampler(Squares(), batch_size=4), "batch_size": 3, "shuffle": True,
                       "drop_last": True, "collate_fn": lambda batch: np.stack([b[0] for b in batch]),
                       "num_workers": 1, "use_buffer_reader": False, "reader_buffer_size": 1, "prefetch_factor": 1,
                       "use_shared_memory": False, "timeout": 30, "worker_init_fn": lambda worker: None,
                       "persistent_workers": True}),
    "io.BatchSampler": (_sampler(lambda **kw: io.BatchSampler(**({} if "sampler" in kw else {"dataset": Squares()}),
                                                              **kw)),
                        {"sampler": io.SequenceSampler(list(range(6))), "shuffle": True, "batch_size": 3,
                         "drop_last": True}),
    "io.RandomSampler": (_sampler(lambda **kw: io.RandomSampler(list(range(8)), **kw)),
                         {"replacement": True, "num_samples": 4,
                          "generator": iter(np.random.default_rng(3).permutation(8).tolist())}),
    "io.WeightedRandomSampler": (_sampler(lambda **kw: io.WeightedRandomSampler([0.1, 0.2, 0.7, 0.5], 3, **kw)),
                                 {"replacement": False}),
    "io.random_split": (lambda **kw: [np.array(list(s)) for s in (paddle.seed(0), io.random_split(range(10), [4, 6],
                                                                                                 **kw))[1]],
                        {"generator": paddle.seed(5)}),
}


class _LossOn(nn.Layer):
    """A loss layer as a one-input layer (its label fixed), so _layer can run it."""

    def __init__(self, loss, label):
        super().__init__()
        self.loss, self.label = loss, paddle.to_tensor(label)

    def forward(self, x):
        return self.loss(x, self.label)


NAME = ("in Paddle's eager mode ``name`` only labels the op or layer (static-graph variable names); "
        "parameters keep their unique names")
NO_EFFECT = {
    "name": NAME,
    "verbose": "prints the new rate at each step; the rates "
               "are the same",
    "device": "'cpu' is the only device (a GPU name raises ValueError: tests/test_nn_conv.py)",
    "group_name": "Paddle groups clip ops of a static program by it; eager clipping does not read it",
    "auto_skip_clip": "skips clipping when the global norm is below clip_norm, where Paddle's scale is 1 anyway",
    "do_model_average": "only read by Paddle's ModelAverage, which lasandbox does not have",
    "sparse": "the gradient here is dense either way; Paddle's SGD/Momentum give the same numbers from its "
              "sparse rows, its Adam does not (a documented difference: README, Paddle compatibility)",
    "numeric_stable_mode": "Paddle's CPU kernel is the stable one either way (3.3.1 ignores False on CPU)",
    "places": "the CPU is the only place",
    "use_buffer_reader": "a prefetch strategy: the same batches",
    "reader_buffer_size": "a prefetch strategy: the same batches",
    "prefetch_factor": "a prefetch strategy: the same batches",
    "use_shared_memory": "how workers hand batches back: the same batches",
    "timeout": "a limit on waiting for a worker: the same batches",
    "worker_init_fn": "runs once in each worker process; the same batches",
    "persistent_workers": "keeps workers alive between epochs: the same batches",
    "num_workers": "worker processes make the same batches in the same order (tests/paddle_compat/test_compat_io.py)",
}
# Where an argument matters only with another one set: both runs (default and probe) get the context.
CONTEXT = {
    ("nn.Embedding", "norm_type"): {"max_norm": 0.5}, ("F.embedding", "norm_type"): {"max_norm": 0.5},
    ("nn.Conv1D", "padding_mode"): {"padding": 1}, ("nn.Conv2D", "padding_mode"): {"padding": 1},
    ("nn.Conv2D", "dilation"): {"padding": 1}, ("nn.Conv1D", "dilation"): {"padding": 1},
    ("F.conv1d", "dilation"): {"padding": 1}, ("F.conv2d", "dilation"): {"padding": 1},
    # output_padding must be below the stride; output_size can differ from the default only with a stride > 1
    ("nn.Conv1DTranspose", "output_padding"): {"stride": 2}, ("nn.Conv2DTranspose", "output_padding"): {"stride": 2},
    ("F.conv1d_transpose", "output_padding"): {"stride": 2}, ("F.conv2d_transpose", "output_padding"): {"stride": 2},
    ("F.conv1d_transpose", "output_size"): {"stride": 2}, ("F.conv2d_transpose", "output_size"): {"stride": 2},
    ("F.batch_norm", "momentum"): {"training": True}, ("F.batch_norm", "data_format"): {"training": True},
    ("nn.AvgPool1D", "exclusive"): {"padding": 1}, ("nn.AvgPool2D", "exclusive"): {"padding": 1},
    ("F.avg_pool1d", "exclusive"): {"padding": 1}, ("F.avg_pool2d", "exclusive"): {"padding": 1},
    ("lr.ReduceOnPlateau", "threshold_mode"): {"threshold": 0.05},
    ("lr.ReduceOnPlateau", "patience"): {"threshold": 0.1}, ("lr.ReduceOnPlateau", "epsilon"): {"threshold": 0.1},
    ("lr.ReduceOnPlateau", "cooldown"): {"patience": 1, "threshold": 0.1},
    ("lr.ReduceOnPlateau", "factor"): {"threshold": 0.1}, ("lr.ReduceOnPlateau", "min_lr"): {"threshold": 0.1},
    ("lr.CyclicLR", "mode"): {"exp_gamma": 0.9}, ("lr.CyclicLR", "exp_gamma"): {"mode": "exp_range"},
    ("lr.CyclicLR", "scale_mode"): {"scale_fn": lambda x: 1.0 / (1.0 + x)},
    ("io.DataLoader", "drop_last"): {"batch_size": 3}, ("io.BatchSampler", "drop_last"): {"batch_size": 3},
}
# Where an argument of a name in NO_EFFECT does act: checked to change the result.
ACTS_FOR = {("nn.ParamAttr", "name"): "names the parameter"}
# Per callable: accepted, and nothing to change for it (checked the same way).
NO_EFFECT_FOR = {
    ("nn.Silu", "inplace"): "in place or not, the same values (the input is not reused here)",
    ("F.silu", "inplace"): "in place or not, the same values (the input is not reused here)",
    ("nn.Embedding", "device"): NO_EFFECT["device"],
}


def _cases():
    tables = [("nn", nn), ("F", F), ("lr", lr), ("io", io)]
    cases = []
    for prefix, module in tables:
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj) or inspect.ismodule(obj):
                continue
            try:
                params = inspect.signature(obj).parameters
            except (TypeError, ValueError):
                continue
            for arg, p in params.items():
                if p.default is not inspect.Parameter.empty and p.kind != p.VAR_KEYWORD:
                    cases.append((f"{prefix}.{name}", arg))
    return cases


CASES = _cases()
# Defaulted arguments that need no probe: containers and samplers whose arguments only pick what to hold
# (tested where those classes are), and arguments that are not Paddle's keywords but lasandbox's own.
EXEMPT = {
    ("nn.Layer", "name_scope"): "sets full_name(): tests/paddle_compat/test_compat_layer.py",
    ("nn.Layer", "dtype"): "the parameters' dtype: tests/test_nn_layer.py",
    ("nn.LayerList", "sublayers"): "the layers it holds",
    ("lr.LRScheduler", "learning_rate"): "the abstract base: subclasses implement get_lr, their arguments are probed",
    ("lr.LRScheduler", "last_epoch"): "the abstract base (see learning_rate)",
    ("lr.LRScheduler", "verbose"): "the abstract base (see learning_rate)",
    ("nn.Parameter", "name"): "the parameter's name",
    ("nn.Parameter", "trainable"): "stop_gradient: tests/test_nn_layer.py",
    ("io.Sampler", "data_source"): "what it samples from",
    ("F.conv1d", "groups"): "fixes the weight's shape (in_channels / groups): tests/test_nn_conv.py",
    ("F.conv2d", "groups"): "fixes the weight's shape (in_channels / groups): tests/test_nn_conv.py",
    ("io.SequenceSampler", "data_source"): "what it samples from",
    ("io.BatchSampler", "dataset"): "what it batches (given in every run here)",
}


def test_every_argument_is_classified():
    unclassified = sorted(f"{c}({a})" for c, a in CASES
                          if (c, a) not in EXEMPT and (c not in RUNS or a not in RUNS[c][1]))
    assert unclassified == [], "give each new argument a probe value in RUNS (and NO_EFFECT if it changes nothing)"


RUN_CASES = [(c, a) for c, a in CASES if (c, a) not in EXEMPT]


@pytest.mark.parametrize("callable_name,arg", RUN_CASES, ids=[f"{c}-{a}" for c, a in RUN_CASES])
def test_each_accepted_argument_changes_the_result_or_raises(callable_name, arg):
    run, probes = RUNS[callable_name]
    value = probes[arg]
    context = CONTEXT.get((callable_name, arg), {})
    try:
        changed = run(**context, **{arg: value})
    except NotImplementedError as err:
        assert arg in str(err), f"{callable_name}({arg}=...) raised NotImplementedError without naming {arg}"
        return
    default = run(**context)
    same = len(changed) == len(default) and all(
        a.dtype == b.dtype and a.shape == b.shape and (np.array_equal(a, b) if a.dtype != object else
                                                       list(a) == list(b))
        for a, b in zip(changed, default, strict=True))
    if (arg in NO_EFFECT or (callable_name, arg) in NO_EFFECT_FOR) and (callable_name, arg) not in ACTS_FOR:
        assert same, f"{callable_name}({arg}) is documented as having no effect, but changed the result"
    else:
        assert not same, f"{callable_name}({arg}={value!r}) was accepted and changed nothing"
