"""LookAheadMinmax: joint Lookahead over the players of a game (Chavdarova et al. 2021), through the protocol."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import kernels
from lasandbox.incubate import LookAheadMinmax
from lasandbox.optimizer.nonfinite import NonFiniteGradientWarning
from lasandbox.paper import bilinear_game as bg

LR = 0.1
# The cuda backend runs under numba's simulator without a GPU (tests/conftest.py); every cuda test is `gpu`.
BACKENDS = ["cpu"] + ([pytest.param("cuda", marks=pytest.mark.gpu)] if "cuda" in kernels.available_backends() else [])


def _pair(trajectory, t):
    return np.array([trajectory.x[t, 0], trajectory.y[t, 0]], dtype=float)


def test_plain_gda_spirals_out_by_sqrt_one_plus_lr_squared_each_step():
    trajectory = bg.simulate(LR, [1.0], 60)
    norms = trajectory.norms()[:, 0]
    np.testing.assert_allclose(norms[1:] / norms[:-1], np.sqrt(1 + LR**2), rtol=2e-6)
    assert norms[-1] > 1.3 * norms[0]


def test_lookahead_minmax_converges_and_follows_the_closed_form_to_float32_precision():
    alpha, k, cycles = 0.5, 5, 40
    trajectory = bg.simulate(LR, [1.0], cycles * k, alpha=alpha, k=k)
    cycle = (1 - alpha) * np.eye(2) + alpha * np.linalg.matrix_power(bg.gda_matrix(LR), k)
    z = np.array([1.0, 1.0])
    for n in range(1, cycles + 1):
        z = cycle @ z
        got = _pair(trajectory, n * k)
        assert np.max(np.abs(got - z)) <= 2e-6 * np.linalg.norm(z), n
    # The slow weights recorded at each sync are the fast weights right after it.
    np.testing.assert_array_equal(trajectory.slow_x[1:], trajectory.x[k::k])
    # converges: 0.98^40 = 0.47 of the start after 200 iterations, where GDA grows by 1.01^100 = 2.7
    assert trajectory.norms()[-1, 0] / trajectory.norms()[0, 0] < 0.5
    # |z| shrinks by the spectral radius of the cycle, every cycle (T is a scaled rotation)
    assert bg.cycle_radius(LR, alpha, k) == pytest.approx(np.sqrt(abs(np.linalg.det(cycle))), rel=1e-12)


def test_joint_sync_with_several_critic_steps_follows_its_closed_form_and_separate_wrappers_do_not():
    alpha, k, cycles = 0.5, 5, 20
    for critic_steps in (1, 3):
        joint = bg.simulate(LR, [1.0], cycles * k, alpha=alpha, k=k, critic_steps=critic_steps)
        separate = bg.simulate(LR, [1.0], cycles * k, alpha=alpha, k=k, critic_steps=critic_steps, separate=True)
        z = np.linalg.matrix_power(bg.joint_cycle_matrix(LR, alpha, k, critic_steps), cycles) @ np.ones(2)
        got_joint, got_separate = _pair(joint, cycles * k), _pair(separate, cycles * k)
        assert np.max(np.abs(got_joint - z)) <= 2e-6 * np.linalg.norm(z)
        gap = np.linalg.norm(got_separate - got_joint) / np.linalg.norm(got_joint)
        if critic_steps == 1:
            assert gap <= 1e-6  # one step each: the two wrappers sync together, the same algorithm
        else:
            assert gap > 0.5  # the critic's wrapper syncs every 5/3 iterations: another algorithm


def _players(x0=(1.0, -2.0), y0=(0.5,)):
    x = paddle.nn.Parameter(np.array(x0, np.float32))
    y = paddle.nn.Parameter(np.array(y0, np.float32))
    return x, y, paddle.optimizer.SGD(LR, parameters=[x]), paddle.optimizer.Momentum(LR, 0.5, parameters=[y])


def _play(x, y, gen, critic, joint, iterations):
    for _ in range(iterations):
        paddle.sum(x * x * y.detach()).backward()
        (-paddle.sum(x.detach() * y * y)).backward()
        gen.step()
        critic.step()
        joint.clear_grad()
        joint.step()


@pytest.mark.parametrize("players, error, words", [
    ([], ValueError, "players is empty"),
    ("sgd", TypeError, "players must be a list"),
    ([object()], TypeError, r"players\[0\] must be a lasandbox optimizer"),
])  # fmt: skip
def test_bad_players_are_named_errors(players, error, words):
    with pytest.raises(error, match=words):
        LookAheadMinmax(players)


def test_a_single_optimizer_or_a_shared_parameter_is_refused_and_nothing_changes():
    x, y, gen, critic = _players()
    with pytest.raises(TypeError, match="single SGD"):
        LookAheadMinmax(gen)
    with pytest.raises(ValueError, match=r"players\[0\] and players\[1\] both update parameter .*listed twice"):
        LookAheadMinmax([gen, gen])
    both = paddle.optimizer.Adam(0.1, parameters=[y])
    with pytest.raises(ValueError, match=r"players\[1\] and players\[2\] both update parameter .*one player"):
        LookAheadMinmax([gen, critic, both])
    wrapped = paddle.LookAhead(paddle.optimizer.SGD(0.1, parameters=[x]))
    with pytest.raises(ValueError, match=r"players\[0\] and players\[1\]"):
        LookAheadMinmax([gen, wrapped])
    with pytest.raises(ValueError, match="alpha"):
        LookAheadMinmax([gen, critic], alpha=1.5)
    with pytest.raises(TypeError, match="k must be an int"):
        LookAheadMinmax([gen, critic], k=2.0)
    with pytest.raises(ValueError, match="slow_init"):
        LookAheadMinmax([gen, critic], slow_init="later")
    np.testing.assert_array_equal(x.numpy(), [1.0, -2.0])
    np.testing.assert_array_equal(y.numpy(), [0.5])


def test_sync_every_k_iterations_moves_every_players_slow_weights_together():
    x, y, gen, critic = _players()
    joint = LookAheadMinmax([gen, critic], alpha=0.25, k=3)
    start = [s.copy() for s in joint.slow_buffers()]
    _play(x, y, gen, critic, joint, 2)
    for slow, first in zip(joint.slow_buffers(), start, strict=True):
        np.testing.assert_array_equal(slow, first)  # no sync before the k-th iteration
    fast = [x.numpy().copy(), y.numpy().copy()]
    paddle.sum(x * x * y.detach()).backward()
    (-paddle.sum(x.detach() * y * y)).backward()
    gen.step()
    critic.step()
    fast = [x.numpy().copy(), y.numpy().copy()]
    joint.clear_grad()
    joint.step()
    assert joint.iterations == 3 and joint.syncs == 1
    for slow, first, value, param in zip(joint.slow_buffers(), start, fast, (x, y), strict=True):
        expected = np.float32(0.25) * value + np.float32(0.75) * first
        np.testing.assert_allclose(slow, expected, rtol=1e-6)
        np.testing.assert_array_equal(param.numpy(), slow)  # fast = slow after the sync


def test_a_lookahead_player_restarts_from_the_joint_slow_weights():
    x, y, gen, critic = _players()
    critic = paddle.LookAhead(critic, alpha=0.5, k=2, slow_init="construction")
    joint = LookAheadMinmax([gen, critic], alpha=0.5, k=4)
    _play(x, y, gen, critic, joint, 4)
    np.testing.assert_array_equal(critic.slow_buffer(), joint.slow_buffers()[1])
    np.testing.assert_array_equal(y.numpy(), joint.slow_buffers()[1])


def test_slow_weights_context_swaps_every_player_and_restores():
    x, y, gen, critic = _players()
    joint = LookAheadMinmax([gen, critic], k=5)
    _play(x, y, gen, critic, joint, 3)
    fast = x.numpy().copy(), y.numpy().copy()
    with joint.slow_weights():
        np.testing.assert_array_equal(x.numpy(), [1.0, -2.0])
        np.testing.assert_array_equal(y.numpy(), [0.5])
    np.testing.assert_array_equal(x.numpy(), fast[0])
    np.testing.assert_array_equal(y.numpy(), fast[1])


def test_manual_sync_and_first_step_init():
    x, y, gen, critic = _players()
    joint = LookAheadMinmax([gen, critic], alpha=0.5, k=10, slow_init="first_step")
    assert joint.slow_buffers() is None
    with joint.slow_weights():
        pass  # nothing to swap in yet
    _play(x, y, gen, critic, joint, 1)
    np.testing.assert_array_equal(joint.slow_buffers()[0], x.numpy())  # copied after the first iteration
    after_one = x.numpy().copy()
    _play(x, y, gen, critic, joint, 2)
    fast = x.numpy().copy()
    joint.sync()
    np.testing.assert_allclose(x.numpy(), 0.5 * fast + 0.5 * after_one, rtol=1e-6)
    assert joint.iterations == 3 and joint.syncs == 0


def test_alpha_and_k_schedules_and_a_bad_schedule_changes_nothing():
    x, y, gen, critic = _players()
    seen = []
    joint = LookAheadMinmax([gen, critic], alpha=lambda i: seen.append(i) or 1.0, k=lambda i: i + 1)
    _play(x, y, gen, critic, joint, 1 + 2 + 3)
    assert joint.syncs == 3 and seen == [0, 1, 2]
    bad = LookAheadMinmax([gen, critic], alpha=lambda i: 2.0, k=1)
    before = x.numpy().copy(), bad.state_dict()
    with pytest.raises(ValueError, match=r"alpha\(0\)"):
        bad.step()
    np.testing.assert_array_equal(x.numpy(), before[0])
    assert bad.iterations == 0 and bad.syncs == 0
    with pytest.raises(TypeError, match=r"k\(0\)"):
        LookAheadMinmax([gen, critic], k=lambda i: 1.5).step()


def test_state_dict_resumes_mid_cycle_bit_identically_in_process():
    x, y, gen, critic = _players()
    joint = LookAheadMinmax([gen, critic], alpha=0.4, k=3)
    _play(x, y, gen, critic, joint, 4)
    state, values = joint.state_dict(), (x.numpy().copy(), y.numpy().copy())
    assert state["steps_since_sync"] == 1 and state["syncs"] == 1
    _play(x, y, gen, critic, joint, 7)
    straight = x.numpy().copy(), y.numpy().copy()
    x2, y2, gen2, critic2 = _players(x0=(9.0, 9.0), y0=(9.0,))
    resumed = LookAheadMinmax([gen2, critic2], alpha=0.4, k=3)
    x2.set_value(values[0])
    y2.set_value(values[1])
    resumed.set_state_dict(state)
    _play(x2, y2, gen2, critic2, resumed, 7)
    np.testing.assert_array_equal(x2.numpy(), straight[0])
    np.testing.assert_array_equal(y2.numpy(), straight[1])


def test_set_state_dict_checks_everything_and_rolls_back_a_refused_player():
    x, y, _, critic = _players()
    gen = paddle.optimizer.Momentum(LR, 0.9, parameters=[x])  # a generator with state, to roll back
    joint = LookAheadMinmax([gen, critic], alpha=0.4, k=3)
    _play(x, y, gen, critic, joint, 4)
    good = joint.state_dict()
    with pytest.raises(ValueError, match="holds 1 player states, this LookAheadMinmax has 2"):
        joint.set_state_dict(dict(good, players=good["players"][:1]))
    with pytest.raises(ValueError, match=r"state_dict\['slow'\]\[1\]"):
        joint.set_state_dict(dict(good, slow=[good["slow"][0], np.zeros(4, np.float32)]))
    with pytest.raises(KeyError, match="iterations"):
        joint.set_state_dict({"slow": None, "players": good["players"]})
    # The critic's part is wrong: the generator's part, already applied, is rolled back.
    (gen_key,) = [k for k in good["players"][0] if k.endswith("_velocity_0")]
    (critic_key,) = [k for k in good["players"][1] if k.endswith("_velocity_0")]
    other = dict(good, players=[dict(good["players"][0], **{gen_key: np.full(2, 99, np.float32)}),
                                dict(good["players"][1], **{critic_key: np.zeros(7, np.float32)})])
    with pytest.raises(ValueError, match=critic_key):
        joint.set_state_dict(other)
    after = joint.state_dict()
    assert after["iterations"] == good["iterations"]
    np.testing.assert_array_equal(after["players"][0][gen_key].numpy(), good["players"][0][gen_key].numpy())
    for a, b in zip(after["slow"], good["slow"], strict=True):
        np.testing.assert_array_equal(a, b)


RESUME_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import lasandbox as paddle
    from lasandbox import nn

    mode, path = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(5)
    real = rng.standard_normal((20, 16, 2)).astype(np.float32)
    noise = rng.standard_normal((20, 16, 3)).astype(np.float32)
    paddle.seed(7)
    gen = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    critic = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    g_opt = paddle.optimizer.Adam(0.01, beta1=0.5, parameters=gen.parameters())
    c_opt = paddle.LookAhead(paddle.optimizer.Adam(0.01, beta1=0.5, parameters=critic.parameters()), k=3)
    joint = paddle.incubate.LookAheadMinmax([g_opt, c_opt], alpha=0.5, k=4)

    def run(iterations):
        for t in iterations:
            for _ in range(2):  # two critic steps per generator step (WGAN-style losses)
                loss = paddle.mean(critic(gen(paddle.to_tensor(noise[t])).detach())) - paddle.mean(
                    critic(paddle.to_tensor(real[t])))
                loss.backward()
                c_opt.step()
                c_opt.clear_grad()
            (-paddle.mean(critic(gen(paddle.to_tensor(noise[t]))))).backward()
            g_opt.step()
            joint.clear_grad()
            joint.step()

    if mode == "straight":
        run(range(20))
    elif mode == "first":
        run(range(10))  # mid-cycle at both levels (10 % 4 == 2; the critic's 20 steps % 3 == 2)
        paddle.save({"gen": gen.state_dict(), "critic": critic.state_dict(), "joint": joint.state_dict()}, path)
        sys.exit(0)
    else:
        state = paddle.load(path)
        gen.set_state_dict(state["gen"])
        critic.set_state_dict(state["critic"])
        joint.set_state_dict(state["joint"])
        run(range(10, 20))
    values = [p.numpy().ravel() for p in gen.parameters() + critic.parameters()]
    np.save(path + "." + mode + ".npy", np.concatenate(values))
    """
)


def test_resume_mid_cycle_in_a_new_process_is_bit_identical(tmp_path):
    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT)
    state = str(tmp_path / "state.pdparams")
    for mode in ("straight", "first", "second"):
        subprocess.run([sys.executable, str(script), mode, state], check=True, timeout=300)
    np.testing.assert_array_equal(np.load(state + ".second.npy"), np.load(state + ".straight.npy"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_backends_keep_the_slow_weights_on_their_side_and_agree(backend):
    alpha, k, cycles = 0.5, 5, 4
    trajectory = bg.simulate(LR, [1.0, 2.0], cycles * k, alpha=alpha, k=k, backend=backend)
    reference = bg.simulate(LR, [1.0, 2.0], cycles * k, alpha=alpha, k=k, backend="numpy")
    np.testing.assert_allclose(trajectory.x, reference.x, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(trajectory.slow_y, reference.slow_y, rtol=1e-6, atol=1e-7)
    x, y = paddle.nn.Parameter(np.ones(2, np.float32)), paddle.nn.Parameter(np.ones(2, np.float32))
    players = [paddle.optimizer.SGD(LR, parameters=[p], backend=backend) for p in (x, y)]
    joint = LookAheadMinmax(players, alpha=alpha, k=k)
    state = joint.state_dict()
    joint.set_state_dict(dict(state, slow=[np.full(2, 3.0, np.float32), np.full(2, 4.0, np.float32)]))
    with joint.slow_weights():
        np.testing.assert_array_equal(x.numpy(), [3.0, 3.0])
    joint.sync()  # alpha 0.5 between the fast weights (1) and the slow ones (3, 4)
    np.testing.assert_array_equal(x.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(joint.slow_buffers()[1], [2.5, 2.5])


def _skipping_game(inner_wrapper=False):
    x = paddle.nn.Parameter(np.array([1.0, -2.0], np.float32))
    y = paddle.nn.Parameter(np.array([0.5], np.float32))
    gen = paddle.optimizer.Adam(0.05, parameters=[x], nonfinite="skip")
    critic = paddle.optimizer.Momentum(LR, 0.5, parameters=[y], nonfinite="skip")
    if inner_wrapper:  # a LookAhead player whose inner optimizer is the one that skips
        critic = paddle.LookAhead(critic, alpha=0.5, k=2)
    return x, y, gen, critic, LookAheadMinmax([gen, critic], alpha=0.5, k=3)


def _game_iteration(x, y, gen, critic, joint, bad=False):
    scale = np.float32(np.nan) if bad else np.float32(1.0)
    paddle.sum(x * x * y.detach() * scale).backward()
    (-paddle.sum(x.detach() * y * y * scale)).backward()
    gen.step()
    critic.step()
    joint.clear_grad()
    joint.step()


@pytest.mark.parametrize("inner_wrapper", [False, True])
def test_an_iteration_every_player_skipped_does_not_count_and_the_run_ends_as_without_it(inner_wrapper):
    runs = []
    for bad_iteration in (None, 4):
        x, y, gen, critic, joint = _skipping_game(inner_wrapper)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonFiniteGradientWarning)
            for i in range(8 if bad_iteration is None else 9):
                _game_iteration(x, y, gen, critic, joint, bad=i == bad_iteration)
        runs.append((x.numpy().copy(), y.numpy().copy(), [s.copy() for s in joint.slow_buffers()],
                     joint.iterations, joint.syncs, joint.skipped_iterations))
    clean, skipped = runs
    np.testing.assert_array_equal(skipped[0], clean[0])
    np.testing.assert_array_equal(skipped[1], clean[1])
    for a, b in zip(skipped[2], clean[2], strict=True):
        np.testing.assert_array_equal(a, b)
    assert skipped[3:5] == clean[3:5] == (8, 2)
    assert (clean[5], skipped[5]) == (0, 1)


def test_an_iteration_one_player_skipped_still_counts():
    x, y, gen, critic, joint = _skipping_game()
    paddle.sum(x * x * y.detach()).backward()
    (-paddle.sum(x.detach() * y * y * np.float32(np.nan))).backward()
    gen.step()  # the generator steps; the critic has a NaN gradient and skips
    with pytest.warns(NonFiniteGradientWarning):
        critic.step()
    joint.step()
    assert joint.iterations == 1 and joint.skipped_iterations == 0
