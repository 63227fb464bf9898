"""LookAhead's slow weights with batch norm: statistics recomputed for them, fast ones restored after."""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.nn import bn_stats


def _setup():
    paddle.seed(0)
    model = paddle.nn.Sequential(paddle.nn.Linear(4, 6), paddle.nn.BatchNorm1D(6), paddle.nn.ReLU(),
                                 paddle.nn.Linear(6, 2))
    la = paddle.LookAhead(paddle.optimizer.Momentum(0.1, parameters=model.parameters()), alpha=0.5, k=3)
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((16, 4)).astype(np.float32) * 3 + 1 for _ in range(4)]
    model.train()
    for x in batches * 2:
        paddle.mean(model(paddle.to_tensor(x)) ** 2).backward()
        la.step()
        la.clear_grad()
    return model, la, batches


def _stats(model):
    bn = model[1]
    return bn._mean.numpy().copy(), bn._variance.numpy().copy()


def test_recomputed_statistics_for_the_slow_weights_equal_a_fresh_pass_and_fast_state_comes_back():
    model, la, batches = _setup()
    probe = paddle.to_tensor(batches[0][:5])
    fast_params = la.flat_parameters().copy()
    fast_stats = _stats(model)
    model.eval()
    with la.slow_weights():  # the slow weights evaluated with the fast weights' statistics
        with_fast_stats = model(probe).numpy().copy()
    with la.slow_weights(recompute_bn=batches, model=model):
        recomputed = _stats(model)
        with_own_stats = model(probe).numpy().copy()
        with bn_stats.kept_statistics(model):  # the reference: a fresh pass with the slow weights
            bn_stats.update_bn(model, batches)
            fresh = _stats(model)
    assert not np.allclose(with_fast_stats, with_own_stats)
    for a, b in zip(recomputed, fresh, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la.flat_parameters(), fast_params)
    for a, b in zip(_stats(model), fast_stats, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not model.training  # the model's mode is as it was


def test_recompute_bn_needs_the_model():
    model, la, batches = _setup()
    with pytest.raises(TypeError, match="model="):
        with la.slow_weights(recompute_bn=batches):
            pass


def test_a_model_without_recompute_bn_or_foreign_to_the_optimizer_is_refused_before_the_swap():
    model, la, batches = _setup()
    fast, stats = la.flat_parameters().copy(), _stats(model)
    other = paddle.nn.Sequential(paddle.nn.Linear(4, 6), paddle.nn.BatchNorm1D(6))
    for kwargs, error, words in (({"model": model}, TypeError, "without recompute_bn it changes nothing"),
                                 ({"recompute_bn": batches, "model": other}, ValueError, "holds none of this")):
        with pytest.raises(error, match=words):  # both had run: a no-op, and statistics of other weights
            with la.slow_weights(**kwargs):
                pass
        np.testing.assert_array_equal(la.flat_parameters(), fast)
        for a, b in zip(_stats(model), stats, strict=True):
            np.testing.assert_array_equal(a, b)
    assert np.array_equal(other[1]._mean.numpy(), np.zeros(6, np.float32))  # the foreign model untouched
