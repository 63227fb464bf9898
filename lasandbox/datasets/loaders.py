"""Loaders for the offline data sets (see the package docstring)."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lasandbox.utils.atomic import write_atomically
from lasandbox.utils.validation import check_choice, check_int, check_real


@dataclass
class Split:
    """Train/test arrays: ``x_*`` float32 ``[N, features]``, ``y_*`` int64 ``[N]``.

    ``sample_shape``: what one row is, for models that want it unflattened --
    ``(1, 8, 8)`` for the digits images, ``(1, 40)`` for MNIST-1D's sequences
    (channels first); ``None`` for plain feature vectors.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str = ""
    sample_shape: tuple | None = None

    @property
    def num_features(self):
        return self.x_train.shape[1]

    @property
    def num_classes(self):
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def _split_and_standardise(x, y, test_fraction, seed, name, sample_shape=None):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0) + 1e-6  # constant pixels (digits' borders) stay finite
    x = ((x - mean) / std).astype(np.float32)
    return Split(x[train], y[train].astype(np.int64), x[test], y[test].astype(np.int64), name, sample_shape)


def _check_split(test_fraction, seed):
    """The split's arguments, checked by name (a float or bool seed had reached numpy, or named the cache)."""
    return (check_real("test_fraction", test_fraction, low=0.0, high=1.0, low_open=True, high_open=True),
            check_int("seed", seed, low=0))


def load_digits(test_fraction=0.25, seed=0) -> Split:
    """scikit-learn's digits: 1,797 8x8 images (64 features), 10 classes, shipped with sklearn."""
    test_fraction, seed = _check_split(test_fraction, seed)
    from sklearn.datasets import load_digits as sk_load_digits

    data = sk_load_digits()
    return _split_and_standardise(data.data.astype(np.float64), data.target, test_fraction, seed, "digits",
                                  sample_shape=(1, 8, 8))


def cache_dir() -> Path:
    """Where generated data sets are cached (``LASANDBOX_CACHE`` or ``~/.cache/lasandbox``)."""
    root = os.environ.get("LASANDBOX_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "lasandbox")
    return Path(root)


def _read_mnist1d_cache(path, num_samples):
    """``(x, y)`` from a cache file, or None when it is missing or unusable (then it is regenerated)."""
    try:
        # allow_pickle=False: a cache file is data only, whoever wrote it.
        with np.load(path, allow_pickle=False) as cached:
            x, y = cached["x"], cached["y"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, MemoryError):
        # MemoryError: a header claiming more elements than memory holds (numpy allocates before reading).
        return None
    if x.shape != (num_samples, 40) or y.shape != (num_samples,) or x.dtype.kind != "f" or y.dtype.kind != "i":
        return None
    return x.astype(np.float64), y.astype(np.int64)


def load_mnist1d(num_samples=5000, test_fraction=0.2, seed=42) -> Split:
    """MNIST-1D generated locally with the ``mnist1d`` package (40 features, 10 classes).

    The package's ``get_dataset`` would download a pickle; ``make_dataset``
    builds the same kind of data from templates in the package, offline. The
    result is cached under ``cache_dir()`` as ``.npz`` (read with
    ``allow_pickle=False``); a damaged cache is regenerated, and the ``.pkl``
    caches of earlier versions are ignored (never unpickled).
    """
    num_samples = check_int("num_samples", num_samples, low=100)
    test_fraction, seed = _check_split(test_fraction, seed)
    # make_dataset only slices its samples at train_split, so the fraction is not part of the key.
    path = cache_dir() / f"mnist1d_n{num_samples}_s{seed}.npz"
    cached = _read_mnist1d_cache(path, num_samples) if path.exists() else None
    if cached is not None:
        x, y = cached
    else:
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        args.num_samples = num_samples
        args.seed = seed
        args.train_split = 1.0 - test_fraction
        data = make_dataset(args)
        x = np.concatenate([data["x"], data["x_test"]]).astype(np.float64)
        y = np.concatenate([data["y"], data["y_test"]]).astype(np.int64)
        # Atomic, so that concurrent generators (sweep workers) and a killed run never leave half a file.
        write_atomically(path, lambda handle: np.savez(handle, x=x, y=y), fsync=False)
    return _split_and_standardise(x, y, test_fraction, seed, "mnist1d", sample_shape=(1, 40))


def make_synthetic(num_samples=1000, num_features=20, num_classes=4, separation=2.0, test_fraction=0.25,
                   seed=0) -> Split:
    """Gaussian clusters, one per class, ``separation`` apart (a fast stand-in for tests)."""
    num_classes = check_int("num_classes", num_classes, low=2)  # first: num_samples' range depends on it
    num_samples = check_int("num_samples", num_samples, low=num_classes * 2)
    num_features = check_int("num_features", num_features, low=1)
    separation = check_real("separation", separation, low=0.0)  # NaN had made every sample NaN
    test_fraction, seed = _check_split(test_fraction, seed)  # test_fraction had not been checked here at all
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((num_classes, num_features)) * separation
    y = rng.integers(0, num_classes, num_samples)
    x = centres[y] + rng.standard_normal((num_samples, num_features))
    return _split_and_standardise(x, y, test_fraction, seed, "synthetic")


def load(name, **kwargs) -> Split:
    """Load a data set by name: ``digits``, ``mnist1d`` or ``synthetic``."""
    check_choice("name", name, ("digits", "mnist1d", "synthetic"))
    return {"digits": load_digits, "mnist1d": load_mnist1d, "synthetic": make_synthetic}[name](**kwargs)
