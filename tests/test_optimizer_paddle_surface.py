"""The optimizer surface beyond step(): ParamAttr settings, Tensor hyperparameters, backward /
apply_gradients, argument errors, async_save. Numbers against Paddle for these live in
tests/paddle_compat (probes optimizer/param_attr_*); these tests pin the behaviour itself."""

import os

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.serialization import MissingCheckpointError


def _param(values, attr=None):
    return paddle.create_parameter([len(values)], "float32", attr=attr,
                                   default_initializer=paddle.nn.initializer.Assign(np.array(values, "float32")))


def _sgd_step(param, opt, grad):
    opt.clear_grad()
    (param * paddle.to_tensor(np.array(grad, "float32"))).sum().backward()
    opt.step()


def test_param_attr_learning_rate_scales_the_optimizer_rate():
    w = _param([1.0, 2.0], paddle.ParamAttr(learning_rate=0.5))
    b = _param([1.0, 2.0])
    opt = paddle.optimizer.SGD(learning_rate=0.1, parameters=[w, b])
    (w.sum() + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(w.numpy(), [0.95, 1.95], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [0.9, 1.9], rtol=1e-6)


def test_param_attr_regularizer_replaces_the_optimizer_decay():
    w = _param([1.0, -2.0], paddle.ParamAttr(regularizer=paddle.regularizer.L2Decay(0.5)))
    b = _param([1.0, -2.0])
    opt = paddle.optimizer.SGD(learning_rate=0.1, parameters=[w, b], weight_decay=0.1)
    (w.sum() + b.sum()).backward()
    opt.step()
    # grad 1 + coeff*param: 0.5 for w, 0.1 for b
    np.testing.assert_allclose(w.numpy(), [1 - 0.1 * 1.5, -2 - 0.1 * 0.0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(b.numpy(), [1 - 0.1 * 1.1, -2 - 0.1 * 0.8], rtol=1e-6)


def test_decoupled_decay_keeps_its_decay_and_adds_the_regularizer_to_the_gradient():
    """AdamW: p *= 1 - lr*wd, then Adam on grad + coeff*p (what Paddle 3.3.1 does)."""
    w = _param([1.0], paddle.ParamAttr(regularizer=paddle.regularizer.L2Decay(5.0)))
    opt = paddle.optimizer.AdamW(learning_rate=0.1, parameters=[w], weight_decay=0.5)
    (w * 0.0).sum().backward()  # zero loss gradient: the step's sign comes from the regularizer alone
    opt.step()
    # decay 1 -> 0.95, then Adam's first step moves by lr against sign(grad) = sign(5*1)
    np.testing.assert_allclose(w.numpy(), [0.95 - 0.1], rtol=1e-5)


def test_group_learning_rate_replaces_param_attr_and_is_written_into_the_parameter():
    w = _param([1.0], paddle.ParamAttr(learning_rate=4.0, regularizer=paddle.regularizer.L2Decay(3.0)))
    opt = paddle.optimizer.SGD(learning_rate=0.1, parameters=[{"params": [w], "learning_rate": 0.5}])
    w.sum().backward()
    opt.step()
    # Paddle: the group's scale (0.5), not ParamAttr's (4.0), and the group's (no) decay, not L2Decay(3)
    np.testing.assert_allclose(w.numpy(), [1 - 0.05], rtol=1e-6)
    assert w.optimize_attr["learning_rate"] == 0.5


def test_a_bad_param_attr_scale_is_refused_before_anything_changes():
    w = _param([1.0], paddle.ParamAttr(learning_rate=1.0))
    w.optimize_attr["learning_rate"] = -1.0
    with pytest.raises(ValueError, match="optimize_attr"):
        paddle.optimizer.SGD(learning_rate=0.1, parameters=[w])
    assert w.optimize_attr["learning_rate"] == -1.0


def test_tensor_hyperparameters_are_read_at_every_step():
    rho = paddle.to_tensor([0.0])
    w = _param([0.0])
    opt = paddle.optimizer.Momentum(learning_rate=1.0, momentum=rho, parameters=[w])
    _sgd_step(w, opt, [1.0])
    np.testing.assert_allclose(w.numpy(), [-1.0])
    rho.set_value(np.array([1.0], "float32"))  # now velocity = 1*velocity + grad = 2
    _sgd_step(w, opt, [1.0])
    np.testing.assert_allclose(w.numpy(), [-3.0])


def _tensor_beta_adam(params):
    beta1, beta2 = paddle.to_tensor([0.8]), paddle.to_tensor([0.95])
    return paddle.optimizer.Adam(learning_rate=0.05, beta1=beta1, beta2=beta2, parameters=params), beta1, beta2


def _pow_accumulators(opt, name):
    return [float(v.numpy()[0]) for k, v in opt.state_dict().items() if name in k]


def test_tensor_betas_correct_with_paddles_running_product_and_resume_from_it():
    # Paddle 3.3.1 (recorded probe optimizer/tensor_betas_changing): a Tensor beta's pow accumulator starts
    # at 0.9 / 0.999, whatever the Tensor holds, and each step multiplies in that step's value.
    def run(steps, opt_and_betas, w, start=0):
        opt, beta1, beta2 = opt_and_betas
        for t in range(start, steps):
            beta1.set_value(np.array([0.8 - 0.1 * t], "float32"))
            beta2.set_value(np.array([0.95 + 0.01 * t], "float32"))
            _sgd_step(w, opt, [1.0, -2.0])

    w = _param([1.0, 2.0])
    whole = _tensor_beta_adam([w])
    run(4, whole, w)
    expected = np.float32(0.9)
    for t in range(4):
        expected = np.float32(expected * np.float32(0.8 - 0.1 * t))
    assert _pow_accumulators(whole[0], "beta1_pow_acc") == [float(expected)]

    w2 = _param([1.0, 2.0])
    first = _tensor_beta_adam([w2])
    run(2, first, w2)
    state = first[0].state_dict()
    resumed = _tensor_beta_adam([w2])
    resumed[0].set_state_dict(state)
    assert _pow_accumulators(resumed[0], "beta2_pow_acc") == _pow_accumulators(first[0], "beta2_pow_acc")
    run(4, resumed, w2, start=2)
    np.testing.assert_array_equal(w2.numpy(), w.numpy())


def test_a_parameter_without_gradient_keeps_its_own_running_product():
    a, b = _param([1.0]), _param([1.0])
    opt, beta1, _ = _tensor_beta_adam([a, b])
    (a * 2.0).sum().backward()  # b has no gradient: only a steps, and only a's product advances
    opt.step()
    opt.clear_grad()
    beta1.set_value(np.array([0.5], "float32"))
    ((a + b) * 2.0).sum().backward()
    opt.step()
    powers = _pow_accumulators(opt, "beta1_pow_acc")
    assert powers == [float(np.float32(np.float32(0.9 * np.float32(0.8)) * np.float32(0.5))),
                      float(np.float32(np.float32(0.9) * np.float32(0.5)))]


@pytest.mark.parametrize("stored", [np.array([0.5, 0.5], "float32"), np.array([1.0], "float32"),
                                    np.array([np.nan], "float32")], ids=["two values", "one", "nan"])
def test_a_bad_running_power_in_a_state_dict_is_refused_before_anything_changes(stored):
    w = _param([1.0, 2.0])
    opt, _, _ = _tensor_beta_adam([w])
    _sgd_step(w, opt, [1.0, -2.0])
    before = opt.state_dict()
    state = dict(before)
    key = next(k for k in state if "beta1_pow_acc" in k)
    state[key] = paddle.to_tensor(stored)
    with pytest.raises(ValueError, match="beta1_pow_acc"):
        opt.set_state_dict(state)
    after = opt.state_dict()
    assert all(np.array_equal(after[k].numpy(), before[k].numpy(), equal_nan=True) for k in before)


@pytest.mark.parametrize("stored", [0.0, -0.5, 1e-45], ids=["zero", "negative", "below the stall"])
def test_a_power_no_step_count_reaches_is_refused_quickly(stored):
    """0.9's float32 powers stall at the smallest subnormal, so 0.0 (what Adam(beta1=0.5) stores after 200
    steps) is never reached with beta1 = 0.9: refused by name, as soon as the powers stop moving (the search
    had run on toward 2^40 steps, one multiplication each, and hung)."""
    w = _param([1.0, 2.0])
    opt = paddle.optimizer.Adam(0.001, beta1=0.9, parameters=[w])
    _sgd_step(w, opt, [1.0, -2.0])
    state = dict(opt.state_dict())
    key = next(k for k in state if "beta1_pow_acc" in k)
    state[key] = paddle.to_tensor(np.array([stored], "float32"))
    with pytest.raises(ValueError, match="beta1_pow_acc.*saved with others"):
        opt.set_state_dict(state)


def test_a_negative_second_moment_is_refused_before_anything_changes():
    w = _param([1.0, 2.0])
    opt = paddle.optimizer.Adam(0.01, parameters=[w])
    _sgd_step(w, opt, [1.0, -2.0])
    before = {k: np.array(v.numpy()) for k, v in opt.state_dict().items()}
    state = dict(opt.state_dict())
    key = next(k for k in state if k.endswith("moment2_0"))
    state[key] = paddle.to_tensor(np.array([0.1, -0.5], "float32"))
    with pytest.raises(ValueError, match=f"{key}.*negative"):
        opt.set_state_dict(state)
    assert all(np.array_equal(v.numpy(), before[k]) for k, v in opt.state_dict().items())


def test_a_refused_scheduler_state_leaves_the_optimizer_as_it_was():
    w = _param([1.0, 2.0])
    opt = paddle.optimizer.Adam(learning_rate=paddle.optimizer.lr.StepDecay(0.1, step_size=1), parameters=[w])
    _sgd_step(w, opt, [1.0, -2.0])
    saved = opt.state_dict()
    _sgd_step(w, opt, [1.0, -2.0])
    before = {k: np.array(v.numpy()) for k, v in opt.state_dict().items() if k != "LR_Scheduler"}
    with pytest.raises(KeyError, match="scheduler state_dict is missing"):
        opt.set_state_dict(dict(saved, LR_Scheduler={}))
    after = {k: np.array(v.numpy()) for k, v in opt.state_dict().items() if k != "LR_Scheduler"}
    assert all(np.array_equal(after[k], before[k]) for k in before)


def test_tensor_hyperparameters_must_hold_one_value():
    w = _param([0.0])
    with pytest.raises(ValueError, match="one value"):
        paddle.optimizer.Adam(learning_rate=0.1, beta1=paddle.to_tensor([0.9, 0.8]), parameters=[w])


@pytest.mark.parametrize("make", [lambda p: paddle.optimizer.SGD(learning_rate=None, parameters=p),
                                  lambda p: paddle.optimizer.Momentum(learning_rate=0.1, momentum=None, parameters=p)])
def test_unset_hyperparameters_are_value_errors(make):
    with pytest.raises(ValueError, match="not set"):
        make([_param([0.0])])


def test_an_int_learning_rate_is_a_type_error_as_in_paddle():
    with pytest.raises(TypeError, match="float or LRScheduler"):
        paddle.optimizer.SGD(learning_rate=1, parameters=[_param([0.0])])


def test_backward_then_apply_gradients_is_minimize():
    w1, w2, idle = _param([1.0, 2.0]), _param([1.0, 2.0]), _param([5.0])
    opt1 = paddle.optimizer.Adam(learning_rate=0.1, parameters=[w1, idle])
    opt2 = paddle.optimizer.Adam(learning_rate=0.1, parameters=[w2])
    loss1, loss2 = (w1 * w1).sum(), (w2 * w2).sum()
    assert opt1.backward(loss1) == []  # as Paddle's dygraph backward: no autodiff, and no gradients yet
    loss1.backward()
    pairs = opt1.backward(loss1)
    assert [p is w1 for p, _ in pairs] == [True]  # idle has no gradient
    opt1.apply_gradients(pairs)
    loss2.backward()
    opt2.minimize(loss2)
    np.testing.assert_array_equal(w1.numpy(), w2.numpy())
    assert idle.numpy().tolist() == [5.0]


def test_apply_gradients_takes_gradients_from_elsewhere():
    w = _param([1.0, 2.0])
    opt = paddle.optimizer.SGD(learning_rate=0.5, parameters=[w])
    opt.apply_gradients([(w, paddle.to_tensor([2.0, -2.0]))])
    np.testing.assert_allclose(w.numpy(), [0.0, 3.0])
    with pytest.raises(ValueError, match="not a parameter"):
        opt.apply_gradients([(_param([0.0]), paddle.to_tensor([1.0]))])


def test_apply_gradients_checks_every_pair_before_writing_any():
    w, v = _param([1.0, 2.0]), _param([3.0])
    opt = paddle.optimizer.SGD(learning_rate=0.5, parameters=[w, v])
    for bad in ([(w, paddle.to_tensor([7.0, 7.0])), (_param([0.0]), paddle.to_tensor([1.0]))],
                [(w, paddle.to_tensor([7.0, 7.0])), (v, paddle.to_tensor(5.0))],  # a scalar would broadcast
                [(w, paddle.to_tensor([7.0]))]):
        with pytest.raises(ValueError, match="not a parameter|shape"):
            opt.apply_gradients(bad)
        assert w.grad is None and v.grad is None
        np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])


def test_opti_var_names_are_the_state_dict_keys():
    w = _param([1.0])
    opt = paddle.optimizer.Adam(learning_rate=0.1, parameters=[w])
    w.sum().backward()
    opt.step()
    names = opt.get_opti_var_name_list()
    assert sorted(names) == sorted(k for k in opt.state_dict() if k != "LR_Scheduler")
    assert any("moment1" in n for n in names)


def test_create_parameter_names_like_paddle():
    p = paddle.create_parameter([2, 3], "float32")
    assert p.shape == [2, 3] and p.name.startswith("create_parameter_") and p.name.endswith(".w_0")
    assert paddle.create_parameter([1], "float32", name="mine").name == "mine"
    assert paddle.create_parameter([3], "float32", is_bias=True).numpy().tolist() == [0, 0, 0]


# ------------------------------------------------------------------------------ serialization
def test_async_save_snapshots_the_values_when_called(tmp_path):
    w = paddle.to_tensor([1.0, 2.0])
    path = tmp_path / "a.pdparams"
    paddle.async_save({"w": w}, str(path))
    w.set_value(np.array([9.0, 9.0], "float32"))  # training goes on while the file is written
    paddle.clear_async_save_task_queue()
    np.testing.assert_array_equal(paddle.load(str(path))["w"].numpy(), [1.0, 2.0])


def test_async_save_refuses_what_paddle_refuses_and_reports_write_errors(tmp_path):
    with pytest.raises(TypeError, match="dict"):
        paddle.async_save([1, 2], str(tmp_path / "x"))
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    paddle.async_save({"a": 1}, str(blocked / "inside.pd"))  # its folder is a file: the write fails
    with pytest.raises(OSError):
        paddle.clear_async_save_task_queue()
    paddle.clear_async_save_task_queue()  # the error is reported once


def test_save_and_load_argument_errors_are_also_value_errors(tmp_path):
    for call in (lambda: paddle.save({"a": 1}, 3), lambda: paddle.save({"a": 1}, str(tmp_path / "f"), protocol=2.0),
                 lambda: paddle.save(paddle.nn.Linear(1, 1), str(tmp_path / "f"))):
        with pytest.raises(TypeError) as err:
            call()
        assert isinstance(err.value, ValueError)
    with pytest.raises(MissingCheckpointError) as err:
        paddle.load(os.path.join(tmp_path, "missing"))
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, ValueError)
