"""Row taps against the usual im2col layout, per convolution shape: the measurements behind
``conv_compute``'s row-taps thresholds.

Both layouts run in one process, alternating (the same module, the thresholds toggled: two copies of
the module in one process had measured 5-11% apart by position alone), forward then backward, and the
script prints time(row taps) / time(usual layout) as min and median over ``--rounds`` rounds, with the
layout the thresholds choose for each shape. Isolated kernels, so one process is fair; the VM is noisy,
so compare the ratios of one run.

    python benchmarks/conv_layouts.py [--rounds 40] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import numpy as np

from lasandbox.nn import conv_compute
from lasandbox.nn.conv_args import Geometry
from lasandbox.utils.machine import cpu_model

# (batch, in channels, out channels, height = width, padding, kernel): 3x3 'same' planes from 28x28 to 4x4
# at a training batch and at a landscape's batch of digits, 5x5 'same', 'valid', and the shapes kept out.
SHAPES = [(n, c, c, hw, 1, 3) for c in (8, 16) for hw in (28, 14, 8, 4) for n in (64, 449)]
SHAPES += [(64, 16, 8, 8, 1, 3), (64, 8, 16, 28, 1, 3), (64, 16, 32, 28, 1, 3), (64, 4, 16, 28, 1, 3),
           (64, 16, 16, 16, 2, 5), (64, 16, 16, 8, 2, 5), (64, 16, 16, 28, 0, 3), (64, 16, 16, 8, 0, 3)]
QUICK = [(64, 16, 16, 8, 1, 3), (64, 8, 16, 28, 1, 3)]


@contextlib.contextmanager
def layout(row_taps):
    """Force row taps on (every stride-1 one-group shape) or off, for the block."""
    names = ("ROW_TAPS_MAX_EXTRA", "ROW_TAPS_MAX_EXTRA_TIGHT", "ROW_TAPS_MAX_OUT", "ROW_TAPS_MAX_GROWTH",
             "ROW_TAPS_MIN_ROWS")
    saved = {name: getattr(conv_compute, name) for name in names}
    inf = float("inf")
    forced = (inf, inf, 1 << 30, inf, 0) if row_taps else (-1.0, -1.0, 0, -1.0, 1 << 30)
    for name, value in zip(names, forced, strict=True):
        setattr(conv_compute, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(conv_compute, name, value)


def ratios(shape, rounds, rng):
    n, c_in, c_out, size, pad, k = shape
    out_size = size + 2 * pad - k + 1
    geom = Geometry((size, size), (k, k), (1, 1), (1, 1), (pad,) * 4, (out_size, out_size))
    x = rng.standard_normal((n, c_in, size, size)).astype(np.float32)
    w = rng.standard_normal((c_out, c_in, k, k)).astype(np.float32)
    dout = rng.standard_normal((n, c_out, out_size, out_size)).astype(np.float32)
    chosen = conv_compute._Plan(x.shape, w.shape, geom, 1, 4).row_taps
    times = {False: [], True: []}
    for r in range(rounds + 1):  # the first round compiles and warms the caches, and is dropped
        for row_taps in ((False, True) if r % 2 == 0 else (True, False)):
            with layout(row_taps):
                start = time.perf_counter()
                conv_compute.conv_forward(x, w, None, geom, 1)
                middle = time.perf_counter()
                conv_compute.conv_backward(dout, x, w, geom, 1)
                end = time.perf_counter()
            if r:
                times[row_taps].append((middle - start, end - middle))
    usual, taps = np.array(times[False]), np.array(times[True])
    return chosen, usual, taps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="two shapes, 3 rounds (smoke test)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    shapes, rounds = (QUICK, 3) if args.quick else (SHAPES, args.rounds)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cpus; {rounds} alternating rounds per shape; "
          "time(row taps) / time(usual layout), min / median")
    rng = np.random.default_rng(0)
    for shape in shapes:
        chosen, usual, taps = ratios(shape, rounds, rng)
        n, c_in, c_out, size, pad, k = shape
        padding = "same" if 2 * pad == k - 1 else "valid"
        label = f"N={n:3d} {c_in:2d}->{c_out:<2d} {size:2d}x{size:<2d} {k}x{k} {padding}"
        forward = f"{taps[:, 0].min() / usual[:, 0].min():.2f} / {np.median(taps[:, 0]) / np.median(usual[:, 0]):.2f}"
        backward = f"{taps[:, 1].min() / usual[:, 1].min():.2f} / {np.median(taps[:, 1]) / np.median(usual[:, 1]):.2f}"
        print(f"  {label}: forward {forward}, backward {backward}; usual {1e3 * usual[:, 0].min():.2f} + "
              f"{1e3 * usual[:, 1].min():.2f} ms; chosen: {'row taps' if chosen else 'usual'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
