"""Every registered update rule, on every backend, from its declaration alone.

Parity: the cpu backend (serial and parallel sizes, plain and with the fused
Lookahead sync) reproduces the numpy reference to the bit; the cuda backend
(the simulator in CI, a real GPU under ``-m gpu``) to the bit on the simulator,
to float32 rounding on a GPU and for rules with reductions (summed as a tree).
Also: the reference itself (the element function run as plain Python on
scalars), the derived public functions and their input checks, the byte
counts, and that editing a rule's source takes effect.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from kernel_cases import SIMULATED
from rule_cases import (
    ALPHA,
    BACKENDS,
    ELEMENTWISE_RULES,
    LR,
    RULE_SETTINGS,
    RULES,
    SIZES,
    STEP,
    cuda_sizes,
    hypers_of,
    inputs,
    run,
    segments_for,
)

from lasandbox import kernels
from lasandbox.kernels import declare, rules
from lasandbox.kernels.rulemath import select, sqrt
from lasandbox.kernels.rules.lamb import direction as lamb_direction


def _assert_same(actual, expected, what, exact):
    for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
        if exact:
            np.testing.assert_array_equal(a, e, err_msg=f"{what}: array {index}")
        else:
            scale = max(1.0, float(np.nanmax(np.abs(e)))) if e.size else 1.0
            np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-6 * scale, err_msg=f"{what}: array {index}")


@pytest.mark.parametrize("fused", [False, True], ids=["plain", "fused"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("rule,index", RULE_SETTINGS)
def test_backend_matches_the_numpy_reference(rule, index, backend, fused):
    hypers = hypers_of(rule, index)
    for size in cuda_sizes(rule) if backend == "cuda" else SIZES:
        arrays, slow = inputs(rule, hypers, size, seed=size + index)
        got, got_slow = run(rule, hypers, arrays, slow, backend, fused=fused)
        want, want_slow = run(rule, hypers, arrays, slow, "numpy", fused=fused)
        # cuda sums a chunk as a tree (the cpu backend and numpy: in order), so a rule that reduces agrees
        # to rounding there; every other rule runs the same float32 operations everywhere.
        exact = backend == "cpu" or (SIMULATED and not rule.segmented)
        _assert_same(got + ([got_slow] if fused else []), want + ([want_slow] if fused else []),
                     f"{rule.name} {hypers} {backend} n={size}", exact)
        np.testing.assert_array_equal(got[1], arrays[1], err_msg="grad must not be written")
        if fused:
            np.testing.assert_array_equal(got[0], got_slow, err_msg="after the fused sync, param = slow")


@pytest.mark.parametrize("rule,index", RULE_SETTINGS)
def test_fused_sync_equals_step_then_sync(rule, index):
    hypers = hypers_of(rule, index)
    arrays, slow = inputs(rule, hypers, 1000, seed=index)
    fused, fused_slow = run(rule, hypers, arrays, slow, "cpu", fused=True)
    plain, _ = run(rule, hypers, arrays, slow, "cpu", fused=False)
    separate_slow = slow.copy()
    kernels.lookahead_sync(plain[0], separate_slow, ALPHA, backend="cpu")
    _assert_same(fused + [fused_slow], plain + [separate_slow], rule.name, exact=True)


@pytest.mark.parametrize("rule,index", RULE_SETTINGS)
def test_validate_false_gives_the_same_bits(rule, index):
    hypers = hypers_of(rule, index)
    arrays, slow = inputs(rule, hypers, 1000, seed=3)
    checked = run(rule, hypers, arrays, slow, "cpu", fused=True)
    unchecked = run(rule, hypers, arrays, slow, "cpu", fused=True, validate=False)
    _assert_same(checked[0] + [checked[1]], unchecked[0] + [unchecked[1]], rule.name, exact=True)


@pytest.mark.parametrize("rule", ELEMENTWISE_RULES)
def test_element_functions_run_as_plain_python_on_scalars(rule):
    # The declaration is the reference: its pass, called on float32 scalars, gives the numpy backend's numbers.
    # (A segmented rule's passes meet in per-segment values; the array tests cover them.)
    hypers = rule.example_settings()[-1]
    arrays, _ = inputs(rule, hypers, 20, seed=5)
    rows = [a[rule.state[i - 2].slot(declare.HyperValues(hypers), STEP)] if i >= 2 and rule.state[i - 2].copies
            else a for i, a in enumerate(arrays)]
    scalars = rule.step_constants(hypers, LR, STEP)
    step = rule.passes[0]
    names = step.argument_names()
    by_element = []
    for j in range(20):
        args = [rows[rule.arrays.index(n)][j] if n in rule.arrays else
                (scalars[n] if n in rule.bool_scalars else np.float32(scalars[n])) for n in names]
        by_element.append([np.float32(x) for x in step.fn(*args)])
    whole, _ = run(rule, hypers, arrays, np.zeros(20, np.float32), "numpy", fused=False)
    whole_rows = [w[rule.state[i - 2].slot(declare.HyperValues(hypers), STEP)] if i >= 2 and rule.state[i - 2].copies
                  else w for i, w in enumerate(whole)]
    for k, name in enumerate(step.writes):
        np.testing.assert_array_equal(np.array([e[k] for e in by_element], np.float32),
                                      whole_rows[rule.arrays.index(name)], err_msg=f"{rule.name}: {name}")


@pytest.mark.parametrize("rule", RULES)
def test_public_function_is_derived_with_the_rule_signature(rule):
    function = getattr(kernels, f"{rule.name}_step")
    params = inspect.signature(function).parameters
    assert list(params)[:len(rule.arrays)] == list(rule.arrays)
    for hyper in rule.hypers:
        assert hyper.name in params
        assert hyper.required or params[hyper.name].default == hyper.default
    assert ("segments" in params) == rule.segmented and "slow" in params and "backend" in params
    assert rule.summary.split()[0] in function.__doc__
    assert f"{rule.name}_step" in kernels.__all__


def _valid_call(rule):
    hypers = rule.example_settings()[0]
    arrays, slow = inputs(rule, hypers, 64, seed=1)
    return hypers, arrays


def _bad_values(hyper):
    if hyper.kind == "flag":
        return [("not a bool", 1, TypeError)]
    bad = [("a string", "0.5", TypeError), ("NaN", math.nan, ValueError if hyper.kind == "real" else TypeError)]
    if hyper.kind == "int":
        bad.append(("a float", 2.0, TypeError))
    if hyper.low > -1e29:
        bad.append(("below range", hyper.low - 1.0 if hyper.kind == "real" else int(hyper.low) - 1, ValueError))
    if hyper.low_open:
        bad.append(("the open lower end", hyper.low, ValueError))
    if hyper.high != math.inf:
        bad.append(("above range", hyper.high + 1.0 if hyper.kind == "real" else int(hyper.high) + 1, ValueError))
    if hyper.high_open:
        bad.append(("the open upper end", hyper.high, ValueError))
    return bad


@pytest.mark.parametrize("rule", RULES)
def test_every_hyperparameter_is_checked_from_the_declaration_before_anything_is_written(rule):
    hypers, arrays = _valid_call(rule)
    for hyper in rule.hypers:
        for what, value, error in _bad_values(hyper):
            work = [a.copy() for a in arrays]
            with pytest.raises(error, match=hyper.name):
                kernels.run_step(rule, work, LR, STEP, {**hypers, hyper.name: value}, backend="cpu",
                                 segments=segments_for(rule, 64))
            for before, after in zip(arrays, work, strict=True):
                np.testing.assert_array_equal(before, after, err_msg=f"{rule.name}.{hyper.name} {what} wrote")


@pytest.mark.parametrize("rule", RULES)
def test_bad_arrays_are_named_errors(rule):
    hypers, arrays = _valid_call(rule)
    for index, name in enumerate(rule.arrays):
        work = [a.copy() for a in arrays]
        work[index] = work[index].astype(np.float64)
        with pytest.raises(TypeError, match=name):
            kernels.run_step(rule, work, LR, STEP, hypers, backend="cpu", segments=segments_for(rule, 64))
    with pytest.raises(TypeError, match="no hyperparameter"):
        kernels.run_step(rule, arrays, LR, STEP, {**hypers, "not_a_hyper": 1.0}, backend="cpu",
                         segments=segments_for(rule, 64))


def test_segments_are_checked():
    lamb = rules.get("lamb")
    hypers, arrays = _valid_call(lamb)
    for bad in ([0, 10], [1, 64], [0, 40, 20, 64], [[0, 64]], [0.0, 64.0]):
        with pytest.raises(ValueError, match="segments"):
            kernels.run_step(lamb, [a.copy() for a in arrays], LR, STEP, hypers, backend="cpu", segments=bad)
    with pytest.raises(TypeError, match="segments"):
        kernels.run_step(rules.get("adam"), arrays[:4], LR, STEP, {}, backend="cpu", segments=[0, 64])


def test_lamb_trust_ratio_is_per_segment():
    # Two segments of different scale: each moves by lr*ratio*r with its own ||p||/||r||.
    lamb = rules.get("lamb")
    hypers = lamb.check_hypers({"weight_decay": 0.1})
    rng = np.random.default_rng(2)
    p = np.concatenate([rng.standard_normal(50), 10 * rng.standard_normal(30)]).astype(np.float32)
    g, m, v = rng.standard_normal(80).astype(np.float32), np.zeros(80, np.float32), np.zeros(80, np.float32)
    work = [p.copy(), g.copy(), m.copy(), v.copy()]
    kernels.lamb_step(*work, LR, 1, weight_decay=0.1, segments=[0, 50, 80], backend="cpu")
    b1, b2 = np.float64(np.float32(0.9)), np.float64(np.float32(0.999))
    m1 = (1 - b1) * g
    m2 = (1 - b2) * g * g
    r = (m1 / (1 - b1)) / (np.sqrt(m2 / (1 - b2)) + 1e-6) + 0.1 * p
    expected = p.astype(np.float64).copy()
    for lo, hi in ((0, 50), (50, 80)):
        ratio = np.linalg.norm(p[lo:hi].astype(np.float64)) / np.linalg.norm(r[lo:hi])
        expected[lo:hi] -= LR * ratio * r[lo:hi]
    np.testing.assert_allclose(work[0], expected, rtol=1e-5)
    assert hypers["weight_decay"] == 0.1


def test_byte_counts_follow_the_declaration():
    assert rules.get("sgd").bytes_per_element() == 12
    assert rules.get("adam").bytes_per_element() == 28 and rules.get("adam").bytes_per_element(True) == 36
    assert rules.get("lamb").bytes_per_element() == 40  # pass 1 reads 4 writes 2, pass 2 reads 3 writes 1


def test_a_bad_declaration_is_caught_when_declared():
    def update(param, grad, lr):
        return (param - lr * grad,)

    with pytest.raises(ValueError, match="writes 'velocity'"):
        declare.Rule("bad", "", (), (), lambda h, lr, s: {}, (declare.Pass(update, writes=("param", "velocity")),))
    with pytest.raises(ValueError, match="must write 'param'"):
        declare.Rule("bad", "", (), (), lambda h, lr, s: {}, (declare.Pass(update, writes=()),))
    with pytest.raises(ValueError, match="identifier"):
        declare.Rule("bad-name", "", (), (), lambda h, lr, s: {}, (declare.Pass(update, writes=("param",)),))

    def underscore(param, grad, _lr):
        return (param,)

    with pytest.raises(ValueError, match="'_'"):
        declare.Rule("bad", "", (), (), lambda h, lr, s: {}, (declare.Pass(underscore, writes=("param",)),))

    with pytest.raises(ValueError, match="SumOfSquares 'velocity_sq' is of 'velocity'"):
        norm = declare.SumOfSquares("velocity_sq", "velocity")
        declare.Rule("bad", "", (), (), lambda h, lr, s: {},
                     (declare.Pass(update, writes=("param",), reduces=(norm,)),))


def _moments_returning_squares(param, grad, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2,
                               one_minus_beta1_power, one_minus_beta2_power, eps, decay):
    m = beta1 * m + one_minus_beta1 * grad
    v = beta2 * v + (one_minus_beta2 * grad) * grad
    r = lamb_direction(param, m, v, one_minus_beta1_power, one_minus_beta2_power, eps, decay)
    return m, v, r, param * param, r * r


def test_sum_of_squares_gives_the_bits_of_returned_squares():
    """Lamb declares its norms as ``SumOfSquares`` of ``param`` and of its direction; the same rule with
    the squares returned by its element function (the other way to declare a reduction) must give the
    same bits on every host backend, with segments of every kind of chunk (full, tails, one element)."""
    lamb = rules.get("lamb")
    returning = dataclasses.replace(
        lamb, name="lamb_returning_squares_for_test",
        passes=(declare.Pass(_moments_returning_squares, writes=("m", "v", "update"),
                             reduces=("param_sq", "update_sq")), *lamb.passes[1:]))
    assert all(isinstance(r, declare.SumOfSquares) for r in lamb.passes[0].reduces)
    rules.register(returning)
    try:
        rng = np.random.default_rng(3)
        size, segments = 13001, [0, 4096, 4096 + 17, 9000, 9001, 13001]
        start = [rng.standard_normal(size).astype(np.float32) for _ in range(3)] + [
            rng.random(size).astype(np.float32)]
        results = []
        for name in ("lamb", returning.name):
            for backend in ("numpy", "cpu"):
                p, g, m, v = (a.copy() for a in start)
                for step in (1, 2):
                    getattr(kernels, f"{name}_step")(p, g, m, v, 0.01, step, weight_decay=0.1, segments=segments,
                                                     backend=backend)
                results.append((name, backend, p, m, v))
        for name, backend, *arrays in results[1:]:
            for a, b in zip(results[0][2:], arrays, strict=True):
                np.testing.assert_array_equal(a, b, err_msg=f"{name} on {backend}")
    finally:
        rules._registry.pop(returning.name)


def test_a_rule_registered_at_run_time_gets_every_backend_and_its_function():
    def update(param, grad, lr, two):
        return (param - lr * (grad * two),)

    double = declare.Rule("double_sgd_for_test", "SGD with a doubled gradient.", (), (),
                          lambda h, lr, step: {"lr": lr, "two": 2.0}, (declare.Pass(update, writes=("param",)),))
    rules.register(double)
    try:
        p, g = np.ones(100, np.float32), np.full(100, 0.5, np.float32)
        for backend in ("numpy", "cpu"):
            work = p.copy()
            kernels.double_sgd_for_test_step(work, g, 0.1, backend=backend)
            np.testing.assert_array_equal(work, np.float32(1) - np.float32(0.1) * (g * np.float32(2)))
        with pytest.raises(ValueError, match="already registered"):
            rules.register(declare.Rule("double_sgd_for_test", "", (), (), lambda h, lr, s: {},
                                        (declare.Pass(update, writes=("param",)),)))
    finally:
        rules._registry.pop("double_sgd_for_test")


def _lars_ratio(param_sq, grad_sq, trust):
    param_norm, grad_norm = sqrt(param_sq), sqrt(grad_sq)
    return (select(param_norm > 0, select(grad_norm > 0, trust * param_norm / grad_norm, 1.0), 1.0),)


def _lars_apply(param, grad, ratio, lr):
    return (param - (lr * ratio) * grad,)


def _reads_only(param, grad):
    return ()


def test_a_pass_may_only_sum_squares_of_what_it_reads():
    """LARS without momentum, as a user would declare it: a first pass that writes nothing and sums the
    squares of ``param`` and ``grad`` per tensor, a segment step for the ratio, then the update."""
    lars = declare.Rule(
        "lars_for_test", "LARS (no momentum).", (), (declare.Hyper("trust", 0.001),),
        lambda h, lr, step: {"lr": lr, "trust": h.trust},
        (declare.Pass(_reads_only, writes=(), reduces=(declare.SumOfSquares("param_sq", of="param"),
                                                       declare.SumOfSquares("grad_sq", of="grad"))),
         declare.SegmentStep(_lars_ratio, inputs=("param_sq", "grad_sq"), outputs=("ratio",)),
         declare.Pass(_lars_apply, writes=("param",))))
    rules.register(lars)
    try:
        rng = np.random.default_rng(5)
        p0, g = (rng.standard_normal(10000).astype(np.float32) for _ in range(2))
        segments = [0, 3000, 3001, 10000]
        found = {}
        for backend in ("numpy", "cpu"):
            p = p0.copy()
            kernels.lars_for_test_step(p, g.copy(), 0.1, segments=segments, backend=backend)
            found[backend] = p
        np.testing.assert_array_equal(found["numpy"], found["cpu"])
        expected = p0.astype(np.float64)
        for lo, hi in zip(segments[:-1], segments[1:], strict=True):
            ratio = 0.001 * np.linalg.norm(p0[lo:hi].astype(np.float64)) / np.linalg.norm(g[lo:hi].astype(np.float64))
            expected[lo:hi] -= 0.1 * ratio * g[lo:hi]
        np.testing.assert_allclose(found["cpu"], expected, rtol=1e-6, atol=1e-7)
        with pytest.raises(ValueError, match="must write an array or reduce one"):
            declare.Rule("bad", "", (), (), lambda h, lr, s: {},
                         (declare.Pass(_reads_only, writes=()), declare.Pass(_lars_apply, writes=("param",))))
    finally:
        rules._registry.pop("lars_for_test")


_EDIT_SCRIPT = textwrap.dedent("""
    import numpy as np
    from lasandbox import kernels
    p, g = np.ones(8, np.float32), np.ones(8, np.float32)
    kernels.sgd_step(p, g, 0.5, backend="cpu")
    print(repr(float(p[0])))
""")


def test_editing_a_rule_takes_effect_in_the_next_run(tmp_path):
    # A copy of the package, with its own kernel cache: run, edit sgd's element function, run again.
    package = Path(kernels.__file__).resolve().parents[1]
    shutil.copytree(package, tmp_path / "lasandbox", ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(tmp_path), NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    env.pop("NUMBA_ENABLE_CUDASIM", None)

    def result():
        done = subprocess.run([sys.executable, "-c", _EDIT_SCRIPT], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return float(done.stdout.strip().splitlines()[-1])

    assert result() == 0.5 and result() == 0.5  # the second run loads the cached machine code
    rule_file = tmp_path / "lasandbox" / "kernels" / "rules" / "sgd.py"
    source = rule_file.read_text()
    assert "return (param - lr * g,)" in source
    rule_file.write_text(source.replace("return (param - lr * g,)", "return (param - lr * (g + g),)"))
    assert result() == 0.0  # 1 - 0.5*(1 + 1): the edited rule, not the cached one
    cached = list((tmp_path / "numba-cache" / "lasandbox-kernels").glob("sgd__plain__cpu__*.py"))
    assert len(cached) == 2  # one generated module per version of the rule


def test_every_rule_after_the_papers_is_named_in_at_most_three_package_files():
    """The rules issue's count (its module, the registry line, one Paddle-facing class), as
    ``tools/rule_mentions.py --check`` takes it: a docstring naming Adagrad in kernels/api.py had made it 4."""
    import subprocess
    import sys
    from pathlib import Path

    tool = Path(__file__).resolve().parents[1] / "tools" / "rule_mentions.py"
    result = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
