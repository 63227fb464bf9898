"""Record reference numbers from real PaddlePaddle for lasandbox's tests.

This script is run by hand, once, in a separate environment that has Paddle;
lasandbox's test suite only reads the fixture it writes and never imports Paddle.

How to run (from the repository root)::

    python3 -m venv /tmp/paddle-venv
    /tmp/paddle-venv/bin/pip install paddlepaddle==3.3.1 numpy
    /tmp/paddle-venv/bin/python tools/record_paddle_reference.py

It writes ``tests/fixtures/paddle_lookahead.npz`` (``--out`` picks another path).
The format of that file is described in ``tests/fixtures/README.md``.

What it records: a grid of small training runs in Paddle's dygraph (eager) mode
on CPU -- two models (``linear``, ``mlp``), several inner optimizers, wrapped in
``paddle.incubate.LookAhead`` for every (alpha, k) in the grid, driven through
both ``step()`` and ``minimize()`` -- plus each inner optimizer on its own.
Data and initial weights come from fixed NumPy generators and are stored in the
fixture, so another framework can start from exactly the same values.
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

STEPS = 13
BATCH = 6
IN_FEATURES = 8
HIDDEN = 16
N_CLASSES = 4
DATA_SEED = 1234
INIT_SEED = 4321

ALPHAS = (0.0, 0.2, 0.5, 1.0)
KS = (1, 3, 5)
APIS = ("step", "minimize")
MODELS = ("linear", "mlp")
MAIN_OPTS = ("sgd", "momentum", "adam", "adamw")
EXTRA_OPTS = ("momentum_nesterov_l2", "adam_l2", "sgd_l2")
EXTRA_ALPHA, EXTRA_K = 0.5, 3
TRACE_RUN = ("mlp", "momentum", 0.5, 3, "step")
MINIMIZE_PROBE = ("mlp", "momentum", 0.5, 3)

# Exact constructor arguments; Adam/AdamW defaults spelled out for the record.
OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.1}),
    "momentum": ("Momentum", {"learning_rate": 0.1, "momentum": 0.9}),
    "adam": ("Adam", {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}),
    "adamw": (
        "AdamW",
        {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weight_decay": 0.01},
    ),
    "momentum_nesterov_l2": (
        "Momentum",
        {"learning_rate": 0.1, "momentum": 0.9, "use_nesterov": True, "weight_decay": 0.001},
    ),
    "adam_l2": (
        "Adam",
        {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weight_decay": 0.001},
    ),
    "sgd_l2": ("SGD", {"learning_rate": 0.1, "weight_decay": 0.001}),
}

WEIGHT_DECAY_NOTES = {
    "sgd_l2": "float weight_decay -> L2Decay regulariser in the Optimizer base class: "
    "grad' = grad + wd * param (added before the SGD kernel); p -= lr * grad'",
    "adam_l2": "float weight_decay -> L2Decay regulariser in the Optimizer base class: "
    "grad' = grad + wd * param, then the ordinary Adam update on grad' (coupled L2, not AdamW)",
    "momentum_nesterov_l2": "float weight_decay -> fused into the momentum kernel "
    "(regularization_method='l2_decay'): grad' = grad + wd * param; v = mu*v + grad'; "
    "nesterov: p -= lr * (grad' + mu * v)",
    "adamw": "decoupled, inside the adamw kernel, before the Adam step: "
    "p' = p - lr * wd * p (lr = the plain learning rate, not bias-corrected); "
    "then p_out = p' - lr_t * m / (sqrt(v) + eps_t); the gradient is NOT modified "
    "(AdamW sets self.regularization = None); Paddle's AdamW default weight_decay is 0.01",
}


LOOKAHEAD_NOTES = [
    "step(): inner_optimizer.step() first, then the int32 step counter is incremented (0 -> 1 on the "
    "first call), then the sync rule runs with that counter value t",
    "slow weights are accumulators filled with 0.0, created lazily; when t == 1 they are set to the fast "
    "weights AFTER the first inner update (a param whose grad first appears at t > 1 keeps slow = 0)",
    "when t % k == 0: slow = alpha * fast + (1 - alpha) * slow, with float32(alpha) and "
    "float32(1 - alpha); then fast = slow",
    "only params with stop_gradient False and a grad (not None) are updated and synced",
    "minimize(loss) = inner_optimizer.minimize(loss) (which in eager mode reads the existing .grad, it does "
    "not run backward), then the same counter/sync; returns the inner (optimize_ops, params_grads)",
    "state_dict() holds only the slow weights ('<param>_slow_0'); not the counter, not the inner state",
    "alpha=1.0 reproduces the inner optimizer bitwise; alpha outside [0, 1] or k not a positive int "
    "raise AssertionError in Paddle",
]


def alpha_key(alpha: float | None) -> str:
    """Return the fixture key for an alpha value: ``a0.2``, or ``a_none`` for inner-only runs."""
    return "a_none" if alpha is None else f"a{alpha}"


def k_key(k: int | None) -> str:
    """Return the fixture key for a k value: ``k3``, or ``k_none`` for inner-only runs."""
    return "k_none" if k is None else f"k{k}"


def run_prefix(model: str, opt: str, alpha: float | None, k: int | None, api: str) -> str:
    """Return the key prefix ``runs/<model>/<opt>/<alpha>/<k>/<api>`` of one run."""
    return f"runs/{model}/{opt}/{alpha_key(alpha)}/{k_key(k)}/{api}"


def make_data() -> tuple[np.ndarray, np.ndarray]:
    """Draw the batches: x float32 [STEPS, BATCH, 8] ~ N(0,1), then y int64 [STEPS, BATCH, 1] in [0, 4)."""
    rng = np.random.default_rng(DATA_SEED)
    x = rng.standard_normal((STEPS, BATCH, IN_FEATURES)).astype(np.float32)
    y = rng.integers(0, N_CLASSES, size=(STEPS, BATCH, 1)).astype(np.int64)
    return x, y


def param_shapes(model: str) -> dict[str, tuple[int, ...]]:
    """Return ``{param_name: shape}`` of a model, in Paddle's ``named_parameters()`` order."""
    if model == "linear":
        return {"weight": (IN_FEATURES, N_CLASSES), "bias": (N_CLASSES,)}
    return {
        "0.weight": (IN_FEATURES, HIDDEN),
        "0.bias": (HIDDEN,),
        "2.weight": (HIDDEN, N_CLASSES),
        "2.bias": (N_CLASSES,),
    }


def make_init() -> dict[str, dict[str, np.ndarray]]:
    """Draw initial weights from one generator: for ``linear`` then ``mlp``, each parameter in
    ``named_parameters()`` order, weights ~ U(-0.5, 0.5) and biases ~ U(-0.1, 0.1), as float32."""
    rng = np.random.default_rng(INIT_SEED)
    init: dict[str, dict[str, np.ndarray]] = {}
    for model in MODELS:
        init[model] = {}
        for name, shape in param_shapes(model).items():
            bound = 0.1 if name.endswith("bias") else 0.5
            init[model][name] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
    return init


def build_model(model: str, init: dict[str, np.ndarray]) -> paddle.nn.Layer:
    """Build a fresh Paddle model and overwrite every parameter with the stored initial values."""
    if model == "linear":
        net = paddle.nn.Linear(IN_FEATURES, N_CLASSES)
    else:
        net = paddle.nn.Sequential(
            paddle.nn.Linear(IN_FEATURES, HIDDEN),
            paddle.nn.ReLU(),
            paddle.nn.Linear(HIDDEN, N_CLASSES),
        )
    names = [name for name, _ in net.named_parameters()]
    if names != list(param_shapes(model)):
        raise RuntimeError(f"unexpected parameter names for {model}: {names}")
    for name, param in net.named_parameters():
        param.set_value(init[name])
    return net


def make_inner(opt: str, parameters: list) -> paddle.optimizer.Optimizer:
    """Construct the inner optimizer ``opt`` (a key of OPTIMIZERS) over ``parameters``."""
    cls_name, kwargs = OPTIMIZERS[opt]
    return getattr(paddle.optimizer, cls_name)(parameters=parameters, **kwargs)


def snapshot(net: paddle.nn.Layer) -> dict[str, np.ndarray]:
    """Return a copy of every parameter of ``net`` as float32 NumPy arrays, keyed by name."""
    return {name: param.numpy().astype(np.float32).copy() for name, param in net.named_parameters()}


def train(
    model: str,
    opt: str,
    alpha: float | None,
    k: int | None,
    api: str,
    data: tuple[np.ndarray, np.ndarray],
    init: dict[str, dict[str, np.ndarray]],
) -> dict[str, np.ndarray]:
    """Run STEPS training steps and return the run's arrays, keyed relative to its prefix.

    ``alpha``/``k`` of None means the inner optimizer alone (no LookAhead). Each step:
    forward, loss, ``loss.backward()``, then ``opt.step()`` or ``opt.minimize(loss)``,
    then ``opt.clear_grad()``. ``losses[t]`` is the loss before step t+1's update.
    """
    net = build_model(model, init[model])
    loss_fn = paddle.nn.CrossEntropyLoss()
    optimizer = make_inner(opt, net.parameters())
    if alpha is not None:
        optimizer = paddle.incubate.LookAhead(optimizer, alpha=alpha, k=k)
    xs, ys = data
    losses = np.zeros(STEPS, dtype=np.float64)
    trace: dict[str, list[np.ndarray]] = {name: [] for name in param_shapes(model)}
    for t in range(STEPS):
        loss = loss_fn(net(paddle.to_tensor(xs[t])), paddle.to_tensor(ys[t]))
        losses[t] = float(np.asarray(loss.numpy()).reshape(()))
        loss.backward()
        if api == "step":
            optimizer.step()
        else:
            optimizer.minimize(loss)
        optimizer.clear_grad()
        for name, value in snapshot(net).items():
            trace[name].append(value)
    out: dict[str, np.ndarray] = {"losses": losses}
    for name, values in trace.items():
        out[f"final/{name}"] = values[-1]
        if (model, opt, alpha, k, api) == TRACE_RUN:
            out[f"trace/{name}"] = np.stack(values)
    return out


def grid() -> list[tuple[str, str, float | None, int | None, str]]:
    """List every run as ``(model, opt, alpha, k, api)``: the main grid, the extra
    variants at (alpha=0.5, k=3), and each inner optimizer alone through ``step``."""
    runs = []
    for model in MODELS:
        for opt in MAIN_OPTS:
            for alpha in ALPHAS:
                for k in KS:
                    for api in APIS:
                        runs.append((model, opt, alpha, k, api))
        for opt in EXTRA_OPTS:
            for api in APIS:
                runs.append((model, opt, EXTRA_ALPHA, EXTRA_K, api))
        for opt in MAIN_OPTS + EXTRA_OPTS:
            runs.append((model, opt, None, None, "step"))
    return runs


def describe_state_dict(state: dict, by_tensor_name: dict[str, str]) -> list[str]:
    """Rename ``state_dict`` keys from Paddle's generated tensor names to ``<param_name>:<suffix>``."""
    described = []
    for key in state:
        for tensor_name, name in by_tensor_name.items():
            if key.startswith(tensor_name + "_"):
                described.append(f"{name}:{key[len(tensor_name) + 1 :]}")
                break
        else:
            described.append(key)
    return sorted(described)


def probe_minimize(data: tuple[np.ndarray, np.ndarray], init: dict[str, dict[str, np.ndarray]]) -> dict:
    """Call ``LookAhead.minimize`` once (after ``loss.backward()``) and describe what it returns."""
    model, opt, alpha, k = MINIMIZE_PROBE
    net = build_model(model, init[model])
    by_tensor_name = {param.name: name for name, param in net.named_parameters()}
    lookahead = paddle.incubate.LookAhead(make_inner(opt, net.parameters()), alpha=alpha, k=k)
    xs, ys = data
    loss = paddle.nn.CrossEntropyLoss()(net(paddle.to_tensor(xs[0])), paddle.to_tensor(ys[0]))
    loss.backward()
    optimize_ops, params_grads = lookahead.minimize(loss)
    return {
        "config": {"model": model, "opt": opt, "alpha": alpha, "k": k},
        "return_type": type((optimize_ops, params_grads)).__name__,
        "optimize_ops_type": type(optimize_ops).__name__,
        "len_optimize_ops": len(optimize_ops),
        "len_params_grads": len(params_grads),
        "params_grads_order": [by_tensor_name[p.name] for p, _ in params_grads],
        "params_grads_pair_type": type(params_grads[0]).__name__,
        "state_dict_keys_after_one_step": describe_state_dict(lookahead.state_dict(), by_tensor_name),
    }


def build_meta(n_runs: int, minimize_info: dict) -> dict:
    """Collect versions, sizes, hyperparameters, key formats and notes for the ``meta`` entry."""
    return {
        "paddle_version": paddle.__version__,
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "platform": platform.platform(),
        "device": "cpu",
        "mode": "dygraph (eager)",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "steps": STEPS,
        "batch_size": BATCH,
        "in_features": IN_FEATURES,
        "hidden": HIDDEN,
        "n_classes": N_CLASSES,
        "data_seed": DATA_SEED,
        "init_seed": INIT_SEED,
        "models": {m: {n: list(s) for n, s in param_shapes(m).items()} for m in MODELS},
        "model_definitions": {
            "linear": "paddle.nn.Linear(8, 4); out = x @ weight + bias, weight [in, out]",
            "mlp": "paddle.nn.Sequential(Linear(8, 16), ReLU(), Linear(16, 4))",
        },
        "loss": "paddle.nn.CrossEntropyLoss() defaults (mean reduction, ignore_index=-100, "
        "use_softmax=True, soft_label=False, axis=-1); labels int64 [6, 1]",
        "optimizers": {name: {"class": cls, **kwargs} for name, (cls, kwargs) in OPTIMIZERS.items()},
        "weight_decay_notes": WEIGHT_DECAY_NOTES,
        "lookahead_notes": LOOKAHEAD_NOTES,
        "alphas": list(ALPHAS),
        "ks": list(KS),
        "apis": {
            "step": "loss.backward(); opt.step(); opt.clear_grad()",
            "minimize": "loss.backward(); opt.minimize(loss); opt.clear_grad()",
        },
        "main_opts": list(MAIN_OPTS),
        "extra_opts": {"opts": list(EXTRA_OPTS), "alpha": EXTRA_ALPHA, "k": EXTRA_K},
        "inner_only": "alpha key a_none, k key k_none, api step: the inner optimizer without LookAhead, "
        "for every optimizer in 'optimizers'",
        "trace_run": run_prefix(*TRACE_RUN),
        "n_runs": n_runs,
        "losses": "float64 array [steps]; each entry is the float32 loss before that step, widened exactly",
        "minimize_return": minimize_info,
    }


def main(argv: list[str] | None = None) -> None:
    """Record the whole grid and write the ``.npz`` fixture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "paddle_lookahead.npz"
    parser.add_argument("--out", type=Path, default=default_out, help="where to write the .npz")
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore")
    paddle.set_device("cpu")
    data = make_data()
    init = make_init()
    arrays: dict[str, np.ndarray] = {"data/x": data[0], "data/y": data[1]}
    for model, params in init.items():
        for name, value in params.items():
            arrays[f"init/{model}/{name}"] = value

    runs = grid()
    for model, opt, alpha, k, api in runs:
        prefix = run_prefix(model, opt, alpha, k, api)
        for key, value in train(model, opt, alpha, k, api, data, init).items():
            arrays[f"{prefix}/{key}"] = value

    meta = build_meta(len(runs), probe_minimize(data, init))
    arrays["meta"] = np.array(json.dumps(meta, indent=1, sort_keys=True))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out}: {len(runs)} runs, {len(arrays)} arrays, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
