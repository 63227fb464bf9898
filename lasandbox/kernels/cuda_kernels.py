"""The ``cuda`` kernels: the rules of ``rules.py`` compiled with ``numba.cuda``.

This module imports ``numba.cuda`` at its top, so only ``cuda_backend.py``
imports it, and only when a cuda kernel is first needed. One thread updates
one element; one launch does a whole step (the Lookahead sync fused in when
``slow`` is given). Scalars arrive as float32 from the host, so the
per-element math is float32 as on the CPU. Kernels compile on first launch.
"""

from numba import cuda

from lasandbox.kernels import rules

sgd_rule = cuda.jit(device=True)(rules.sgd_rule)
momentum_rule = cuda.jit(device=True)(rules.momentum_rule)
adam_rule = cuda.jit(device=True)(rules.adam_rule)
lookahead_rule = cuda.jit(device=True)(rules.lookahead_rule)


@cuda.jit
def sgd(param, grad, lr, l2):
    i = cuda.grid(1)
    if i < param.size:
        param[i] = sgd_rule(param[i], grad[i], lr, l2)


@cuda.jit
def sgd_sync(param, grad, slow, lr, l2, alpha, one_minus_alpha):
    i = cuda.grid(1)
    if i < param.size:
        synced = lookahead_rule(sgd_rule(param[i], grad[i], lr, l2), slow[i], alpha, one_minus_alpha)
        slow[i] = synced
        param[i] = synced


@cuda.jit
def momentum(param, grad, velocity, lr, mu, l2, nesterov):
    i = cuda.grid(1)
    if i < param.size:
        param[i], velocity[i] = momentum_rule(param[i], grad[i], velocity[i], lr, mu, l2, nesterov)


@cuda.jit
def momentum_sync(param, grad, velocity, slow, lr, mu, l2, nesterov, alpha, one_minus_alpha):
    i = cuda.grid(1)
    if i < param.size:
        p, velocity[i] = momentum_rule(param[i], grad[i], velocity[i], lr, mu, l2, nesterov)
        synced = lookahead_rule(p, slow[i], alpha, one_minus_alpha)
        slow[i] = synced
        param[i] = synced


@cuda.jit
def adam(param, grad, m, v, lr_t, beta1, omb1, beta2, omb2, eps_hat, l2, decay_keep):
    i = cuda.grid(1)
    if i < param.size:
        param[i], m[i], v[i] = adam_rule(param[i], grad[i], m[i], v[i], lr_t, beta1, omb1, beta2, omb2,
                                         eps_hat, l2, decay_keep)


@cuda.jit
def adam_sync(param, grad, m, v, slow, lr_t, beta1, omb1, beta2, omb2, eps_hat, l2, decay_keep, alpha,
              one_minus_alpha):
    i = cuda.grid(1)
    if i < param.size:
        p, m[i], v[i] = adam_rule(param[i], grad[i], m[i], v[i], lr_t, beta1, omb1, beta2, omb2, eps_hat, l2,
                                  decay_keep)
        synced = lookahead_rule(p, slow[i], alpha, one_minus_alpha)
        slow[i] = synced
        param[i] = synced


@cuda.jit
def lookahead_sync(fast, slow, alpha, one_minus_alpha):
    i = cuda.grid(1)
    if i < fast.size:
        synced = lookahead_rule(fast[i], slow[i], alpha, one_minus_alpha)
        slow[i] = synced
        fast[i] = synced


@cuda.jit
def stream(a, b, scale):
    """``a += scale*b``: the bandwidth reference the benchmark compares against."""
    i = cuda.grid(1)
    if i < a.size:
        a[i] += scale * b[i]
