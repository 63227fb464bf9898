"""The folded conv-net grid evaluation agrees with the per-point loop, and falls back to it when it must."""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import models, nn
from lasandbox.landscape import ParameterLayout, Plane, batched_cnn, evaluate_grid, evaluate_points, folded_layers

RNG = np.random.default_rng(0)


def _plane(model, seed=0, scale=0.3):
    layout = ParameterLayout.from_model(model)
    rng = np.random.default_rng(seed)
    origin = layout.flatten().astype(np.float64)
    return Plane(origin, rng.standard_normal(layout.size) * scale, rng.standard_normal(layout.size) * scale)


def _with_statistics(model, seed=1):
    """Eval mode with non-trivial running statistics (as after training)."""
    rng = np.random.default_rng(seed)
    for layer in model.sublayers(include_self=True):
        if isinstance(layer, (nn.BatchNorm1D, nn.BatchNorm2D)):
            c = layer._num_features
            layer._mean.set_value(rng.standard_normal(c).astype(np.float32) * 0.3)
            layer._variance.set_value(rng.uniform(0.5, 2.0, c).astype(np.float32))
    return model.eval()


class MixedNet(nn.Layer):
    """Channel-last convs, padding modes, groups, pooling, BN without affine, a residual add, two Linears."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2D(1, 4, 3, padding=1, padding_mode="reflect", data_format="NHWC")
        self.bn1 = nn.BatchNorm2D(4, data_format="NHWC")
        self.conv2 = nn.Conv2D(4, 4, 3, padding="same", groups=2, data_format="NHWC", bias_attr=False)
        self.bn2 = nn.BatchNorm2D(4, weight_attr=False, bias_attr=False, data_format="NHWC")
        self.pool = nn.AvgPool2D(2, data_format="NHWC")
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(4 * 3 * 3, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        x = paddle.reshape(x, [x.shape[0], 6, 6, 1])
        h = nn.functional.relu(self.bn1(self.conv1(x)))
        h = nn.functional.relu(self.bn2(self.conv2(h)) + h)
        return self.fc2(nn.functional.tanh(self.fc1(self.flatten(self.pool(h)))))


CASES = {
    "mnist1d_cnn": (lambda: models.MNIST1DCNN(num_classes=3, channels=4), 16),
    "small_resnet": (lambda: models.SmallResNet(num_classes=3, width=4, num_blocks=1, input_shape=(1, 6, 6)), 36),
    "mixed": (MixedNet, 36),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_folded_grid_equals_the_per_point_loop(name):
    build, features = CASES[name]
    paddle.seed(0)
    model = _with_statistics(build())
    x = RNG.standard_normal((23, features)).astype(np.float32)
    y = RNG.integers(0, 3, 23)
    plane = _plane(model)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    kwargs = {"extent": (-1.0, 1.0, -0.5, 1.5), "resolution": (5, 4), "show_progress": False}
    batched = evaluate_grid(model, plane, x, y, method="batched", **kwargs)
    naive = evaluate_grid(model, plane, x, y, method="naive", **kwargs)
    assert (batched.method, naive.method) == ("batched", "naive")
    np.testing.assert_allclose(batched.loss, naive.loss, rtol=1e-5)
    np.testing.assert_array_equal(batched.accuracy, naive.accuracy)
    assert evaluate_grid(model, plane, x, y, resolution=2, show_progress=False).method == "batched"  # auto
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])
    assert all("forward" not in layer.__dict__ for layer in model.sublayers(include_self=True))
    # Blocks of 7 samples and chunks of 3 (and a last one of 2) points give the same numbers.
    layout = ParameterLayout.from_model(model)
    plan = batched_cnn.cnn_structure(model, layout)
    coords = np.stack([np.linspace(-1, 1, 5)[None].repeat(4, 0).ravel(), np.repeat(np.linspace(-0.5, 1.5, 4), 5)], 1)
    chunked = batched_cnn.evaluate_plane_points_cnn(model, plan, plane.origin, plane.d1, plane.d2, coords, x, y,
                                                    sample_block=7, points_per_chunk=3)
    np.testing.assert_allclose(chunked[0], naive.loss.ravel(), rtol=1e-5)
    np.testing.assert_array_equal(chunked[1], naive.accuracy.ravel())


@pytest.mark.parametrize("offset", [3, -3])
def test_labels_outside_the_classes_are_refused_by_the_folded_pass(offset):
    build, features = CASES["mnist1d_cnn"]
    paddle.seed(0)
    model = _with_statistics(build())
    x = RNG.standard_normal((5, features)).astype(np.float32)
    y = RNG.integers(0, 3, 5) + offset
    for method in ("batched", "auto"):
        with pytest.raises(ValueError, match=r"label"):
            evaluate_grid(model, _plane(model), x, y, method=method, resolution=2, show_progress=False)


def test_training_mode_batch_norm_is_not_folded_but_a_grid_evaluates_in_eval_mode():
    model = models.MNIST1DCNN(num_classes=3, channels=4)  # training mode: BN would use batch statistics
    layout = ParameterLayout.from_model(model)
    assert batched_cnn.cnn_structure(model, layout) is None
    x, y = RNG.standard_normal((10, 16)).astype(np.float32), RNG.integers(0, 3, 10)
    # A grid is an evaluation: eval mode for its length (as training.evaluate), so the folded pass applies,
    # the running statistics are not updated, and the model's mode comes back.
    statistics = [layer._mean.numpy().copy() for layer in model.sublayers() if isinstance(layer, nn.BatchNorm1D)]
    grid = evaluate_grid(model, _plane(model), x, y, resolution=2, show_progress=False)
    assert grid.method == "batched" and model.training and all(layer.training for layer in model.sublayers())
    after = [layer._mean.numpy() for layer in model.sublayers() if isinstance(layer, nn.BatchNorm1D)]
    assert all(np.array_equal(a, b) for a, b in zip(statistics, after, strict=True))
    naive = evaluate_grid(model, _plane(model), x, y, resolution=2, method="naive", show_progress=False)
    np.testing.assert_allclose(grid.loss, naive.loss, rtol=1e-5)
    dropped = nn.Sequential(nn.Conv1D(1, 2, 3), nn.Dropout(0.5), nn.Flatten(), nn.Linear(2 * 14, 3))
    assert batched_cnn.cnn_structure(dropped, ParameterLayout.from_model(dropped)) is None
    assert batched_cnn.cnn_structure(dropped.eval(), ParameterLayout.from_model(dropped)) is not None


class RawSkip(nn.Layer):
    """Adds the raw input after the first conv (the folded batch and the raw data do not line up)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1D(1, 1, 3, padding=1)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc(paddle.reshape(self.conv(paddle.reshape(x, [x.shape[0], 1, 16])), [-1, 16]) + x)


class BatchCentred(nn.Layer):
    """Subtracts the batch mean: in the folded pass that mean would be over every point's rows."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1D(1, 1, 3, padding=1)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        h = paddle.reshape(self.conv(paddle.reshape(x, [x.shape[0], 1, 16])), [-1, 16])
        return self.fc(h - paddle.mean(h, axis=0, keepdim=True))


@pytest.mark.parametrize("build", [RawSkip, BatchCentred])
def test_forward_code_that_mixes_samples_is_caught_by_the_probe(build):
    paddle.seed(0)
    model = build()
    x, y = RNG.standard_normal((10, 16)).astype(np.float32), RNG.integers(0, 3, 10)
    plane = _plane(model)
    assert batched_cnn.cnn_structure(model, ParameterLayout.from_model(model)) is not None
    grid = evaluate_grid(model, plane, x, y, resolution=3, show_progress=False)
    assert grid.method == "naive"
    with pytest.raises(ValueError, match="disagrees with the per-point loop"):
        evaluate_points(model, plane, [[0.0, 0.0]], x, y, method="batched")
    assert all("forward" not in layer.__dict__ for layer in model.sublayers(include_self=True))


def test_combine_points_kernel_matches_numpy():
    rng = np.random.default_rng(5)
    base, along_a, along_b = (rng.standard_normal(37).astype(np.float32) for _ in range(3))
    a, b = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    out = np.empty((4, 37), np.float32)
    folded_layers.combine_points(base, along_a, along_b, a, b, out)
    np.testing.assert_allclose(out, base[None] + a[:, None] * along_a[None] + b[:, None] * along_b[None], rtol=1e-6,
                               atol=1e-6)
