"""Numerical gradient checking by central differences in float64."""

from __future__ import annotations

import numpy as np

from lasandbox.autograd.tensor import Tensor


def numerical_grad(fn, inputs, index, eps=1e-6):
    """d(sum(fn(*inputs) * w))/d(inputs[index]) by central differences (float64 arrays)."""
    x = inputs[index]
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = fn(*inputs)
        flat[i] = original - eps
        minus = fn(*inputs)
        flat[i] = original
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-6, rtol=1e-5, seed=0, raise_exception=True):
    """Compare autograd gradients of ``fn`` with central differences.

    ``fn`` maps Tensors to a Tensor. ``inputs`` are arrays or Tensors; they are
    converted to float64 (integer inputs are passed through as constants). The
    output is contracted with a fixed random weight so every output element
    contributes. Returns True, or raises ``AssertionError`` naming the input
    and the worst element when ``raise_exception``.
    """
    rng = np.random.default_rng(seed)
    # C order: numerical_grad perturbs through reshape(-1), a copy (so no perturbation) for other layouts.
    arrays = [np.array(getattr(x, "_value", x), copy=True, order="C") for x in inputs]
    differentiable = [a.dtype.kind == "f" for a in arrays]
    arrays = [a.astype(np.float64) if d else a for a, d in zip(arrays, differentiable, strict=True)]

    def as_tensors(values, track):
        return [
            Tensor(v, stop_gradient=not (track and d)) for v, d in zip(values, differentiable, strict=True)
        ]

    probe = fn(*as_tensors(arrays, False))
    weight = rng.standard_normal(probe._value.shape)

    def scalar(*values):
        return float(np.sum(fn(*as_tensors(values, False))._value * weight))

    tensors = as_tensors(arrays, True)
    out = fn(*tensors)
    out.backward(Tensor(weight.astype(out._value.dtype)))
    for i, (tensor, is_float) in enumerate(zip(tensors, differentiable, strict=True)):
        if not is_float:
            continue
        analytic = np.zeros_like(arrays[i]) if tensor._grad is None else tensor._grad
        numeric = numerical_grad(scalar, arrays, i, eps)
        close = np.isclose(analytic, numeric, atol=atol, rtol=rtol)
        if not close.all():
            if not raise_exception:
                return False
            worst = np.unravel_index(np.argmax(np.abs(analytic - numeric)), analytic.shape)
            raise AssertionError(
                f"gradient of input {i} differs at {tuple(int(w) for w in worst)}: "
                f"autograd {analytic[worst]!r} vs numerical {numeric[worst]!r}"
            )
    return True
