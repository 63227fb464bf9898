"""More activations of ``nn.functional``: gelu, softplus, leaky_relu, silu (Paddle 3.3.1's formulas).

Each is one op with its own backward rule; the values follow Paddle's CPU
kernels (e.g. softplus is ``log(1 + exp(beta*x)) / beta`` below the threshold,
as Paddle computes it, not ``log1p``).
"""

from __future__ import annotations

import math

import numpy as np

from lasandbox.autograd.function import make_result
from lasandbox.utils.validation import check_real

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _erf(values):
    from scipy.special import erf  # scipy comes with scikit-learn; imported on first use only

    return erf(values)


def _gelu_mode(approximate):
    """Paddle takes a bool or 'tanh'/'none' (None counts as False); other strings are a ValueError."""
    if approximate is None or isinstance(approximate, (bool, np.bool_)):
        return bool(approximate)
    if isinstance(approximate, str):
        if approximate not in ("tanh", "none"):
            raise ValueError(f"approximate of gelu must be True, False, 'tanh' or 'none', got {approximate!r}")
        return approximate == "tanh"
    raise TypeError(f"approximate of gelu must be a bool or 'tanh'/'none', got {type(approximate).__name__}")


def gelu(x, approximate=False, name=None):
    """``0.5 x (1 + erf(x/sqrt 2))``; with ``approximate`` the tanh form
    ``0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))``."""
    tanh_form = _gelu_mode(approximate)
    xv = x._value
    # In the input's own precision, term by term as Paddle's CPU kernel (its float32 rounding
    # shows where 1 + erf(x) cancels, e.g. x < -3).
    one, half = xv.dtype.type(1), xv.dtype.type(0.5)
    if tanh_form:
        alpha, cubic = xv.dtype.type(_SQRT_2_OVER_PI), xv.dtype.type(_GELU_CUBIC)
        t = np.tanh(alpha * (xv + cubic * xv * xv * xv))
        out = half * xv * (one + t)
        slope = half * (one + t) + half * xv * (one - t * t) * alpha * (one + xv.dtype.type(3) * cubic * xv * xv)
    else:
        cdf = half * (one + _erf((xv * xv.dtype.type(1 / math.sqrt(2.0))).astype(np.float64)).astype(xv.dtype))
        out = xv * cdf
        slope = cdf + xv * np.exp(-half * xv * xv) * xv.dtype.type(1 / math.sqrt(2 * math.pi))
    slope = slope.astype(xv.dtype)
    return make_result(out.astype(xv.dtype), (x,), lambda g: (g * slope,))


def softplus(x, beta=1, threshold=20, name=None):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``."""
    beta = check_real("beta", beta)
    if beta == 0:
        raise ValueError("beta of softplus must not be 0")
    threshold = check_real("threshold", threshold)
    xv = x._value
    scaled = xv * xv.dtype.type(beta)
    linear = scaled > threshold
    with np.errstate(over="ignore"):
        soft = np.log(1 + np.exp(np.where(linear, 0, scaled))) / xv.dtype.type(beta)
        sig = 1 / (1 + np.exp(-np.where(linear, 0, scaled)))
    out = np.where(linear, xv, soft).astype(xv.dtype)
    slope = np.where(linear, 1, sig).astype(xv.dtype)
    return make_result(out, (x,), lambda g: (g * slope,))


def leaky_relu(x, negative_slope=0.01, name=None):
    """``x`` where ``x >= 0``, ``negative_slope * x`` elsewhere."""
    slope_value = check_real("negative_slope", negative_slope)
    xv = x._value
    slope = np.where(xv >= 0, 1, slope_value).astype(xv.dtype)
    return make_result((xv * slope).astype(xv.dtype), (x,), lambda g: (g * slope,))


def silu(x, inplace=False, name=None):
    """``x * sigmoid(x)``; ``inplace`` writes the result into ``x`` (only for a Tensor that needs no gradient)."""
    xv = x._value
    sig = 1 / (1 + np.exp(-xv.astype(np.float64)))
    out = (xv * sig).astype(xv.dtype)
    slope = (sig * (1 + xv * (1 - sig))).astype(xv.dtype)
    if inplace:
        if not x.stop_gradient:
            raise ValueError("silu(inplace=True) would overwrite a Tensor that needs a gradient")
        xv[...] = out
        return x
    return make_result(out, (x,), lambda g: (g * slope,))
