"""Figure ``landscape``: test accuracy on the plane of one Lookahead inner loop (paper Fig. 1, PAPER.md 5.5).

An MLP 64-32-10 (``--model cnn``: the small ResNet on the 8x8 images, batch
norm and residual blocks, as the paper's ResNet-32) is trained on digits
with momentum SGD for a few epochs (a mid-training point, like the paper's
epoch 100). From there, with the same weights, momentum buffer, lr and
mini-batches, two runs of 2k steps:

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

Batch norm (CNN only). Every evaluation is in eval mode, with running
statistics; the points of a plane never trained, so their statistics are
recomputed (one pass over the training set, ``update_bn``) once per panel at
the panel's first defining point and used for every point of that panel,
grid and trajectories alike: one fixed normalisation per picture, so the
colours and the markers agree. Because the comparisons of the claims then
mix panels with different statistics, the four points they compare
(theta_k, phi_1, theta_2k, phi_2) are also evaluated each with statistics
recomputed at its own weights (the ``*_own_bn`` rows), and the claims are
checked both ways. The grid runs on the batched conv path
(``landscape.batched_cnn``).

CSV columns (one row per plotted or measured value; empty cell = not applicable):

* ``panel``: ``main``, ``sgd_continued`` or ``lookahead_continued``; ``seed``;
* ``kind``: ``grid`` (a grid point), ``fast`` (Lookahead fast weights; in
  ``main`` also the momentum-SGD iterates, which are the same points),
  ``sgd`` (momentum SGD continued), ``slow`` (Lookahead slow weights), or
  (CNN only) ``fast_own_bn`` / ``slow_own_bn`` / ``sgd_own_bn``: theta_k and
  phi_1 in ``main``, theta_2k in ``sgd_continued``, phi_2 in
  ``lookahead_continued``, evaluated with batch-norm statistics recomputed at
  their own weights (``a``/``b`` left empty);
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

import contextlib
from dataclasses import dataclass

import numpy as np

from lasandbox.paper.registry import Claim
from lasandbox.paper.tables import write_tidy_csv
from lasandbox.paper.training_runs import figure_model, is_tiny, load_task, single_threaded_blas, statistics_loader

COLUMNS = [
    "panel", "seed", "kind", "i", "j", "a", "b", "accuracy", "loss", "step", "distance", "relative_distance",
    "defining", "fraction",
]  # fmt: skip
PANELS = ("main", "sgd_continued", "lookahead_continued")

TASK, BATCH = "digits", 32
# The network per --model (lasandbox.models.registry widths; None = the registry's default: ResNet width 16).
WIDTHS = {"mlp": (32,), "cnn": None}
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


def _pretrain(split, model_name, seed, epochs, backend):
    """A digits model and its momentum optimizer after ``epochs`` of training, and the rng that drew the batches."""
    import lasandbox as paddle
    from lasandbox import optimizer as optim
    from lasandbox.models import registry
    from lasandbox.training import train_epoch

    paddle.seed(seed)
    model = registry.make(model_name, split, WIDTHS[model_name])
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


@contextlib.contextmanager
def statistics_at(model, weights, loader):
    """Batch-norm running statistics recomputed at ``weights`` for the block; the model's own (and its
    weights) come back after. ``loader`` None (a model without batch norm): nothing changes."""
    if loader is None:
        yield
        return
    from lasandbox.landscape import ParameterLayout
    from lasandbox.landscape.layout import loaded_weights
    from lasandbox.nn.bn_stats import kept_statistics, update_bn

    with kept_statistics(model):
        with loaded_weights(ParameterLayout.from_model(model), weights):
            update_bn(model, loader)
        yield


def own_statistics_rows(model, split, runs, seed, loader):
    """``*_own_bn`` rows: the four compared points, each with batch-norm statistics of its own weights."""
    from lasandbox.landscape import evaluate_weights

    points = (("main", "fast", K, runs.plain[K]), ("main", "slow", K, runs.slow[1]),
              ("sgd_continued", "sgd", 2 * K, runs.plain[2 * K]), ("lookahead_continued", "slow", 2 * K, runs.slow[2]))
    rows = []
    for panel, of_kind, step, weights in points:
        with statistics_at(model, weights, loader):
            loss, accuracy = evaluate_weights(model, weights[None], split.x_test, split.y_test)
        rows.append({"panel": panel, "seed": seed, "kind": f"{of_kind}_own_bn", "step": step,
                     "accuracy": accuracy[0], "loss": loss[0]})
    return rows


def _panel_rows(model, split, panel: PanelPoints, seed, resolution, loader=None):
    """Csv rows of one panel: its trajectories (and its grid when ``resolution`` is set); also the plane and
    the grid's cost line (``GridResult.cost``; None without a grid).

    ``loader``: batches to recompute batch-norm statistics from at the panel's first defining point.
    """
    with statistics_at(model, panel.defining[0], loader):
        return _panel_rows_fixed_statistics(model, split, panel, seed, resolution)


def _panel_rows_fixed_statistics(model, split, panel: PanelPoints, seed, resolution):
    from lasandbox.landscape import Plane, evaluate_grid, evaluate_weights, extent_around

    plane = Plane.through_points(*panel.defining, orthonormalise=True)
    base = {"panel": panel.name, "seed": seed}
    rows, coords, cost = [], [], None
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
        cost = grid.cost()
        for j, b in enumerate(grid.b):
            for i, a in enumerate(grid.a):
                rows.append({**base, "kind": "grid", "i": i, "j": j, "a": a, "b": b,
                             "accuracy": grid.accuracy[j, i], "loss": grid.loss[j, i]})  # fmt: skip
    return rows, plane, cost


def _point(rows, seed, panel, kind, step):
    return next(r for r in rows if r["seed"] == seed and r["panel"] == panel and r["kind"] == kind
                and r["step"] == step)  # fmt: skip


def _comparisons(rows, seeds, suffix=""):
    """The two measured comparisons (phi_2 vs theta_2k, phi_1 vs theta_k) on the rows of kind ``KIND + suffix``."""
    def values(panel, kind, step, column="accuracy"):
        return np.array([_point(rows, s, panel, kind + suffix, step)[column] for s in seeds])

    n = len(seeds)
    sgd, la = values("sgd_continued", "sgd", 2 * K), values("lookahead_continued", "slow", 2 * K)
    sgd_loss = values("sgd_continued", "sgd", 2 * K, "loss").mean()
    la_loss = values("lookahead_continued", "slow", 2 * K, "loss").mean()
    theta_k, phi_1 = values("main", "fast", K), values("main", "slow", K)
    how = " (each point with batch-norm statistics recomputed at its own weights)" if suffix else ""
    return [
        Claim(
            "Measured, not guaranteed on digits (PAPER.md 5.5): LookAhead continued's next slow point phi_2 has "
            f"higher test accuracy than SGD continued's endpoint theta_2k (the paper: nearer the peak){how}",
            f"mean over {n} seed(s): phi_2 {la.mean():.2%} vs theta_2k {sgd.mean():.2%} (test loss "
            f"{la_loss:.4f} vs {sgd_loss:.4f}); phi_2 higher in {np.sum(la > sgd)}, equal in "
            f"{np.sum(la == sgd)}, lower in {np.sum(la < sgd)}",
            la.mean() > sgd.mean(),
        ),
        Claim(
            "Measured, not guaranteed on digits: the interpolation point phi_1 has higher test accuracy than "
            f"the fast endpoint theta_k it pulls back from (paper Fig. 1's main panel){how}",
            f"mean over {n} seed(s): phi_1 {phi_1.mean():.2%} vs theta_k {theta_k.mean():.2%}; phi_1 higher in "
            f"{np.sum(phi_1 > theta_k)}, equal in {np.sum(phi_1 == theta_k)}, lower in {np.sum(phi_1 < theta_k)}",
            phi_1.mean() > theta_k.mean(),
        ),
    ]


def _claims(rows, checks, seeds):
    residual = max(r["relative_distance"] for r in rows if r.get("defining"))
    inner_loop_off = max(r["relative_distance"] for r in rows if r["panel"] == "main" and r["kind"] == "fast")
    fractions = np.array([c["fraction"] for c in checks])
    off_line = max(c["off_line"] for c in checks)
    kernel_gap = max(c["kernel_gap"] for c in checks)
    n = len(seeds)
    claims = [
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
    ]
    claims += _comparisons(rows, seeds)
    if any(r["kind"].endswith("_own_bn") for r in rows):
        claims += _comparisons(rows, seeds, "_own_bn")
    return claims


def compute(ctx):
    """Write landscape.png / landscape.csv and return the checked claims (see the module docstring)."""
    from lasandbox.paper.fig_landscape_plot import plot_landscape_figure

    tiny = is_tiny(ctx)
    seeds = list(range(ctx.record("seeds", ctx.seeds_or(1 if tiny else 5 if ctx.quick else 10))))
    resolution = ctx.record("grid resolution (per panel, first seed)", 9 if tiny else 25 if ctx.quick else 51)
    pretrain = ctx.record("pre-training epochs (momentum SGD, same lr)", 1 if tiny else 3)
    model_name = figure_model(ctx)
    split = load_task(TASK)
    from lasandbox.models import registry

    network = registry.describe(model_name, split, WIDTHS[model_name])
    ctx.record("task / model", f"{TASK}, {network}, batch {BATCH}", unverified=True,
               source="paper: ResNet-32 on CIFAR-100 at epoch 100; PAPER.md 5.5 stand-in")
    ctx.record("inner optimizer", f"momentum SGD, lr {LR}, momentum {MOMENTUM}, before and during the window",
               unverified=True, source="lr 0.1 as in lasandbox.landscape.figure1")
    ctx.record("Lookahead", f"k {K}, alpha {ALPHA}, slow init theta_0, momentum kept at the sync", unverified=True,
               source="k = 10 from memory of the caption (PAPER.md section 4); alpha not stated")
    ctx.record("plane", "per panel, through its first/middle/last fast points, Gram-Schmidt orthonormalised; "
               f"box {MARGIN:.0%} beyond the points, square", unverified=True,
               source="the paper's small panels look like planes of their own")
    ctx.record("kernel backend", ctx.backend)
    rows, checks, costs = [], [], []
    for seed in ctx.progress(seeds, desc="landscape seeds"):
        with single_threaded_blas():
            model, inner, rng = _pretrain(split, model_name, seed, pretrain, ctx.backend)
            runs = _two_runs(model, inner, split, rng)
            loader = statistics_loader(model, split.x_train, BATCH)
            for panel in panel_points(runs):
                panel_rows, _, cost = _panel_rows(model, split, panel, seed,
                                                  resolution if seed == seeds[0] else None, loader)
                rows += panel_rows
                costs += [f"{panel.name} {cost}"] if cost else []
            if loader is not None:
                rows += own_statistics_rows(model, split, runs, seed, loader)
        fraction, off_line = segment_fraction(runs.plain[0], runs.plain[K], runs.slow[1])
        gap = np.abs(runs.lookahead_fast[1:K].astype(np.float64) - runs.plain[1:K]).max()
        checks.append({"fraction": fraction, "off_line": off_line, "kernel_gap": float(gap)})
    ctx.record("grid evaluation (seed 0)", "; ".join(costs))
    write_tidy_csv(ctx.csv_path, rows, COLUMNS)
    plot_landscape_figure(ctx.png_path, rows, seed=seeds[0], k=K, alpha=ALPHA)
    ctx.note(f"Seed {seeds[0]} drawn: digits {model_name.upper()} after {pretrain} epoch(s) of momentum SGD (lr "
             f"{LR}). Each panel is on its own plane through its first/middle/last fast points (the continuations "
             "leave the main plane); the colour scale is shared. Hollow markers: more than 5% of their distance "
             "off the plane.")
    if any(r["kind"].endswith("_own_bn") for r in rows):
        ctx.note("Batch norm: each panel (grid and markers) is evaluated with running statistics recomputed once at "
                 "its first defining point (update_bn over the training set); the comparisons are also made with "
                 "each compared point's own recomputed statistics (the '*_own_bn' rows and the last two claims). "
                 "With one panel's statistics, points near that first point are favoured (phi_1 lies halfway to "
                 "it, theta_k at the far end): the own-statistics claims are the fair comparison.")
    return _claims(rows, checks, seeds)
