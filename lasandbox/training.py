"""Small training utilities shared by the demo, the paper figures and the notebooks.

Deliberately plain: a model, an optimizer (anything with ``step``/``clear_grad``,
LookAhead included), numpy arrays, and a loop over shuffled mini-batches.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from lasandbox import nn
from lasandbox.autograd.engine import no_grad
from lasandbox.autograd.tensor import Tensor
from lasandbox.utils.validation import check_int

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def mlp(sizes, activation="relu"):
    """``Sequential(Linear, act, Linear, act, ..., Linear)`` through the given layer sizes."""
    sizes = [check_int("sizes[i]", s, low=1) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output size, got {sizes}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


@contextlib.contextmanager
def eval_mode(model):
    """``model.eval()`` for the block; every sublayer's own mode (train or eval) comes back after.

    In eval mode batch norm uses (and does not update) its running statistics
    and dropout is off: an evaluation then neither depends on how the data is
    batched nor changes the model.
    """
    modes = [(layer, layer.training) for layer in model.sublayers(include_self=True)]
    model.eval()
    try:
        yield model
    finally:
        for layer, training in modes:
            layer.training = training


@no_grad()
def evaluate(model, x, y, batch_size=4096):
    """Mean cross-entropy and accuracy of ``model`` on arrays ``x``, ``y`` (eval mode, no graph recorded).

    The model is switched to eval mode for the evaluation (running batch-norm
    statistics, no dropout) and left in the modes it had.
    """
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    total_loss, correct = 0.0, 0
    with eval_mode(model):
        for start in range(0, len(x), batch_size):
            logits = model(Tensor(x[start : start + batch_size]))
            labels = y[start : start + batch_size]
            total_loss += float(loss_fn(logits, Tensor(labels))._value)
            correct += int((logits._value.argmax(axis=1) == labels).sum())  # _value: no copy of the logits
    return total_loss / len(x), correct / len(x)


@dataclass
class History:
    """Per-epoch metrics of one training run (``epoch 0`` is before training)."""

    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    step_losses: list = field(default_factory=list)


def train_step(model, optimizer, x, y):
    """One optimizer step on the batch ``(x, y)`` (arrays) with cross-entropy; returns the loss (float)."""
    loss = nn.CrossEntropyLoss()(model(Tensor(x)), Tensor(y))
    loss.backward()
    optimizer.step()
    optimizer.clear_grad()
    return float(loss._value)


def train_epoch(model, optimizer, x, y, batch_size, rng, on_step=None):
    """One pass over shuffled mini-batches; returns the mean mini-batch loss and the per-step losses."""
    order = rng.permutation(len(x))
    losses = []
    for start in range(0, len(x) - batch_size + 1, batch_size):
        idx = order[start : start + batch_size]
        losses.append(train_step(model, optimizer, x[idx], y[idx]))
        if on_step is not None:
            on_step(losses[-1])
    return float(np.mean(losses)), losses


def train(model, optimizer, split, epochs, batch_size=64, seed=0, eval_model=None, on_epoch=None):
    """Train for ``epochs`` and record train loss (full pass), test loss and accuracy per epoch.

    ``eval_model(model)`` may return a context manager to evaluate in (e.g. a
    LookAhead's ``slow_weights()``); by default the model is evaluated as it is.
    """
    epochs = check_int("epochs", epochs, low=0)
    batch_size = check_int("batch_size", batch_size, low=1)
    rng = np.random.default_rng(seed)
    history = History()

    def record():
        ctx = eval_model(model) if eval_model else contextlib.nullcontext()
        with ctx:
            history.train_loss.append(evaluate(model, split.x_train, split.y_train)[0])
            loss, acc = evaluate(model, split.x_test, split.y_test)
        history.test_loss.append(loss)
        history.test_accuracy.append(acc)

    record()
    for epoch in range(epochs):
        _, losses = train_epoch(model, optimizer, split.x_train, split.y_train, batch_size, rng)
        history.step_losses.extend(losses)
        record()
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history
