"""Figure ``minmax``: Lookahead-minmax on bilinear games and on a small GAN (Chavdarova et al., ICLR 2021).

Panels: (a) the rate per GDA step of Lookahead-minmax(GDA) on ``min_x max_y x y``
at lr 0.1 over an alpha x k grid, from the eigenvalues of ``(1-alpha) I + alpha M^k``
(``bilinear_game``), the contour rho = 1 and GDA's ``sqrt(1 + lr^2)`` for reference;
circles mark the cells also run with the package's optimizers; (b) the same rate
against k at alpha 0.5 for three couplings (lr * s = 0.05, 0.1, 0.2), GDA dashed,
simulated points on top; (c) the trajectories of GDA and Lookahead-minmax (fast and
slow weights) from (1, 1), as in the paper's Fig. 1; (d, e) a GAN on a ring of 8
Gaussians (``gan_mixture``): modes covered and sliced Wasserstein-1 distance to the
data over iterations for GDA, Adam and Lookahead-minmax over each, mean over seeds
with a min..max band; (f) the generated points of seed 0 at the end (400 of them).

CSV columns (one row per plotted value; empty cell = not applicable):

* ``panel``: ``grid`` | ``rate_vs_k`` | ``trajectory`` | ``gan_curve`` | ``gan_samples``;
* ``method``: ``gda`` | ``lookahead_minmax`` (bilinear), ``gda`` | ``la_gda`` | ``adam`` | ``la_adam`` (GAN);
  ``base`` (GAN: gda | adam), ``lr``, ``alpha``, ``k``, ``eta`` (lr * coupling);
* ``rho_cycle``, ``rho_step``: spectral radius of one cycle and per GDA step (closed form);
  ``rho_gda``: GDA's per-step radius; ``converges``: rho_step < 1; ``small_step_rule``:
  alpha < 1 - 1/k; ``rho_cycle_simulated``: measured with the package's SGD players;
* ``weights`` (fast | slow), ``iteration``, ``x``, ``y``: trajectories and generated points;
* ``seed``, ``modes``, ``high_quality``, ``sliced_w1``, ``sliced_w1_floor``: the GAN's evaluations.
"""

from __future__ import annotations

import numpy as np

from lasandbox.paper import bilinear_game as bg
from lasandbox.paper import gan_mixture as gm
from lasandbox.paper.registry import Claim
from lasandbox.paper.tables import write_tidy_csv
from lasandbox.paper.training_runs import is_tiny, mean_and_std, single_threaded_blas

TITLE = "Lookahead-minmax: bilinear games and a GAN on 8 Gaussians (Chavdarova et al., ICLR 2021; beyond the paper)"
PAPER_CLAIM = (
    "Lookahead-minmax lets GDA, which spirals out, converge on min_x max_y x*y (their Fig. 1, alpha 0.5); "
    "combined with Adam it improves GAN performance and stability (their MNIST, SVHN, CIFAR-10, ImageNet "
    "experiments; here a stand-in: a ring of 8 Gaussians) [abstract and Fig. 1 caption]."
)

COLUMNS = [
    "panel", "method", "base", "lr", "alpha", "k", "eta", "rho_cycle", "rho_step", "rho_gda", "converges",
    "small_step_rule", "rho_cycle_simulated", "weights", "iteration", "x", "y", "seed", "modes", "high_quality",
    "sliced_w1", "sliced_w1_floor",
]  # fmt: skip

LR, ALPHA, K = 0.1, 0.5, 5  # the issue's setting; alpha 0.5 is the paper's Fig. 1
COUPLINGS = (0.5, 1.0, 2.0)  # eta = lr * s = 0.05, 0.1, 0.2, played at once (the pairs decouple)
SIM_TOLERANCE = 1e-4  # relative, on the per-cycle radius measured in float32
GAN_METHODS = {
    "gda": gm.GanMethod("gda", "gda", gm.DEFAULT_LR["gda"]),
    "la_gda": gm.GanMethod("la_gda", "gda", gm.DEFAULT_LR["gda"], alpha=ALPHA, k=K),
    "adam": gm.GanMethod("adam", "adam", gm.DEFAULT_LR["adam"]),
    "la_adam": gm.GanMethod("la_adam", "adam", gm.DEFAULT_LR["adam"], alpha=ALPHA, k=K),
}
LABELS = {"gda": "GDA (SGD)", "la_gda": "LA-minmax(GDA)", "adam": "Adam", "la_adam": "LA-minmax(Adam)"}
PAIRS = {"la_gda": "gda", "la_adam": "adam"}


def _scale(ctx):
    if is_tiny(ctx):
        return dict(alphas=np.array([0.5, 1.0]), ks=np.arange(1, 9), sim_alphas=(0.5, 1.0), sim_ks=(2, 5),
                    cycles=3, seeds=1, iterations=40, eval_every=10)
    if ctx.quick:
        return dict(alphas=np.round(np.arange(0.05, 1.0001, 0.05), 2), ks=np.arange(1, 81),
                    sim_alphas=(0.2, 0.5, 0.8, 1.0), sim_ks=(2, 3, 5, 10, 20, 31, 45, 63, 80), cycles=4,
                    seeds=2, iterations=2000, eval_every=100)
    return dict(alphas=np.round(np.arange(0.025, 1.0001, 0.025), 3), ks=np.arange(1, 121),
                sim_alphas=(0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0), sim_ks=(2, 3, 4, 5, 8, 10, 15, 20, 31, 45, 63,
                                                                             80, 100), cycles=8,
                seeds=5, iterations=10000, eval_every=250)


# ------------------------------------------------------------------------------------------------ bilinear

def _simulate_cells(ctx, scale):
    """``{(alpha, k): measured cycle radius per coupling}`` from runs of the package's optimizers."""
    cells = {}
    bar = ctx.progress(total=len(scale["sim_alphas"]) * len(scale["sim_ks"]), desc="minmax bilinear runs")
    for alpha in scale["sim_alphas"]:
        for k in scale["sim_ks"]:
            run = bg.simulate(LR, COUPLINGS, scale["cycles"] * k, alpha=alpha, k=k, backend=ctx.backend)
            cells[(alpha, k)] = bg.measured_cycle_radius(run, k, scale["cycles"])
            bar.update(1)
    bar.close()
    return cells


def _bilinear_rows(ctx, scale):
    simulated = _simulate_cells(ctx, scale)
    at_one = COUPLINGS.index(1.0)
    rows = []
    for alpha in scale["alphas"]:
        for k in scale["ks"]:
            key = (float(alpha), int(k))
            rows.append({
                "panel": "grid", "method": "lookahead_minmax", "lr": LR, "alpha": float(alpha), "k": int(k),
                "eta": LR, "rho_cycle": float(bg.cycle_radius(LR, alpha, k)),
                "rho_step": float(bg.step_radius(LR, alpha, k)), "rho_gda": float(bg.gda_radius(LR)),
                "converges": bool(bg.step_radius(LR, alpha, k) < 1),
                "small_step_rule": bool(bg.small_step_converges(alpha, k)),
                "rho_cycle_simulated": float(simulated[key][at_one]) if key in simulated else None,
            })  # fmt: skip
    for k in scale["ks"]:
        for index, coupling in enumerate(COUPLINGS):
            eta = LR * coupling
            key = (ALPHA, int(k))
            rows.append({
                "panel": "rate_vs_k", "method": "lookahead_minmax", "lr": LR, "alpha": ALPHA, "k": int(k),
                "eta": eta, "rho_cycle": float(bg.cycle_radius(eta, ALPHA, k)),
                "rho_step": float(bg.step_radius(eta, ALPHA, k)), "rho_gda": float(bg.gda_radius(eta)),
                "rho_cycle_simulated": float(simulated[key][index]) if key in simulated else None,
            })  # fmt: skip
    return rows, simulated


def _trajectory_rows(steps):
    rows = []
    plain = bg.simulate(LR, [1.0], steps)
    rows += [{"panel": "trajectory", "method": "gda", "lr": LR, "weights": "fast", "iteration": t,
              "x": float(plain.x[t, 0]), "y": float(plain.y[t, 0])} for t in range(steps + 1)]
    la = bg.simulate(LR, [1.0], steps, alpha=ALPHA, k=K)
    rows += [{"panel": "trajectory", "method": "lookahead_minmax", "lr": LR, "alpha": ALPHA, "k": K,
              "weights": "fast", "iteration": t, "x": float(la.x[t, 0]), "y": float(la.y[t, 0])}
             for t in range(steps + 1)]
    rows += [{"panel": "trajectory", "method": "lookahead_minmax", "lr": LR, "alpha": ALPHA, "k": K,
              "weights": "slow", "iteration": K * n, "x": float(la.slow_x[n, 0]), "y": float(la.slow_y[n, 0])}
             for n in range(len(la.slow_x))]
    return rows


def _bilinear_claims(rows, simulated, cycles):
    gda = bg.simulate(LR, COUPLINGS, 50)
    growth = (gda.norms()[50] / gda.norms()[0]) ** (1 / 50)
    expected_growth = bg.gda_radius(LR * np.array(COUPLINGS))
    gda_error = float(np.max(np.abs(growth / expected_growth - 1)))
    la = bg.simulate(LR, [1.0], 40 * K, alpha=ALPHA, k=K)
    la_measured = float(bg.measured_cycle_radius(la, K, 40)[0])
    la_predicted = float(bg.cycle_radius(LR, ALPHA, K))
    errors = []
    for (alpha, k), measured in simulated.items():
        predicted = bg.cycle_radius(LR * np.array(COUPLINGS), alpha, k)
        errors += list(np.abs(measured / predicted - 1))
    worst = max(errors)
    grid = [r for r in rows if r["panel"] == "grid"]
    small = [bool(bg.step_radius(0.01, r["alpha"], r["k"]) < 1) == r["small_step_rule"] for r in grid]
    return [
        Claim(f"GDA on x*y spirals out: |z| grows by sqrt(1 + (lr s)^2) per step (lr {LR}, s in {list(COUPLINGS)}; "
              "run with the package's SGD players)",
              f"measured growth {', '.join(f'{g:.6f}' for g in growth)} vs "
              f"{', '.join(f'{r:.6f}' for r in expected_growth)}: "
              f"largest relative gap {gda_error:.1e}", bool(np.all(growth > 1)) and gda_error <= 1e-5),
        Claim(f"Lookahead-minmax(GDA), alpha {ALPHA}, k {K}, converges on x*y at lr {LR} (paper's Fig. 1)",
              f"|z| shrinks by {la_measured:.6f} per cycle over 40 cycles (closed form {la_predicted:.6f}); "
              f"per GDA step {la_measured ** (1 / K):.5f} vs GDA's {bg.gda_radius(LR):.5f}",
              la_measured < 1 and abs(la_measured / la_predicted - 1) <= SIM_TOLERANCE),
        Claim(f"Simulation confirms the closed form |(1-alpha) + alpha (1 + i lr s)^k| over the grid "
              f"(relative error <= {SIM_TOLERANCE:g})",
              f"max relative error {worst:.1e} over {len(errors)} (alpha, k, s) cells, {cycles} cycles each",
              worst <= SIM_TOLERANCE),
        Claim("(derived here, not the paper's) For small steps Lookahead-minmax(GDA) converges iff alpha < 1 - 1/k",
              f"the rule matches the closed form at lr s = 0.01 in {sum(small)}/{len(small)} grid cells",
              all(small)),
        _window_claim(grid),
    ]


def _window_claim(grid):
    """Where the small-step rule says 'converges' but lr = 0.1 diverges: windows around k atan(lr) = 2 pi m."""
    exceptions = [r for r in grid if r["alpha"] < 1 and r["k"] >= 2 and r["small_step_rule"] and not r["converges"]]
    by_alpha = {}
    for r in exceptions:
        by_alpha.setdefault(r["alpha"], []).append(r["k"])
    phase = np.arctan(LR)
    low = [r for r in exceptions if r["alpha"] <= 0.5]
    near_turn = all(abs(r["k"] * phase - 2 * np.pi) < np.pi / 2 for r in low)
    shown = [a for a in sorted(by_alpha) if any(np.isclose(a, (0.05, 0.25, 0.5, 0.75, 0.9, 0.95)))]
    windows = "; ".join(f"alpha {a:g}: k {min(by_alpha[a])}-{max(by_alpha[a])}" for a in shown)
    return Claim(
        f"(beyond the paper) At lr {LR} the small-step rule is not enough: Lookahead-minmax(GDA) diverges in a "
        f"window around k atan(lr) = 2 pi (k = {2 * np.pi / phase:.0f}), for alpha <= 0.5 only there "
        "(|k atan(lr) - 2 pi| < pi/2)",
        f"{len(exceptions)} grid cells with alpha < 1 - 1/k diverge ({windows or 'none'}); "
        f"best per-step rate {min(r['rho_step'] for r in grid):.4f}",
        bool(low) and near_turn,
    )


# ----------------------------------------------------------------------------------------------------- GAN

def _gan_runs(ctx, scale):
    evaluation = gm.Evaluation.make()
    runs = {name: [] for name in GAN_METHODS}
    bar = ctx.progress(total=len(GAN_METHODS) * scale["seeds"], desc="minmax GAN runs")
    with single_threaded_blas():
        for seed in range(scale["seeds"]):
            for name, method in GAN_METHODS.items():
                runs[name].append(gm.train_gan(method, seed, scale["iterations"], eval_every=scale["eval_every"],
                                               evaluation=evaluation, backend=ctx.backend))
                bar.update(1)
    bar.close()
    return runs, evaluation


def _gan_rows(runs, evaluation, samples_kept=400):
    rows = []
    for name, method_runs in runs.items():
        method = GAN_METHODS[name]
        fields = {"method": name, "base": method.base, "lr": method.lr, "alpha": method.alpha, "k": method.k}
        for run in method_runs:
            for i, t in enumerate(run.iterations):
                rows.append({"panel": "gan_curve", **fields, "seed": run.seed, "iteration": t,
                             "modes": run.modes[i], "high_quality": run.high_quality[i],
                             "sliced_w1": run.sliced_w1[i], "sliced_w1_floor": evaluation.floor})
        first = method_runs[0]
        rows += [{"panel": "gan_samples", **fields, "seed": first.seed, "iteration": first.iterations[-1],
                  "x": float(px), "y": float(py)} for px, py in first.samples[:samples_kept]]
    return rows


def _late_worst(run):
    """The largest distance over the second half of the evaluations (a run that blows up anywhere shows)."""
    values = np.asarray(run.sliced_w1[len(run.sliced_w1) // 2:], dtype=float)
    return float(np.nanmax(values)) if np.any(np.isfinite(values)) else float("inf")


def _gan_claims(runs, scale):
    claims = []
    seeds, iterations = scale["seeds"], scale["iterations"]
    for la, base in PAIRS.items():
        final = {m: np.array([run.sliced_w1[-1] for run in runs[m]], float) for m in (la, base)}
        modes = {m: np.array([run.modes[-1] for run in runs[m]], float) for m in (la, base)}
        worst = {m: np.array([_late_worst(run) for run in runs[m]], float) for m in (la, base)}

        def text(values, fmt):
            mean, std = mean_and_std(values)
            return f"{mean:{fmt}} +- {std:{fmt}}"

        where = f"after {iterations} iterations, {seeds} seed(s)"
        claims += [
            Claim(f"{LABELS[la]} ends closer to the data than {LABELS[base]} (sliced W1, mean over seeds, {where})",
                  f"{text(final[la], '.3f')} vs {text(final[base], '.3f')} (std over seeds)",
                  np.nanmean(final[la]) < np.nanmean(final[base])),
            Claim(f"{LABELS[la]} covers at least as many of the 8 modes as {LABELS[base]} at the end ({where})",
                  f"{text(modes[la], '.1f')} vs {text(modes[base], '.1f')} modes",
                  modes[la].mean() >= modes[base].mean()),
            Claim(f"{LABELS[la]} is more stable than {LABELS[base]}: lower worst sliced W1 over the second half "
                  f"of training (mean over seeds)",
                  f"{text(worst[la], '.3f')} vs {text(worst[base], '.3f')}",
                  np.mean(worst[la]) < np.mean(worst[base])),
        ]  # fmt: skip
    return claims


def compute(ctx):
    """Write minmax.png / minmax.csv and return the checked claims (see the module docstring)."""
    from lasandbox.paper.fig_minmax_plot import plot_minmax

    scale = _scale(ctx)
    ctx.record("bilinear game", f"min_x max_y sum_i s_i x_i y_i, s = {list(COUPLINGS)}, lr {LR}, start x = y = 1; "
               "simultaneous GDA: SGD on x, SGD on y with the gradient of -f")
    ctx.record("alpha x k grid (closed form)", f"alpha {scale['alphas'][0]:g}..{scale['alphas'][-1]:g} "
               f"({len(scale['alphas'])} values) x k {scale['ks'][0]}..{scale['ks'][-1]}")
    ctx.record("simulated cells", f"alpha {list(scale['sim_alphas'])} x k {list(scale['sim_ks'])}, "
               f"{scale['cycles']} cycles each, float32 kernels, backend {ctx.backend}")
    seeds = ctx.record("GAN seeds", ctx.seeds_or(scale["seeds"]))
    scale["seeds"] = seeds
    ctx.record("GAN data", f"{gm.MODES} Gaussians, std {gm.STD}, on a circle of radius {gm.RADIUS}", unverified=True,
               source="a common toy (Metz et al.'s unrolled GANs); not an experiment of Chavdarova et al.")
    ctx.record("GAN players", f"MLPs {gm.LATENT}-{gm.HIDDEN}-{gm.HIDDEN}-2 (generator) and 2-{gm.HIDDEN}-"
               f"{gm.HIDDEN}-1 (critic), ReLU, lasandbox.nn; non-saturating loss, alternating updates, batch 128",
               unverified=True)
    ctx.record("GAN training", f"{scale['iterations']} iterations, evaluated every {scale['eval_every']} on "
               f"{gm.EVAL_SAMPLES} samples from fixed noise (Lookahead-minmax at its slow weights)")
    ctx.record("GAN learning rates", f"GDA (SGD) {gm.DEFAULT_LR['gda']}, Adam {gm.DEFAULT_LR['adam']} with beta1 "
               "0.5; Lookahead-minmax uses its base's",
               unverified=True, source="chosen for the base optimizers from a 2-seed look at SGD {0.05, 0.1, 0.2} "
               "and Adam {1e-3, 2e-3, 3e-3}")
    ctx.record("Lookahead-minmax alpha, k (GAN)", f"alpha {ALPHA}, k {K}, slow_init construction", unverified=True,
               source="paper's Fig. 1 alpha; k for the GAN is our choice")
    ctx.record("distance", f"sliced Wasserstein-1 over {gm.PROJECTIONS} fixed directions to a fixed data sample of "
               f"{gm.EVAL_SAMPLES}; modes: >= {gm.MODE_SHARE:.0%} of the samples within 3 std of a centre")
    rows, simulated = _bilinear_rows(ctx, scale)
    rows += _trajectory_rows(steps=200 if not is_tiny(ctx) else 20)
    runs, evaluation = _gan_runs(ctx, scale)
    rows += _gan_rows(runs, evaluation)
    write_tidy_csv(ctx.csv_path, rows, COLUMNS)
    plot_minmax(ctx.png_path, rows, labels=LABELS)
    ctx.note(f"A perfect generator would score sliced W1 {evaluation.floor:.3f} (two independent data samples of "
             f"{gm.EVAL_SAMPLES}). GAN claims at this scale are a stand-in for the paper's image experiments and "
             "rest on few seeds; the bilinear claims are exact.")
    ctx.note("Lookahead-minmax halves the progress of each cycle at alpha 0.5 in exchange for damping the "
             "rotation; at a fixed iteration budget it can trail a base optimizer that already converges.")
    return _bilinear_claims(rows, simulated, scale["cycles"]) + _gan_claims(runs, scale)
