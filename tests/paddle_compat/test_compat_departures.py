"""lasandbox's deliberate departures from PaddlePaddle 3.3.1, against Paddle's recorded numbers.

Each case of departures.py ran on Paddle 3.3.1 (tools/record_paddle_compat.py writes
tests/fixtures/paddle_departures.json) and runs here; each test checks both halves of what the README
says: what Paddle does (from its numbers) and what lasandbox does instead.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from departures import CASES

import lasandbox as paddle

RECORDED = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "paddle_departures.json").read_text())


def _both(name):
    paddle.seed(0)
    return RECORDED["cases"][name], CASES[name](paddle)


def test_the_recording_is_paddle_3_3_1_and_covers_every_case():
    assert RECORDED["meta"]["paddle_version"] == "3.3.1"
    assert sorted(RECORDED["cases"]) == sorted(CASES)


def test_rescale_grad_scales_the_gradient_where_paddles_cpu_kernel_ignores_it():
    theirs, ours = _both("momentum_rescale_grad")
    assert theirs["rescaled"] == theirs["plain"]  # Paddle's CPU kernel: as if rescale_grad were 1
    np.testing.assert_allclose(ours["rescaled"], theirs["half_gradient"], rtol=1e-6)  # the documented meaning
    np.testing.assert_allclose(ours["plain"], theirs["plain"], rtol=1e-6)


def test_minimize_honours_no_grad_set_where_paddles_eager_mode_ignores_it():
    theirs, ours = _both("minimize_no_grad_set")
    assert theirs["bias"] == pytest.approx([0.9]) and ours["bias"] == [1.0]
    np.testing.assert_allclose(ours["weight"], theirs["weight"], rtol=1e-6)


def test_a_parameter_first_stepped_late_starts_its_slow_copy_from_its_fast_value():
    theirs, ours = _both("lookahead_parameter_first_stepped_late")
    # b moves from step 4 on (SGD 0.1): fast 0.9 at step 4, a sync (k=2) then.
    assert theirs["b"][3] == pytest.approx(0.45)  # Paddle: slow copy of zeros, so the sync halves it
    assert ours["b"][3] == pytest.approx(0.95)  # lasandbox: the slow copy was b's value, 1.0
    assert ours["b"][:3] == theirs["b"][:3] == [1.0, 1.0, 1.0]


def test_lookahead_get_lr_is_the_inner_optimizers_rate_not_alpha():
    theirs, ours = _both("lookahead_get_lr")
    assert theirs["get_lr"] == pytest.approx(0.2) and ours["get_lr"] == pytest.approx(0.1)


def test_batch_norm_statistics_are_buffers_not_parameters():
    theirs, ours = _both("batch_norm_statistics")
    assert (theirs["parameters"], theirs["buffers"]) == (4, 0)
    assert (ours["parameters"], ours["buffers"]) == (2, 2)
    assert ours["state_dict"] == theirs["state_dict"] == 4  # the same state_dict keys either way


def test_max_pool_same_with_a_mask_is_the_same_pooling_as_without():
    theirs, ours = _both("max_pool_same_with_mask")
    assert len(theirs["with_mask"]) == 4 and len(theirs["without_mask"]) == 9  # Paddle 3.3.1's mismatch
    assert ours["with_mask"] == ours["without_mask"] == theirs["without_mask"]
    values = np.arange(25, dtype=np.float32).reshape(5, 5)[::-1].ravel()  # the rows reversed, as the case builds it
    assert values[np.array(ours["mask"], dtype=int)].tolist() == ours["with_mask"]  # the mask points at them


def test_max_pool1d_same_with_a_mask_is_the_same_pooling_as_without():
    theirs, ours = _both("max_pool1d_same_with_mask")
    assert len(theirs["with_mask"]) == 4 and len(theirs["without_mask"]) == 5  # the 2-D case's mismatch, in 1-D
    assert ours["with_mask"] == ours["without_mask"] == theirs["without_mask"]
    values = np.arange(9, dtype=np.float32)[::-1]
    assert values[np.array(ours["mask"], dtype=int)].tolist() == ours["with_mask"]


def test_batch_norm_with_weight_or_bias_alone_trains_the_one_it_has():
    theirs, ours = _both("batch_norm_half_affine_gradient")
    # Paddle: the remaining parameter is trainable but gets no gradient; with both, the gradients below.
    assert theirs["bias_without_weight/bias"] is None and theirs["weight_without_bias/weight"] is None
    np.testing.assert_allclose(ours["weight_and_bias/weight"], theirs["weight_and_bias/weight"], rtol=1e-5)
    np.testing.assert_allclose(ours["weight_and_bias/bias"], theirs["weight_and_bias/bias"], rtol=1e-5)
    # lasandbox: the same gradient each would get beside the other (weight 1 and bias 0 change neither).
    np.testing.assert_allclose(ours["bias_without_weight/bias"], theirs["weight_and_bias/bias"], rtol=1e-5)
    np.testing.assert_allclose(ours["weight_without_bias/weight"], theirs["weight_and_bias/weight"], rtol=1e-5)


def test_an_empty_max_pool_window_sends_its_gradient_nowhere():
    theirs, ours = _both("max_pool_mask_of_an_empty_window")
    assert ours["mask"] == theirs["mask"] and theirs["mask"][6:] == [-1.0] * 6  # plane 1 is all -inf
    plane = 4 * 5
    assert theirs["grad"][plane - 1] == 6.0  # Paddle: plane 1's six gradients land on plane 0's last element
    assert ours["grad"][plane - 1] == 0.0 and ours["grad"][plane:] == [0.0] * plane
    assert ours["grad"][:plane - 1] == theirs["grad"][:plane - 1]
