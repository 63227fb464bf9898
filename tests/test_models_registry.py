"""lasandbox.models.registry: the one factory of the figures' and sweeps' networks, by name and data set."""

from __future__ import annotations

import pytest

import lasandbox as paddle
from lasandbox import models, nn
from lasandbox.datasets import load_digits, make_synthetic
from lasandbox.datasets.loaders import Split
from lasandbox.models import registry


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _sequences():
    """A tiny stand-in with MNIST-1D's layout: flat rows that are 1 x 16 sequences."""
    data = make_synthetic(num_samples=40, num_features=16, num_classes=3)
    return Split(data.x_train, data.y_train, data.x_test, data.y_test, "seq", sample_shape=(1, 16))


def test_the_names_are_mlp_and_cnn():
    assert registry.names()[:2] == ("mlp", "cnn")


def test_mlp_defaults_to_two_hidden_layers_of_64_and_takes_any_widths(digits):
    paddle.seed(0)
    default = registry.make("mlp", digits)
    assert [layer.weight.shape for layer in default.sublayers() if isinstance(layer, nn.Linear)] == [
        [64, 64], [64, 64], [64, 10]]
    assert registry.describe("mlp", digits, (32,)) == "MLP 64-32-10 (ReLU)"
    assert registry.make("mlp", digits, [8, 4])(paddle.randn([2, 64])).shape == [2, 10]


def test_cnn_is_the_small_resnet_on_images_and_the_1d_cnn_on_sequences(digits):
    resnet = registry.make("cnn", digits)
    assert isinstance(resnet, models.SmallResNet) and resnet.input_shape == (1, 8, 8)
    assert resnet.fc.weight.shape == [16, 10]  # default width 16
    assert resnet(paddle.to_tensor(digits.x_test[:3])).shape == [3, 10]  # flat rows are reshaped
    sequences = _sequences()
    cnn1d = registry.make("cnn", sequences, 4)
    assert isinstance(cnn1d, models.MNIST1DCNN) and cnn1d.fc.weight.shape == [4, 3]
    assert cnn1d(paddle.to_tensor(sequences.x_test[:2])).shape == [2, 3]
    assert registry.check_widths("cnn", None, sequences) == (32,)  # MNIST1DCNN's default channels
    assert "SmallResNet on 1x8x8" in registry.describe("cnn", digits)


def test_the_same_seed_builds_the_same_weights(digits):
    paddle.seed(3)
    first = registry.make("cnn", digits, 4).state_dict()
    paddle.seed(3)
    second = registry.make("cnn", digits, 4).state_dict()
    assert all((first[key].numpy() == second[key].numpy()).all() for key in first)


def test_bad_names_widths_and_data_raise_naming_them(digits):
    with pytest.raises(ValueError, match="model"):
        registry.make("transformer", digits)
    with pytest.raises(ValueError, match=r"takes 1 width"):
        registry.make("cnn", digits, (16, 16))
    with pytest.raises(ValueError, match=r"widths\[i\]"):
        registry.make("mlp", digits, (8, 0))
    with pytest.raises(ValueError, match="at least one width"):
        registry.check_widths("mlp", ())
    flat = make_synthetic(num_samples=40, num_features=6)  # no sample_shape: plain feature vectors
    with pytest.raises(ValueError, match="sample_shape"):
        registry.make("cnn", flat)
    assert registry.make("mlp", flat, (4,))(paddle.randn([2, 6])).shape == [2, 4]
    with pytest.raises(TypeError, match="Split"):
        registry.make("mlp", object(), (4,))


def test_register_refuses_a_taken_name_unless_replacing():
    entry = registry.entry("mlp")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(entry)
    assert registry.register(entry, replace=True) is entry
    with pytest.raises(TypeError, match="ModelEntry"):
        registry.register("mlp")
