"""Bad arguments a review found answered by a library's own message (numpy's broadcast error, 'int object is
not iterable', a RecursionError): each now names the argument."""

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import landscape
from lasandbox.training import mlp


def test_load_names_a_path_of_the_wrong_type():
    with pytest.raises(TypeError, match="path must be a file path or a binary file object, got NoneType"):
        paddle.load(None)


def test_save_of_a_container_holding_itself_is_a_value_error(tmp_path):
    for cyclic in ({}, {"weights": np.zeros(2)}):  # the first had ended in a RecursionError
        cyclic["self"] = cyclic
        with pytest.raises(ValueError, match="holds itself|contains itself"):
            paddle.save(cyclic, tmp_path / "cyclic.pdparams")
    assert not (tmp_path / "cyclic.pdparams").exists()


def test_minimize_names_a_no_grad_set_that_is_not_a_collection():
    linear = paddle.nn.Linear(2, 2)
    opt = paddle.optimizer.SGD(0.1, parameters=linear.parameters())
    loss = paddle.mean(linear(paddle.ones([1, 2])))
    loss.backward()
    before = linear.weight.numpy().copy()
    for bad in (5, linear.weight):
        with pytest.raises(TypeError, match="no_grad_set must be a set"):
            opt.minimize(loss, no_grad_set=bad)
    np.testing.assert_array_equal(linear.weight.numpy(), before)


def test_linear_names_a_bias_of_the_wrong_size():
    weight = paddle.ones([2, 3])
    with pytest.raises(ValueError, match=r"bias has shape \[2\], the weight \[2, 3\] needs \[3\]"):
        paddle.nn.functional.linear(paddle.ones([1, 2]), weight, paddle.ones([2]))


def test_grid_names_a_bad_extent_and_inputs_of_the_wrong_width():
    model = mlp([4, 3, 2])
    layout = landscape.ParameterLayout.from_model(model)
    plane = landscape.Plane.filter_normalised(layout, layout.flatten())
    x, y = np.ones((5, 4), np.float32), np.zeros(5, np.int64)
    with pytest.raises(TypeError, match="extent must be"):
        landscape.evaluate_grid(model, plane, x, y, extent=None, resolution=2, show_progress=False)
    with pytest.raises(ValueError, match=r"x must be \[samples, 4\]"):
        landscape.evaluate_grid(model, plane, x[:, :3], y, resolution=2, method="batched", show_progress=False)
