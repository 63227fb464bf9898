"""Numeric probes: small programs written against Paddle's API, run on PaddlePaddle 3.3.1 and on lasandbox.

Each probe takes the framework module (``paddle``, or ``lasandbox`` imported as
paddle) and returns ``{name: number or array}``. ``tools/record_paddle_compat.py``
runs them on real Paddle and writes ``tests/fixtures/paddle_compat.json``;
``test_compat_recorded.py`` runs them on lasandbox and compares. Inputs come from
fixed numpy generators, so both sides see the same numbers. This module must
import neither framework itself.
"""

from __future__ import annotations

import numpy as np

PROBES = {}
#: Relative tolerance per probe (default 1e-5, float32 results): schedules are exact Python-float arithmetic.
TOLERANCE = {}


def probe(name, rtol=1e-5):
    def register(fn):
        PROBES[name] = fn
        TOLERANCE[name] = rtol
        return fn

    return register


def _rng(seed):
    return np.random.default_rng(seed)


def _grad(x):
    return np.array(x.grad.numpy(), copy=True)


# ------------------------------------------------------------------ lr schedules
def _lr_sequence(sched, epochs=30, jump=False):
    values = []
    for epoch in range(epochs):
        values.append(float(sched()))
        sched.step(epoch + 1) if jump else sched.step()
    return np.array(values, dtype=np.float64)


_SCHEDULES = {
    "noam": ("NoamDecay", {"d_model": 0.01, "warmup_steps": 100}),
    "noam_doc": ("NoamDecay", {"d_model": 100, "warmup_steps": 100}),
    "piecewise": ("PiecewiseDecay", {"boundaries": [3, 6, 9, 15, 20], "values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}),
    "natural_exp": ("NaturalExpDecay", {"learning_rate": 0.5, "gamma": 0.1}),
    "inverse_time": ("InverseTimeDecay", {"learning_rate": 0.5, "gamma": 0.1}),
    "polynomial": ("PolynomialDecay", {"learning_rate": 0.5, "decay_steps": 20, "end_lr": 0, "power": 1.0}),
    "polynomial_cycle": ("PolynomialDecay", {"learning_rate": 0.5, "decay_steps": 20, "end_lr": 0, "power": 1.0,
                                             "cycle": True}),
    "polynomial_power": ("PolynomialDecay", {"learning_rate": 0.5, "decay_steps": 7, "end_lr": 0.01, "power": 2.5,
                                             "cycle": True}),
    "exponential": ("ExponentialDecay", {"learning_rate": 0.5, "gamma": 0.9}),
    "multistep": ("MultiStepDecay", {"learning_rate": 0.5, "milestones": [3, 6, 9, 15, 20], "gamma": 0.8}),
    "step": ("StepDecay", {"learning_rate": 0.5, "step_size": 2, "gamma": 0.8}),
    "cosine": ("CosineAnnealingDecay", {"learning_rate": 0.5, "T_max": 10}),
    "cosine_eta": ("CosineAnnealingDecay", {"learning_rate": 0.5, "T_max": 7, "eta_min": 0.05}),
    "linear_lr": ("LinearLR", {"learning_rate": 0.5, "total_steps": 5}),
    "linear_lr_factors": ("LinearLR", {"learning_rate": 0.2, "total_steps": 12, "start_factor": 0.9,
                                       "end_factor": 0.1}),
    "one_cycle_cos": ("OneCycleLR", {"max_learning_rate": 0.1, "total_steps": 40, "divide_factor": 5,
                                     "end_learning_rate": 0.0001, "anneal_strategy": "cos", "phase_pct": 0.3}),
    "one_cycle_linear": ("OneCycleLR", {"max_learning_rate": 0.5, "total_steps": 40, "divide_factor": 10,
                                        "end_learning_rate": 0.001, "anneal_strategy": "linear", "phase_pct": 0.4}),
    "one_cycle_three": ("OneCycleLR", {"max_learning_rate": 1.0, "total_steps": 40, "divide_factor": 9,
                                       "end_learning_rate": 0.0001, "anneal_strategy": "cos", "phase_pct": 0.3,
                                       "three_phase": True}),
    "cyclic_triangular": ("CyclicLR", {"base_learning_rate": 0.5, "max_learning_rate": 1.0, "step_size_up": 15,
                                       "step_size_down": 5, "mode": "triangular"}),
    "cyclic_triangular2": ("CyclicLR", {"base_learning_rate": 0.5, "max_learning_rate": 1.0, "step_size_up": 4,
                                        "step_size_down": 3, "mode": "triangular2"}),
    "cyclic_exp_range": ("CyclicLR", {"base_learning_rate": 0.5, "max_learning_rate": 1.0, "step_size_up": 5,
                                      "mode": "exp_range", "exp_gamma": 0.8}),
    "warm_restarts": ("CosineAnnealingWarmRestarts", {"learning_rate": 0.5, "T_0": 1, "T_mult": 2}),
    "warm_restarts_t3": ("CosineAnnealingWarmRestarts", {"learning_rate": 0.5, "T_0": 3, "T_mult": 1,
                                                         "eta_min": 0.1}),
}


def _schedule_probe(key, jump):
    cls_name, kwargs = _SCHEDULES[key]

    def run(paddle):
        sched = getattr(paddle.optimizer.lr, cls_name)(**kwargs)
        return {"lr": _lr_sequence(sched, 38 if cls_name == "OneCycleLR" else 30, jump)}

    return run


for _key in _SCHEDULES:
    probe(f"lr/{_key}", rtol=0.0)(_schedule_probe(_key, jump=False))
for _key in ("cosine", "cosine_eta", "natural_exp", "polynomial_cycle", "step", "warm_restarts", "warm_restarts_t3"):
    probe(f"lr/{_key}/step_epoch", rtol=0.0)(_schedule_probe(_key, jump=True))


@probe("lr/lambda_and_multiplicative", rtol=0.0)
def _lambda_schedules(paddle):
    lr = paddle.optimizer.lr
    return {"lambda": _lr_sequence(lr.LambdaDecay(0.5, lambda x: 0.95**x)),
            "multiplicative": _lr_sequence(lr.MultiplicativeDecay(0.5, lambda x: 0.95))}


@probe("lr/linear_warmup", rtol=0.0)
def _warmup(paddle):
    lr = paddle.optimizer.lr
    inner = lr.PiecewiseDecay([3, 6], [0.5, 0.2, 0.1])
    wrapped = lr.LinearWarmup(inner, warmup_steps=10, start_lr=0, end_lr=0.5)
    plain = lr.LinearWarmup(0.5, warmup_steps=4, start_lr=0.1, end_lr=0.3)
    natural = lr.LinearWarmup(lr.NaturalExpDecay(0.5, 0.1), warmup_steps=10, start_lr=0.0, end_lr=0.1)
    return {"wrapped": _lr_sequence(wrapped), "plain": _lr_sequence(plain), "natural": _lr_sequence(natural)}


_PLATEAU_METRICS = [5.0, 4.0, 4.0, 4.5, 4.2, 4.1, 4.05, 3.0, 3.0, 3.1, 3.2, 3.3, 2.9, 2.9, 2.91, 2.92, 2.93, 2.94,
                    1.0, 1.0, 1.0, 1.0, 1.0, 0.9999]


@probe("lr/reduce_on_plateau", rtol=0.0)
def _plateau(paddle):
    out = {}
    for mode in ("min", "max"):
        for threshold_mode in ("rel", "abs"):
            sched = paddle.optimizer.lr.ReduceOnPlateau(1.0, mode=mode, factor=0.5, patience=2, threshold=1e-2,
                                                       threshold_mode=threshold_mode, cooldown=1, min_lr=0.1)
            rates = []
            for metric in _PLATEAU_METRICS:
                sched.step(metric if mode == "min" else -metric)
                rates.append(sched())
            out[f"{mode}_{threshold_mode}"] = np.array(rates)
    return out


@probe("lr/reduce_on_plateau_tensor_metric", rtol=0.0)
def _plateau_tensor(paddle):
    sched = paddle.optimizer.lr.ReduceOnPlateau(learning_rate=1.0, factor=0.5, patience=3, threshold=1e-4,
                                               cooldown=1, min_lr=0, epsilon=1e-8)
    rates = []
    for epoch in range(20):
        loss = paddle.sin(paddle.to_tensor(epoch).astype("float32"))
        sched.step(loss)
        rates.append(sched())
    return {"lr": np.array(rates)}


# ------------------------------------------------------------------------ losses
def _logits_and_labels(seed, n=6, c=5):
    rng = _rng(seed)
    return rng.standard_normal((n, c)).astype("float32"), rng.integers(0, c, n).astype("int64")


def _ce_run(paddle, logits, label, **kwargs):
    x = paddle.to_tensor(logits, stop_gradient=False)
    loss = paddle.nn.functional.cross_entropy(x, paddle.to_tensor(label), **kwargs)
    loss.sum().backward()
    return np.array(loss.numpy(), copy=True), _grad(x)


@probe("loss/cross_entropy_label_smoothing")
def _ce_smoothing(paddle):
    logits, labels = _logits_and_labels(1)
    weight = paddle.to_tensor(np.array([0.5, 1.0, 2.0, 1.5, 0.25], "float32"))
    out = {}
    for reduction in ("mean", "sum", "none"):
        for eps in (0.1, 0.35):
            loss, grad = _ce_run(paddle, logits, labels, label_smoothing=eps, reduction=reduction)
            out[f"{reduction}/eps{eps}/loss"], out[f"{reduction}/eps{eps}/grad"] = loss, grad
            loss, grad = _ce_run(paddle, logits, labels, label_smoothing=eps, reduction=reduction, weight=weight)
            out[f"{reduction}/eps{eps}/weighted/loss"], out[f"{reduction}/eps{eps}/weighted/grad"] = loss, grad
    loss, grad = _ce_run(paddle, logits, labels, label_smoothing=0.1, ignore_index=2)
    out["ignore2/loss"], out["ignore2/grad"] = loss, grad
    layer = paddle.nn.CrossEntropyLoss(label_smoothing=0.2)
    out["layer"] = np.array(layer(paddle.to_tensor(logits), paddle.to_tensor(labels)).numpy())
    return out


@probe("loss/cross_entropy_soft_label_weight")
def _ce_soft(paddle):
    logits, _ = _logits_and_labels(2)
    soft = _rng(3).random((6, 5)).astype("float32")
    soft /= soft.sum(axis=1, keepdims=True)
    weight = paddle.to_tensor(np.array([0.5, 1.0, 2.0, 1.5, 0.25], "float32"))
    out = {}
    for reduction in ("mean", "sum", "none"):
        loss, grad = _ce_run(paddle, logits, soft, soft_label=True, weight=weight, reduction=reduction)
        out[f"{reduction}/loss"], out[f"{reduction}/grad"] = loss, grad
        loss, grad = _ce_run(paddle, logits, soft, soft_label=True, reduction=reduction)
        out[f"{reduction}/unweighted/loss"], out[f"{reduction}/unweighted/grad"] = loss, grad
    loss, grad = _ce_run(paddle, logits, soft, soft_label=True, label_smoothing=0.2)
    out["smoothed/loss"], out["smoothed/grad"] = loss, grad
    return out


@probe("loss/cross_entropy_hard")
def _ce_hard(paddle):
    logits, labels = _logits_and_labels(4)
    labels[1] = 3
    weight = paddle.to_tensor(np.array([0.5, 1.0, 2.0, 1.5, 0.25], "float32"))
    out = {}
    for reduction in ("mean", "sum", "none"):
        for name, kwargs in {"plain": {}, "weighted": {"weight": weight}, "ignore3": {"ignore_index": 3},
                             "weighted_ignore3": {"weight": weight, "ignore_index": 3}}.items():
            for shape in ("N", "N1"):
                lab = labels if shape == "N" else labels[:, None]
                loss, grad = _ce_run(paddle, logits, lab, reduction=reduction, **kwargs)
                out[f"{reduction}/{name}/{shape}/loss"], out[f"{reduction}/{name}/{shape}/grad"] = loss, grad
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss, grad = _ce_run(paddle, probs.astype("float32"), labels[:, None], use_softmax=False)
    out["probs/loss"], out["probs/grad"] = loss, grad
    return out


@probe("loss/mse")
def _mse(paddle):
    rng = _rng(5)
    a, b = rng.standard_normal((4, 3)).astype("float32"), rng.standard_normal((4, 3)).astype("float32")
    out = {}
    for reduction in ("mean", "sum", "none"):
        x = paddle.to_tensor(a, stop_gradient=False)
        loss = paddle.nn.MSELoss(reduction=reduction)(x, paddle.to_tensor(b))
        loss.sum().backward()
        out[f"{reduction}/loss"], out[f"{reduction}/grad"] = np.array(loss.numpy()), _grad(x)
    return out


# ------------------------------------------------------------------- activations
_ACT_INPUT = np.array([[-30.0, -4.0, -1.3, -0.2, 0.05, 0.7, 2.5, 25.0]], dtype="float32")


def _activation(paddle, fn):
    x = paddle.to_tensor(_ACT_INPUT, stop_gradient=False)
    y = fn(x)
    (y * paddle.to_tensor(np.linspace(0.5, 1.5, 8).astype("float32"))).sum().backward()
    return {"out": np.array(y.numpy(), copy=True), "grad": _grad(x)}


@probe("act/gelu_exact")
def _gelu_exact(paddle):
    return _activation(paddle, lambda x: paddle.nn.GELU()(x))


@probe("act/gelu_tanh")
def _gelu_tanh(paddle):
    return _activation(paddle, lambda x: paddle.nn.functional.gelu(x, approximate=True))


@probe("act/softplus")
def _softplus(paddle):
    return _activation(paddle, lambda x: paddle.nn.Softplus(beta=2, threshold=15)(x))


@probe("act/softplus_default")
def _softplus_default(paddle):
    return _activation(paddle, lambda x: paddle.nn.functional.softplus(x))


@probe("act/leaky_relu")
def _leaky(paddle):
    return _activation(paddle, lambda x: paddle.nn.LeakyReLU(0.1)(x))


@probe("act/silu")
def _silu(paddle):
    return _activation(paddle, lambda x: paddle.nn.Silu()(x))


@probe("act/identity")
def _identity(paddle):
    return _activation(paddle, lambda x: paddle.nn.Identity(3, bias=True)(x) * 1.0)


# ------------------------------------------------------------------------ tensor
@probe("tensor/numpy_is_a_copy")
def _numpy_is_a_copy(paddle):
    """Tensor.numpy(), np.asarray and np.array copy: writes to them leave the tensor, a snapshot taken
    before a step keeps the old values."""
    t = paddle.to_tensor(np.array([1.0, 2.0, 3.0], "float32"))
    t.numpy()[0] = 9.0
    np.asarray(t)[1] = 8.0
    np.array(t)[2] = 7.0
    linear = paddle.nn.Linear(2, 1)
    linear.weight.set_value(np.array([[0.5], [-1.0]], "float32"))
    snapshot = linear.weight.numpy()
    opt = paddle.optimizer.SGD(0.1, parameters=linear.parameters())
    linear(paddle.ones([1, 2])).sum().backward()
    opt.step()
    return {"tensor_after_writes": np.array(t.numpy()), "snapshot_before_step": snapshot,
            "weight_after_step": np.array(linear.weight.numpy())}


# ---------------------------------------------------------------- lookup & norm
@probe("nn/embedding")
def _embedding(paddle):
    table = _rng(6).standard_normal((10, 4)).astype("float32")
    ids = np.array([[1, 2, 2, 9], [0, 2, 5, 1]], dtype="int64")
    out = {}
    for name, kwargs in {"plain": {}, "padding": {"padding_idx": 2}, "padding_neg": {"padding_idx": -1},
                         "freq": {"scale_grad_by_freq": True}, "max_norm": {"max_norm": 1.5}}.items():
        emb = paddle.nn.Embedding(10, 4, **kwargs)
        emb.weight.set_value(table)
        y = emb(paddle.to_tensor(ids))
        (y * paddle.to_tensor(np.arange(32, dtype="float32").reshape(2, 4, 4) / 10)).sum().backward()
        out[f"{name}/out"], out[f"{name}/grad"] = np.array(y.numpy()), _grad(emb.weight)
        out[f"{name}/weight_after"] = np.array(emb.weight.numpy())
    return out


@probe("nn/layer_norm")
def _layer_norm(paddle):
    rng = _rng(7)
    x_np = rng.standard_normal((2, 3, 4)).astype("float32") * 3 + 1
    out = {}
    for name, shape in {"last": [4], "last2": [3, 4]}.items():
        ln = paddle.nn.LayerNorm(shape, epsilon=1e-5)
        n = int(np.prod(shape))
        ln.weight.set_value(np.linspace(0.5, 2.0, n).astype("float32"))
        ln.bias.set_value(np.linspace(-1.0, 1.0, n).astype("float32"))
        x = paddle.to_tensor(x_np, stop_gradient=False)
        y = ln(x)
        (y * paddle.to_tensor(rng.standard_normal(x_np.shape).astype("float32"))).sum().backward()
        out[f"{name}/out"], out[f"{name}/x_grad"] = np.array(y.numpy()), _grad(x)
        out[f"{name}/w_grad"], out[f"{name}/b_grad"] = _grad(ln.weight), _grad(ln.bias)
    x = paddle.to_tensor(x_np)
    out["functional_no_affine"] = np.array(paddle.nn.functional.layer_norm(x, 4).numpy())
    return out


@probe("nn/one_hot")
def _one_hot(paddle):
    ids = paddle.to_tensor(np.array([[1, 0, 3], [2, 2, 0]], dtype="int64"))
    return {"explicit": np.array(paddle.nn.functional.one_hot(ids, num_classes=5).numpy()),
            "inferred": np.array(paddle.nn.functional.one_hot(ids).numpy())}


# ---------------------------------------------------------------------- clipping
def _grads(paddle, seed):
    rng = _rng(seed)
    params = [paddle.to_tensor(rng.standard_normal(s).astype("float32")) for s in ((3, 4), (4,), (2, 2))]
    grads = [paddle.to_tensor((rng.standard_normal(s) * 2).astype("float32")) for s in ((3, 4), (4,), (2, 2))]
    return params, grads


@probe("clip/call_form")
def _clip_call(paddle):
    out = {}
    for name, clip in {"global": paddle.nn.ClipGradByGlobalNorm(clip_norm=0.8),
                       "global_loose": paddle.nn.ClipGradByGlobalNorm(clip_norm=100.0),
                       "norm": paddle.nn.ClipGradByNorm(clip_norm=1.5),
                       "value": paddle.nn.ClipGradByValue(max=0.7, min=-0.3),
                       "value_sym": paddle.nn.ClipGradByValue(max=0.5)}.items():
        params, grads = _grads(paddle, 8)
        clipped = clip(list(zip(params, grads, strict=True)))
        for i, (_, g) in enumerate(clipped):
            out[f"{name}/{i}"] = np.array(g.numpy(), copy=True)
    return out


def _clip_training_step(paddle, clip):
    rng = _rng(9)
    linear = paddle.nn.Linear(5, 3, weight_attr=paddle.ParamAttr(need_clip=True),
                              bias_attr=paddle.ParamAttr(need_clip=False))
    linear.weight.set_value(rng.standard_normal((5, 3)).astype("float32"))
    linear.bias.set_value(rng.standard_normal(3).astype("float32"))
    x = paddle.to_tensor(rng.uniform(-10, 10, (16, 5)).astype("float32"))
    loss = paddle.sum(linear(x))
    loss.backward()
    sgd = paddle.optimizer.SGD(learning_rate=0.1, parameters=linear.parameters(), grad_clip=clip)
    sgd.step()
    return {"weight": np.array(linear.weight.numpy()), "bias": np.array(linear.bias.numpy())}


@probe("clip/sgd_global_norm_need_clip")
def _clip_sgd_global(paddle):
    return _clip_training_step(paddle, paddle.nn.ClipGradByGlobalNorm(clip_norm=1.0))


@probe("clip/sgd_norm_need_clip")
def _clip_sgd_norm(paddle):
    return _clip_training_step(paddle, paddle.nn.ClipGradByNorm(clip_norm=1.0))


@probe("clip/sgd_value_need_clip")
def _clip_sgd_value(paddle):
    return _clip_training_step(paddle, paddle.nn.ClipGradByValue(min=-1, max=1))


def _tanh_mlp(paddle, seed):
    """A 4-6-2 tanh MLP with weights drawn from ``seed``, and a batch of 8 inputs drawn after them."""
    rng = _rng(seed)
    model = paddle.nn.Sequential(paddle.nn.Linear(4, 6), paddle.nn.Tanh(), paddle.nn.Linear(6, 2))
    for p in model.parameters():
        p.set_value(rng.standard_normal(p.shape).astype("float32"))
    return model, paddle.to_tensor(rng.standard_normal((8, 4)).astype("float32"))


def _mean_square_steps(paddle, model, opt, x, steps=4):
    """``steps`` steps of ``opt`` on ``mean(model(x)**2)``: the losses and the final parameters."""
    losses = []
    for _ in range(steps):
        loss = paddle.mean(model(x) ** 2)
        loss.backward()
        opt.step()
        opt.clear_grad()
        losses.append(float(loss))
    return {"losses": np.array(losses), **{n: np.array(p.numpy()) for n, p in model.named_parameters()}}


@probe("clip/adam_global_norm_steps")
def _clip_adam(paddle):
    model, x = _tanh_mlp(paddle, 10)
    adam = paddle.optimizer.Adam(learning_rate=0.05, parameters=model.parameters(),
                                 grad_clip=paddle.nn.ClipGradByGlobalNorm(0.5))
    return _mean_square_steps(paddle, model, adam, x)


@probe("clip/groups_global_norm_sgd")
def _clip_groups_sgd(paddle):
    """With parameter groups Paddle clips each group on its own: a global norm is the group's."""
    a, b = (paddle.create_parameter([2], "float32", default_initializer=paddle.nn.initializer.Constant(0.0))
            for _ in range(2))
    opt = paddle.optimizer.SGD(learning_rate=1.0, parameters=[{"params": [a]}, {"params": [b]}],
                               grad_clip=paddle.nn.ClipGradByGlobalNorm(1.0))
    loss = paddle.sum(a * paddle.to_tensor([3.0, 4.0])) + paddle.sum(b * paddle.to_tensor([0.3, 0.4]))
    loss.backward()
    opt.step()
    return {"a": np.array(a.numpy()), "b": np.array(b.numpy())}


@probe("clip/groups_own_clip_adam")
def _clip_groups_adam(paddle):
    """A group's own ``grad_clip`` key replaces the optimizer's for that group (Paddle's group defaults)."""
    model, x = _tanh_mlp(paddle, 11)
    first, second = model[0].parameters(), model[2].parameters()
    adam = paddle.optimizer.Adam(learning_rate=0.05, parameters=[
        {"params": first}, {"params": second, "grad_clip": paddle.nn.ClipGradByValue(min=-0.05, max=0.05)}],
        grad_clip=paddle.nn.ClipGradByGlobalNorm(0.3))
    return _mean_square_steps(paddle, model, adam, x)


# -------------------------------------------------------------------- optimizers
def _two_linears(paddle, seed):
    rng = _rng(seed)
    linear_1, linear_2 = paddle.nn.Linear(13, 5), paddle.nn.Linear(5, 3)
    for p in (*linear_1.parameters(), *linear_2.parameters()):
        p.set_value(rng.standard_normal(p.shape).astype("float32") * 0.5)
    return linear_1, linear_2, paddle.to_tensor(rng.standard_normal((2, 13)).astype("float32"))


def _run_groups(paddle, make_optimizer, seed):
    linear_1, linear_2, a = _two_linears(paddle, seed)
    return _train_pair(paddle, make_optimizer(linear_1, linear_2), linear_1, linear_2, a)


def _train_pair(paddle, opt, linear_1, linear_2, a):
    for _ in range(3):
        out = linear_2(linear_1(a))
        paddle.mean(out * out).backward()
        opt.step()
        opt.clear_grad()
    return {f"l1/{n}": np.array(p.numpy()) for n, p in linear_1.named_parameters()} | {
        f"l2/{n}": np.array(p.numpy()) for n, p in linear_2.named_parameters()}


@probe("optimizer/tensor_betas_changing")
def _tensor_betas_changing(paddle):
    """Adam and AdamW with Tensor betas whose values change between steps, and the beta_pow
    accumulators of their state_dicts: Paddle starts those at 0.9 / 0.999 and multiplies in each step's value."""
    out = {}
    for kind in ("Adam", "AdamW"):
        linear_1, linear_2, a = _two_linears(paddle, 23)
        beta1 = paddle.to_tensor([0.8], dtype="float32")
        beta2 = paddle.to_tensor([0.95], dtype="float32")
        opt = getattr(paddle.optimizer, kind)(learning_rate=0.05, beta1=beta1, beta2=beta2,
                                              parameters=[*linear_1.parameters(), *linear_2.parameters()])
        for step in range(4):
            out_ = linear_2(linear_1(a))
            paddle.mean(out_ * out_).backward()
            opt.step()
            opt.clear_grad()
            beta1.set_value(np.array([0.8 - 0.1 * (step + 1)], dtype="float32"))
            beta2.set_value(np.array([0.95 + 0.01 * (step + 1)], dtype="float32"))
        for n, p in [*linear_1.named_parameters(), *linear_2.named_parameters()]:
            out[f"{kind}/{n}/{list(p.shape)}"] = np.array(p.numpy())
        out |= _beta_pows(opt, f"{kind}/")
    return out


@probe("optimizer/tensor_beta_with_group_floats")
def _tensor_beta_with_group_floats(paddle):
    """Adam with beta1 a Tensor and one parameter group setting its own float beta1, first or second: the
    parameters and the beta_pow accumulators after 3 steps."""
    out = {}
    for order in ("float_first", "float_second"):
        linear_1, linear_2, a = _two_linears(paddle, 29)
        own = {"params": linear_1.parameters(), "beta1": 0.5}
        default = {"params": linear_2.parameters()}
        groups = [own, default] if order == "float_first" else [default, own]
        opt = paddle.optimizer.Adam(learning_rate=0.05, beta1=paddle.to_tensor([0.8], dtype="float32"),
                                    parameters=groups)
        trained = _train_pair(paddle, opt, linear_1, linear_2, a)
        out |= {f"{order}/{key}": value for key, value in trained.items()} | _beta_pows(opt, f"{order}/")
    return out


def _beta_pows(opt, prefix):
    """The beta1_pow / beta2_pow accumulators of ``opt``'s state_dict, each in its parameters' order."""
    state = opt.state_dict()
    return {f"{prefix}{acc}": np.array([float(np.asarray(v.numpy()).ravel()[0]) for k, v in state.items() if acc in k],
                                       dtype="float32")
            for acc in ("beta1_pow_acc", "beta2_pow_acc")}


@probe("optimizer/adam_group_betas")
def _adam_groups(paddle):
    """test_adam_op.py TestAdamOpV2Group's parameter groups, with numbers."""
    return _run_groups(paddle, lambda l1, l2: paddle.optimizer.Adam(
        learning_rate=0.01, weight_decay=0.1,
        parameters=[{"params": l1.parameters()},
                    {"params": l2.parameters(), "weight_decay": 0.001, "beta1": 0.1, "beta2": 0.99}]), 11)


@probe("optimizer/adamw_group_decay")
def _adamw_groups(paddle):
    """test_adamw_op.py TestAdamWOpGroup's parameter groups, with numbers."""
    return _run_groups(paddle, lambda l1, l2: paddle.optimizer.AdamW(
        learning_rate=0.01, weight_decay=0.01, apply_decay_param_fun=lambda name: True,
        parameters=[{"params": l1.parameters()}, {"params": l2.parameters(), "weight_decay": 0.001}]), 12)


@probe("optimizer/momentum_group_lr")
def _momentum_groups(paddle):
    """The Momentum API doc's parameter groups (learning_rate scale 0.1, weight_decay 0.001), with numbers."""
    return _run_groups(paddle, lambda l1, l2: paddle.optimizer.Momentum(
        learning_rate=0.1, momentum=0.9, weight_decay=0.01,
        parameters=[{"params": l1.parameters()},
                    {"params": l2.parameters(), "weight_decay": 0.001, "learning_rate": 0.1}]), 13)


def _param_attr_linears(paddle, seed):
    """Two Linears whose first weight has its own learning-rate scale and regularizer (ParamAttr)."""
    rng = _rng(seed)
    attr = paddle.ParamAttr(learning_rate=0.5, regularizer=paddle.regularizer.L2Decay(0.05))
    linear_1 = paddle.nn.Linear(13, 5, weight_attr=attr, bias_attr=paddle.ParamAttr(learning_rate=2.0))
    linear_2 = paddle.nn.Linear(5, 3)
    for p in (*linear_1.parameters(), *linear_2.parameters()):
        p.set_value(rng.standard_normal(p.shape).astype("float32") * 0.5)
    return linear_1, linear_2, paddle.to_tensor(rng.standard_normal((2, 13)).astype("float32"))


@probe("optimizer/param_attr_momentum")
def _param_attr_momentum(paddle):
    """ParamAttr(learning_rate=..., regularizer=L2Decay) on Momentum with its own weight_decay, with numbers."""
    linear_1, linear_2, a = _param_attr_linears(paddle, 15)
    opt = paddle.optimizer.Momentum(learning_rate=0.1, momentum=0.9, weight_decay=0.01,
                                    parameters=[*linear_1.parameters(), *linear_2.parameters()])
    return _train_pair(paddle, opt, linear_1, linear_2, a)


@probe("optimizer/param_attr_adam_groups")
def _param_attr_adam_groups(paddle):
    """ParamAttr scales inside a parameter group with its own learning_rate scale, on Adam, with numbers."""
    linear_1, linear_2, a = _param_attr_linears(paddle, 16)
    opt = paddle.optimizer.Adam(learning_rate=0.05, weight_decay=0.001,
                                parameters=[{"params": linear_1.parameters(), "learning_rate": 0.5},
                                            {"params": linear_2.parameters()}])
    return _train_pair(paddle, opt, linear_1, linear_2, a)


@probe("optimizer/param_attr_adamw_groups")
def _param_attr_adamw_groups(paddle):
    """As param_attr_adam_groups on AdamW, which (unlike Adam) keeps ParamAttr's regularizer in groups."""
    linear_1, linear_2, a = _param_attr_linears(paddle, 17)
    opt = paddle.optimizer.AdamW(learning_rate=0.05, weight_decay=0.01,
                                 parameters=[{"params": linear_1.parameters(), "learning_rate": 0.5},
                                             {"params": linear_2.parameters(), "weight_decay": 0.1}])
    return _train_pair(paddle, opt, linear_1, linear_2, a)


# Every optimizer Paddle 3.3.1 and lasandbox share, with its own weight decay argument (Lamb's has its own name).
_DECAY_ARGUMENT = {"SGD": "weight_decay", "Momentum": "weight_decay", "Adam": "weight_decay", "AdamW": "weight_decay",
                   "Adagrad": "weight_decay", "Adadelta": "weight_decay", "Adamax": "weight_decay",
                   "RMSProp": "weight_decay", "Lamb": "lamb_weight_decay", "NAdam": "weight_decay",
                   "RAdam": "weight_decay", "ASGD": "weight_decay", "Rprop": None}


def _quadratic_steps(w, c, opt):
    """Three steps of ``opt`` on ``sum(w*c) + 0.1*sum(w*w)``: the final ``w``."""
    for _ in range(3):
        ((w * c).sum() + 0.1 * (w * w).sum()).backward()
        opt.step()
        opt.clear_grad()
    return np.array(w.numpy())


@probe("optimizer/param_attr_regularizer")
def _param_attr_regularizer(paddle):
    """A parameter's own L2Decay (ParamAttr) beside the optimizer's weight decay, on each optimizer: it
    replaces an L2-style decay and adds to the gradient beside a decoupled one (AdamW, Lamb)."""
    c = paddle.to_tensor(np.array([0.3, 0.7, -0.2], "float32"))
    out = {}
    for name, decay in _DECAY_ARGUMENT.items():
        attr = paddle.ParamAttr(regularizer=paddle.regularizer.L2Decay(0.5))
        w = paddle.create_parameter([3], "float32", attr=attr, default_initializer=paddle.nn.initializer.Assign(
            np.array([1.0, -0.5, 2.0], "float32")))
        opt = getattr(paddle.optimizer, name)(learning_rate=0.1, parameters=[w], **({decay: 0.2} if decay else {}))
        out[name] = _quadratic_steps(w, c, opt)
    return out


@probe("optimizer/l1_decay")
def _l1_decay(paddle):
    """L1Decay as each optimizer's weight_decay (but the decoupled ones, which take floats), and as a
    parameter's own regularizer beside the optimizer's L2Decay: grad += coeff * sign(param)."""
    c = paddle.to_tensor(np.array([0.3, 0.7, -0.2, 0.05], "float32"))
    start = np.array([1.0, -0.5, 2.0, -0.01], "float32")
    out = {}
    for name, decay in _DECAY_ARGUMENT.items():
        if name in ("AdamW", "Lamb") or decay is None:
            continue
        w = paddle.create_parameter([4], "float32", default_initializer=paddle.nn.initializer.Assign(start))
        opt = getattr(paddle.optimizer, name)(learning_rate=0.1, parameters=[w],
                                              **{decay: paddle.regularizer.L1Decay(0.3)})
        out[name] = _quadratic_steps(w, c, opt)
    for name in ("Momentum", "Adam", "AdamW"):
        attr = paddle.ParamAttr(regularizer=paddle.regularizer.L1Decay(0.4))
        w = paddle.create_parameter([4], "float32", attr=attr, default_initializer=paddle.nn.initializer.Assign(start))
        opt = getattr(paddle.optimizer, name)(learning_rate=0.1, parameters=[w], weight_decay=0.2)
        out[f"param_attr/{name}"] = _quadratic_steps(w, c, opt)
    return out


@probe("optimizer/l1_decay_groups")
def _l1_decay_groups(paddle):
    """A parameter group's own L1Decay beside another group's float decay, on Momentum."""
    return _run_groups(paddle, lambda l1, l2: paddle.optimizer.Momentum(
        learning_rate=0.1, momentum=0.9, weight_decay=0.01,
        parameters=[{"params": l1.parameters(), "weight_decay": paddle.regularizer.L1Decay(0.05)},
                    {"params": l2.parameters()}]), 18)


@probe("optimizer/adam_tensor_betas")
def _adam_tensor_betas(paddle):
    """The Adam / AdamW API docs' beta1, beta2 given as Tensors, with numbers."""
    return _run_groups(paddle, lambda l1, l2: paddle.optimizer.Adam(
        learning_rate=0.1, beta1=paddle.to_tensor([0.9], dtype="float32"),
        beta2=paddle.to_tensor([0.99], dtype="float32"), weight_decay=0.01,
        parameters=[*l1.parameters(), *l2.parameters()]), 14)
