"""No silently ignored argument: every argument a Paddle-signature optimizer (and LookAhead) accepts either
changes what happens, or raises NotImplementedError for a non-default value, or is listed with the reason
it has no effect, which is then checked (bit-identical runs).

The test walks the public signatures, so an argument added to a class without a probe here fails it.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.optimizer import registry


class ZeroSomeGradients:
    """A gradient clip that zeroes every other gradient entry (stands in for any grad_clip; it changes
    signs too, which sign-based rules such as Rprop and Lion would not see in a plain rescaling)."""

    def clip_(self, grads):
        for g in grads:
            g.reshape(-1)[::2] = 0


# A non-default value for every argument, by name (the same name means the same thing in every class).
PROBES = {
    "learning_rate": 0.05, "beta1": 0.5, "beta2": 0.9, "epsilon": 0.1, "weight_decay": 0.1, "momentum": 0.5,
    "use_nesterov": True, "rescale_grad": 0.5, "rho": 0.5, "centered": True, "initial_accumulator_value": 0.5,
    "lamb_weight_decay": 0.3, "always_adapt": True, "momentum_decay": 0.5, "batch_num": 3,
    "exclude_from_weight_decay_fn": lambda p: True, "apply_decay_param_fun": lambda n: False,
    "learning_rate_range": (1e-4, 0.02), "etas": (0.3, 1.5), "grad_clip": ZeroSomeGradients(), "name": "probe",
    "lr_ratio": lambda p: 0.5, "amsgrad": True, "use_lowprecision_moment": True, "lazy_mode": True,
    "multi_precision": True, "use_multi_tensor": True,
}
# Accepted, with the same numbers either way in Paddle too; the test checks they change nothing here.
NO_EFFECT = {
    "multi_precision": "keeps float32 master weights of float16 parameters; lasandbox's parameters are float32, "
                       "and Paddle on float32 CPU parameters gives the same bits",
    "use_multi_tensor": "a launch strategy (one kernel for all tensors); lasandbox always makes one call over "
                        "its flat buffer",
    "lazy_mode": "changes only sparse (row) gradients; lasandbox's gradients are dense",
}
# Where an argument matters only with another one set: both runs get the context.
CONTEXT = {("Lamb", "always_adapt"): {"lamb_weight_decay": 0.0}}  # with decay > 0 every layer adapts anyway
# Per class: accepted, and nothing to change for this class (checked the same way).
NO_EFFECT_FOR = {("SGD", "name"): "SGD keeps no accumulators, so its name prefixes no state_dict key (as in Paddle)"}
RAISES = {"amsgrad": "AMSGrad's extra max buffer is not a rule here",
          "lr_ratio": "per-parameter lr ratios (Paddle's CPU kernel refuses it too)",
          "use_lowprecision_moment": "float16 moments"}
EXEMPT = {"parameters": "what every test trains", "backend": "tests/test_optimizer.py",
          "nonfinite": "tests/test_nonfinite.py"}
DEFAULT_LR = {"Adagrad": 0.01, "RMSProp": 0.01}  # the two without a default learning rate


def _train(cls, **kwargs):
    paddle.seed(0)
    model = paddle.nn.Sequential(paddle.nn.Linear(4, 5), paddle.nn.Tanh(), paddle.nn.Linear(5, 2))
    kwargs.setdefault("learning_rate", DEFAULT_LR.get(cls.__name__, 0.01))
    opt = cls(parameters=model.parameters(), **kwargs)
    rng = np.random.default_rng(1)
    for _ in range(8):  # past RAdam's first 5 un-rectified steps
        paddle.mean(model(paddle.to_tensor(rng.standard_normal((6, 4)).astype(np.float32))) ** 2).backward()
        opt.step()
        opt.clear_grad()
    # Keys with the parameters' unique names (linear_3.w_0 ...) replaced by their position.
    names = {p.name: f"param{i}" for i, p in enumerate(model.parameters())}
    keys = []
    for key in opt.state_dict():
        for name, position in names.items():
            key = key.replace(name, position)
        keys.append(key)
    return [p.numpy().copy() for p in model.parameters()], sorted(keys)


CASES = [(registry.get(name).cls, arg) for name in registry.names()
         for arg in inspect.signature(registry.get(name).cls).parameters if arg not in EXEMPT]


def test_every_argument_has_a_probe():
    unprobed = sorted({f"{cls.__name__}({arg})" for cls, arg in CASES if arg not in PROBES})
    assert unprobed == [], "classify each new argument: a probe, and NO_EFFECT or RAISES if it does not change the run"


@pytest.mark.parametrize("cls,arg", CASES, ids=[f"{c.__name__}-{a}" for c, a in CASES])
def test_each_accepted_argument_changes_the_run_or_raises(cls, arg):
    if arg in RAISES:
        with pytest.raises(NotImplementedError, match=arg):
            _train(cls, **{arg: PROBES[arg]})
        return
    context = CONTEXT.get((cls.__name__, arg), {})
    default_params, default_keys = _train(cls, **context)
    params, keys = _train(cls, **context, **{arg: PROBES[arg]})
    same = keys == default_keys and all(np.array_equal(a, b) for a, b in zip(params, default_params, strict=True))
    if arg in NO_EFFECT or (cls.__name__, arg) in NO_EFFECT_FOR:
        assert same, f"{cls.__name__}({arg}) is documented as having no effect, but changed the run"
    else:
        assert not same, f"{cls.__name__}({arg}={PROBES[arg]!r}) was accepted and changed nothing"


def test_lookahead_arguments_change_the_run():
    def run(**kwargs):
        paddle.seed(0)
        p = paddle.nn.Parameter(np.linspace(-1, 1, 6).astype(np.float32))
        la = paddle.LookAhead(paddle.optimizer.Momentum(0.05, parameters=[p]), **kwargs)
        for _ in range(7):
            paddle.sum(p * p * p).backward()
            la.step()
            la.clear_grad()
        return p.numpy().copy()

    base = run()
    probes = {"alpha": 0.2, "k": 2, "slow_init": "construction", "inner_state": "reset"}
    signature = [a for a in inspect.signature(paddle.LookAhead).parameters
                 if a not in ("inner_optimizer", "name", "pullback_states", "nonfinite")]
    assert sorted(signature) == sorted(probes)  # pullback_states: test_lookahead_variants; nonfinite: test_nonfinite
    for arg, value in probes.items():
        assert not np.array_equal(run(**{arg: value}), base), arg
