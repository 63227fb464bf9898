"""Where lasandbox departs from PaddlePaddle 3.3.1's eager CPU behaviour on purpose: small programs that show it.

Each case takes the framework module (``paddle``, or ``lasandbox`` imported as
paddle) and returns ``{name: list of floats or a number}``.
``tools/record_paddle_departures.py`` runs them on real Paddle and writes
``tests/fixtures/paddle_departures.json``; ``test_compat_departures.py`` runs them on
lasandbox and checks that each departure is the one the README describes (so the
README's account of Paddle's behaviour is checked against Paddle's own numbers).
This module imports neither framework.
"""

from __future__ import annotations

CASES = {}


def case(fn):
    CASES[fn.__name__.lstrip("_")] = fn
    return fn


def _constant_parameter(paddle, value, shape=(1,)):
    return paddle.create_parameter(list(shape), "float32",
                                   default_initializer=paddle.nn.initializer.Constant(value))


def _momentum_run(paddle, rescale_grad, gradient_scale):
    p = _constant_parameter(paddle, 1.0, (2,))
    opt = paddle.optimizer.Momentum(learning_rate=0.1, momentum=0.9, parameters=[p], rescale_grad=rescale_grad)
    for _ in range(2):
        paddle.sum(p * paddle.to_tensor([1.0 * gradient_scale, 2.0 * gradient_scale])).backward()
        opt.step()
        opt.clear_grad()
    return [float(v) for v in p.numpy()]


@case
def _momentum_rescale_grad(paddle):
    """Paddle's CPU momentum kernel ignores rescale_grad (its GPU kernel and its docs scale the gradient)."""
    return {"rescaled": _momentum_run(paddle, 0.5, 1.0), "plain": _momentum_run(paddle, 1.0, 1.0),
            "half_gradient": _momentum_run(paddle, 1.0, 0.5)}


@case
def _minimize_no_grad_set(paddle):
    """Paddle's eager minimize ignores no_grad_set (its Optimizer.backward passes in dygraph mode)."""
    linear = paddle.nn.Linear(1, 1, weight_attr=paddle.ParamAttr(initializer=paddle.nn.initializer.Constant(1.0)),
                              bias_attr=paddle.ParamAttr(initializer=paddle.nn.initializer.Constant(1.0)))
    opt = paddle.optimizer.SGD(learning_rate=0.1, parameters=linear.parameters())
    loss = paddle.mean(linear(paddle.to_tensor([[1.0]])))
    loss.backward()
    opt.minimize(loss, no_grad_set={linear.bias.name})
    return {"bias": [float(v) for v in linear.bias.numpy().ravel()],
            "weight": [float(v) for v in linear.weight.numpy().ravel()]}


@case
def _lookahead_parameter_first_stepped_late(paddle):
    """A parameter whose first gradient comes after step 1: Paddle's slow copy of it starts at zeros (the
    copy from the fast weights runs at global step 1 only), so its first sync halves it (alpha 0.5)."""
    a, b = _constant_parameter(paddle, 1.0), _constant_parameter(paddle, 1.0)
    la = paddle.incubate.LookAhead(paddle.optimizer.SGD(0.1, parameters=[a, b]), alpha=0.5, k=2)
    trace = []
    for step in range(1, 7):
        loss = paddle.sum(a * 1.0) if step <= 3 else paddle.sum(a * 1.0 + b * 1.0)
        loss.backward()
        la.step()
        la.clear_grad()
        trace.append(float(b.numpy().ravel()[0]))
    return {"b": trace}


@case
def _lookahead_get_lr(paddle):
    """Paddle's LookAhead is an Optimizer built with learning_rate=alpha: get_lr() returns alpha."""
    linear = paddle.nn.Linear(2, 2)
    la = paddle.incubate.LookAhead(paddle.optimizer.SGD(learning_rate=0.1, parameters=linear.parameters()),
                                   alpha=0.2, k=5)
    return {"get_lr": float(la.get_lr())}


@case
def _batch_norm_statistics(paddle):
    """Paddle lists a BatchNorm's running mean and variance among its parameters (trainable=False)."""
    bn = paddle.nn.BatchNorm2D(3)
    return {"parameters": len(bn.parameters()), "buffers": len(bn.buffers()), "state_dict": len(bn.state_dict())}


@case
def _max_pool_same_with_mask(paddle):
    """padding='SAME' with return_mask: Paddle 3.3.1 returns a smaller output whose mask does not point at its
    values; without the mask it returns the 'SAME' output."""
    import numpy as np

    x = paddle.to_tensor(np.arange(25, dtype="float32").reshape(1, 1, 5, 5)[:, :, ::-1].copy())
    out, mask = paddle.nn.MaxPool2D(3, stride=2, padding="SAME", return_mask=True)(x)
    plain = paddle.nn.MaxPool2D(3, stride=2, padding="SAME")(x)
    return {"with_mask": [float(v) for v in out.numpy().ravel()], "mask": [float(v) for v in mask.numpy().ravel()],
            "without_mask": [float(v) for v in plain.numpy().ravel()]}


@case
def _max_pool1d_same_with_mask(paddle):
    """The 1-D form of the case above: max_pool1d(padding='SAME', return_mask=True) on a length of 9, stride 2."""
    import numpy as np

    x = paddle.to_tensor(np.arange(9, dtype="float32")[::-1].copy().reshape(1, 1, 9))
    out, mask = paddle.nn.functional.max_pool1d(x, 3, stride=2, padding="SAME", return_mask=True)
    plain = paddle.nn.functional.max_pool1d(x, 3, stride=2, padding="SAME")
    return {"with_mask": [float(v) for v in out.numpy().ravel()], "mask": [float(v) for v in mask.numpy().ravel()],
            "without_mask": [float(v) for v in plain.numpy().ravel()]}


@case
def _batch_norm_half_affine_gradient(paddle):
    """BatchNorm2D with weight_attr=False (or bias_attr=False) keeps the other one trainable; Paddle 3.3.1 gives it
    no gradient (grad None: an optimizer never moves it), and F.batch_norm with a weight and no bias likewise."""
    import numpy as np

    x = np.random.default_rng(0).standard_normal((3, 2, 2, 2)).astype("float32")
    grads = {}
    cases = (("bias_without_weight", {"weight_attr": False}), ("weight_without_bias", {"bias_attr": False}),
             ("weight_and_bias", {}))
    for label, kwargs in cases:
        bn = paddle.nn.BatchNorm2D(2, **kwargs)
        (bn(paddle.to_tensor(x)) ** 3).sum().backward()
        for name in ("weight", "bias"):
            p = getattr(bn, name)
            if p is not None:
                grads[f"{label}/{name}"] = None if p.grad is None else [float(v) for v in p.grad.numpy()]
    return grads


@case
def _max_pool_mask_of_an_empty_window(paddle):
    """A max-pooling window with nothing above the lowest float (all -inf here; or all padding under ceil_mode)
    has mask -1. Paddle 3.3.1's backward adds that window's gradient at offset -1 from its plane: into the
    previous plane's last element (before the first plane it writes outside the buffer: MaxPool1D(2, 2, 1,
    return_mask=True, ceil_mode=True) on a length of 9 corrupts the heap there). lasandbox sends it nowhere."""
    import numpy as np

    x = np.zeros((1, 2, 4, 5), "float32")
    x[0, 1] = -np.inf
    xt = paddle.to_tensor(x)
    xt.stop_gradient = False
    out, mask = paddle.nn.functional.adaptive_max_pool2d(xt, [2, 3], return_mask=True)
    out.backward(paddle.ones_like(out))  # (out.sum() would overflow: the empty windows hold the lowest float)
    return {"mask": [float(v) for v in mask.numpy().ravel()], "grad": [float(v) for v in xt.grad.numpy().ravel()]}
