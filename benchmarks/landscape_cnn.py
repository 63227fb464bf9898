"""Loss-landscape grids of conv nets: the folded pass (``landscape.batched_cnn``) against the per-point loop.

Models (each trained one epoch with Momentum so the batch-norm statistics are realistic, then put
in eval mode), evaluated on a 25x25 grid of a filter-normalised random plane (Li et al. 2018):

* ``MNIST1DCNN(channels=32)`` on 1,000 MNIST-1D test sequences (length 40);
* ``SmallResNet()`` (width 16, two blocks) on the 450 digits test images (1x8x8).

Both paths are timed on the same grid, alternating, min over ``--repeats``; the speedup is the
ratio of those minima, and the agreement of their losses and accuracies is printed. The loop gets
its best BLAS setting: it runs with BLAS at one thread and at all threads in every repeat and the
faster counts (multi-threaded BLAS on its small products is much slower whenever another process
holds a core); the folded pass sets its own (one BLAS thread, its points split among threads). The
machine is shared and noisy: compare the ratios of one run.

    python benchmarks/landscape_cnn.py [--repeats 2] [--resolution 25] [--quick]

Target: the folded pass >= 5x faster than the per-point loop at 25x25.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _machine import cpu_model  # benchmarks/_machine.py (this script's folder is on sys.path)
from threadpoolctl import threadpool_limits

import lasandbox as paddle
from lasandbox import models
from lasandbox.datasets import load_digits, load_mnist1d
from lasandbox.landscape import ParameterLayout, Plane, evaluate_grid
from lasandbox.training import train_epoch

os.environ.setdefault("LASANDBOX_PROGRESS", "0")


def setups(quick):
    digits, seqs = load_digits(), load_mnist1d()
    test_size = 200 if quick else 1000
    return {
        "MNIST1DCNN(channels=32), MNIST-1D": (lambda: models.MNIST1DCNN(channels=32), seqs, test_size),
        "SmallResNet(width 16, 2 blocks), digits 8x8": (lambda: models.SmallResNet(input_shape=(1, 8, 8)), digits,
                                                        200 if quick else len(digits.x_test)),
    }


def trained(build, data):
    paddle.seed(0)
    model = build()
    opt = paddle.optimizer.Momentum(learning_rate=0.05, momentum=0.9, parameters=model.parameters())
    model.train()
    train_epoch(model, opt, data.x_train, data.y_train, 64, np.random.default_rng(0))
    return model.eval()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--resolution", type=int, default=25)
    parser.add_argument("--quick", action="store_true", help="11x11 grid, 200 samples, 1 repeat (smoke test)")
    args = parser.parse_args(argv)
    resolution, repeats = (11, 1) if args.quick else (args.resolution, args.repeats)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cpus, numpy {np.__version__}; {resolution}x{resolution} grids, "
          f"min over {repeats} alternating repeats")
    speedups = []
    for name, (build, data, count) in setups(args.quick).items():
        model = trained(build, data)
        x, y = data.x_test[:count], data.y_test[:count]
        layout = ParameterLayout.from_model(model)
        plane = Plane.filter_normalised(layout, layout.flatten(), seed=0)
        kwargs = {"extent": (-1.0, 1.0, -1.0, 1.0), "resolution": resolution, "show_progress": False}
        evaluate_grid(model, plane, x, y, method="batched", **{**kwargs, "resolution": 2})  # compile, warm
        best = {}
        runs = [("batched", None), ("naive", 1), ("naive", os.cpu_count() or 1)]
        for _ in range(repeats):
            for method, blas in runs:
                limits = threadpool_limits(limits=blas, user_api="blas") if blas else None
                start = time.perf_counter()
                grid = evaluate_grid(model, plane, x, y, method=method, **kwargs)
                seconds = time.perf_counter() - start
                if limits is not None:
                    limits.unregister()
                if method not in best or seconds < best[method][0]:
                    best[method] = (seconds, grid, blas)
        (tb, gb, _), (tn, gn, blas_threads) = best["batched"], best["naive"]
        assert gb.method == "batched" and gn.method == "naive"
        rel = np.abs(gb.loss - gn.loss) / np.abs(gn.loss)
        points = gb.loss.size
        print(f"{name}: {layout.size} weights, {len(x)} samples")
        print(f"  folded  {tb:7.2f} s  ({1e3 * tb / points:6.2f} ms/point)")
        print(f"  loop    {tn:7.2f} s  ({1e3 * tn / points:6.2f} ms/point, BLAS at {blas_threads} thread(s))")
        print(f"  speedup {tn / tb:5.1f}x; max relative loss difference {rel.max():.1e}, "
              f"{int((gb.accuracy != gn.accuracy).sum())} of {points} accuracies differ")
        speedups.append(tn / tb)
    print(f"speedup folded/loop at {resolution}x{resolution}: worst {min(speedups):.1f}x (target >= 5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
