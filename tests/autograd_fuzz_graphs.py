"""Random computation graphs run twice, in lasandbox and in PyTorch (float64), for tests/test_autograd_fuzz.py.

A graph is a list of leaves (shapes that broadcast against each other) and a
list of steps. Each step names an op, picks its operands among every node built
so far (so a node is often used twice, or by several later ops), and carries
the numbers the op may need (an axis, keepdim, constants). :func:`run` builds
the same graph with lasandbox ops and with torch ops, side by side; an op
whose operands do not fit (shapes that do not broadcast, a matmul whose inner
sizes differ) is replaced by ``tanh`` of its first operand, so every drawn
graph is valid. Ops that are only defined on part of the line (log, sqrt,
divide, pow with a tensor exponent) get an operand moved into their domain
first, with lasandbox ops as well (``x*x + 0.5``), when the drawn one is not.

Gradients at ties follow the same rule in both (Paddle's and torch's: shared
equally), and torch's ``amax``/``amin`` are used for max/min reductions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import lasandbox as paddle
from lasandbox.nn import functional as F


@dataclass(frozen=True)
class Step:
    op: str
    picks: tuple  # three raw integers: operand i is nodes[picks[i] % len(nodes)]
    axis: int  # raw axis, reduced modulo ndim; AXIS_NONE draws "all axes"
    keepdim: bool
    c1: float  # constants in [-1.5, 1.5]
    c2: float  # in [0, 1.5]


AXIS_NONE = 99


class Unfit(Exception):
    """The drawn operands do not fit the op: the step falls back to tanh."""


def _both(x, ours_fn, torch_fn):
    return ours_fn(x[0]), torch_fn(x[1])


def _positive(x):
    """``x`` when it is safely positive, else ``x*x + 0.5`` (built in both graphs)."""
    if x[0].numpy().size and x[0].numpy().min() > 0.2:
        return x
    return x[0] * x[0] + 0.5, x[1] * x[1] + 0.5


def _axes(step, ndim, allow_none=True):
    if ndim == 0:
        raise Unfit
    if step.axis == AXIS_NONE and allow_none:
        return None
    return step.axis % ndim


def _reduction(ours_fn, torch_fn):
    def apply(step, x):
        axis = _axes(step, x[0].ndim)
        dims = tuple(range(x[1].ndim)) if axis is None else axis
        return ours_fn(x[0], axis=axis, keepdim=step.keepdim), torch_fn(x[1], dims, step.keepdim)

    return apply


def _softmax_like(ours_fn, torch_fn):
    def apply(step, x):
        axis = _axes(step, x[0].ndim, allow_none=False)
        return ours_fn(x[0], axis=axis), torch_fn(x[1], dim=axis)

    return apply


def _exp(step, x):
    if np.abs(x[0].numpy()).max(initial=0.0) > 10:
        raise Unfit
    return _both(x, paddle.exp, torch.exp)


def _reshape(step, x):
    shape = x[0].shape
    choice = step.picks[2] % 4
    target = ([-1] if choice == 0 else shape[::-1] if choice == 1 else [1, *shape] if choice == 2
              else [int(np.prod(shape[:2]))] + shape[2:] if len(shape) >= 2 else [-1])
    return paddle.reshape(x[0], target), torch.reshape(x[1], target)


def _transpose(step, x):
    if x[0].ndim < 2:
        raise Unfit
    perm = list(np.random.default_rng(step.picks[2]).permutation(x[0].ndim))
    if step.keepdim:
        return x[0].T, x[1].permute(*reversed(range(x[1].ndim)))
    return paddle.transpose(x[0], perm), x[1].permute(*perm)


def _squeeze_unsqueeze(step, x):
    ndim = x[0].ndim
    if step.keepdim:
        axis = step.axis % (ndim + 1)
        return paddle.unsqueeze(x[0], axis), x[1].unsqueeze(axis)
    ones = [i for i, n in enumerate(x[0].shape) if n == 1]
    if not ones:
        raise Unfit
    axis = ones[step.picks[2] % len(ones)]
    return paddle.squeeze(x[0], axis=axis), x[1].squeeze(axis)


def _flatten(step, x):
    if x[0].ndim < 1:
        raise Unfit
    start = step.axis % x[0].ndim
    return paddle.flatten(x[0], start_axis=start), torch.flatten(x[1], start_dim=start)


def _tile(step, x):
    reps = [1 + (step.picks[2] >> i) % 2 for i in range(x[0].ndim + (1 if step.keepdim else 0))] or [2]
    return paddle.tile(x[0], reps), torch.tile(x[1], reps)


def _getitem(step, x):
    shape = x[0].shape
    if not shape:
        raise Unfit
    n = shape[0]
    kind = step.picks[2] % 6
    if kind == 0:
        index = int(step.axis % n) - (n if step.keepdim else 0)  # a negative index too
    elif kind == 1:
        index = slice(1, None) if n > 1 else slice(None)
    elif kind == 2:
        index = slice(None, None, 2)
    elif kind == 3:
        index = [0, 0, n - 1]  # a repeated index: both gradients add up
    elif kind == 4:
        index = (Ellipsis, int(step.axis % shape[-1]))
    else:
        index = (None, slice(0, 1))
    return x[0][index], x[1][index]


def _clip(step, x):
    low, high = -abs(step.c1), step.c2
    return paddle.clip(x[0], low, high), torch.clamp(x[1], low, high)


def _scale(step, x):
    return (paddle.scale(x[0], step.c1, step.c2, bias_after_scale=step.keepdim),
            (x[1] * step.c1 + step.c2) if step.keepdim else (x[1] + step.c2) * step.c1)


def _pow_scalar(step, x):
    exponent = 2 + step.picks[2] % 2
    return x[0] ** exponent, x[1] ** exponent


def _rpow(step, x):
    if np.abs(x[0].numpy()).max(initial=0.0) > 10:
        raise Unfit
    base = 0.5 + step.c2
    return base ** x[0], base ** x[1]


UNARY = {
    "neg": lambda step, x: (-x[0], -x[1]),
    "exp": _exp,
    "log": lambda step, x: _both(_positive(x), paddle.log, torch.log),
    "sqrt": lambda step, x: _both(_positive(x), paddle.sqrt, torch.sqrt),
    "abs": lambda step, x: _both(x, paddle.abs, torch.abs),
    "tanh": lambda step, x: _both(x, paddle.tanh, torch.tanh),
    "square": lambda step, x: _both(x, paddle.square, torch.square),
    "relu": lambda step, x: _both(x, F.relu, torch.relu),
    "sigmoid": lambda step, x: _both(x, F.sigmoid, torch.sigmoid),
    "nn_tanh": lambda step, x: _both(x, F.tanh, torch.tanh),
    "softmax": _softmax_like(F.softmax, torch.softmax),
    "log_softmax": _softmax_like(F.log_softmax, torch.log_softmax),
    "clip": _clip,
    "scale": _scale,
    "pow_scalar": _pow_scalar,
    "rpow": _rpow,
    "rsub": lambda step, x: (step.c1 - x[0], step.c1 - x[1]),
    "rdiv": lambda step, x: (lambda p: (step.c1 / p[0], step.c1 / p[1]))(_positive(x)),
    "assign": lambda step, x: (paddle.assign(x[0]), x[1].clone()),
    "cast": lambda step, x: (paddle.cast(x[0], "float64"), x[1].to(torch.float64)),
    "sum": _reduction(paddle.sum, lambda t, dims, keep: torch.sum(t, dims, keepdim=keep)),
    "mean": _reduction(paddle.mean, lambda t, dims, keep: torch.mean(t, dims, keepdim=keep)),
    "max": _reduction(paddle.max, lambda t, dims, keep: torch.amax(t, dims, keepdim=keep)),
    "min": _reduction(paddle.min, lambda t, dims, keep: torch.amin(t, dims, keepdim=keep)),
    "logsumexp": _reduction(paddle.logsumexp, lambda t, dims, keep: torch.logsumexp(t, dims, keepdim=keep)),
    "reshape": _reshape,
    "transpose": _transpose,
    "squeeze_unsqueeze": _squeeze_unsqueeze,
    "flatten": _flatten,
    "tile": _tile,
    "getitem": _getitem,
}


def _broadcasts(*nodes):
    try:
        np.broadcast_shapes(*(tuple(n[0].shape) for n in nodes))
    except ValueError:
        raise Unfit from None


def _elementwise(ours_fn, torch_fn):
    def apply(step, x, y):
        _broadcasts(x, y)
        return ours_fn(x[0], y[0]), torch_fn(x[1], y[1])

    return apply


def _divide(step, x, y):
    _broadcasts(x, y)
    if np.abs(y[0].numpy()).min(initial=1.0) <= 0.2:  # keep away from division by (almost) zero
        y = _positive(y)
    return x[0] / y[0], x[1] / y[1]


def _pow_tensor(step, x, y):
    _broadcasts(x, y)
    if np.abs(y[0].numpy()).max(initial=0.0) > 3:
        raise Unfit
    base = (paddle.abs(x[0]) + 0.5, torch.abs(x[1]) + 0.5)
    return paddle.pow(base[0], y[0]), torch.pow(base[1], y[1])


def _matmul(step, x, y):
    if x[0].ndim == 0 or y[0].ndim == 0:
        raise Unfit
    transpose_y = step.keepdim and y[0].ndim >= 2
    b = np.swapaxes(y[0].numpy(), -1, -2) if transpose_y else y[0].numpy()
    try:
        np.matmul(x[0].numpy(), b)
    except ValueError:
        raise Unfit from None
    ref_y = y[1].transpose(-1, -2) if transpose_y else y[1]
    return paddle.matmul(x[0], y[0], transpose_y=transpose_y), torch.matmul(x[1], ref_y)


def _concat_stack(step, x, y):
    ndim = x[0].ndim
    if step.keepdim and ndim == 0:
        raise Unfit
    axis = step.axis % (ndim if step.keepdim else ndim + 1)
    try:
        (np.concatenate if step.keepdim else np.stack)([x[0].numpy(), y[0].numpy()], axis=axis)
    except ValueError:
        raise Unfit from None
    if step.keepdim:
        return paddle.concat([x[0], y[0]], axis=axis), torch.cat([x[1], y[1]], dim=axis)
    return paddle.stack([x[0], y[0]], axis=axis), torch.stack([x[1], y[1]], dim=axis)


BINARY = {
    "add": _elementwise(lambda a, b: a + b, lambda a, b: a + b),
    "subtract": _elementwise(paddle.subtract, torch.subtract),
    "multiply": _elementwise(paddle.multiply, torch.multiply),
    "divide": _divide,
    "pow_tensor": _pow_tensor,
    "maximum": _elementwise(paddle.maximum, torch.maximum),
    "minimum": _elementwise(paddle.minimum, torch.minimum),
    "matmul": _matmul,
    "concat_stack": _concat_stack,
}


def _where(step, x, y, c):
    condition = np.asarray(c[0].numpy() > 0)
    try:
        np.broadcast_shapes(condition.shape, tuple(x[0].shape), tuple(y[0].shape))
    except ValueError:
        raise Unfit from None
    return paddle.where(paddle.to_tensor(condition), x[0], y[0]), torch.where(torch.from_numpy(condition), x[1], y[1])


TERNARY = {"where": _where}
OPS = sorted({**UNARY, **BINARY, **TERNARY})


def apply_step(step, nodes):
    """The node ``step`` builds from ``nodes`` (a pair: lasandbox Tensor, torch tensor) and the op it ran."""
    operands = [nodes[p % len(nodes)] for p in step.picks]
    table, arity = ((UNARY, 1) if step.op in UNARY else (BINARY, 2) if step.op in BINARY else (TERNARY, 3))
    try:
        return table[step.op](step, *operands[:arity]), step.op
    except Unfit:
        return UNARY["tanh"](step, operands[0]), "tanh (fallback)"


@dataclass
class Outcome:
    nodes: list  # (lasandbox Tensor, torch tensor) per node, leaves first
    leaves: list
    ops_run: list
    loss: tuple


def run(leaf_shapes, steps, seed):
    """Build the graph in both frameworks and backpropagate ``sum(node * weight)`` over every built node."""
    rng = np.random.default_rng(seed)
    leaves = []
    for shape in leaf_shapes:
        value = rng.uniform(-2.0, 2.0, shape)
        leaves.append((paddle.to_tensor(value, stop_gradient=False), torch.tensor(value, requires_grad=True)))
    nodes, ops_run = list(leaves), []
    for step in steps:
        node, op = apply_step(step, nodes)
        nodes.append(node)
        ops_run.append(op)
    built = nodes[len(leaves):]
    ours_loss, ref_loss = None, None
    for ours, ref in built:
        weight = rng.uniform(-1.0, 1.0, tuple(ours.shape))
        term_ours = paddle.sum(ours * paddle.to_tensor(weight))
        term_ref = torch.sum(ref * torch.from_numpy(weight))
        ours_loss = term_ours if ours_loss is None else ours_loss + term_ours
        ref_loss = term_ref if ref_loss is None else ref_loss + term_ref
    ours_loss.backward()
    ref_loss.backward()
    return Outcome(nodes, leaves, ops_run, (ours_loss, ref_loss))


def assert_close(actual, expected, what):
    expected = np.asarray(expected)
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-9 * scale, err_msg=what)


def check(outcome):
    """Every node's value, its dtype and shape, and every leaf's gradient agree with torch."""
    for i, (ours, ref) in enumerate(outcome.nodes):
        op = "leaf" if i < len(outcome.leaves) else outcome.ops_run[i - len(outcome.leaves)]
        assert ours.dtype == np.float64, f"node {i} ({op}) is {ours.dtype}"
        assert tuple(ours.shape) == tuple(ref.shape), f"node {i} ({op}): shape {ours.shape} vs {list(ref.shape)}"
        assert_close(ours.numpy(), ref.detach().numpy(), f"value of node {i} ({op}); ops {outcome.ops_run}")
    for i, (ours, ref) in enumerate(outcome.leaves):
        expected = ref.grad.numpy() if ref.grad is not None else np.zeros(tuple(ref.shape))
        got = ours.grad.numpy() if ours.grad is not None else np.zeros(tuple(ours.shape))
        assert got.shape == expected.shape, f"gradient of leaf {i}: shape {got.shape} vs {expected.shape}"
        assert_close(got, expected, f"gradient of leaf {i}; ops {outcome.ops_run}")
