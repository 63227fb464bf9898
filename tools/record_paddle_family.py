"""Record Paddle's optimizer family (every ``paddle.optimizer`` class beyond SGD/Momentum/Adam/AdamW,
LBFGS aside) alone and inside ``paddle.incubate.LookAhead``, for lasandbox's tests.

Run by hand, once, in an environment that has Paddle (the tests only read the fixture)::

    python3 -m venv /tmp/paddle-venv && /tmp/paddle-venv/bin/pip install paddlepaddle==3.3.1 numpy
    /tmp/paddle-venv/bin/python tools/record_paddle_family.py

It writes ``tests/fixtures/paddle_family.npz``. The data, initial weights, model
(the MLP 8-16-4 of ``record_paddle_reference.py``) and loss are those of the
LookAhead fixture; each configuration of ``FAMILY`` runs alone and inside
``LookAhead`` at each ``WRAPPERS`` setting, through ``step()`` and ``minimize()``.
The configurations are stored in the fixture's ``meta`` as the exact keyword
arguments, which the test passes to lasandbox's class of the same name.
``"exclude_from_weight_decay_fn": "1-D parameters"`` stands for
``lambda p: len(p.shape) == 1`` (biases), called with the parameter as Paddle does.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import paddle

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record_paddle_reference import STEPS, build_model, make_data, make_init, snapshot  # noqa: E402

MODEL = "mlp"
EXCLUDE_1D = "1-D parameters"

# key -> (class name in paddle.optimizer, keyword arguments besides parameters)
FAMILY = {
    "adagrad": ("Adagrad", {"learning_rate": 0.1}),
    "adagrad_init_l2": ("Adagrad", {"learning_rate": 0.1, "epsilon": 1e-3, "initial_accumulator_value": 0.1,
                                    "weight_decay": 0.01}),
    "adadelta": ("Adadelta", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-2}),
    "adadelta_l2": ("Adadelta", {"learning_rate": 0.5, "weight_decay": 0.01}),
    "adamax": ("Adamax", {"learning_rate": 0.01}),
    "adamax_l2": ("Adamax", {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-3,
                             "weight_decay": 0.01}),
    "rmsprop": ("RMSProp", {"learning_rate": 0.01}),
    "rmsprop_momentum": ("RMSProp", {"learning_rate": 0.01, "momentum": 0.9}),
    "rmsprop_centered_l2": ("RMSProp", {"learning_rate": 0.01, "rho": 0.9, "momentum": 0.5, "centered": True,
                                        "weight_decay": 0.01}),
    "lamb": ("Lamb", {"learning_rate": 0.01}),
    "lamb_exclude": ("Lamb", {"learning_rate": 0.01, "lamb_weight_decay": 0.1,
                              "exclude_from_weight_decay_fn": EXCLUDE_1D}),
    "lamb_always_adapt": ("Lamb", {"learning_rate": 0.01, "lamb_weight_decay": 0.0, "always_adapt": True}),
    "nadam": ("NAdam", {"learning_rate": 0.01}),
    "nadam_l2": ("NAdam", {"learning_rate": 0.01, "momentum_decay": 0.1, "beta1": 0.8, "weight_decay": 0.01}),
    "radam": ("RAdam", {"learning_rate": 0.01}),
    "radam_l2": ("RAdam", {"learning_rate": 0.01, "beta2": 0.9, "weight_decay": 0.01}),
    "asgd": ("ASGD", {"learning_rate": 0.1, "batch_num": 3}),
    "asgd_l2": ("ASGD", {"learning_rate": 0.1, "batch_num": 1, "weight_decay": 0.01}),
    "rprop": ("Rprop", {"learning_rate": 0.01}),
    "rprop_range": ("Rprop", {"learning_rate": 0.05, "learning_rate_range": [0.02, 0.3], "etas": [0.3, 1.5]}),
}
WRAPPERS = {"alone": None, "la0.5k3": (0.5, 3), "la0.8k5": (0.8, 5)}
APIS = ("step", "minimize")


def optimizer_kwargs(kwargs: dict) -> dict:
    """The keyword arguments with the placeholder for the exclusion function replaced by the function."""
    out = dict(kwargs)
    if out.get("exclude_from_weight_decay_fn") == EXCLUDE_1D:
        out["exclude_from_weight_decay_fn"] = lambda p: len(p.shape) == 1
    for key in ("learning_rate_range", "etas"):
        if key in out:
            out[key] = tuple(out[key])
    return out


def train(key, wrapper, api, data, init):
    net = build_model(MODEL, init[MODEL])
    cls_name, kwargs = FAMILY[key]
    optimizer = getattr(paddle.optimizer, cls_name)(parameters=net.parameters(), **optimizer_kwargs(kwargs))
    if WRAPPERS[wrapper] is not None:
        alpha, k = WRAPPERS[wrapper]
        optimizer = paddle.incubate.LookAhead(optimizer, alpha=alpha, k=k)
    loss_fn = paddle.nn.CrossEntropyLoss()
    xs, ys = data
    losses = np.zeros(STEPS, dtype=np.float64)
    for t in range(STEPS):
        loss = loss_fn(net(paddle.to_tensor(xs[t])), paddle.to_tensor(ys[t]))
        losses[t] = float(np.asarray(loss.numpy()).reshape(()))
        loss.backward()
        if api == "step":
            optimizer.step()
        else:
            optimizer.minimize(loss)
        optimizer.clear_grad()
    return {"losses": losses, **{f"final/{name}": value for name, value in snapshot(net).items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "paddle_family.npz"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    paddle.set_device("cpu")
    data, init = make_data(), make_init()
    arrays = {"data/x": data[0], "data/y": data[1]}
    arrays.update({f"init/{MODEL}/{name}": value for name, value in init[MODEL].items()})
    runs = [(key, wrapper, api) for key in FAMILY for wrapper in WRAPPERS for api in APIS]
    for key, wrapper, api in runs:
        for name, value in train(key, wrapper, api, data, init).items():
            arrays[f"runs/{key}/{wrapper}/{api}/{name}"] = value
    meta = {
        "paddle_version": paddle.__version__, "numpy_version": np.__version__,
        "python_version": sys.version.split()[0], "platform": platform.platform(), "device": "cpu",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "model": MODEL, "steps": STEPS, "family": FAMILY, "wrappers": WRAPPERS, "apis": list(APIS),
        "exclude_placeholder": {EXCLUDE_1D: "lambda p: len(p.shape) == 1"}, "n_runs": len(runs),
        "loss": "paddle.nn.CrossEntropyLoss() defaults; the data and init of paddle_lookahead.npz",
    }
    arrays["meta"] = np.array(json.dumps(meta, indent=1, sort_keys=True))
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out}: {len(runs)} runs, {len(arrays)} arrays, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
