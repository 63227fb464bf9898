"""TrajectoryRecorder: what is stored when, the pre-sync reconstruction, disk store, wrapper and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import nn
from lasandbox.landscape import RecordingOptimizer, Trajectory, TrajectoryRecorder
from lasandbox.training import mlp, train_epoch

RNG = np.random.default_rng(11)
X = RNG.standard_normal((16, 8, 5)).astype(np.float32)
Y = RNG.integers(0, 3, (16, 8))


def make_model(seed=0):
    paddle.seed(seed)
    return mlp([5, 6, 3])


def momentum(model):
    return paddle.optimizer.Momentum(learning_rate=0.1, momentum=0.9, parameters=model.parameters())


def one_step(model, opt, i):
    loss = nn.CrossEntropyLoss()(model(paddle.to_tensor(X[i % len(X)])), paddle.to_tensor(Y[i % len(Y)]))
    loss.backward()
    opt.step()
    opt.clear_grad()
    return float(loss.numpy())


@pytest.mark.parametrize("slow_init,first_slow_step", [("first_step", 1), ("construction", 0)])
def test_slow_weights_are_stored_exactly_at_the_syncs(slow_init, first_slow_step):
    model = make_model()
    la = paddle.LookAhead(momentum(model), alpha=0.5, k=3, slow_init=slow_init)
    rec = TrajectoryRecorder(la)
    expected = {}
    for i in range(10):
        loss = one_step(model, la, i)
        rec.record({"loss": loss, "step_again": la.global_step})
        if la.global_step % 3 == 0 or la.global_step == 1 and slow_init == "first_step":
            expected[la.global_step] = la.state_dict()["slow"].copy()
    traj = rec.trajectory()
    if slow_init == "construction":
        expected = {0: traj.fast[0], **expected}
    assert list(traj.slow_steps) == [first_slow_step, 3, 6, 9]
    for step, row in zip(traj.slow_steps, traj.slow, strict=True):
        np.testing.assert_array_equal(row, expected[int(step)])
    assert traj.slow.dtype == np.float32
    assert list(traj.fast_steps) == list(range(11))
    assert list(traj.inner_end_steps) == [3, 6, 9]
    np.testing.assert_array_equal(traj.metrics["step_again"][1:], np.arange(1, 11))
    assert np.isnan(traj.metrics["loss"][0]), "the initial snapshot has no metrics"
    assert list(traj.slow_metrics["step_again"][1:]) == [3, 6, 9]
    # After a sync the fast weights are the slow weights.
    for step, row in zip(traj.slow_steps[1:], traj.slow[1:], strict=True):
        np.testing.assert_array_equal(traj.fast[traj.fast_steps == step][0], row)


def test_inner_loop_end_is_the_inner_optimizers_theta_k():
    """In the first inner loop (slow weights = theta_0) LookAhead's fast weights follow the inner optimizer."""
    k = 4
    plain_model, la_model = make_model(), make_model()
    plain = momentum(plain_model)
    la = paddle.LookAhead(momentum(la_model), alpha=0.3, k=k, slow_init="construction")
    rec = TrajectoryRecorder(la)
    for i in range(k):
        one_step(plain_model, plain, i)
        one_step(la_model, la, i)
        rec.record()
    theta_k = np.concatenate([p.numpy().ravel() for p in plain_model.parameters()])
    traj = rec.trajectory()
    np.testing.assert_allclose(traj.inner_end[0], theta_k, rtol=1e-5, atol=1e-6)
    # phi_1 lies on the segment theta_0 -> theta_k at fraction alpha.
    np.testing.assert_allclose(traj.slow[1], traj.slow[0] + 0.3 * (theta_k - traj.slow[0]), atol=1e-6)
    steps, points = traj.inner_loop(0)
    assert list(steps) == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(points[0], traj.fast[0])
    np.testing.assert_array_equal(points[-1], traj.inner_end[0])
    update_steps, updates = traj.fast_updates()
    np.testing.assert_array_equal(updates[update_steps == k][0], traj.inner_end[0])


def test_every_step_a_sync():
    """k = 1 with Paddle's lazy init: step 1 creates and syncs the slow weights; alpha = 1 keeps no memory."""
    model = make_model()
    la = paddle.LookAhead(momentum(model), alpha=1.0, k=1)
    rec = TrajectoryRecorder(la)
    for i in range(4):
        one_step(model, la, i)
        rec.record()
    traj = rec.trajectory()
    assert list(traj.slow_steps) == list(traj.inner_end_steps) == [1, 2, 3, 4]
    np.testing.assert_array_equal(traj.inner_end, traj.slow)
    np.testing.assert_array_equal(traj.fast[1:], traj.slow)
    assert rec.num_snapshots == {"fast": 5, "slow": 4, "inner_end": 4}


def test_fast_path_puts_each_inner_loop_end_before_its_pull_back():
    model = make_model()
    la = paddle.LookAhead(momentum(model), alpha=0.5, k=2, slow_init="construction")
    rec = TrajectoryRecorder(la)
    for i in range(4):
        one_step(model, la, i)
        rec.record()
    steps, points, is_end = rec.trajectory().fast_path()
    assert list(steps) == [0, 1, 2, 2, 3, 4, 4]
    assert list(is_end) == [False, False, True, False, False, True, False]
    assert points.shape == (7, rec.trajectory().fast.shape[1])


def test_stride_and_plain_optimizers():
    model = make_model()
    opt = momentum(model)
    rec = TrajectoryRecorder(opt, stride=3)
    for i in range(7):
        one_step(model, opt, i)
        rec.record()
    traj = rec.trajectory()
    assert list(traj.fast_steps) == [0, 3, 6]
    assert traj.slow.shape[0] == 0 and traj.k is None
    np.testing.assert_array_equal(traj.fast[-1] if False else traj.fast[2].shape, (opt._space.size,))
    assert rec.nbytes == 3 * opt._space.size * 4 + 3 * 8


def test_store_on_disk_round_trips(tmp_path):
    model = make_model()
    la = paddle.LookAhead(momentum(model), alpha=0.5, k=3)
    memory = TrajectoryRecorder(la)
    disk = TrajectoryRecorder(la, store=tmp_path / "run", chunk_rows=4)
    for i in range(11):
        loss = one_step(model, la, i)
        memory.record({"loss": loss})
        disk.record({"loss": loss})
    # at most two chunk buffers per series (one filling, one being written)
    assert disk.resident_nbytes <= 3 * 2 * 4 * la.inner_optimizer._space.size * 4
    assert disk.nbytes == memory.nbytes
    disk.close()
    assert len(list((tmp_path / "run" / "fast").glob("chunk_*.npy"))) == 3  # 12 snapshots / 4 per chunk
    loaded = Trajectory.load(tmp_path / "run")
    expected = memory.trajectory()
    for name in ("fast", "fast_steps", "slow", "slow_steps", "inner_end", "inner_end_steps"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(expected, name))
    np.testing.assert_array_equal(loaded.metrics["loss"], expected.metrics["loss"])
    assert (loaded.k, loaded.alpha, loaded.shapes) == (3, 0.5, expected.shapes)
    with pytest.raises(RuntimeError, match="closed"):
        disk.record()
    with pytest.raises(ValueError, match="empty directory"):
        TrajectoryRecorder(la, store=tmp_path / "run")


def test_save_and_load_npz(tmp_path):
    model = make_model()
    la = paddle.LookAhead(momentum(model), alpha=0.5, k=2)
    rec = TrajectoryRecorder(la)
    for i in range(5):
        rec.record({"loss": one_step(model, la, i)})
    traj = rec.trajectory()
    loaded = Trajectory.load(traj.save(tmp_path / "traj"))
    np.testing.assert_array_equal(loaded.fast, traj.fast)
    np.testing.assert_array_equal(loaded.inner_end_steps, traj.inner_end_steps)
    np.testing.assert_array_equal(loaded.metrics["loss"], traj.metrics["loss"])
    assert loaded.nbytes == traj.nbytes


def test_recording_optimizer_steps_and_records():
    model = make_model()
    opt = RecordingOptimizer(paddle.LookAhead(momentum(model), alpha=0.5, k=5))
    train_epoch(model, opt, X.reshape(-1, 5), Y.reshape(-1), 16, np.random.default_rng(0))
    traj = opt.recorder.trajectory()
    assert list(traj.fast_steps) == list(range(9))
    assert list(traj.slow_steps) == [1, 5]
    loss = nn.CrossEntropyLoss()(model(paddle.to_tensor(X[0])), paddle.to_tensor(Y[0]))
    loss.backward()
    opt.minimize(loss)
    assert opt.recorder.trajectory().metrics["loss"][-1] == pytest.approx(float(loss.numpy()))
    assert opt.get_lr() == pytest.approx(0.1)  # everything else passes through


def test_recorder_errors_and_missed_syncs():
    model = make_model()
    la = paddle.LookAhead(momentum(model), alpha=0.5, k=2)
    with pytest.raises(TypeError, match="optimizer"):
        TrajectoryRecorder(model)
    with pytest.raises(ValueError, match="stride"):
        TrajectoryRecorder(la, stride=0)
    with pytest.raises(TypeError, match="stride"):
        TrajectoryRecorder(la, stride=1.0)
    rec = TrajectoryRecorder(la)
    with pytest.raises(ValueError, match="once after each step"):
        rec.record()
    with pytest.raises(TypeError, match="metrics"):
        one_step(model, la, 0)
        rec.record([1.0])
    rec.record()  # step 1: the slow weights appear
    for i in range(5):
        one_step(model, la, i)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec.record()  # step 6: the syncs at 2 and 4 were not seen
    assert any("missed a sync" in str(w.message) for w in caught)
    traj = rec.trajectory()
    assert list(traj.slow_steps) == [1, 6]
    assert list(traj.inner_end_steps) == [], "no pre-sync point after a gap"
    # Attached mid-run: no complaint about what happened before.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TrajectoryRecorder(la)
    fresh = paddle.LookAhead(momentum(model), alpha=0.5, k=2)  # lazy slow init: none before step 1
    late = TrajectoryRecorder(fresh)
    for i in range(3):
        one_step(model, fresh, i)
    with pytest.warns(UserWarning, match="first saw the slow weights"):
        late.record()
