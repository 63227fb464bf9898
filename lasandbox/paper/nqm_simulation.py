"""Monte-Carlo simulation of the noisy quadratic model with the package's own kernels.

Many independent chains run side by side in one flat float32 buffer of shape
``[chains * dim]`` (chain-major), exactly the layout an optimizer sees: one
``kernels.sgd_step`` call updates every chain, and every k-th step one
``kernels.lookahead_sync`` call interpolates and copies the slow weights. The
average loss over chains estimates the expected loss that ``nqm_theory``
computes in closed form, so the comparison tests the kernels and the theory
against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lasandbox.paper.nqm_theory import _coordinates
from lasandbox.utils.validation import check_int, check_real


@dataclass(frozen=True)
class MonteCarloCurve:
    """Chain-averaged excess loss after each step ``0..steps``.

    ``loss`` is for the evaluated weights (SGD iterate or Lookahead fast
    weights after the step, so slow weights right after a sync);
    ``loss_stderr`` is the standard error of that mean across chains;
    ``chains`` counts all chains over all seeds.
    """

    step: np.ndarray
    loss: np.ndarray
    loss_stderr: np.ndarray
    chains: int


class _Buffers:
    """The weights and slow weights where the kernels run, plus a host copy for gradients and losses.

    On the numpy / cpu backends the host arrays are the buffers. On cuda the
    weights and slow weights stay on the device; each step the gradient
    (computed on the host, like a data loader would hand it over) goes up and
    the new weights come back for the next gradient and the loss.
    """

    def __init__(self, kernels, host_weights, backend):
        self.kernels, self.backend, self.host = kernels, backend, host_weights
        if backend == "cuda":
            self.weights = kernels.to_device(host_weights)
            self.slow = kernels.to_device(host_weights)
            self.grad = kernels.to_device(np.zeros_like(host_weights))
        else:
            # The paper's initialisation: phi_0 = theta_0.
            self.weights, self.slow, self.grad = host_weights, host_weights.copy(), None

    def step(self, grad, lr, alpha, sync):
        kernels = self.kernels
        if self.grad is not None:
            self.grad.copy_to_device(grad)
            grad = self.grad
        kernels.sgd_step(self.weights, grad, lr, backend=self.backend)
        if sync:
            kernels.lookahead_sync(self.weights, self.slow, alpha, backend=self.backend)
        if self.grad is not None:
            self.weights.copy_to_host(self.host)


def _run_one_seed(lr, a, sigma2, steps, alpha, k, chains, seed, mean0, backend, tick):
    from lasandbox import kernels

    dim = a.size
    curvature = np.tile(a.astype(np.float32), chains)
    # c ~ N(0, sigma2) enters the gradient a(x - c) as a * sqrt(sigma2) * N(0, 1).
    noise_scale = np.tile((a * np.sqrt(sigma2)).astype(np.float32), chains)
    weights = np.full(chains * dim, mean0, dtype=np.float32)
    buffers = _Buffers(kernels, weights, backend)
    grad = np.empty_like(weights)
    noise = np.empty_like(weights)
    rng = np.random.default_rng(seed)
    per_chain = np.empty((steps + 1, chains))
    half_a = (0.5 * a).astype(np.float32)

    def record(t):
        # float32 sums of 100 positive terms: relative rounding ~1e-6, far below MC noise.
        per_chain[t] = np.square(weights).reshape(chains, dim) @ half_a

    record(0)
    for t in range(1, steps + 1):
        rng.standard_normal(out=noise, dtype=np.float32)
        np.multiply(noise, noise_scale, out=noise)
        np.multiply(curvature, weights, out=grad)
        np.subtract(grad, noise, out=grad)
        buffers.step(grad, lr, alpha, sync=alpha is not None and t % k == 0)
        record(t)
        tick()
    return per_chain


def simulate_loss_curve(
    lr,
    a,
    sigma2,
    steps: int,
    *,
    alpha=None,
    k: int = 5,
    chains: int = 1024,
    seeds=(0,),
    mean0: float = 1.0,
    backend: str = "numpy",
    progress=None,
) -> MonteCarloCurve:
    """Simulate SGD (``alpha=None``) or Lookahead(SGD) on the NQM and average the loss.

    Every chain starts at ``mean0`` in every coordinate (variance 0), the slow
    weights equal the fast ones at the start, and each seed in ``seeds`` runs
    ``chains`` chains from its own random stream; the results are pooled.
    ``progress`` (optional) is a progress-bar factory like
    ``lasandbox.utils.progress.progress``.
    """
    a, sigma2 = _coordinates(a, sigma2)
    lr = check_real("lr", lr, low=0, low_open=True)
    steps = check_int("steps", steps, low=0)
    chains = check_int("chains", chains, low=2)
    seeds = [check_int("seed", s, low=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if alpha is not None:
        alpha = check_real("alpha", alpha, low=0, high=1, low_open=True)
        k = check_int("k", k, low=1)
    bar = progress(total=steps * len(seeds), desc="nqm monte carlo") if progress else None
    tick = bar.update if bar else (lambda n=1: None)
    try:
        runs = [_run_one_seed(lr, a, sigma2, steps, alpha, k, chains, seed, mean0, backend, tick) for seed in seeds]
    finally:
        if bar:
            bar.close()
    per_chain = np.concatenate(runs, axis=1)
    total = per_chain.shape[1]
    loss = per_chain.mean(axis=1)
    stderr = per_chain.std(axis=1, ddof=1) / np.sqrt(total)
    return MonteCarloCurve(np.arange(steps + 1), loss, stderr, total)


def block_relative_error(simulated, expected, block: int = 50):
    """Largest relative gap between block means of two curves (step 0 dropped).

    Averaging over blocks of steps before comparing removes most of the
    step-to-step Monte-Carlo noise without hiding a bias: a systematic error
    survives the averaging, noise does not.
    """
    simulated = np.asarray(simulated, dtype=float)[1:]
    expected = np.asarray(expected, dtype=float)[1:]
    usable = (simulated.size // block) * block
    if usable == 0:
        raise ValueError(f"need at least {block} steps to form one block")
    sim_blocks = simulated[:usable].reshape(-1, block).mean(axis=1)
    exp_blocks = expected[:usable].reshape(-1, block).mean(axis=1)
    return float(np.max(np.abs(sim_blocks - exp_blocks) / exp_blocks))
