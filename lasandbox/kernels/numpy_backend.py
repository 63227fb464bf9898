"""The readable reference: each rule of ``rules.py`` mirrored on whole arrays.

The statements follow ``rules.py`` in the same order with the same float32
operands, so on the CPU the compiled backends reproduce these results exactly;
the parity tests rely on that. Arguments arrive validated, with the host
scalars already combined in float64 (see ``api.py``); they are rounded to
float32 here, as the compiled backends do at the top of their kernels.

Overflow to inf (e.g. ``g*g`` for ``|g| > 1.8e19``) is silent, as it is in the
compiled backends, rather than a RuntimeWarning that only this backend raises.
"""

import numpy as np

f32 = np.float32
_SILENT = {"over": "ignore", "under": "ignore", "invalid": "ignore", "divide": "ignore"}


def _store(param, new_param, slow, alpha, one_minus_alpha):
    """Write the updated parameters, syncing them with ``slow`` when it is given."""
    if slow is None:
        param[...] = new_param
    else:
        slow[...] = f32(alpha) * new_param + f32(one_minus_alpha) * slow
        param[...] = slow


def sgd(param, grad, slow, lr, l2, alpha, one_minus_alpha):
    with np.errstate(**_SILENT):
        g = grad + f32(l2) * param
        new_param = param - f32(lr) * g
        _store(param, new_param, slow, alpha, one_minus_alpha)


def momentum(param, grad, velocity, slow, lr, mu, l2, nesterov, alpha, one_minus_alpha):
    with np.errstate(**_SILENT):
        g = grad + f32(l2) * param
        velocity[...] = f32(mu) * velocity + g
        if nesterov:
            new_param = param - f32(lr) * (g + f32(mu) * velocity)
        else:
            new_param = param - f32(lr) * velocity
        _store(param, new_param, slow, alpha, one_minus_alpha)


def adam(param, grad, m, v, slow, lr_t, beta1, one_minus_beta1, beta2, one_minus_beta2, eps_hat, l2,
         decay_keep, alpha, one_minus_alpha):
    with np.errstate(**_SILENT):
        g = grad + f32(l2) * param
        decayed = param * f32(decay_keep)
        m[...] = f32(beta1) * m + f32(one_minus_beta1) * g
        v[...] = f32(beta2) * v + f32(one_minus_beta2) * (g * g)
        new_param = decayed - f32(lr_t) * (m / (np.sqrt(v) + f32(eps_hat)))
        _store(param, new_param, slow, alpha, one_minus_alpha)


def lookahead_sync(fast, slow, alpha, one_minus_alpha):
    with np.errstate(**_SILENT):
        slow[...] = f32(alpha) * fast + f32(one_minus_alpha) * slow
        fast[...] = slow
