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
# # 02 · Lookahead mechanics on 2-D test functions
#
# Fast weights (thin line) take k steps with the inner optimizer; then the slow weights (bold
# markers) move a fraction alpha towards the fast endpoint and the fast weights restart there.
# Three landscapes:
#
# * an ill-conditioned quadratic (condition number `KAPPA`): momentum oscillates across the valley,
#   Lookahead damps it;
# * Rosenbrock's banana valley;
# * a noisy quadratic: the gradient is corrupted by noise, and the slow weights average it out
#   (the paper's variance-reduction argument, notebook 03).
#
# With ipywidgets the sliders redraw the plot; without them (or when executed headless) a static
# grid of settings is drawn instead.

# %%
FULL = False
STEPS = 200 if FULL else 120
KAPPA = 50.0

# %%
import matplotlib.pyplot as plt
import numpy as np

import lasandbox as paddle
from lasandbox import nn


def quadratic(xy):
    return 0.5 * (xy[0] ** 2 + KAPPA * xy[1] ** 2) / KAPPA


def rosenbrock(xy):
    return (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2


FUNCTIONS = {
    "quadratic": dict(fn=quadratic, start=(-4.0, 1.5), box=(-4.5, 1.5, -2.0, 2.0), noise=0.0),
    "rosenbrock": dict(fn=rosenbrock, start=(-1.5, 2.0), box=(-2.0, 2.0, -1.0, 3.0), noise=0.0),
    "noisy quadratic": dict(fn=quadratic, start=(-4.0, 1.5), box=(-4.5, 1.5, -2.0, 2.0), noise=0.3),
}


def run(name, alpha, k, lr, momentum, inner_state, lookahead=True, seed=0, start=None, steps=STEPS):
    """Optimise one 2-D function with the package's optimizers; return fast and slow paths."""
    spec = FUNCTIONS[name]
    xy = nn.Parameter(np.array(spec["start"] if start is None else start, np.float32))
    inner = paddle.optimizer.Momentum(learning_rate=lr, momentum=momentum, parameters=[xy])
    opt = paddle.LookAhead(inner, alpha=alpha, k=k, slow_init="construction",
                           inner_state=inner_state) if lookahead else inner
    rng = np.random.default_rng(seed)
    fast, slow = [xy.numpy().copy()], [xy.numpy().copy()]
    for step in range(1, steps + 1):
        loss = spec["fn"](xy)
        if spec["noise"]:
            loss = loss + (xy * paddle.to_tensor(rng.normal(0, spec["noise"], 2).astype(np.float32))).sum()
        loss.backward()
        opt.step()
        opt.clear_grad()
        fast.append(xy.numpy().copy())
        if lookahead and step % k == 0:
            slow.append(opt.state_dict()["slow"].copy())
    return np.array(fast), np.array(slow)


def draw(ax, name, alpha=0.5, k=5, lr=0.5, momentum=0.9, inner_state="keep"):
    spec = FUNCTIONS[name]
    x0, x1, y0, y1 = spec["box"]
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    z = spec["fn"](np.stack([gx, gy]))
    ax.contourf(gx, gy, np.log10(z + 1e-3), levels=30, cmap="viridis", alpha=0.8)
    plain, _ = run(name, alpha, k, lr, momentum, inner_state, lookahead=False)
    fast, slow = run(name, alpha, k, lr, momentum, inner_state)
    ax.plot(plain[:, 0], plain[:, 1], color="tab:orange", lw=0.8, label="momentum alone")
    ax.plot(fast[:, 0], fast[:, 1], color="tab:blue", lw=0.6, marker=".", ms=2, label="fast weights")
    ax.plot(slow[:, 0], slow[:, 1], color="purple", lw=2, marker="^", ms=6, label="slow weights")
    ax.set(xlim=(x0, x1), ylim=(y0, y1), title=f"{name}: alpha={alpha}, k={k}, lr={lr}, mu={momentum}")
    return plain, fast, slow


# %% [markdown]
# ## Interactive view
#
# Move the sliders: small alpha keeps the slow weights cautious; large k lets the fast weights
# explore further before being pulled back. Step sizes: the Rosenbrock valley needs a much smaller
# learning rate (try 0.001) than the quadratics.

# %%
try:
    import ipywidgets as widgets

    def interactive(name="quadratic", alpha=0.5, k=5, lr=0.5, momentum=0.9, inner_state="keep"):
        fig, ax = plt.subplots(figsize=(6, 4.5))
        draw(ax, name, alpha, k, lr, momentum, inner_state)
        ax.legend(loc="lower right", fontsize=8)
        plt.show()

    widgets.interact(
        interactive,
        name=list(FUNCTIONS),
        alpha=widgets.FloatSlider(value=0.5, min=0.05, max=1.0, step=0.05),
        k=widgets.IntSlider(value=5, min=1, max=20),
        lr=widgets.FloatLogSlider(value=0.5, base=10, min=-3, max=0.3),
        momentum=widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01),
        inner_state=["keep", "reset", "pullback"],
    )
except ImportError:
    print("ipywidgets is not installed: see the static grid below")

# %% [markdown]
# ## Static grid (the fallback, also what CI renders)

# %%
settings = [
    ("quadratic", dict(alpha=0.5, k=5, lr=0.5, momentum=0.9)),
    ("quadratic", dict(alpha=0.5, k=10, lr=0.5, momentum=0.9, inner_state="reset")),
    ("rosenbrock", dict(alpha=0.5, k=5, lr=0.0015, momentum=0.9)),
    ("noisy quadratic", dict(alpha=0.3, k=5, lr=0.5, momentum=0.5)),
]
fig, axes = plt.subplots(2, 2, figsize=(11, 8))
for ax, (name, kwargs) in zip(axes.ravel(), settings):
    plain, fast, slow = draw(ax, name, **kwargs)
    ax.text(0.02, 0.02, f"final f: momentum {FUNCTIONS[name]['fn'](plain[-1]):.2e}, "
                        f"slow {FUNCTIONS[name]['fn'](slow[-1]):.2e}", transform=ax.transAxes, fontsize=8,
            color="white")
axes[0, 0].legend(loc="upper right", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# On the noisy quadratic, measure it at stationarity: start at the optimum, run 2,000 steps, and
# compare the spread of the momentum iterates with the spread of the slow weights (same learning
# rate and momentum).

# %%
kwargs = dict(alpha=0.3, k=5, lr=0.5, momentum=0.5, inner_state="keep", seed=1, start=(0.0, 0.0), steps=2000)
plain, _ = run("noisy quadratic", lookahead=False, **kwargs)
_, slow = run("noisy quadratic", **kwargs)
print("mean squared distance to the optimum (second half of the run):")
print(f"  momentum alone : {np.mean(np.sum(plain[len(plain) // 2:] ** 2, axis=1)):.4f}")
print(f"  slow weights   : {np.mean(np.sum(slow[len(slow) // 2:] ** 2, axis=1)):.4f}")
