"""Optimizer checkpoints written by Paddle 3.3.1 resume in lasandbox to Paddle's own numbers.

tests/fixtures/paddle_resume/ (tools/record_paddle_resume.py): for each optimizer,
a Linear(3, 2) with a StepDecay schedule took 3 steps in Paddle, was saved with
paddle.save (model and optimizer), and took 2 more steps; expected.npz holds the
data and the final weights. Here the two files are loaded into a fresh lasandbox
model and optimizer (accumulators by Paddle's names, step counts read back from
the beta-pow accumulators, the schedule from LR_Scheduler) and the 2 steps are
taken again. The other direction (Paddle continuing from lasandbox's files) is
checked by ``tools/record_paddle_resume.py --check-lasandbox``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lasandbox as paddle

FOLDER = Path(__file__).parent / "fixtures" / "paddle_resume"
META = json.loads((FOLDER / "meta.json").read_text())
with np.load(FOLDER / "expected.npz") as _f:
    EXPECTED = {key: _f[key] for key in _f.files}
NAMESPACE = {}
exec(Path(__file__).resolve().parents[1].joinpath("tools", "record_paddle_resume.py").read_text()  # noqa: S102
     .split("TRAIN = '''", 1)[1].split("'''", 1)[0], NAMESPACE)


@pytest.mark.parametrize("cls", list(META["cases"]))
def test_paddle_checkpoint_resumes_to_paddles_weights(cls):
    kwargs, before = META["cases"][cls], META["before"]
    model, opt, rate = NAMESPACE["build"](paddle, cls, kwargs, EXPECTED["weight"] * 0, EXPECTED["bias"] * 0,
                                          META["learning_rate"])
    assert model.set_state_dict(paddle.load(FOLDER / f"{cls}.pdparams")) == ([], [])
    opt.set_state_dict(paddle.load(FOLDER / f"{cls}.pdopt"))
    if not isinstance(rate, float):
        assert rate.last_epoch == before  # the schedule came back from LR_Scheduler
    NAMESPACE["steps"](paddle, model, opt, rate, EXPECTED["xs"][before:])
    for name in ("weight", "bias"):
        expected = EXPECTED[f"{cls}/{name}"]
        scale = max(1.0, float(np.max(np.abs(expected))))
        np.testing.assert_allclose(getattr(model, name).numpy(), expected, rtol=1e-5, atol=1e-5 * scale)


def test_step_counts_come_back_from_paddles_accumulators():
    model, opt, _ = NAMESPACE["build"](paddle, "Adam", META["cases"]["Adam"], EXPECTED["weight"], EXPECTED["bias"], 0.1)
    opt.set_state_dict(paddle.load(FOLDER / "Adam.pdopt"))
    assert opt._step_counts.tolist() == [META["before"]] * 2
    model, opt, _ = NAMESPACE["build"](paddle, "ASGD", {"batch_num": 2}, EXPECTED["weight"], EXPECTED["bias"], 0.1)
    opt.set_state_dict(paddle.load(FOLDER / "ASGD.pdopt"))
    assert opt._step_counts.tolist() == [META["before"]] * 2 and opt.state_buffer("y").shape == (2, 8)


def test_a_checkpoint_of_other_hyperparameters_is_refused_before_anything_changes():
    model, opt, _ = NAMESPACE["build"](paddle, "Adam", {"beta1": 0.5}, EXPECTED["weight"], EXPECTED["bias"], 0.1)
    with pytest.raises(ValueError, match="beta1_pow_acc"):
        opt.set_state_dict(paddle.load(FOLDER / "Adam.pdopt"))  # saved with beta1 = 0.8
    assert not opt._step_counts.any() and not opt.state_buffer("moment1").any()
