# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · The noisy quadratic model: why Lookahead reduces variance
#
# The paper's analysis (its Proposition on the steady-state risk) uses the noisy quadratic model:
# each coordinate i has curvature `a_i`, and the gradient is `a_i (x_i - c_i)` with `c_i` redrawn
# from `N(0, sigma_i^2)` at every step. SGD with learning rate `lr` settles at a variance
# `V*_SGD = lr^2 a^2 sigma^2 / (1 - (1 - lr a)^2)`; Lookahead(SGD) settles at
# `V*_LA = alpha^2 (1 - b^{2k}) / (1 - c^2) V*_SGD` with `b = 1 - lr a`, `c = 1 - alpha + alpha b^k`,
# which is **strictly smaller** for every alpha in (0, 1).
#
# Here: the closed forms, the package's Monte-Carlo simulation (its own SGD and sync kernels) on
# top, the comparison at equal steady-state loss (the paper's Figure 2), and the deterministic
# convergence-rate picture of classical momentum vs Lookahead (the paper's Figure 3).

# %%
FULL = False
CHAINS = 8192 if FULL else 1024

# %%
import matplotlib.pyplot as plt
import numpy as np

from lasandbox.paper import nqm_simulation, nqm_theory, quadratic_theory

# %% [markdown]
# ## The variance ratio R = V*_LA / V*_SGD
#
# R tends to alpha for small `lr*a`, equals `alpha/(2-alpha)` at `lr*a = 1`, and stays below 1.

# %%
lr_a = np.linspace(0.01, 1.99, 300)
fig, ax = plt.subplots(figsize=(6, 3.5))
for alpha in (0.2, 0.5, 0.8):
    for k, style in ((1, ":"), (5, "-"), (20, "--")):
        ax.plot(lr_a, nqm_theory.variance_ratio(lr_a, alpha, k), style, label=f"alpha={alpha}, k={k}")
ax.axhline(1, color="k", lw=0.5)
ax.set(xlabel="lr * a", ylabel="V*_LA / V*_SGD")
ax.legend(fontsize=7, ncol=3)
plt.show()
print("R at lr*a = 1, alpha = 0.5, k = 5:", nqm_theory.variance_ratio(1.0, 0.5, 5), "= alpha/(2-alpha) =", 0.5 / 1.5)

# %% [markdown]
# ## Expected loss over time: analytic curves and Monte-Carlo runs
#
# d = 100 coordinates with `a_i = 1/i` and `sigma_i^2 = 1/a_i` (a stand-in: the paper's own
# spectrum is not known), start at 1 in every coordinate, k = 5. The Monte-Carlo chains run the
# package's `kernels.sgd_step` and `kernels.lookahead_sync` on flat float32 buffers.

# %%
a, sigma2 = nqm_theory.nqm_spectrum(100)
lr, alpha, steps = 0.5, 0.5, 300
sgd_theory = nqm_theory.expected_loss_curve(lr, a, sigma2, steps)
la_theory = nqm_theory.expected_loss_curve(lr, a, sigma2, steps, alpha=alpha, k=5)
sgd_mc = nqm_simulation.simulate_loss_curve(lr, a, sigma2, steps, chains=CHAINS, backend="cpu")
la_mc = nqm_simulation.simulate_loss_curve(lr, a, sigma2, steps, alpha=alpha, k=5, chains=CHAINS, backend="cpu")

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(sgd_theory.step, sgd_theory.loss, color="tab:orange", label="SGD (analytic)")
ax.plot(la_theory.step, la_theory.loss, color="tab:blue", lw=0.8, label="LA fast weights (analytic)")
ax.plot(la_theory.step, la_theory.slow_loss, color="purple", label="LA slow weights (analytic)")
ax.plot(sgd_mc.step, sgd_mc.loss, ".", ms=2, color="tab:orange", alpha=0.5, label=f"SGD (MC, {CHAINS} chains)")
ax.plot(la_mc.step, la_mc.loss, ".", ms=2, color="tab:blue", alpha=0.5, label="LA fast (MC)")
ax.set(yscale="log", xlabel="inner steps", ylabel="expected excess loss")
ax.legend(fontsize=8)
plt.show()
for name, mc, theory in (("SGD", sgd_mc, sgd_theory), ("LA", la_mc, la_theory)):
    err = nqm_simulation.block_relative_error(mc.loss, theory.loss)
    print(f"{name}: largest relative error of 50-step block means, MC vs theory: {np.max(err):.2%}")
print("steady state: SGD", nqm_theory.steady_state_loss(lr, a, sigma2),
      " LA", nqm_theory.steady_state_loss(lr, a, sigma2, alpha=alpha, k=5))

# %% [markdown]
# ## Equal steady-state loss (the paper's Figure 2)
#
# Lookahead lowers the steady-state loss, but so does a smaller SGD learning rate. The fair
# comparison: for each Lookahead setting, find the SGD learning rate with the *same* final loss and
# compare the loss after T = 1000 steps.

# %%
T = 1000
lrs = np.linspace(0.1, 1.5, 15)
fig, ax = plt.subplots(figsize=(6, 4))
for alpha in (0.2, 0.5, 0.8):
    final = nqm_theory.steady_state_loss(lrs, a, sigma2, alpha=alpha, k=5)
    matched = nqm_theory.matched_sgd_lr(final, a, sigma2)
    la_T = nqm_theory.expected_loss_at_step(lrs, a, sigma2, T, alpha=alpha, k=5)
    sgd_T = nqm_theory.expected_loss_at_step(matched, a, sigma2, T)
    ax.plot(final, la_T / sgd_T, marker="o", ms=3, label=f"alpha={alpha}")
ax.axhline(1, color="k", lw=0.5)
ax.set(xscale="log", xlabel="steady-state excess loss (both)", ylabel="L_T(LA) / L_T(SGD at matched lr)")
ax.legend()
plt.show()

# %% [markdown]
# Below 1: at the same final loss Lookahead gets there faster (e.g. lr 0.5, alpha 0.2:
# 0.139 vs 0.149).
#
# ## Deterministic quadratic: classical momentum vs Lookahead(momentum)
#
# Without noise, the convergence rate is the spectral radius of the linear iteration. With heavy
# momentum (under-damped) Lookahead converges faster; over-damped it is about alpha times slower.

# %%
eig = quadratic_theory.eigen_spectrum(kappa=100.0)
lrs = np.logspace(-3, np.log10(1.9), 60)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, beta in zip(axes, (0.0, 0.9)):
    ax.plot(lrs, 1 - quadratic_theory.rate(lrs, beta, eig, method="cm"), color="tab:orange", label="CM")
    for policy, style in (("maintain", "-"), ("interpolate", "--"), ("reset", ":")):
        rho = quadratic_theory.rate(lrs, beta, eig, method="lookahead", alpha=0.5, k=20, policy=policy)
        ax.plot(lrs, 1 - rho, style, color="purple", label=f"LA(CM), {policy}")
    ax.set(xscale="log", yscale="log", xlabel="learning rate", title=f"momentum {beta}, kappa 100, k 20")
axes[0].set_ylabel("1 - rho (per inner step)")
axes[1].legend(fontsize=8)
plt.show()
single = np.array([1.0])
print("a=1, beta=0.99, lr=0.05:  CM rho =", float(quadratic_theory.rate(0.05, 0.99, single, method="cm")))
for policy in ("maintain", "interpolate", "reset"):
    rho = quadratic_theory.rate(0.05, 0.99, single, method="lookahead", alpha=0.5, k=20, policy=policy)
    print(f"                          LA {policy:<11} rho = {float(rho):.4f}")
