"""The ``cpu`` backend: the rules of ``rules.py`` compiled with numba, in place.

Each kernel is a plain serial loop (``*_serial``), which small arrays call
directly, and a parallel driver (``*_parallel``) that cuts a large array into
cache-line-aligned blocks and hands the blocks to the thread pool, each block
running the serial loop. Why blocks rather than one ``prange`` over elements:

* numpy places large arrays 16 bytes past a page boundary, so every other
  32-byte AVX load straddles two cache lines; peeling the few elements before
  the first 64-byte boundary (``_aligned_head``) makes every block aligned,
  which measured ~8% faster for Adam at 2^24 elements on this machine;
* the blocks are split statically between the threads (contiguous runs). No
  chunk size is set: with numba's ``omp`` and ``workqueue`` threading layers
  (``tbb`` is not a dependency) the chunks of ``set_parallel_chunksize`` are
  shared out statically as well (here, an imbalanced loop ran no faster with
  chunks of one iteration than without), and setting and restoring it around
  each call cost time: Adam at 2^17 elements 55 us with it vs 39 us without,
  at 2^24 13.2 ms vs 12.7 ms (round-robin minima, this 2-core VM).

Below ``SERIAL_THRESHOLD`` elements the wrapper calls the serial loop directly:
waking the thread pool costs more than the whole update.

Nothing here is compiled at import: ``njit`` without a signature compiles on
the first call, and ``cache=True`` stores the machine code so the next process
loads it instead of compiling again. ``error_model="numpy"`` lets ``x / 0``
be inf instead of raising, which also removes a per-element branch that would
stop the loops from vectorising. Numba's cache only notices edits to *this*
file: after editing ``rules.py``, delete the cached ``*.nbi``/``*.nbc`` files.
"""

import numba
import numpy as np
from numba import njit, prange

from lasandbox.kernels import rules

# Arrays shorter than this run serially. `lasandbox bench kernels` prints the
# measured serial/parallel crossover (bench_extras.serial_parallel_crossover).
# On the 2-core machine this was tuned on (two runs of 40 rounds), parallel Adam
# first won at 2^14 elements and parallel SGD / sync at 2^16, where Adam was 22%
# and SGD 10-16% faster than serial; one threshold for all keeps every kernel on
# its faster side. (Before the chunk-size calls went, the crossover sat at 2^17.)
SERIAL_THRESHOLD = 2**16
# Elements per block: a multiple of 16 floats (64 bytes) so that every block
# starts on a cache line, small enough to share 2^16-element calls among threads.
BLOCK = 4096

_JIT = {"cache": True, "error_model": "numpy"}
f32 = np.float32

# The rules, compiled as scalar functions and inlined into the loops below.
sgd_rule = njit(inline="always")(rules.sgd_rule)
momentum_rule = njit(inline="always")(rules.momentum_rule)
adam_rule = njit(inline="always")(rules.adam_rule)
lookahead_rule = njit(inline="always")(rules.lookahead_rule)


@njit(inline="always")
def _aligned_head(array):
    """How many leading elements precede the first 64-byte boundary of ``array``."""
    return min(array.size, ((64 - array.ctypes.data % 64) % 64) // 4)


@njit(inline="always")
def _block_bounds(size, head, block_index):
    start = head + block_index * BLOCK
    return start, min(size, start + BLOCK)


@njit(inline="always")
def _block_count(size, head):
    return (size - head + BLOCK - 1) // BLOCK


# --- SGD ---------------------------------------------------------------------------------------------------
@njit(**_JIT)
def sgd_serial(param, grad, lr, l2):
    lr, l2 = f32(lr), f32(l2)
    for i in range(param.size):
        param[i] = sgd_rule(param[i], grad[i], lr, l2)


@njit(parallel=True, **_JIT)
def sgd_parallel(param, grad, lr, l2):
    n, head = param.size, _aligned_head(param)
    sgd_serial(param[:head], grad[:head], lr, l2)
    for b in prange(_block_count(n, head)):
        lo, hi = _block_bounds(n, head, b)
        sgd_serial(param[lo:hi], grad[lo:hi], lr, l2)


@njit(**_JIT)
def sgd_sync_serial(param, grad, slow, lr, l2, alpha, one_minus_alpha):
    lr, l2, alpha, one_minus_alpha = f32(lr), f32(l2), f32(alpha), f32(one_minus_alpha)
    for i in range(param.size):
        synced = lookahead_rule(sgd_rule(param[i], grad[i], lr, l2), slow[i], alpha, one_minus_alpha)
        slow[i] = synced
        param[i] = synced


@njit(parallel=True, **_JIT)
def sgd_sync_parallel(param, grad, slow, lr, l2, alpha, one_minus_alpha):
    n, head = param.size, _aligned_head(param)
    sgd_sync_serial(param[:head], grad[:head], slow[:head], lr, l2, alpha, one_minus_alpha)
    for b in prange(_block_count(n, head)):
        lo, hi = _block_bounds(n, head, b)
        sgd_sync_serial(param[lo:hi], grad[lo:hi], slow[lo:hi], lr, l2, alpha, one_minus_alpha)


# --- Momentum ----------------------------------------------------------------------------------------------
@njit(**_JIT)
def momentum_serial(param, grad, velocity, lr, mu, l2, nesterov):
    lr, mu, l2 = f32(lr), f32(mu), f32(l2)
    for i in range(param.size):
        param[i], velocity[i] = momentum_rule(param[i], grad[i], velocity[i], lr, mu, l2, nesterov)


@njit(parallel=True, **_JIT)
def momentum_parallel(param, grad, velocity, lr, mu, l2, nesterov):
    n, head = param.size, _aligned_head(param)
    momentum_serial(param[:head], grad[:head], velocity[:head], lr, mu, l2, nesterov)
    for b in prange(_block_count(n, head)):
        lo, hi = _block_bounds(n, head, b)
        momentum_serial(param[lo:hi], grad[lo:hi], velocity[lo:hi], lr, mu, l2, nesterov)


@njit(**_JIT)
def momentum_sync_serial(param, grad, velocity, slow, lr, mu, l2, nesterov, alpha, one_minus_alpha):
    lr, mu, l2, alpha, one_minus_alpha = f32(lr), f32(mu), f32(l2), f32(alpha), f32(one_minus_alpha)
    for i in range(param.size):
        p, velocity[i] = momentum_rule(param[i], grad[i], velocity[i], lr, mu, l2, nesterov)
        synced = lookahead_rule(p, slow[i], alpha, one_minus_alpha)
        slow[i] = synced
        param[i] = synced


@njit(parallel=True, **_JIT)
def momentum_sync_parallel(param, grad, velocity, slow, lr, mu, l2, nesterov, alpha, one_minus_alpha):
    n, head = param.size, _aligned_head(param)
    momentum_sync_serial(param[:head], grad[:head], velocity[:head], slow[:head], lr, mu, l2, nesterov,
                         alpha, one_minus_alpha)
    for b in prange(_block_count(n, head)):
        lo, hi = _block_bounds(n, head, b)
        momentum_sync_serial(param[lo:hi], grad[lo:hi], velocity[lo:hi], slow[lo:hi], lr, mu, l2, nesterov,
                             alpha, one_minus_alpha)


# --- Adam / AdamW ------------------------------------------------------------------------------------------
@njit(**_JIT)
def adam_serial(param, grad, m, v, lr_t, beta1, omb1, beta2, omb2, eps_hat, l2, decay_keep):
    lr_t, beta1, omb1, beta2, omb2 = f32(lr_t), f32(beta1), f32(omb1), f32(beta2), f32(omb2)
    eps_hat, l2, decay_keep = f32(eps_hat), f32(l2), f32(decay_keep)
    for i in range(param.size):
        param[i], m[i], v[i] = adam_rule(param[i], grad[i], m[i], v[i], lr_t, beta1, omb1, beta2, omb2,
                                         eps_hat, l2, decay_keep)


@njit(parallel=True, **_JIT)
def adam_parallel(param, grad, m, v, lr_t, beta1, omb1, beta2, omb2, eps_hat, l2, decay_keep):
    n, head = param.size, _aligned_head(param)
    adam_serial(param[:head], grad[:head], m[:head], v[:head], lr_t, beta1, omb1, beta2, omb2, eps_hat, l2,
                decay_keep)
    for b in prange(_block_count(n, head)):
        lo, hi = _block_bounds(n, head, b)
        adam_serial(param[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi], lr_t, beta1, omb1, beta2, omb2, eps_hat,
                    l2, decay_keep)


@njit(**_JIT)
def adam_sync_serial(param, grad, m, v, slow, lr_t, beta1, omb1, beta2, omb2, eps_hat, l2, decay_keep,
                     alpha, one_minus_alpha):
    lr_t, beta1, omb1, beta2, omb2 = f32(lr_t), f32(beta1), f32(omb1), f32(beta2), f32(omb2)
    eps_hat, l2, decay_keep = f32(eps_hat), f32(l2), f32(decay_keep)
    alpha, one_minus_alpha = f32(alpha), f32(one_minus_alpha)
    for i in range(param.size):
        p, m[i], v[i] = adam_rule(param[i], grad[i], m[i], v[i], lr_t, beta1, omb1, beta2, omb2, eps_hat, l2,
                                  decay_keep)
        synced = lookahead_rule(p, slow[i], alpha, one_minus_alpha)
        slow[i] = synced
        param[i] = synced


@njit(parallel=True, **_JIT)
def adam_sync_parallel(param, grad, m, v, slow, lr_t, beta1, omb1, beta2, omb2, eps_hat, l2, decay_keep,
                       alpha, one_minus_alpha):
    n, head = param.size, _aligned_head(param)
    adam_sync_serial(param[:head], grad[:head], m[:head], v[:head], slow[:head], lr_t, beta1, omb1, beta2, omb2,
                     eps_hat, l2, decay_keep, alpha, one_minus_alpha)
    for b in prange(_block_count(n, head)):
        lo, hi = _block_bounds(n, head, b)
        adam_sync_serial(param[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi], slow[lo:hi], lr_t, beta1, omb1, beta2,
                         omb2, eps_hat, l2, decay_keep, alpha, one_minus_alpha)


# --- Lookahead sync ----------------------------------------------------------------------------------------
@njit(**_JIT)
def sync_serial(fast, slow, alpha, one_minus_alpha):
    alpha, one_minus_alpha = f32(alpha), f32(one_minus_alpha)
    for i in range(fast.size):
        synced = lookahead_rule(fast[i], slow[i], alpha, one_minus_alpha)
        slow[i] = synced
        fast[i] = synced


@njit(parallel=True, **_JIT)
def sync_parallel(fast, slow, alpha, one_minus_alpha):
    n, head = fast.size, _aligned_head(fast)
    sync_serial(fast[:head], slow[:head], alpha, one_minus_alpha)
    for b in prange(_block_count(n, head)):
        lo, hi = _block_bounds(n, head, b)
        sync_serial(fast[lo:hi], slow[lo:hi], alpha, one_minus_alpha)


# --- Entry points, in the backend-neutral argument order of api.py -----------------------------------------
def _run(serial_kernel, parallel_kernel, size, *args):
    if size < SERIAL_THRESHOLD:
        serial_kernel(*args)
    else:
        parallel_kernel(*args)


def sgd(param, grad, slow, lr, l2, alpha, one_minus_alpha):
    if slow is None:
        _run(sgd_serial, sgd_parallel, param.size, param, grad, lr, l2)
    else:
        _run(sgd_sync_serial, sgd_sync_parallel, param.size, param, grad, slow, lr, l2, alpha, one_minus_alpha)


def momentum(param, grad, velocity, slow, lr, mu, l2, nesterov, alpha, one_minus_alpha):
    if slow is None:
        _run(momentum_serial, momentum_parallel, param.size, param, grad, velocity, lr, mu, l2, nesterov)
    else:
        _run(momentum_sync_serial, momentum_sync_parallel, param.size, param, grad, velocity, slow, lr, mu, l2,
             nesterov, alpha, one_minus_alpha)


def adam(param, grad, m, v, slow, lr_t, beta1, omb1, beta2, omb2, eps_hat, l2, decay_keep, alpha,
         one_minus_alpha):
    if slow is None:
        _run(adam_serial, adam_parallel, param.size, param, grad, m, v, lr_t, beta1, omb1, beta2, omb2, eps_hat,
             l2, decay_keep)
    else:
        _run(adam_sync_serial, adam_sync_parallel, param.size, param, grad, m, v, slow, lr_t, beta1, omb1,
             beta2, omb2, eps_hat, l2, decay_keep, alpha, one_minus_alpha)


def lookahead_sync(fast, slow, alpha, one_minus_alpha):
    _run(sync_serial, sync_parallel, fast.size, fast, slow, alpha, one_minus_alpha)


def all_dispatchers():
    """Every numba dispatcher of this module (the import test checks none is compiled yet)."""
    return [obj for obj in globals().values() if isinstance(obj, numba.core.registry.CPUDispatcher)]
