"""update_bn: recomputed running statistics equal those of a fresh pass over the loader; nothing else changes."""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import io, models, nn
from lasandbox.autograd.tensor import Tensor
from lasandbox.nn.bn_stats import kept_statistics, update_bn
from lasandbox.nn.norm import _BatchNormBase


def _trained_resnet():
    paddle.seed(0)
    model = models.SmallResNet(in_channels=1, num_classes=3, width=4, num_blocks=1)
    opt = paddle.optimizer.Momentum(learning_rate=0.1, momentum=0.9, parameters=model.parameters())
    rng = np.random.default_rng(0)
    for _ in range(3):
        loss = nn.CrossEntropyLoss()(model(Tensor(rng.standard_normal((8, 1, 6, 6)).astype(np.float32))),
                                     Tensor(rng.integers(0, 3, 8)))
        loss.backward()
        opt.step()
        opt.clear_grad()
    return model


def _batches(seed=1, count=5, batch=6):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, 1, 6, 6)).astype(np.float32) * 2 + 0.5, rng.integers(0, 3, batch))
            for _ in range(count)]


def _fresh_pass_statistics(model, batches):
    """Each BN layer's input in a train-mode pass (weights as they are), averaged per batch by numpy."""
    seen = {}
    layers = [m for m in model.sublayers(include_self=True) if isinstance(m, _BatchNormBase)]
    originals = {}
    for layer in layers:
        originals[id(layer)] = layer.forward

        def recording(x, layer=layer):
            seen.setdefault(id(layer), []).append(x.numpy().astype(np.float64))
            return originals[id(layer)](x)

        layer.forward = recording
    model.train()
    with paddle.no_grad():
        for x, _ in batches:
            model(Tensor(x))
    for layer in layers:
        del layer.forward
    expected = {}
    for layer in layers:
        inputs = seen[id(layer)]
        expected[id(layer)] = (np.mean([v.mean(axis=(0, 2, 3)) for v in inputs], axis=0),
                               np.mean([v.var(axis=(0, 2, 3)) for v in inputs], axis=0))
    return layers, expected


def test_recomputed_statistics_equal_a_fresh_pass_over_the_loader():
    model = _trained_resnet()
    batches = _batches()
    weights_before = [p.numpy().copy() for p in model.parameters()]
    model.eval()
    assert update_bn(model, batches) == len(batches)
    recomputed = {id(m): (m._mean.numpy().copy(), m._variance.numpy().copy())
                  for m in model.sublayers(include_self=True) if isinstance(m, _BatchNormBase)}
    # Compare with a second model holding the same weights and its own fresh pass.
    twin = _trained_resnet()
    layers, expected = _fresh_pass_statistics(twin, batches)
    ours = [m for m in model.sublayers(include_self=True) if isinstance(m, _BatchNormBase)]
    assert len(ours) == len(layers) == 3
    for mine, theirs in zip(ours, layers, strict=True):
        mean, var = expected[id(theirs)]
        np.testing.assert_allclose(recomputed[id(mine)][0], mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(recomputed[id(mine)][1], var, rtol=1e-5, atol=1e-6)
    for before, p in zip(weights_before, model.parameters(), strict=True):
        np.testing.assert_array_equal(before, p.numpy())


def test_mode_and_momentum_are_restored_and_other_layers_keep_their_mode():
    model = nn.Sequential(nn.Conv2D(1, 2, 3), nn.BatchNorm2D(2, momentum=0.7), nn.Dropout2D(0.5),
                          nn.BatchNorm2D(2, use_global_stats=True))
    model.eval()
    frozen = model[3]
    frozen._mean.set_value(np.array([0.3, -0.3], np.float32))
    update_bn(model, _batches(count=2))
    assert all(not m.training for m in model.sublayers(include_self=True))
    assert model[1]._momentum == 0.7
    np.testing.assert_array_equal(frozen._mean.numpy(), np.float32([0.3, -0.3]))  # use_global_stats=True: never updated
    # Dropout stayed in eval mode during the pass: the statistics do not depend on the dropout draw.
    first = model[1]._mean.numpy().copy()
    update_bn(model, _batches(count=2))
    np.testing.assert_array_equal(model[1]._mean.numpy(), first)
    model.train()
    update_bn(model, _batches(count=2))
    assert all(m.training for m in model.sublayers(include_self=True))


def test_single_batch_gives_that_batchs_statistics_and_dataloader_batches_work():
    model = nn.Sequential(nn.BatchNorm1D(3))
    x = np.random.default_rng(2).standard_normal((10, 3)).astype(np.float32) * 3
    update_bn(model, [Tensor(x)])
    np.testing.assert_allclose(model[0]._mean.numpy(), x.mean(axis=0, dtype=np.float64), rtol=1e-6)
    np.testing.assert_allclose(model[0]._variance.numpy(), x.var(axis=0, dtype=np.float64), rtol=1e-5)
    dataset = io.TensorDataset([Tensor(x), Tensor(np.arange(10))])
    loader = io.DataLoader(dataset, batch_size=5, shuffle=False)
    assert update_bn(model, loader) == 2
    halves = x.reshape(2, 5, 3).astype(np.float64)
    np.testing.assert_allclose(model[0]._variance.numpy(), halves.var(axis=1).mean(axis=0), rtol=1e-5)
    update_bn(model, [x[:5], x[5:]], forward=lambda m, batch: m(Tensor(batch)))
    np.testing.assert_allclose(model[0]._mean.numpy(), x.mean(axis=0, dtype=np.float64), rtol=1e-6, atol=1e-7)


def test_bad_loaders_change_nothing():
    model = nn.Sequential(nn.BatchNorm1D(3))
    model[0]._mean.set_value(np.array([1, 2, 3], np.float32))
    with pytest.raises(ValueError, match="no batches"):
        update_bn(model, [])
    with pytest.raises(TypeError, match="update_bn takes batches"):
        update_bn(model, [{"x": 1}])
    with pytest.raises(ValueError, match="channels"):
        update_bn(model, [Tensor(np.zeros((4, 3), np.float32)), Tensor(np.zeros((4, 5), np.float32))])
    np.testing.assert_array_equal(model[0]._mean.numpy(), [1, 2, 3])
    assert model[0]._momentum == 0.9 and model[0].training
    with pytest.raises(TypeError, match="nn.Layer"):
        update_bn(lambda x: x, [np.zeros(3)])


def test_kept_statistics_restores_the_running_statistics():
    model = _trained_resnet()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with kept_statistics(model):
        update_bn(model, _batches())
        assert any(not np.array_equal(v.numpy(), before[k]) for k, v in model.state_dict().items())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])


def test_a_batch_with_one_value_per_channel_does_not_count():
    """A batch of one sample into a BatchNorm1D on [N, C] passes through without touching the statistics (as
    in Paddle), so the average is that of the other batches: the next one is not weighted 1/3 for a count the
    single one did not add to."""
    paddle.seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1D(4))
    rng = np.random.default_rng(4)
    full = [rng.standard_normal((8, 3)).astype(np.float32) * 3 + 1 for _ in range(2)]
    update_bn(model, full)
    expected = (model[1]._mean.numpy().copy(), model[1]._variance.numpy().copy())
    assert update_bn(model, [full[0], rng.standard_normal((1, 3)).astype(np.float32), full[1]]) == 3
    np.testing.assert_allclose(model[1]._mean.numpy(), expected[0], rtol=1e-6)
    np.testing.assert_allclose(model[1]._variance.numpy(), expected[1], rtol=1e-6)
    assert model[1]._momentum == 0.9 and not model[1]._forward_pre_hooks  # momentum and hooks as they were
