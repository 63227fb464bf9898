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

What bounds it: both paths do the same convolutions per point (only the first layer is shared), so
the script also prints each model's convolution FLOPs per point, the GFLOP/s each path reaches, and
the rate BLAS alone reaches on the model's largest convolution product, in the layout that convolution
runs (single-threaded, one chunk of columns, times the cores): the speedup over the loop that a method
running the same products at that rate would get, with no im2col, batch norm, activation or pooling
pass at all.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

import lasandbox as paddle
from lasandbox import models
from lasandbox.datasets import load_digits, load_mnist1d
from lasandbox.landscape import ParameterLayout, Plane, evaluate_grid
from lasandbox.nn.conv import _ConvNd
from lasandbox.training import train_epoch
from lasandbox.utils.machine import cpu_model

os.environ.setdefault("LASANDBOX_PROGRESS", "0")


def setups(quick):
    digits, seqs = load_digits(), load_mnist1d()
    test_size = 200 if quick else 1000
    return {
        "MNIST1DCNN(channels=32), MNIST-1D": (lambda: models.MNIST1DCNN(channels=32), seqs, test_size),
        "SmallResNet(width 16, 2 blocks), digits 8x8": (lambda: models.SmallResNet(input_shape=(1, 8, 8)), digits,
                                                        200 if quick else len(digits.x_test)),
    }


def conv_products(model, x):
    """``(convolution flops per forward of x, flops of the products run for them, (product rows, column
    rows, columns per sample) of the largest convolution's product)``, in the layout each convolution takes
    (``conv_compute._Plan``: im2col's ``[Co, Ci*kh*kw]``, or with row taps ``[kh*Co, Ci*kw]``)."""
    from lasandbox.nn import conv_compute, functional_conv

    found = []
    convs = [layer for layer in model.sublayers(include_self=True) if isinstance(layer, _ConvNd)]
    for layer in convs:
        def recording(inp, layer=layer, forward=layer.forward):
            out = forward(inp)
            geom, _, groups = functional_conv._check_conv_args(
                layer._op, inp, layer.weight, layer.bias, layer._stride, layer._padding, layer._dilation,
                layer._groups, layer._data_format, layer._ndim)
            weight, shape = layer.weight.shape, inp.shape
            x_shape = tuple(shape) if layer._ndim == 2 else (shape[0], shape[1], 1, shape[2])
            w_shape = tuple(weight) if layer._ndim == 2 else (weight[0], weight[1], 1, weight[2])
            plan = conv_compute._Plan(x_shape, w_shape, geom, groups, 4)
            flops = 2.0 * weight[0] * int(np.prod(weight[1:])) * (int(np.prod(out.shape)) // weight[0])
            # The product's own multiply-adds: row taps compute Hp/Ho of the convolution's (the padded rows).
            product_flops = 2.0 * plan.product_rows * plan.rows * plan.span * x_shape[0] / groups
            found.append((flops, product_flops, (plan.product_rows, plan.rows // groups, plan.span)))
            return out

        layer.forward = recording
    try:
        with paddle.no_grad():
            model(paddle.to_tensor(x))
    finally:
        for layer in convs:
            del layer.forward
    return (sum(f for f, _, _ in found), sum(p for _, p, _ in found),
            max(found, key=lambda item: item[0])[2])


def bare_product_rate(shape, repeats=5):
    """GFLOP/s of the product ``[out rows, rows] @ [rows, chunk]`` at one BLAS thread (a chunk of columns as
    the convolutions cut them, ``conv_compute.chunk_columns``), times the cores."""
    from lasandbox.nn.conv_compute import chunk_columns

    out_rows, rows, _ = shape
    span = chunk_columns(rows, out_rows, 4)
    rng = np.random.default_rng(0)
    weight, cols = (rng.standard_normal(s).astype(np.float32) for s in ((out_rows, rows), (rows, span)))
    with threadpool_limits(limits=1, user_api="blas"):
        best = min(_timed(lambda: weight @ cols) for _ in range(repeats))
    return 2.0 * out_rows * rows * span / best / 1e9 * (os.cpu_count() or 1)


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


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
        flops, product_flops, largest = conv_products(model, x)
        ceiling = bare_product_rate(largest)
        print(f"  convolutions: {flops / 1e6:.0f} MFLOP per point; folded {flops * points / tb / 1e9:.1f}, loop "
              f"{flops * points / tn / 1e9:.1f} GFLOP/s; bare product [{largest[0]}x{largest[1]}] @ "
              f"[{largest[1]}x...] (its largest conv's layout) at {ceiling:.0f} GFLOP/s "
              f"({os.cpu_count()} cores): those products alone at that rate would be "
              f"{ceiling * tn / (product_flops * points / 1e9):.1f}x the loop (products of "
              f"{product_flops / 1e6:.0f} MFLOP per point)")
        speedups.append(tn / tb)
    print(f"speedup folded/loop at {resolution}x{resolution}: worst {min(speedups):.1f}x (target >= 5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
