"""Resume across frameworks: optimizer checkpoints from Paddle 3.3.1 continued in lasandbox, and back.

Run by hand with Paddle installed (the tests only read what it writes)::

    /tmp/paddle-venv/bin/python tools/record_paddle_resume.py                  # writes the fixture
    /tmp/paddle-venv/bin/python tools/record_paddle_resume.py --check-lasandbox .venv/bin/python

Paddle -> lasandbox: for each optimizer of ``CASES``, a ``Linear(3, 2)`` (fixed
initial weights, a StepDecay schedule) takes ``BEFORE`` steps in Paddle; the model
and optimizer are saved with ``paddle.save`` into ``tests/fixtures/paddle_resume/``,
then Paddle takes ``AFTER`` more steps and the final weights go into
``expected.npz``. tests/test_paddle_resume.py loads the two files into lasandbox
and continues: it must reach Paddle's weights.

lasandbox -> Paddle (``--check-lasandbox PYTHON``): the same in reverse, run now:
lasandbox (in the given interpreter) takes the first steps and saves; Paddle loads
both files with ``set_state_dict`` and continues; the final weights are compared
with lasandbox continuing on its own. Prints one line per optimizer and exits 1 on
a mismatch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

BEFORE, AFTER = 3, 2
CASES = {  # class -> keyword arguments (besides learning_rate and parameters)
    "Adam": {"beta1": 0.8},
    "AdamW": {"weight_decay": 0.05},
    "Momentum": {"momentum": 0.9, "use_nesterov": True},
    "Adamax": {},
    "Lamb": {"lamb_weight_decay": 0.05},
    "NAdam": {},
    "RAdam": {},
    "ASGD": {"batch_num": 2},
    "Rprop": {},
    "RMSProp": {"centered": True, "momentum": 0.5},
    "Adadelta": {},
    "Adagrad": {},
}
LEARNING_RATE = 0.1
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "paddle_resume"


def data():
    rng = np.random.default_rng(7)
    weight = rng.uniform(-0.5, 0.5, (3, 2)).astype(np.float32)
    bias = rng.uniform(-0.1, 0.1, (2,)).astype(np.float32)
    xs = rng.standard_normal((BEFORE + AFTER, 4, 3)).astype(np.float32)
    return weight, bias, xs


# The training both frameworks run: the same statements with `paddle` bound to either.
TRAIN = '''
def build(paddle, cls, kwargs, weight, bias, lr):
    model = paddle.nn.Linear(3, 2)
    model.weight.set_value(weight)
    model.bias.set_value(bias)
    rate = lr if cls == "Rprop" else paddle.optimizer.lr.StepDecay(learning_rate=lr, step_size=2, gamma=0.5)
    opt = getattr(paddle.optimizer, cls)(learning_rate=rate, parameters=model.parameters(), **kwargs)
    return model, opt, rate


def steps(paddle, model, opt, rate, xs):
    for x in xs:
        loss = paddle.mean((model(paddle.to_tensor(x)) - 1.0) ** 2)
        loss.backward()
        opt.step()
        opt.clear_grad()
        if not isinstance(rate, float):
            rate.step()
'''


def _paddle():
    import paddle

    warnings.filterwarnings("ignore")
    paddle.set_device("cpu")
    return paddle


def record():
    paddle, namespace = _paddle(), {}
    exec(TRAIN, namespace)  # noqa: S102 - our own source, shared with the lasandbox side
    weight, bias, xs = data()
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {"weight": weight, "bias": bias, "xs": xs}
    for cls, kwargs in CASES.items():
        with paddle.utils.unique_name.guard():  # names linear_0.w_0 ..., as in a new process
            model, opt, rate = namespace["build"](paddle, cls, kwargs, weight, bias, LEARNING_RATE)
            namespace["steps"](paddle, model, opt, rate, xs[:BEFORE])
            paddle.save(model.state_dict(), str(OUT / f"{cls}.pdparams"))
            paddle.save(opt.state_dict(), str(OUT / f"{cls}.pdopt"))
            namespace["steps"](paddle, model, opt, rate, xs[BEFORE:])
            expected[f"{cls}/weight"], expected[f"{cls}/bias"] = model.weight.numpy(), model.bias.numpy()
    np.savez(OUT / "expected.npz", **expected)
    meta = {"paddle_version": paddle.__version__, "cases": CASES, "learning_rate": LEARNING_RATE,
            "before": BEFORE, "after": AFTER, "loss": "mean((Linear(3,2)(x) - 1)^2)",
            "schedule": "StepDecay(lr, step_size=2, gamma=0.5), stepped after every step (Rprop: a float lr)"}
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1))
    print(f"wrote {len(CASES)} Paddle checkpoints to {OUT}")


_LASANDBOX_SIDE = '''
import json, sys
import numpy as np
import lasandbox as paddle
exec(sys.argv[1])
cls, kwargs, folder = sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
weight, bias, xs = (np.load(f"{folder}/data.npz")[k] for k in ("weight", "bias", "xs"))
model, opt, rate = build(paddle, cls, kwargs, weight, bias, float(sys.argv[5]))
steps(paddle, model, opt, rate, xs[:int(sys.argv[6])])
paddle.save(model.state_dict(), f"{folder}/{cls}.pdparams")
paddle.save(opt.state_dict(), f"{folder}/{cls}.pdopt")
steps(paddle, model, opt, rate, xs[int(sys.argv[6]):])
np.savez(f"{folder}/{cls}_final.npz", weight=model.weight.numpy(), bias=model.bias.numpy())
'''


def check_lasandbox(python):
    paddle, namespace = _paddle(), {}
    exec(TRAIN, namespace)  # noqa: S102
    weight, bias, xs = data()
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        np.savez(f"{folder}/data.npz", weight=weight, bias=bias, xs=xs)
        for cls, kwargs in CASES.items():
            subprocess.run([python, "-c", _LASANDBOX_SIDE, TRAIN, cls, json.dumps(kwargs), folder,
                            str(LEARNING_RATE), str(BEFORE)], check=True)
            with paddle.utils.unique_name.guard():
                model, opt, rate = namespace["build"](paddle, cls, kwargs, weight, bias, LEARNING_RATE)
                model.set_state_dict(paddle.load(f"{folder}/{cls}.pdparams"))
                opt.set_state_dict(paddle.load(f"{folder}/{cls}.pdopt"))  # the schedule too (LR_Scheduler)
                namespace["steps"](paddle, model, opt, rate, xs[BEFORE:])
            ours = np.load(f"{folder}/{cls}_final.npz")
            diff = max(float(np.max(np.abs(model.weight.numpy() - ours["weight"]))),
                       float(np.max(np.abs(model.bias.numpy() - ours["bias"]))))
            ok = diff <= 1e-5
            failures += not ok
            print(f"  {cls:<9} lasandbox saved after {BEFORE} steps, Paddle loaded and took {AFTER} more: "
                  f"max |Paddle - lasandbox| = {diff:.2e} {'ok' if ok else 'MISMATCH'}")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-lasandbox", metavar="PYTHON", help="an interpreter with lasandbox installed")
    args = parser.parse_args(argv)
    if args.check_lasandbox:
        return 1 if check_lasandbox(args.check_lasandbox) else 0
    record()
    return 0


if __name__ == "__main__":
    sys.exit(main())
