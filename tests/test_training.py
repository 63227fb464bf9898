"""lasandbox.training: evaluate runs in eval mode and leaves the model as it found it."""

from __future__ import annotations

import numpy as np

import lasandbox as paddle
from lasandbox import models, nn, training


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 16)).astype(np.float32), rng.integers(0, 3, n)


def _statistics(model):
    return [(layer._mean.numpy().copy(), layer._variance.numpy().copy())
            for layer in model.sublayers() if isinstance(layer, nn.BatchNorm1D)]


def test_evaluate_uses_running_statistics_and_changes_neither_them_nor_the_modes():
    paddle.seed(0)
    model = models.MNIST1DCNN(num_classes=3, channels=4)
    x, y = _data()
    opt = paddle.optimizer.Momentum(0.05, parameters=model.parameters())
    training.train_epoch(model, opt, x, y, 16, np.random.default_rng(0))  # non-trivial running statistics
    model.bn2.eval()  # a mixed state (one layer in eval mode) must come back as it was
    modes = [layer.training for layer in model.sublayers(include_self=True)]
    before = _statistics(model)
    loss, accuracy = training.evaluate(model, x, y)
    assert [layer.training for layer in model.sublayers(include_self=True)] == modes
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
               for a, b in zip(before, _statistics(model), strict=True))
    # Eval mode: the result does not depend on the batching (batch statistics would).
    assert np.isclose(training.evaluate(model, x, y, batch_size=5)[0], loss, rtol=1e-5)
    with training.eval_mode(model):
        logits = model(paddle.to_tensor(x)).numpy()
    assert accuracy == np.mean(logits.argmax(axis=1) == y)
    model.train()
    train_mode = float(nn.CrossEntropyLoss()(model(paddle.to_tensor(x)), paddle.to_tensor(y)).numpy())
    assert not np.isclose(train_mode, loss, rtol=1e-4)  # batch statistics give another number


def test_eval_mode_restores_the_modes_when_the_block_raises():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    try:
        with training.eval_mode(model):
            assert not model.training
            raise RuntimeError("inside")
    except RuntimeError:
        pass
    assert model.training and all(layer.training for layer in model.sublayers())
