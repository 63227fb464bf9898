"""Figure ``landscape``: test accuracy on the plane of one Lookahead inner loop (paper Fig. 1, PAPER.md 5.5).

An MLP 64-32-10 is trained on digits with momentum SGD for a few epochs (a
mid-training point, like the paper's epoch 100). From there, with the same
weights, momentum buffer, lr and mini-batches, two runs of 2k steps:

* momentum SGD alone: theta_0 .. theta_k is the inner loop, theta_k ..
  theta_2k is "SGD continued" (plain SGD from the fast endpoint);
* Lookahead (alpha, k) around it: its first inner loop is the same
  theta_0 .. theta_k, the sync gives phi_1, and its second cycle
  phi_1 .. theta_(2,k) -> phi_2 is "LookAhead continued".

theta_k is taken from the plain run, where it is an ordinary iterate, not
reconstructed from the slow weights: so "phi_1 lies on the segment at
fraction alpha" checks the fused sync kernel instead of restating its
formula. (The second cycle's pre-sync end theta_(2,k) has no plain-run twin
and is reconstructed, (phi_2 - (1-alpha) phi_1) / alpha, for drawing only.)

Panels, each on its own plane (orthonormalised, so axes are distances in
weight space) through its own first, middle and last fast points: ``main``
(theta_0, theta_(k/2), theta_k; slow phi_0 -> phi_1), ``sgd_continued``
(theta_k, theta_(3k/2), theta_2k) and ``lookahead_continued`` (phi_1,
theta_(2,k/2), theta_(2,k); slow phi_1 -> phi_2). Separate planes, because
each continuation leaves the first plane; the colour scale is shared, so the
three panels' accuracies compare directly. Grids are drawn for the first seed;
the other seeds add trajectory rows and the measured comparison.

CSV columns (one row per plotted or measured value; empty cell = not applicable):

* ``panel``: ``main``, ``sgd_continued`` or ``lookahead_continued``; ``seed``;
* ``kind``: ``grid`` (a grid point), ``fast`` (Lookahead fast weights; in
  ``main`` also the momentum-SGD iterates, which are the same points),
  ``sgd`` (momentum SGD continued) or ``slow`` (Lookahead slow weights);
* ``i``, ``j``: grid indices along ``a`` and ``b`` (``grid`` rows);
* ``a``, ``b``: coordinates in the panel's plane (distance units of weight space);
* ``accuracy`` (fraction), ``loss`` (mean cross-entropy): on the digits test split,
  at the grid point, or at the full weight vector for trajectory rows;
* ``step``: inner steps since theta_0 (the second cycle runs k .. 2k; a slow
  point's step is its sync's, and ``fast`` at step 2k is theta_(2,k) before the sync);
* ``distance``, ``relative_distance``: distance of the weights from the panel's
  plane, absolute and divided by their distance from the plane's origin;
* ``defining``: true for the three points the plane was built through;
* ``fraction``: for ``slow`` rows after a sync, where the new slow point lies
  on the segment from the cycle's start to its fast end: a check in ``main``
  (independent theta_k), alpha by construction in ``lookahead_continued``
  (theta_(2,k) is reconstructed from it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lasandbox.paper.registry import Claim
from lasandbox.paper.tables import write_tidy_csv
from lasandbox.paper.training_runs import is_tiny, load_task, single_threaded_blas

COLUMNS = [
    "panel", "seed", "kind", "i", "j", "a", "b", "accuracy", "loss", "step", "distance", "relative_distance",
    "defining", "fraction",
]  # fmt: skip
PANELS = ("main", "sgd_continued", "lookahead_continued")

TASK, HIDDEN, BATCH = "digits", (32,), 32
# One lr before and during the window (as in fig_inner_loop): the picture is steady mid-training, not a transient.
LR, MOMENTUM = 0.1, 0.9
K, ALPHA = 10, 0.5
MARGIN = 0.3  # box around a panel's points, as a fraction of their span


@dataclass
class Runs:
    """Weights of one seed's two runs (float32 rows of the flat parameter vector)."""

    plain: np.ndarray  # [2k+1, P]: momentum SGD, theta_0 .. theta_2k
    lookahead_fast: np.ndarray  # [2k+1, P]: LA fast weights after each step (a sync step holds the new phi)
    slow: np.ndarray  # [3, P]: phi_0, phi_1, phi_2
    second_end: np.ndarray  # [P]: theta_(2,k), reconstructed


@dataclass
class PanelPoints:
    """One panel: its plane's three defining points and the series drawn on it, as (steps, weights)."""

    name: str
    defining: tuple
    series: dict


def _one_step(model, optimizer, split, batch):
    from lasandbox.training import train_step

    train_step(model, optimizer, split.x_train[batch], split.y_train[batch])


def _pretrain(split, seed, epochs, backend):
    """A digits MLP and its momentum optimizer after ``epochs`` of training, and the rng that drew the batches."""
    import lasandbox as paddle
    from lasandbox import optimizer as optim
    from lasandbox.training import mlp, train_epoch

    paddle.seed(seed)
    model = mlp([split.num_features, *HIDDEN, split.num_classes])
    inner = optim.Momentum(LR, MOMENTUM, parameters=model.parameters(), backend=backend)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        train_epoch(model, inner, split.x_train, split.y_train, BATCH, rng)
    return model, inner, rng


def _two_runs(model, inner, split, rng) -> Runs:
    """Momentum alone, then Lookahead around it, from the same weights and state on the same 2k batches."""
    from lasandbox.incubate import LookAhead

    batches = [rng.choice(len(split.x_train), BATCH, replace=False) for _ in range(2 * K)]
    buffer = inner.flat_parameters()
    start, state = buffer.copy(), inner.state_dict()
    plain = [start.copy()]
    for batch in batches:
        _one_step(model, inner, split, batch)
        plain.append(buffer.copy())

    buffer[...] = start
    inner.set_state_dict(state)
    # slow_init='construction': phi_0 = theta_0, Algorithm 1 (Paddle's lazy init would start the slow weights late).
    lookahead = LookAhead(inner, alpha=ALPHA, k=K, slow_init="construction")
    fast, slow = [start.copy()], [start.copy()]
    for step, batch in enumerate(batches, start=1):
        _one_step(model, lookahead, split, batch)
        fast.append(buffer.copy())
        if step % K == 0:
            slow.append(lookahead.slow_buffer().copy())
    second_end = (slow[2].astype(np.float64) - (1 - ALPHA) * slow[1]) / ALPHA
    return Runs(np.array(plain), np.array(fast), np.array(slow), second_end.astype(np.float32))


def panel_points(runs: Runs) -> list[PanelPoints]:
    """The three panels' defining points and series (see the module docstring)."""
    half, steps = K // 2, np.arange(2 * K + 1)
    first, second = slice(0, K + 1), slice(K, 2 * K + 1)
    la_second = np.concatenate([runs.lookahead_fast[K:2 * K], runs.second_end[None]])
    return [
        PanelPoints("main", (runs.plain[0], runs.plain[half], runs.plain[K]),
                    {"fast": (steps[first], runs.plain[first]), "slow": (np.array([0, K]), runs.slow[:2])}),
        PanelPoints("sgd_continued", (runs.plain[K], runs.plain[K + half], runs.plain[2 * K]),
                    {"sgd": (steps[second], runs.plain[second])}),
        PanelPoints("lookahead_continued", (la_second[0], la_second[half], la_second[K]),
                    {"fast": (steps[second], la_second), "slow": (np.array([K, 2 * K]), runs.slow[1:])}),
    ]  # fmt: skip


def segment_fraction(start, end, point) -> tuple[float, float]:
    """Where ``point`` projects on the segment start -> end (0 at start, 1 at end), and its distance
    from that line relative to the segment's length (float64)."""
    start, end, point = (np.asarray(v, dtype=np.float64) for v in (start, end, point))
    travel, offset = end - start, point - start
    fraction = float(offset @ travel / (travel @ travel))
    off_line = np.linalg.norm(offset - fraction * travel) / np.linalg.norm(travel)
    return fraction, float(off_line)


def _panel_rows(model, split, panel: PanelPoints, seed, resolution):
    """Csv rows of one panel: its trajectories (and its grid when ``resolution`` is set); also the plane."""
    from lasandbox.landscape import Plane, evaluate_grid, evaluate_weights, extent_around

    plane = Plane.through_points(*panel.defining, orthonormalise=True)
    base = {"panel": panel.name, "seed": seed}
    rows, coords = [], []
    defining = np.array(panel.defining, dtype=np.float64)
    for kind, (steps, points) in panel.series.items():
        projection = plane.project(points)
        loss, accuracy = evaluate_weights(model, points, split.x_test, split.y_test)
        coords.append(projection.coords)
        for n, step in enumerate(steps):
            is_defining = kind != "slow" and bool(np.any(np.all(defining == points[n], axis=1)))
            rows.append({**base, "kind": kind, "a": projection.a[n], "b": projection.b[n],
                         "accuracy": accuracy[n], "loss": loss[n], "step": int(step),
                         "distance": projection.distance[n], "relative_distance": projection.relative_distance[n],
                         "defining": is_defining})  # fmt: skip
        if kind == "slow":
            # The sync: phi_t on the segment phi_(t-1) -> theta_(t,k), theta_(t,k) being the panel's fast end.
            fraction, _ = segment_fraction(points[0], panel.defining[2], points[1])
            rows[-1]["fraction"] = fraction
    if resolution:
        extent = extent_around(np.concatenate(coords), margin=MARGIN, square=True)
        grid = evaluate_grid(model, plane, split.x_test, split.y_test, extent=extent, resolution=resolution,
                             show_progress=False, data_name="digits test split")
        for j, b in enumerate(grid.b):
            for i, a in enumerate(grid.a):
                rows.append({**base, "kind": "grid", "i": i, "j": j, "a": a, "b": b,
                             "accuracy": grid.accuracy[j, i], "loss": grid.loss[j, i]})  # fmt: skip
    return rows, plane


def _point(rows, seed, panel, kind, step):
    return next(r for r in rows if r["seed"] == seed and r["panel"] == panel and r["kind"] == kind
                and r["step"] == step)  # fmt: skip


def _claims(rows, checks, seeds):
    residual = max(r["relative_distance"] for r in rows if r.get("defining"))
    inner_loop_off = max(r["relative_distance"] for r in rows if r["panel"] == "main" and r["kind"] == "fast")
    fractions = np.array([c["fraction"] for c in checks])
    off_line = max(c["off_line"] for c in checks)
    kernel_gap = max(c["kernel_gap"] for c in checks)
    sgd = np.array([_point(rows, s, "sgd_continued", "sgd", 2 * K)["accuracy"] for s in seeds])
    la = np.array([_point(rows, s, "lookahead_continued", "slow", 2 * K)["accuracy"] for s in seeds])
    sgd_loss = np.mean([_point(rows, s, "sgd_continued", "sgd", 2 * K)["loss"] for s in seeds])
    la_loss = np.mean([_point(rows, s, "lookahead_continued", "slow", 2 * K)["loss"] for s in seeds])
    theta_k = np.array([_point(rows, s, "main", "fast", K)["accuracy"] for s in seeds])
    phi_1 = np.array([_point(rows, s, "main", "slow", K)["accuracy"] for s in seeds])
    n = len(seeds)
    return [
        Claim(
            "The three points that define each panel's plane lie on it (projection residual ~ 0)",
            f"max relative distance {residual:.1e} over {3 * n} planes; for comparison the other fast points of "
            f"the inner loop are up to {inner_loop_off:.0%} of their distance from theta_0 off the plane",
            residual < 1e-6,
        ),
        Claim(
            f"phi_1 lies on the segment theta_0 - theta_k at fraction alpha = {ALPHA} (theta_k from the plain "
            "momentum run, phi_1 from the Lookahead kernel)",
            f"fraction {fractions.mean():.7f} (max |fraction - alpha| {np.abs(fractions - ALPHA).max():.1e}), "
            f"off the line by {off_line:.1e} of its length, over {n} seed(s); LA and plain fast weights inside "
            f"the loop differ by at most {kernel_gap:.1e}",
            np.abs(fractions - ALPHA).max() < 1e-5 and off_line < 1e-5,
        ),
        Claim(
            "Measured, not guaranteed on digits (PAPER.md 5.5): LookAhead continued's next slow point phi_2 has "
            "higher test accuracy than SGD continued's endpoint theta_2k (the paper: nearer the peak)",
            f"mean over {n} seed(s): phi_2 {la.mean():.2%} vs theta_2k {sgd.mean():.2%} (test loss "
            f"{la_loss:.4f} vs {sgd_loss:.4f}); phi_2 higher in {np.sum(la > sgd)}, equal in "
            f"{np.sum(la == sgd)}, lower in {np.sum(la < sgd)}",
            la.mean() > sgd.mean(),
        ),
        Claim(
            "Measured, not guaranteed on digits: the interpolation point phi_1 has higher test accuracy than "
            "the fast endpoint theta_k it pulls back from (paper Fig. 1's main panel)",
            f"mean over {n} seed(s): phi_1 {phi_1.mean():.2%} vs theta_k {theta_k.mean():.2%}; phi_1 higher in "
            f"{np.sum(phi_1 > theta_k)}, equal in {np.sum(phi_1 == theta_k)}, lower in {np.sum(phi_1 < theta_k)}",
            phi_1.mean() > theta_k.mean(),
        ),
    ]


def compute(ctx):
    """Write landscape.png / landscape.csv and return the checked claims (see the module docstring)."""
    from lasandbox.paper.fig_landscape_plot import plot_landscape_figure

    tiny = is_tiny(ctx)
    seeds = list(range(ctx.record("seeds", ctx.seeds_or(1 if tiny else 5 if ctx.quick else 10))))
    resolution = ctx.record("grid resolution (per panel, first seed)", 9 if tiny else 25 if ctx.quick else 51)
    pretrain = ctx.record("pre-training epochs (momentum SGD, same lr)", 1 if tiny else 3)
    ctx.record("task / model", f"{TASK}, MLP 64-{'-'.join(map(str, HIDDEN))}-10 (ReLU), batch {BATCH}",
               unverified=True, source="paper: ResNet-32 on CIFAR-100 at epoch 100; PAPER.md 5.5 stand-in")
    ctx.record("inner optimizer", f"momentum SGD, lr {LR}, momentum {MOMENTUM}, before and during the window",
               unverified=True, source="lr 0.1 as in lasandbox.landscape.figure1")
    ctx.record("Lookahead", f"k {K}, alpha {ALPHA}, slow init theta_0, momentum kept at the sync", unverified=True,
               source="k = 10 from memory of the caption (PAPER.md section 4); alpha not stated")
    ctx.record("plane", "per panel, through its first/middle/last fast points, Gram-Schmidt orthonormalised; "
               f"box {MARGIN:.0%} beyond the points, square", unverified=True,
               source="the paper's small panels look like planes of their own")
    ctx.record("kernel backend", ctx.backend)
    split = load_task(TASK)
    rows, checks = [], []
    for seed in ctx.progress(seeds, desc="landscape seeds"):
        with single_threaded_blas():
            model, inner, rng = _pretrain(split, seed, pretrain, ctx.backend)
            runs = _two_runs(model, inner, split, rng)
            for panel in panel_points(runs):
                panel_rows, _ = _panel_rows(model, split, panel, seed, resolution if seed == seeds[0] else None)
                rows += panel_rows
        fraction, off_line = segment_fraction(runs.plain[0], runs.plain[K], runs.slow[1])
        gap = np.abs(runs.lookahead_fast[1:K].astype(np.float64) - runs.plain[1:K]).max()
        checks.append({"fraction": fraction, "off_line": off_line, "kernel_gap": float(gap)})
    write_tidy_csv(ctx.csv_path, rows, COLUMNS)
    plot_landscape_figure(ctx.png_path, rows, seed=seeds[0], k=K, alpha=ALPHA)
    ctx.note(f"Seed {seeds[0]} drawn: digits MLP after {pretrain} epoch(s) of momentum SGD (lr {LR}). Each panel "
             "is on its own plane through its first/middle/last fast points (the continuations leave the main "
             "plane); the colour scale is shared. Hollow markers: more than 5% of their distance off the plane.")
    return _claims(rows, checks, seeds)
