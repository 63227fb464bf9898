"""Numbers against PaddlePaddle 3.3.1: each probe of probes.py, run here, matches what Paddle recorded.

Source: the probes are written for this suite (Paddle's API, fixed inputs; the optimizer ones
follow the parameter groups of test_adam_op.py / test_adamw_op.py and the optimizers' API docs);
the reference numbers come from running them on Paddle 3.3.1 (tools/record_paddle_compat.py).
"""

import numpy as np
import pytest
from probes import PROBES, TOLERANCE

import lasandbox as paddle

GAPS: dict = {}  # probe name -> why lasandbox differs (strict xfail); none at present


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=GAPS[name])) if name in GAPS else name
    for name in sorted(PROBES)])
def test_probe_matches_paddle(name, paddle_numbers):
    paddle.seed(0)
    ours = PROBES[name](paddle)
    reference = paddle_numbers[name]
    assert sorted(ours) == sorted(reference)
    rtol = TOLERANCE[name]
    for key, expected in reference.items():
        got = np.asarray(ours[key])
        assert got.shape == expected.shape, f"{name}/{key}: shape {got.shape} vs Paddle's {expected.shape}"
        # float32 results: equal to float32 rounding, measured against the array's largest value
        # (where Paddle's kernel cancels, e.g. 1 + erf(x) at x = -4, the relative error of one element is large).
        atol = 0.1 * rtol * float(np.abs(expected).max(initial=0.0))
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=f"{name}/{key}")
