"""Datasets (``paddle.io``'s): map-style and iterable ones, and ways to combine and split them."""

from __future__ import annotations

import bisect
import math
import warnings

import numpy as np

from lasandbox.autograd import creation
from lasandbox.utils.validation import AssertedTypeError, AssertedValueError


class Dataset:
    """Map-style dataset: implement ``__getitem__(idx)`` and ``__len__()``."""

    def __getitem__(self, idx):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class IterableDataset(Dataset):
    """A stream of samples: implement ``__iter__()``; it has no length and no indexing.

    With ``DataLoader(num_workers=n)`` every worker iterates its own copy: split the stream with
    ``paddle.io.get_worker_info()`` inside ``__iter__`` (or each sample arrives ``n`` times).
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, idx):
        raise RuntimeError(f"{type(self).__name__} is an IterableDataset: iterate over it, do not index it")

    def __len__(self):
        raise RuntimeError(f"{type(self).__name__} is an IterableDataset: it has no length")


class TensorDataset(Dataset):
    """Samples are the i-th rows of each given array or Tensor (all of one length)."""

    def __init__(self, tensors):
        arrays = [np.asarray(getattr(t, "_value", t)) for t in tensors]
        if not arrays:
            raise ValueError("tensors must hold at least one array")
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise AssertedValueError(f"tensors must all have the same first dimension, got lengths {sorted(lengths)}")
        self.arrays = arrays

    def __getitem__(self, idx):
        return tuple(a[idx] for a in self.arrays)

    def __len__(self):
        return len(self.arrays[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, idx):
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


def _map_style(datasets, owner):
    datasets = list(datasets)
    if not datasets:
        raise AssertedValueError(f"{owner} needs at least one dataset")
    for d in datasets:
        if isinstance(d, IterableDataset):
            raise AssertedTypeError(f"{owner} does not support IterableDataset")
    return datasets


class ComposeDataset(Dataset):
    """Datasets of one length side by side: sample i is the fields of every dataset's sample i, in order."""

    def __init__(self, datasets):
        self.datasets = _map_style(datasets, "ComposeDataset")
        for d in self.datasets:
            if not isinstance(d, Dataset):
                raise AssertedTypeError(f"ComposeDataset takes paddle.io.Dataset objects, got {type(d).__name__}")
        lengths = [len(d) for d in self.datasets]
        if len(set(lengths)) != 1:
            raise AssertedValueError(f"ComposeDataset needs datasets of one length, got {lengths}")

    def __len__(self):
        return len(self.datasets[0])

    def __getitem__(self, idx):
        fields = []
        for d in self.datasets:
            sample = d[idx]
            fields.extend(sample if isinstance(sample, (list, tuple)) else [sample])
        return tuple(fields)


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertedValueError("ChainDataset needs at least one dataset")
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertedTypeError(f"ChainDataset takes IterableDatasets, got {type(d).__name__}")

    def __iter__(self):
        for d in self.datasets:
            yield from d


class ConcatDataset(Dataset):
    """Map-style datasets one after the other (index ``i`` runs through them in order)."""

    def __init__(self, datasets):
        self.datasets = _map_style(datasets, "ConcatDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError(f"index {idx} is out of range for a ConcatDataset of length {len(self)}")
            idx += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which == len(self.datasets):
            raise IndexError(f"index {idx} is out of range for a ConcatDataset of length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (floored, the
    remainder given one by one to the first splits, as Paddle does). The permutation comes from
    lasandbox's generator (``paddle.seed``). ``generator`` is not supported (Paddle ignores it too).
    """
    if generator is not None:
        raise NotImplementedError("random_split(generator=...) is not supported; seed with paddle.seed()")
    lengths = list(lengths)
    n = len(dataset)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"fraction lengths[{i}]={fraction} is not between 0 and 1")
            counts.append(int(math.floor(n * fraction)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"random_split: split {i} is empty", stacklevel=2)
        lengths = counts
    if any(length < 0 for length in lengths) or sum(lengths) != n:
        raise ValueError(f"lengths {lengths} must be >= 0 and sum to the dataset's length {n} "
                         "(or be fractions summing to 1)")
    order = creation.get_generator().permutation(n).tolist()
    splits, start = [], 0
    for length in lengths:
        splits.append(Subset(dataset, order[start:start + length]))
        start += length
    return splits


__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ComposeDataset", "ChainDataset",
           "ConcatDataset", "random_split"]
