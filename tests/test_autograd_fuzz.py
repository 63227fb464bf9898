"""Random graphs of lasandbox's differentiable ops against PyTorch in float64: values and gradients.

The graphs (tests/autograd_fuzz_graphs.py) mix every elementwise, reduction, shape and
matmul op of ``lasandbox.autograd`` and ``nn.functional``'s elementwise/softmax ops, on
shapes that broadcast, with nodes used several times and reductions over random axes.
The default run draws a few hundred graphs; the slow lane thousands.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")

from autograd_fuzz_graphs import AXIS_NONE, OPS, Step, check, run  # noqa: E402


@st.composite
def leaf_shapes(draw):
    """1-3 shapes that broadcast together: suffixes of one base shape, some sizes set to 1."""
    base = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        dropped = draw(st.integers(0, len(base)))
        shapes.append(tuple(1 if draw(st.booleans()) and draw(st.booleans()) else n for n in base[dropped:]))
    return shapes


steps = st.builds(
    Step,
    op=st.sampled_from(OPS),
    # Small picks make reuse of the same node likely; large ones spread over the graph.
    picks=st.tuples(*[st.integers(0, 12)] * 3),
    axis=st.one_of(st.integers(-3, 3), st.just(AXIS_NONE)),
    keepdim=st.booleans(),
    c1=st.floats(-1.5, 1.5, allow_nan=False),
    c2=st.floats(0.0, 1.5, allow_nan=False),
)
graphs = st.tuples(leaf_shapes(), st.lists(steps, min_size=1, max_size=8), st.integers(0, 2**32 - 1))
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(graphs)
def test_random_graphs_match_torch(graph):
    check(run(*graph))


@pytest.mark.slow
@SLOW
@given(graphs)
def test_random_graphs_match_torch_many(graph):
    check(run(*graph))


def test_every_op_is_drawn_and_really_runs():
    """The fallback (tanh) must not hide an op: each one runs on operands that fit it."""
    leaves = [(3, 4), (3, 4), (1, 4)]
    for op in OPS:
        outcome = run(leaves, [Step(op, (0, 1, 2), 1, True, 0.5, 0.7)], seed=1)
        if outcome.ops_run == ["tanh (fallback)"]:
            outcome = run(leaves, [Step(op, (0, 1, 2), 1, False, 0.5, 0.7)], seed=1)
        assert outcome.ops_run == [op], (op, outcome.ops_run)
        check(outcome)


def test_a_node_used_twice_gets_both_gradients():
    outcome = run([(3,)], [Step("multiply", (0, 0, 0), 0, False, 0.0, 0.0)], seed=0)  # x * x
    check(outcome)
    x = outcome.leaves[0][0]
    weight_free = outcome.leaves[0][1].grad.numpy()  # torch: 2 * x * w
    np.testing.assert_allclose(x.grad.numpy(), weight_free)
