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
# # 07 · Lookahead variants: nested, minimax, schedules, full pullback
#
# Four variants researchers try after the paper, each one line away in lasandbox:
#
# * **nested Lookahead** (Pushkin & Barba 2021): `LookAhead(LookAhead(opt, a1, k1), a2, k2)`; at an
#   outer sync every level restarts from the outer slow weights;
# * **Lookahead-minmax** (Chavdarova et al., ICLR 2021): one `LookAheadMinmax([gen_opt, critic_opt])`
#   moves both players' slow weights together every k joint iterations;
# * **schedules**: `alpha` and `k` may be functions of the sync index;
# * **full pullback**: `inner_state="pullback", pullback_states=("moment1", "moment2")` interpolates all
#   of Adam's state at each sync, not just the first moment.
#
# With ipywidgets the sliders redraw the plots; without them (or when executed headless) a static set
# of settings is drawn instead.

# %%
FULL = False
GAN_ITERATIONS = 4000 if FULL else 600

# %%
import matplotlib.pyplot as plt
import numpy as np

import lasandbox as paddle
from lasandbox.incubate import LookAheadMinmax
from lasandbox.paper import bilinear_game as bg
from lasandbox.paper import gan_mixture as gm

try:
    import ipywidgets as widgets
except ImportError:
    widgets = None
    print("ipywidgets is not installed: the static plots below stand in for the sliders")

# %% [markdown]
# ## 1. Nested Lookahead on a quadratic
#
# On `f(x) = h/2 x^2` with SGD (step `lr`), one inner cycle multiplies the distance to the optimum by
# `c1 = 1 - a1 + a1 (1 - lr h)^k1`, and with `k2 = m k1` one outer cycle by `1 - a2 + a2 c1^m`: the
# package reproduces this to float32 precision (`tests/test_lookahead_variants.py` checks it to 1e-6).

# %%
H = 1.5


def run_quadratic(levels, lr=0.1, steps=120):
    """|x| after each step for SGD wrapped in the LookAhead levels [(alpha, k), ...] (innermost first)."""
    x = paddle.nn.Parameter(np.array([1.0], np.float32))
    opt = paddle.optimizer.SGD(lr, parameters=[x])
    for alpha, k in levels:
        opt = paddle.LookAhead(opt, alpha=alpha, k=k, slow_init="construction")
    path = [1.0]
    for _ in range(steps):
        paddle.sum(paddle.to_tensor(np.float32(H / 2)) * x * x).backward()
        opt.step()
        opt.clear_grad()
        path.append(abs(float(x.numpy()[0])))
    return np.array(path)


def draw_nested(ax, a1=0.5, k1=5, a2=0.5, m=3, lr=0.1, steps=120):
    k2 = m * k1
    ax.semilogy(run_quadratic([], lr, steps), label="SGD")
    ax.semilogy(run_quadratic([(a1, k1)], lr, steps), label=f"LA(a={a1}, k={k1})")
    nested = run_quadratic([(a1, k1), (a2, k2)], lr, steps)
    ax.semilogy(nested, label=f"LA(LA, a2={a2}, k2={k2})")
    c1 = 1 - a1 + a1 * (1 - lr * H) ** k1
    outer = abs(1 - a2 + a2 * c1**m)
    cycles = np.arange(steps // k2 + 1)
    ax.semilogy(cycles * k2, outer**cycles, "k^", ms=5, mfc="none", label="closed form per outer cycle")
    ax.set(xlabel="SGD step", ylabel="|x|", title=f"lr*h = {lr * H:g}")
    ax.legend(fontsize=8)
    return nested[cycles * k2], outer**cycles


if widgets is not None:
    def interactive_nested(a1=0.5, k1=5, a2=0.5, m=3, lr=0.1):
        fig, ax = plt.subplots(figsize=(6, 4))
        draw_nested(ax, a1, k1, a2, m, lr)
        plt.show()

    widgets.interact(interactive_nested, a1=widgets.FloatSlider(value=0.5, min=0.05, max=1.0, step=0.05),
                     k1=widgets.IntSlider(value=5, min=1, max=20), a2=widgets.FloatSlider(value=0.5, min=0.05,
                     max=1.0, step=0.05), m=widgets.IntSlider(value=3, min=1, max=8),
                     lr=widgets.FloatLogSlider(value=0.1, base=10, min=-2, max=0.1))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
measured, predicted = draw_nested(axes[0])
draw_nested(axes[1], a1=0.8, k1=2, a2=0.3, m=4, lr=1.2)  # lr*h = 1.8: SGD oscillates, both levels damp it
fig.tight_layout()
plt.show()
print("largest relative gap to the closed form:", float(np.max(np.abs(measured / predicted - 1))))

# %% [markdown]
# ## 2. Lookahead-minmax on the bilinear game `min_x max_y x y`
#
# Simultaneous gradient descent-ascent (GDA) rotates around the solution and spirals out: `|z|` grows
# by `sqrt(1 + lr^2)` per step. Lookahead-minmax interpolates both players every k iterations; a cycle
# is the scaled rotation `(1-alpha) I + alpha M^k`, so `|z|` shrinks exactly by the modulus of
# `(1-alpha) + alpha (1 + i lr)^k` per cycle, when that is below 1. Two separate `LookAhead` wrappers
# are the same algorithm only while each player steps once per iteration: give the critic several
# steps and their syncs drift apart.

# %%
def draw_game(ax, alpha=0.5, k=5, lr=0.1, critic_steps=1, iterations=200):
    gda = bg.simulate(lr, [1.0], iterations, critic_steps=critic_steps)
    joint = bg.simulate(lr, [1.0], iterations, alpha=alpha, k=k, critic_steps=critic_steps)
    separate = bg.simulate(lr, [1.0], iterations, alpha=alpha, k=k, critic_steps=critic_steps, separate=True)
    ax.plot(gda.x[:, 0], gda.y[:, 0], lw=0.8, label="GDA")
    ax.plot(separate.x[:, 0], separate.y[:, 0], lw=0.8, label="two LookAhead wrappers")
    ax.plot(joint.x[:, 0], joint.y[:, 0], "--", lw=0.8, label="LookAheadMinmax (fast)")
    ax.plot(joint.slow_x[:, 0], joint.slow_y[:, 0], "^-", ms=3, label="LookAheadMinmax (slow)")
    ax.plot([0], [0], "r*", ms=10)
    ax.set(aspect="equal", xlabel="x", ylabel="y", title=f"alpha {alpha}, k {k}, lr {lr}, critic steps {critic_steps}")
    ax.legend(fontsize=7, loc="lower left")
    return gda, joint, separate


if widgets is not None:
    def interactive_game(alpha=0.5, k=5, lr=0.1, critic_steps=1):
        fig, ax = plt.subplots(figsize=(5.5, 5.5))
        draw_game(ax, alpha, k, lr, critic_steps)
        plt.show()
        print(f"closed-form rate per GDA step (critic_steps=1): {float(bg.step_radius(lr, alpha, k)):.5f}, "
              f"GDA: {float(bg.gda_radius(lr)):.5f}")

    widgets.interact(interactive_game, alpha=widgets.FloatSlider(value=0.5, min=0.05, max=1.0, step=0.05),
                     k=widgets.IntSlider(value=5, min=1, max=80), lr=widgets.FloatLogSlider(value=0.1, base=10,
                     min=-2, max=-0.3), critic_steps=widgets.IntSlider(value=1, min=1, max=5))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
for ax, critic_steps in zip(axes, (1, 3)):
    gda, joint, separate = draw_game(ax, critic_steps=critic_steps)
    print(f"critic steps {critic_steps}: |z| after 200 iterations: GDA {gda.norms()[-1, 0]:.3f}, "
          f"LookAheadMinmax {joint.norms()[-1, 0]:.3f}, two wrappers {separate.norms()[-1, 0]:.3f}")
fig.tight_layout()
plt.show()

# %% [markdown]
# The rate per GDA step over alpha x k (closed form): converging (blue) where `alpha < 1 - 1/k` for
# small steps, with windows of divergence where `k atan(lr)` comes near a multiple of `2 pi`.

# %%
alphas, ks = np.linspace(0.05, 1.0, 39), np.arange(1, 101)
rate = bg.step_radius(0.1, alphas[:, None], ks[None, :])
fig, ax = plt.subplots(figsize=(7, 3.5))
mesh = ax.pcolormesh(ks, alphas, np.log(rate), cmap="RdBu_r", vmin=-0.1, vmax=0.1, shading="nearest")
ax.contour(ks, alphas, rate, levels=[1.0], colors="k")
fig.colorbar(mesh, label="log rate per step")
ax.set(xlabel="k", ylabel="alpha", title="Lookahead-minmax(GDA) on x*y, lr 0.1")
plt.show()

# %% [markdown]
# ## 3. A small GAN: Adam vs Lookahead-minmax(Adam)
#
# The generator and critic are lasandbox MLPs; the user steps both optimizers, then calls
# `LookAheadMinmax.step()` once per iteration. Here written out by hand (the figure `minmax` uses
# `lasandbox.paper.gan_mixture.train_gan`, the same loop).

# %%
from lasandbox import nn


def softplus(t):
    return nn.functional.relu(t) + paddle.log(1 + paddle.exp(-paddle.abs(t)))


def train(lookahead, iterations=GAN_ITERATIONS, seed=0, batch=128):
    rng = np.random.default_rng(seed)
    paddle.seed(seed)
    gen = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    critic = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    g_opt = paddle.optimizer.Adam(0.002, beta1=0.5, parameters=gen.parameters())
    c_opt = paddle.optimizer.Adam(0.002, beta1=0.5, parameters=critic.parameters())
    joint = LookAheadMinmax([g_opt, c_opt], alpha=0.5, k=5) if lookahead else None
    for _ in range(iterations):
        real = paddle.to_tensor(gm.sample_data(rng, batch))
        fake = gen(paddle.to_tensor(rng.standard_normal((batch, 4)).astype(np.float32))).detach()
        (paddle.mean(softplus(-critic(real))) + paddle.mean(softplus(critic(fake)))).backward()
        c_opt.step()
        c_opt.clear_grad()
        z = paddle.to_tensor(rng.standard_normal((batch, 4)).astype(np.float32))
        paddle.mean(softplus(-critic(gen(z)))).backward()
        g_opt.step()
        g_opt.clear_grad()
        c_opt.clear_grad()
        if joint is not None:
            joint.step()
    noise = paddle.to_tensor(np.random.default_rng(99).standard_normal((2000, 4)).astype(np.float32))
    if joint is None:
        return gen(noise).numpy()
    with joint.slow_weights():
        return gen(noise).numpy()


evaluation = gm.Evaluation.make()
fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
for ax, lookahead in zip(axes, (False, True)):
    samples = train(lookahead)
    score = evaluation.score(samples)
    ax.plot(samples[:, 0], samples[:, 1], ".", ms=1.5)
    ax.plot(*gm.mode_centres().T, "kx")
    ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal",
           title=f"{'LA-minmax(Adam)' if lookahead else 'Adam'}: {score['modes']} modes, "
                 f"sliced W1 {score['sliced_w1']:.3f}")
plt.show()
print(f"(a perfect generator scores sliced W1 {evaluation.floor:.3f}; the figure 'minmax' averages seeds)")

# %% [markdown]
# ## 4. Schedules of alpha and k, and full pullback
#
# `alpha` and `k` accept a function of the sync index (0, 1, 2, ...), checked at each sync: here alpha
# is annealed from 0.5 to 1 (plain SGD at the end) and k grows. `pullback_states` names the state
# buffers that `inner_state="pullback"` interpolates at each sync.

# %%
x = paddle.nn.Parameter(np.array([1.0], np.float32))
scheduled = paddle.LookAhead(paddle.optimizer.SGD(0.1, parameters=[x]), slow_init="construction",
                             alpha=lambda i: min(1.0, 0.5 + 0.1 * i), k=lambda i: 2 + i)
for _ in range(30):
    paddle.sum(paddle.to_tensor(np.float32(H / 2)) * x * x).backward()
    scheduled.step()
    scheduled.clear_grad()
print(f"after 30 steps: {scheduled.state_dict()['syncs']} syncs, next alpha {scheduled.current_alpha():.1f}, "
      f"next k {scheduled.current_k()}, |x| = {abs(float(x.numpy()[0])):.3e}")


def noisy_adam(pullback_states, steps=400, seed=0):
    """Adam inside LookAhead on a noisy 10-d quadratic; the mean loss over the second half."""
    rng = np.random.default_rng(seed)
    w = paddle.nn.Parameter(np.ones(10, np.float32))
    scales = paddle.to_tensor(np.geomspace(0.1, 1.0, 10).astype(np.float32))
    opt = paddle.LookAhead(paddle.optimizer.Adam(0.05, parameters=[w]), alpha=0.5, k=5,
                           inner_state="keep" if pullback_states is None else "pullback",
                           pullback_states=pullback_states)
    losses = []
    for _ in range(steps):
        noise = paddle.to_tensor(rng.normal(0, 0.3, 10).astype(np.float32))
        loss = paddle.sum(scales * w * w) + paddle.sum(noise * w)
        loss.backward()
        opt.step()
        opt.clear_grad()
        losses.append(float(paddle.sum(scales * w * w).numpy()))
    return float(np.mean(losses[steps // 2:]))


for states in (None, ("moment1",), ("moment1", "moment2")):
    print(f"pullback_states={states}: mean loss over the second half {noisy_adam(states):.4f}")
