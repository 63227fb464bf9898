"""Samplers (``paddle.io``'s): which indices a ``DataLoader`` reads, and in which batches.

``RandomSampler`` and ``WeightedRandomSampler`` draw from numpy's global generator,
as Paddle's do (so ``np.random.seed`` makes them repeatable, and Paddle's recipes for
that work); ``SubsetRandomSampler`` draws from lasandbox's (``paddle.seed``), as Paddle's
uses ``paddle.randperm``.
Paddle guards several of these arguments with ``assert``; here they raise
``AssertedValueError``/``AssertedTypeError``, which are both a ValueError/TypeError
and an AssertionError.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

from lasandbox.utils.validation import AssertedTypeError, AssertedValueError


def _positive_int(name, value, error=ValueError):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise error(f"{name} must be a positive int, got {value!r}")
    return int(value)


class Sampler:
    """Base class: iterate over indices of ``data_source`` (subclasses implement ``__iter__``)."""

    def __init__(self, data_source=None):
        self.data_source = data_source

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequenceSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation (or ``num_samples`` draws, with ``replacement``) of the indices.

    ``generator``, if given, is an iterator whose values are taken as the indices (Paddle's meaning).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement must be a bool, got {replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _positive_int("num_samples", self.num_samples)
        if not replacement and self.num_samples > len(data_source):
            raise ValueError(f"num_samples ({self.num_samples}) must be <= len(data_source) ({len(data_source)}) "
                             "when replacement is False")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        if self.generator is not None:
            for _ in range(self.num_samples):
                try:
                    yield next(self.generator)
                except StopIteration:
                    return
            return
        n = len(self.data_source)
        yield from np.random.choice(n, self.num_samples, replace=self.replacement).tolist()  # noqa: NPY002

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (from lasandbox's generator: ``paddle.seed`` fixes it, as in Paddle)."""

    def __init__(self, indices):
        if len(indices) == 0:
            raise ValueError("indices of SubsetRandomSampler must not be empty")
        self.indices = indices

    def __iter__(self):
        from lasandbox.autograd import creation

        for i in creation.get_generator().permutation(len(self.indices)):
            yield self.indices[int(i)]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights`` (1-D, or 2-D: one draw per row)."""

    def __init__(self, weights, num_samples, replacement=True):
        _positive_int("num_samples", num_samples)
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement must be a bool, got {replacement!r}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement

    def _weight_rows(self):
        w = np.asarray(getattr(self.weights, "_value", self.weights), dtype=np.float64)
        if w.ndim > 2:
            raise AssertedValueError(f"weights must be 1-D or 2-D, got {w.ndim} dimensions")
        w = w.reshape(-1, w.shape[-1])
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise AssertedValueError("weights must be finite and >= 0")
        positive = (w > 0).sum(axis=1)
        if np.any(positive == 0):
            raise AssertedValueError("each row of weights needs a positive value")
        if not self.replacement and np.any(positive < self.num_samples):
            raise AssertedValueError(f"without replacement each row of weights needs num_samples "
                                     f"({self.num_samples}) positive values")
        return w / w.sum(axis=1, keepdims=True)

    def __iter__(self):
        rows = self._weight_rows()
        draws = [np.random.choice(rows.shape[1], self.num_samples, self.replacement, p)  # noqa: NPY002
                 for p in rows]
        return iter(np.concatenate(draws).tolist())

    def __len__(self):
        shape = np.shape(getattr(self.weights, "_value", self.weights))
        return self.num_samples * (int(np.prod(shape)) // shape[-1])


class BatchSampler(Sampler):
    """Group indices into lists of ``batch_size``.

    Give either a ``dataset`` (then ``shuffle`` picks a Random- or SequenceSampler over it) or a
    ``sampler`` (any iterable of indices; ``shuffle`` must then be False). The last short batch
    is kept unless ``drop_last``.
    """

    def __init__(self, dataset=None, sampler=None, shuffle=False, batch_size=1, drop_last=False):
        from lasandbox.io.dataset import IterableDataset

        if dataset is None:
            if sampler is None:
                raise AssertedValueError("BatchSampler needs a dataset or a sampler")
            if not isinstance(sampler, (Sampler, Iterable)):
                raise AssertedTypeError(f"sampler must be a Sampler or an iterable, got {type(sampler).__name__}")
            if shuffle:
                raise AssertedValueError("shuffle must be False when a sampler is given (the sampler sets the order)")
            self.sampler = sampler
        else:
            if isinstance(dataset, IterableDataset):
                raise AssertedTypeError("BatchSampler cannot index an IterableDataset")
            if sampler is not None:
                raise AssertedValueError("give a dataset or a sampler to BatchSampler, not both")
            if not isinstance(shuffle, bool):
                raise AssertedTypeError(f"shuffle must be a bool, got {shuffle!r}")
            self.sampler = RandomSampler(dataset) if shuffle else SequenceSampler(dataset)
        self.batch_size = _positive_int("batch_size", batch_size, AssertedValueError)
        if not isinstance(drop_last, bool):
            raise AssertedTypeError(f"drop_last must be a bool, got {drop_last!r}")
        self.shuffle = shuffle
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


__all__ = ["Sampler", "SequenceSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]
