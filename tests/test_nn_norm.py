"""BatchNorm1D/2D and Dropout2D: kernels against the numpy reference, gradients in train and eval mode,
Paddle's running-statistics conventions, state_dict buffers, argument checks.

Paddle's numbers for the same layers are replayed in test_paddle_cnn_reference.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import nn
from lasandbox.autograd import gradcheck
from lasandbox.autograd.tensor import Tensor
from lasandbox.nn import conv_reference, norm_kernels
from lasandbox.nn import functional as F


@pytest.mark.parametrize("shape", [(4, 3, 5), (6, 2, 1), (2, 5, 17), (1, 3, 2)])
def test_batch_norm_kernels_match_the_numpy_reference(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    dout = rng.standard_normal(shape)
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    mean, var = np.empty(shape[1]), np.empty(shape[1])
    norm_kernels.batch_statistics(x, mean, var)
    ref_mean, ref_var = conv_reference.batch_statistics(x)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-12)
    np.testing.assert_allclose(var, ref_var, rtol=1e-12)
    inv_std = 1 / np.sqrt(var + 1e-5)
    out = np.empty_like(x)
    norm_kernels.affine_channels(x, gamma * inv_std, beta - mean * gamma * inv_std, out)
    np.testing.assert_allclose(out, conv_reference.batch_norm_forward(x, mean, var, gamma, beta, 1e-5), rtol=1e-10,
                               atol=1e-12)
    sum_g, sum_gc = np.empty(shape[1]), np.empty(shape[1])
    norm_kernels.gradient_sums(dout, x, mean, sum_g, sum_gc)
    count = shape[0] * shape[2]
    dx = np.empty_like(x)
    norm_kernels.batch_stats_input_grad(dout, x, mean, gamma * inv_std, sum_g / count, sum_gc * inv_std**2 / count,
                                        dx)
    ref_dx, ref_dw, ref_db = conv_reference.batch_norm_backward(dout, x, mean, var, gamma, 1e-5, batch_stats=True)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sum_gc * inv_std, ref_dw, rtol=1e-10)
    np.testing.assert_allclose(sum_g, ref_db, rtol=1e-10)


# (training, use_global_stats): every way the statistics are chosen (functional_norm's docstring).
BN_MODES = [(True, None), (False, None), (True, True), (False, False)]


@pytest.mark.parametrize("training, use_global_stats", BN_MODES)
@pytest.mark.parametrize("shape", [(4, 3, 5), (5, 3), (1, 3, 2), (1, 3, 1), (1, 3), (0, 3, 4), (0, 3), (2, 3, 0)])
def test_batch_norm_matches_the_numpy_reference_step(shape, training, use_global_stats):
    """F.batch_norm (numba kernels) against conv_reference.batch_norm_step, one value per channel and empty included."""
    rng = np.random.default_rng(4)
    channels = shape[1]
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)
    dout = rng.standard_normal(shape).astype(np.float32)
    weight, bias = (rng.standard_normal(channels).astype(np.float32) for _ in range(2))
    mean0 = rng.standard_normal(channels).astype(np.float32)
    var0 = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    running_mean, running_var = Tensor(mean0.copy()), Tensor(var0.copy())
    xt, wt, bt = Tensor(x, stop_gradient=False), Tensor(weight, stop_gradient=False), Tensor(bias, stop_gradient=False)
    out = F.batch_norm(xt, running_mean, running_var, wt, bt, training=training, momentum=0.8,
                       use_global_stats=use_global_stats, data_format="NC" if len(shape) == 2 else "NCL")
    out.backward(Tensor(dout))
    use_batch = training if use_global_stats is None else not use_global_stats
    view = (lambda a: a[:, :, None]) if len(shape) == 2 else (lambda a: a)
    ref = conv_reference.batch_norm_step(view(x), view(dout), mean0, var0, weight, bias, 0.8, 1e-5, use_batch,
                                         training)
    got = (view(out.numpy()), view(xt.grad.numpy()), wt.grad.numpy(), bt.grad.numpy(), running_mean.numpy(),
           running_var.numpy())
    for name, ours, theirs in zip(["out", "dx", "dweight", "dbias", "running_mean", "running_var"], got, ref,
                                  strict=True):
        assert ours.shape == theirs.shape, name
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5, err_msg=name)


def _bn_call(training, use_global_stats=None, data_format="NCHW", affine=True):
    def call(x, *params):
        channels = x.shape[-1] if data_format in ("NHWC", "NLC") else x.shape[1]
        running_mean = Tensor(np.linspace(-0.5, 0.5, channels))
        running_var = Tensor(np.linspace(0.5, 2.0, channels))
        weight, bias = params if affine else (None, None)
        return F.batch_norm(x, running_mean, running_var, weight, bias, training=training,
                            use_global_stats=use_global_stats, data_format=data_format)
    return call


@pytest.mark.parametrize("training, use_global_stats", [(True, None), (False, None), (True, True)])
@pytest.mark.parametrize("shape, data_format", [((3, 2, 4, 3), "NCHW"), ((3, 4, 3, 2), "NHWC"), ((5, 3), "NC"),
                                                ((3, 2, 6), "NCL"), ((1, 3), "NC"), ((1, 3, 1, 1), "NCHW"),
                                                ((0, 3), "NC")])
def test_batch_norm_gradients_match_central_differences(training, use_global_stats, shape, data_format):
    rng = np.random.default_rng(1)
    channels = shape[-1] if data_format == "NHWC" else shape[1]
    x = rng.standard_normal(shape) * 2 + 0.5
    params = [rng.standard_normal(channels) + 1, rng.standard_normal(channels)]
    assert gradcheck(_bn_call(training, use_global_stats, data_format), [x, *params], atol=1e-5)
    assert gradcheck(_bn_call(training, use_global_stats, data_format, affine=False), [x], atol=1e-5)


def test_batch_norm_running_statistics_follow_paddle():
    """running = momentum*running + (1-momentum)*batch, with the biased batch variance."""
    rng = np.random.default_rng(2)
    bn = nn.BatchNorm2D(3, momentum=0.8)
    x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32) * 2 + 1
    bn(Tensor(x))
    xd = x.astype(np.float64)
    np.testing.assert_allclose(bn._mean.numpy(), 0.2 * xd.mean(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(bn._variance.numpy(), 0.8 + 0.2 * xd.var(axis=(0, 2, 3)), rtol=1e-6)
    before = bn._mean.numpy().copy()
    bn.eval()
    y = bn(Tensor(x)).numpy()
    np.testing.assert_array_equal(bn._mean.numpy(), before)  # eval mode uses, never updates, the statistics
    expected = (xd - before[None, :, None, None]) / np.sqrt(bn._variance.numpy()[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    frozen = nn.BatchNorm2D(3, use_global_stats=True)
    frozen(Tensor(x))
    np.testing.assert_array_equal(frozen._mean.numpy(), np.zeros(3))
    always = nn.BatchNorm2D(3, use_global_stats=False).eval()
    always(Tensor(x))
    assert np.abs(always._mean.numpy()).sum() > 0


def test_batch_norm_buffers_in_state_dict_not_in_parameters():
    bn = nn.BatchNorm1D(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(bn.state_dict()) == ["weight", "bias", "_mean", "_variance"]
    np.testing.assert_array_equal(bn.weight.numpy(), np.ones(4))
    np.testing.assert_array_equal(bn._variance.numpy(), np.ones(4))
    live = bn.state_dict()["_mean"]
    bn(Tensor(np.random.default_rng(3).standard_normal((8, 4)).astype(np.float32)))
    assert np.abs(live.numpy()).sum() > 0  # updated in place: a state_dict Tensor stays live
    other = nn.BatchNorm1D(4)
    other.set_state_dict(bn.state_dict())
    np.testing.assert_array_equal(other._mean.numpy(), bn._mean.numpy())
    np.testing.assert_array_equal(other._variance.numpy(), bn._variance.numpy())
    assert nn.BatchNorm2D(3, weight_attr=False, bias_attr=False).parameters() == []
    model = nn.Sequential(nn.Conv2D(1, 2, 3), nn.BatchNorm2D(2))
    opt = paddle.optimizer.Momentum(learning_rate=0.1, parameters=model.parameters())
    assert opt.flat_parameters().size == 2 * 9 + 2 + 2 + 2  # conv weight + bias, BN weight + bias


def test_batch_norm_layers_check_their_input_before_touching_statistics():
    bn = nn.BatchNorm2D(3)
    for bad, words in [(np.zeros((2, 4, 5, 5), np.float32), "4 channels"), (np.zeros((2, 3, 5), np.float32), "4-D")]:
        with pytest.raises(ValueError, match=words):
            bn(Tensor(bad))
        np.testing.assert_array_equal(bn._mean.numpy(), np.zeros(3))
    with pytest.raises(ValueError, match="2-D or 3-D"):
        nn.BatchNorm1D(3)(Tensor(np.zeros((2, 3, 4, 4), np.float32)))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm2D(3, momentum=1.5)
    with pytest.raises(ValueError, match="data_format"):
        nn.BatchNorm2D(3, data_format="NCL")
    with pytest.raises(TypeError, match="num_features"):
        nn.BatchNorm1D(3.0)
    with pytest.raises(ValueError, match="running_var must have shape"):
        F.batch_norm(Tensor(np.zeros((2, 3, 4), np.float32)), Tensor(np.zeros(3, np.float32)),
                     Tensor(np.ones(2, np.float32)), data_format="NCL")
    # Paddle 3.3.1 refuses a float64 input to a float32 layer (weight and bias must have x's dtype) and takes
    # running statistics of another float dtype; lasandbox had normalised it in float64.
    x64 = np.zeros((2, 3, 2, 2), np.float64)
    with pytest.raises(TypeError, match="weight must have x's dtype float64"):
        bn(Tensor(x64))
    np.testing.assert_array_equal(bn._mean.numpy(), np.zeros(3))
    stats32 = Tensor(np.zeros(3, np.float32)), Tensor(np.ones(3, np.float32))
    assert F.batch_norm(Tensor(x64), *stats32, training=True).dtype == np.float64
    with pytest.raises(TypeError, match="bias must have x's dtype"):
        F.batch_norm(Tensor(x64), *stats32, bias=Tensor(np.zeros(3, np.float32)))


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1D, (1, 3)), (nn.BatchNorm1D, (1, 3, 1)),
                                          (nn.BatchNorm2D, (1, 3, 1, 1))])
def test_one_value_per_channel_in_training_is_passed_through_as_paddle_does(layer, shape):
    """Paddle's kernel: y = x, dx = dy, zero weight/bias gradients, running statistics kept (paddle_cnn.npz too)."""
    bn = layer(3)
    bn.bias.set_value(np.array([0.1, 0.2, 0.3], np.float32))
    x = Tensor(np.array([0.5, -1.0, 2.0], np.float32).reshape(shape), stop_gradient=False)
    y = bn(x)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    assert y.numpy() is not x.numpy()
    dout = np.array([1.0, 2.0, 3.0], np.float32).reshape(shape)
    y.backward(Tensor(dout))
    np.testing.assert_array_equal(x.grad.numpy(), dout)
    np.testing.assert_array_equal(bn.weight.grad.numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn.bias.grad.numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn._mean.numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn._variance.numpy(), np.ones(3))
    two = layer(3)(Tensor(np.concatenate([x.numpy(), x.numpy() + 1])))  # two values: normalised as usual
    np.testing.assert_allclose(two.numpy().reshape(2, 3), [[-1] * 3, [1] * 3], atol=1e-4)


@pytest.mark.parametrize("layer, shape, kwargs", [(nn.BatchNorm1D, (0, 3), {}), (nn.BatchNorm1D, (0, 3, 4), {}),
                                                  (nn.BatchNorm2D, (0, 3, 2, 2), {}),
                                                  (nn.BatchNorm2D, (0, 2, 2, 3), {"data_format": "NHWC"}),
                                                  (nn.BatchNorm2D, (0, 3, 2, 2), {"use_global_stats": False})])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_empty_batch_gives_an_empty_output_and_keeps_the_statistics(layer, shape, kwargs, mode):
    """Paddle returns an empty output, keeps the running statistics and gives zero weight/bias gradients."""
    bn = layer(3, **kwargs)
    bn.train() if mode == "train" else bn.eval()
    x = Tensor(np.zeros(shape, np.float32), stop_gradient=False)
    y = bn(x)
    assert y.shape == list(shape)
    y.sum().backward()
    assert x.grad.shape == list(shape)
    np.testing.assert_array_equal(bn.weight.grad.numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn.bias.grad.numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn._mean.numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn._variance.numpy(), np.ones(3))


def test_dropout2d_drops_whole_channels():
    paddle.seed(0)
    x = Tensor(np.ones((64, 8, 3, 3), np.float32), stop_gradient=False)
    drop = nn.Dropout2D(p=0.25)
    y = drop(x).numpy()
    per_channel = y.reshape(64, 8, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == np.float32(1 / 0.75)).all(axis=2))
    assert 0.15 < (per_channel[:, :, 0] == 0).mean() < 0.35
    def same_mask_each_call(x):
        paddle.seed(1)
        return F.dropout2d(x, 0.5)

    assert gradcheck(same_mask_each_call, [np.ones((2, 3, 2, 2))])
    drop.eval()
    assert drop(x) is x
    nhwc = F.dropout2d(Tensor(np.ones((16, 3, 3, 8), np.float32)), 0.5, data_format="NHWC").numpy()
    assert np.all((nhwc == 0).all(axis=(1, 2)) | (nhwc == 2).all(axis=(1, 2)))
    assert np.all(F.dropout2d(x, 1.0).numpy() == 0)
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout2D(1.5)
    with pytest.raises(ValueError, match="4-D input"):
        F.dropout2d(Tensor(np.ones((2, 3, 4), np.float32)))
