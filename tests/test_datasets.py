"""The offline data sets; the MNIST-1D cache is plain .npz, read without pickle."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from lasandbox.datasets import load, load_digits, load_mnist1d, make_synthetic


class _RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LASANDBOX_CACHE", str(tmp_path))
    return tmp_path


def _no_generation(monkeypatch):
    import mnist1d.data

    def refuse(args):
        raise AssertionError("the data was generated again instead of read from the cache")

    monkeypatch.setattr(mnist1d.data, "make_dataset", refuse)


def test_mnist1d_is_cached_as_npz_and_read_back_without_pickle(cache, monkeypatch):
    first = load_mnist1d(num_samples=200, seed=1)
    assert first.x_train.shape == (160, 40) and first.num_classes == 10 and first.y_train.dtype == np.int64
    path = cache / "mnist1d_n200_s1.npz"
    with np.load(path, allow_pickle=False) as stored:
        assert stored["x"].shape == (200, 40) and stored["y"].shape == (200,)
    _no_generation(monkeypatch)
    again = load_mnist1d(num_samples=200, seed=1)
    np.testing.assert_array_equal(again.x_test, first.x_test)
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary left behind


def test_an_old_pickle_cache_is_never_unpickled(cache):
    marker = cache / "ran"
    with open(cache / "mnist1d_n200_s1.pkl", "wb") as handle:
        pickle.dump((_RunsCode(marker), None), handle)
    split = load_mnist1d(num_samples=200, seed=1)
    assert not marker.exists() and split.x_train.shape == (160, 40)


def _claims_huge_array(path):
    # A header saying (10**12, 40) float64 over 64 bytes of data: np.load allocates the array first.
    import io
    import zipfile

    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 40)})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", member.getvalue() + b"\0" * 64)
        archive.writestr("y.npy", member.getvalue() + b"\0" * 64)


@pytest.mark.parametrize("damage", ["bytes", "object-array", "wrong-shape", "huge-header"])
def test_a_bad_npz_cache_is_regenerated_not_trusted(cache, damage):
    path = cache / "mnist1d_n200_s1.npz"
    reference = load_mnist1d(num_samples=200, seed=1)
    marker = cache / "ran"
    if damage == "bytes":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "object-array":
        np.savez(path, x=np.array([_RunsCode(marker)], dtype=object), y=np.zeros(200, np.int64))
    elif damage == "huge-header":
        _claims_huge_array(path)
    else:
        np.savez(path, x=np.zeros((10, 40)), y=np.zeros(10, np.int64))
    split = load_mnist1d(num_samples=200, seed=1)
    assert not marker.exists()
    np.testing.assert_array_equal(split.x_train, reference.x_train)
    with np.load(path, allow_pickle=False) as stored:  # rewritten whole
        assert stored["x"].shape == (200, 40)


def test_other_loaders_and_argument_checks():
    digits = load_digits()
    assert digits.num_features == 64 and digits.num_classes == 10
    assert make_synthetic(num_samples=50, num_features=3).x_train.shape[1] == 3
    with pytest.raises(ValueError, match="num_samples"):
        load_mnist1d(num_samples=10)
    with pytest.raises(ValueError, match="name"):
        load("cifar")


@pytest.mark.parametrize("bad_seed", [1.5, True, -1])
def test_a_seed_that_is_not_an_int_is_named(bad_seed, cache):
    for loader in (load_digits, make_synthetic, load_mnist1d):  # had reached numpy, or named mnist1d's cache file
        with pytest.raises((TypeError, ValueError), match="seed must be an int"):
            loader(seed=bad_seed)
    assert not list(cache.iterdir())


def test_make_synthetic_checks_separation_and_test_fraction():
    with pytest.raises(ValueError, match="separation must be finite"):  # NaN had made every sample NaN
        make_synthetic(separation=float("nan"))
    for fraction in (0.0, 1.0, 1.5):  # unchecked: 0 gave an empty test set
        with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\)"):
            make_synthetic(test_fraction=fraction)
    with pytest.raises(TypeError, match="num_classes must be an int"):
        make_synthetic(num_classes="4")
