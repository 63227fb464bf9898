"""Convolution GFLOP/s (forward; backward = input + weight gradients) against this machine's float32 GEMM.

For each shape (batch 64) the lasandbox convolution (im2col + BLAS, ``lasandbox.nn.conv_compute``)
is timed forward and backward; the 3x3 16-channel 28x28 shape also runs the direct-loop numba kernel
(``conv_kernels.direct_forward``), the alternative the im2col design was measured against. The
reference is numpy's float32 matmul of two 1024x1024 matrices (the machine's own GEMM rate), timed in
the same run: ``--repeats`` rounds before the convolutions and as many after (the best counts), not
between them -- after each multi-threaded call OpenBLAS's worker threads spin for tens of ms and take
the core a convolution's second thread needs (measured: the 16->16 backward 5.4 ms after a 50 ms
pause, 8.0 ms right after the GEMM), which a training step, whose products all run single-threaded
inside the convolution's own threads, never sees. Every timing is the min over ``--repeats``
round-robin rounds (the machine is shared and noisy: compare the ratios of one run). FLOPs:
``2*N*Co*Ho*Wo*(Ci/groups)*kh*kw`` forward, twice that backward.

    python benchmarks/conv_gflops.py [--repeats 7]

Target: convolutions with 3x3 kernels and >= 16 channels at >= 0.5 of the GEMM rate.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from lasandbox.nn import conv_args, conv_compute
from lasandbox.utils.machine import cpu_model

BATCH = 64
# name: (in channels, out channels, kernel (kh, kw), spatial (H, W), padding, targeted: 3x3 and >= 16 channels)
SHAPES = {
    "stem 1->16 3x3 28x28": (1, 16, (3, 3), (28, 28), 1, False),
    "16->16 3x3 28x28": (16, 16, (3, 3), (28, 28), 1, True),
    "32->32 3x3 14x14": (32, 32, (3, 3), (14, 14), 1, True),
    "64->64 3x3 7x7": (64, 64, (3, 3), (7, 7), 1, True),
    "1-D 32->32 k3 L20 (MNIST-1D)": (32, 32, (1, 3), (1, 20), (0, 0, 1, 1), False),
}
DIRECT_SHAPE = "16->16 3x3 28x28"


def best_time(fn, repeats_inside=3):
    best = float("inf")
    for _ in range(repeats_inside):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def make_case(c_in, c_out, kernel, size, padding, rng):
    x = rng.standard_normal((BATCH, c_in, *size)).astype(np.float32)
    w = (rng.standard_normal((c_out, c_in, *kernel)) * 0.1).astype(np.float32)
    b = np.zeros(c_out, np.float32)
    pads = (padding,) * 4 if isinstance(padding, int) else padding
    geom = conv_args.make_geometry("conv2d", size, kernel, (1, 1), (1, 1), ("explicit", pads), input_shape=x.shape)
    dout = rng.standard_normal((BATCH, c_out, *geom.out_size)).astype(np.float32)
    flops = 2.0 * BATCH * c_out * geom.out_size[0] * geom.out_size[1] * c_in * kernel[0] * kernel[1]
    return x, w, b, geom, dout, flops


def print_product_ceilings(cases, gemm, repeats):
    """What BLAS alone does with each targeted convolution's product, in the layout the convolution runs
    (``conv_compute._Plan``: ``[Co, Ci*kh*kw] @ [Ci*kh*kw, span]``, or with row taps ``[kh*Co, Ci*kw] @
    [Ci*kw, span]``) on one thread, one chunk's worth of columns, as each of the convolution's threads runs
    it. Twice that rate (two cores) is the most the design can reach for the shape, less the product's
    extra columns with row taps (``Hp/Ho``), which the convolution's FLOPs do not count."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(1)
    print("the bare product per thread (single-threaded BLAS, one chunk of columns):")
    with threadpool_limits(limits=1, user_api="blas"):
        for name, spec in SHAPES.items():
            if not spec[5]:
                continue
            x, w, _, geom, _, _ = cases[name]
            plan = conv_compute._Plan(x.shape, w.shape, geom, 1, x.itemsize, conv_compute._threads())
            n0, n1 = plan.chunks[0]
            rows, out_rows, span = plan.rows, plan.product_rows, (n1 - n0) * plan.span
            weight = rng.standard_normal((out_rows, rows)).astype(np.float32)
            cols = rng.standard_normal((rows, span)).astype(np.float32)
            seconds = min(best_time(lambda weight=weight, cols=cols: weight @ cols) for _ in range(repeats))
            rate = 2.0 * out_rows * rows * span / seconds / 1e9
            layout = "row taps" if plan.row_taps else "im2col"
            print(f"  {name:<28} [{out_rows}x{rows}] @ [{rows}x{span}] ({layout}): {rate:6.1f} GFLOP/s per thread,"
                  f" two threads <= {2 * rate / gemm:.2f} of the GEMM rate")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    bm = rng.standard_normal((1024, 1024)).astype(np.float32)
    cases = {name: make_case(*spec[:5], rng) for name, spec in SHAPES.items()}
    gemm_timer = lambda: a @ bm  # noqa: E731
    timers = {}
    for name, (x, w, b, geom, dout, _) in cases.items():
        timers[f"{name}/forward"] = lambda x=x, w=w, b=b, geom=geom: conv_compute.conv_forward(x, w, b, geom, 1)
        timers[f"{name}/backward"] = lambda x=x, w=w, geom=geom, dout=dout: conv_compute.conv_backward(
            dout, x, w, geom, 1)
    x, w, b, geom, _, _ = cases[DIRECT_SHAPE]
    timers[f"{DIRECT_SHAPE}/direct forward"] = lambda: conv_compute.direct_conv_forward(x, w, b, geom, 1)
    for fn in timers.values():  # compile the kernels (or load numba's cache)
        fn()
    gemm_best = min(best_time(gemm_timer) for _ in range(args.repeats))
    time.sleep(0.2)  # OpenBLAS's threads go back to sleep (see the module docstring)
    best = {key: float("inf") for key in timers}
    for _ in range(args.repeats):
        for key, fn in timers.items():
            best[key] = min(best[key], best_time(fn))
    gemm_best = min([gemm_best] + [best_time(gemm_timer) for _ in range(args.repeats)])
    gemm = 2.0 * 1024**3 / gemm_best / 1e9
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cpus, numpy {np.__version__}; batch {BATCH}, float32; "
          f"min over {args.repeats} round-robin rounds")
    print(f"float32 GEMM (numpy matmul 1024^3): {gemm:7.1f} GFLOP/s")
    print(f"{'shape':<30} {'pass':<15} {'ms':>8} {'GFLOP/s':>8} {'of GEMM':>8}")
    ratios = []
    for name, spec in SHAPES.items():
        flops = cases[name][5]
        for kind, work in (("forward", flops), ("backward", 2 * flops), ("direct forward", flops)):
            key = f"{name}/{kind}"
            if key not in best:
                continue
            rate = work / best[key] / 1e9
            print(f"{name:<30} {kind:<15} {best[key] * 1e3:8.2f} {rate:8.1f} {rate / gemm:8.2f}")
            if spec[5] and kind != "direct forward":
                ratios.append(rate / gemm)
    key = f"{DIRECT_SHAPE}/"
    print(f"im2col + BLAS vs direct loops at {DIRECT_SHAPE} forward: "
          f"{best[key + 'direct forward'] / best[key + 'forward']:.1f}x faster")
    print(f"3x3 convs with >= 16 channels: worst {min(ratios):.2f} of the GEMM rate (target >= 0.5)")
    print_product_ceilings(cases, gemm, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
