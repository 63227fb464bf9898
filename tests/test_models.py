"""lasandbox.models: the small ResNet and the MNIST-1D CNN are plain nn.Layers that train; mlp is re-exported."""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import models, nn, training
from lasandbox.autograd.tensor import Tensor


def test_small_resnet_architecture_and_shapes():
    paddle.seed(0)
    model = models.SmallResNet()
    assert isinstance(model, nn.Layer)
    convs = [m for m in model.sublayers() if isinstance(m, nn.Conv2D)]
    assert [c.weight.shape for c in convs] == [[16, 1, 3, 3]] + [[16, 16, 3, 3]] * 4
    assert all(c.bias is None for c in convs)
    assert sum(isinstance(m, nn.BatchNorm2D) for m in model.sublayers()) == 5
    assert model.fc.weight.shape == [16, 10]
    assert model(paddle.randn([2, 1, 28, 28])).shape == [2, 10]
    assert model(paddle.randn([3, 1, 8, 8])).shape == [3, 10]
    flat = models.SmallResNet(width=4, num_blocks=1, input_shape=(1, 8, 8))
    assert flat(paddle.randn([5, 64])).shape == [5, 10]
    with pytest.raises(ValueError, match="input_shape"):
        models.SmallResNet(in_channels=3, input_shape=(1, 8, 8))
    with pytest.raises(ValueError, match=r"\[N, 64\]"):
        flat(paddle.randn([5, 63]))


def test_mnist1d_cnn_architecture_and_shapes():
    model = models.MNIST1DCNN(channels=8)
    convs = [m for m in model.sublayers() if isinstance(m, nn.Conv1D)]
    assert [c.weight.shape for c in convs] == [[8, 1, 5], [8, 8, 3], [8, 8, 3]]
    assert model(paddle.randn([4, 40])).shape == [4, 10]  # flat MNIST-1D rows
    assert model(paddle.randn([4, 1, 40])).shape == [4, 10]


def test_mlp_is_the_training_modules_builder():
    assert models.mlp is training.mlp


@pytest.mark.parametrize("build, shape", [
    (lambda: models.SmallResNet(width=4, num_blocks=1, num_classes=3, input_shape=(1, 6, 6)), (36,)),
    (lambda: models.MNIST1DCNN(channels=4, num_classes=3), (16,)),
])
def test_models_learn_a_separable_problem(build, shape):
    """Momentum steps lower the (eval-mode) loss on data whose class is its mean sign pattern."""
    paddle.seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 48)
    x = (rng.standard_normal((48, *shape)) + 1.5 * (y[:, None] - 1)).astype(np.float32)
    model = build()
    opt = paddle.optimizer.Momentum(learning_rate=0.05, momentum=0.9, parameters=model.parameters())
    model.eval()
    before, _ = training.evaluate(model, x, y)
    model.train()
    for _ in range(40):  # also long enough for the running statistics (momentum 0.9) to settle
        training.train_step(model, opt, x, y)
    model.eval()
    after, accuracy = training.evaluate(model, x, y)
    assert after < 0.7 * before and accuracy > 0.8
    assert isinstance(model(Tensor(x[:2])), Tensor)
