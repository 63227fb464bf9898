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
# # 01 · Quickstart: Lookahead with a Paddle-compatible API
#
# Lookahead (Zhang, Lucas, Hinton, Ba 2019) wraps any *inner* optimizer: it takes **k fast steps**
# with it, then moves the **slow weights** a fraction **alpha** of the way towards where the fast
# weights ended, and restarts the fast weights from there.
#
# lasandbox reproduces PaddlePaddle's `paddle.incubate.LookAhead` step for step, so Paddle code
# runs with one changed line: `import lasandbox as paddle`. This notebook
#
# 1. runs Paddle's own API example,
# 2. trains an MLP on real data (scikit-learn's digits) with and without Lookahead,
# 3. looks at the slow vs the fast weights,
# 4. saves a checkpoint mid-cycle and resumes it exactly.
#
# Set `FULL = True` for more epochs and seeds (the default runs in well under two minutes).

# %%
FULL = False
EPOCHS = 40 if FULL else 12
SEEDS = [0, 1, 2, 3, 4] if FULL else [0, 1]

# %% [markdown]
# ## 1. Paddle's example, unchanged but for the import

# %%
import numpy as np

import lasandbox as paddle

inp = paddle.to_tensor(np.random.random([1, 10]).astype("float32"))
linear = paddle.nn.Linear(10, 1)
out = linear(inp)
loss = paddle.mean(out)
sgd = paddle.optimizer.SGD(learning_rate=0.1, parameters=linear.parameters())
lookahead = paddle.incubate.LookAhead(sgd, alpha=0.2, k=5)
loss.backward()
lookahead.step()
lookahead.clear_grad()
print("one Lookahead step done; step counter =", lookahead.global_step)

# %% [markdown]
# Paddle's semantics, which lasandbox follows by default (checked against PaddlePaddle 3.3.1 in the
# test suite): the slow weights are created *lazily*, as a copy of the fast weights after the first
# inner step; every k-th step `slow = alpha*fast + (1-alpha)*slow` and `fast = slow`; the inner
# optimizer keeps its momentum across syncs.
#
# ## 2. Lookahead vs its inner optimizer on digits
#
# An MLP 64-32-10 on the 1,797 8x8 digit images (1,348 train / 449 test), momentum SGD as the inner
# optimizer, Lookahead with alpha = 0.8, k = 5 as in the paper's CIFAR setting.

# %%
import matplotlib.pyplot as plt

from lasandbox.datasets import load_digits
from lasandbox.training import evaluate, mlp, train

data = load_digits()


def make_optimizer(name, params):
    inner = paddle.optimizer.Momentum(learning_rate=0.1, momentum=0.9, parameters=params)
    return inner if name == "SGD+momentum" else paddle.LookAhead(inner, alpha=0.8, k=5)


histories = {}
for name in ("SGD+momentum", "LookAhead(SGD+momentum)"):
    runs = []
    for seed in SEEDS:
        paddle.seed(seed)
        model = mlp([64, 32, 10])
        runs.append(train(model, make_optimizer(name, model.parameters()), data, EPOCHS, batch_size=32, seed=seed))
    histories[name] = runs

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, runs in histories.items():
    ax_loss.plot(np.mean([h.train_loss for h in runs], axis=0), label=name)
    ax_acc.plot(np.mean([h.test_accuracy for h in runs], axis=0), label=name)
ax_loss.set(yscale="log", xlabel="epoch", ylabel="train loss")
ax_acc.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.9, 1.0))
ax_loss.legend()
plt.show()
for name, runs in histories.items():
    print(f"{name:<26} final test accuracy {np.mean([h.test_accuracy[-1] for h in runs]):.3f}")

# %% [markdown]
# ## 3. Slow weights vs fast weights
#
# The paper's README advice: *evaluation is typically better with the slow weights*. The
# `slow_weights()` context manager puts them into the model and puts the fast ones back after.
# Mid-cycle (here 3 steps after a sync) the two differ; right after a sync they are equal.

# %%
paddle.seed(0)
model = mlp([64, 32, 10])
la = paddle.LookAhead(paddle.optimizer.Momentum(learning_rate=0.3, momentum=0.9, parameters=model.parameters()),
                      alpha=0.5, k=5)
train(model, la, data, epochs=3, batch_size=32)
print("steps taken:", la.global_step, "-> steps since the last sync:", la.global_step % la.k)
fast_loss, fast_acc = evaluate(model, data.x_test, data.y_test)
with la.slow_weights():
    slow_loss, slow_acc = evaluate(model, data.x_test, data.y_test)
print(f"fast weights: test loss {fast_loss:.4f}, accuracy {fast_acc:.3f}")
print(f"slow weights: test loss {slow_loss:.4f}, accuracy {slow_acc:.3f}")

# %% [markdown]
# ## 4. Save mid-cycle, resume exactly
#
# `LookAhead.state_dict()` holds the slow weights, the step counter, the options and the inner
# optimizer's state. Saving it with the model's `state_dict()` is enough to continue *bit for bit*:
# we train 2 + 2 epochs with a save/load in between and compare with 4 epochs straight through.

# %%
import tempfile
from pathlib import Path

from lasandbox.training import train_epoch


def fresh():
    paddle.seed(7)
    model = mlp([64, 32, 10])
    inner = paddle.optimizer.Adam(learning_rate=0.003, parameters=model.parameters())
    return model, paddle.LookAhead(inner, alpha=0.5, k=5)


def epochs(model, opt, count, rng):
    for _ in range(count):
        train_epoch(model, opt, data.x_train, data.y_train, batch_size=37, rng=rng)  # 37: ends mid-cycle


model, opt = fresh()
epochs(model, opt, 4, np.random.default_rng(0))
straight = [p.numpy().copy() for p in model.parameters()]

model, opt = fresh()
rng = np.random.default_rng(0)
epochs(model, opt, 2, rng)
path = Path(tempfile.mkdtemp()) / "checkpoint.pdparams"
paddle.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
print("saved at step", opt.global_step, "(mid-cycle:", opt.global_step % opt.k, "steps after a sync)")

model, opt = fresh()  # a new model and optimizer, as in a new process
state = paddle.load(path)
model.set_state_dict(state["model"])
opt.set_state_dict(state["opt"])
epochs(model, opt, 2, rng)
resumed = [p.numpy() for p in model.parameters()]
print("bit-identical to the uninterrupted run:", all(np.array_equal(a, b) for a, b in zip(straight, resumed)))
