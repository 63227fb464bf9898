"""Datasets: the abstract ``Dataset`` and ``TensorDataset``."""

from __future__ import annotations

import numpy as np


class Dataset:
    """Map-style dataset: implement ``__getitem__(idx)`` and ``__len__()``."""

    def __getitem__(self, idx):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class TensorDataset(Dataset):
    """Samples are the i-th rows of each given array or Tensor (all of one length)."""

    def __init__(self, tensors):
        arrays = [np.asarray(getattr(t, "_value", t)) for t in tensors]
        if not arrays:
            raise ValueError("tensors must hold at least one array")
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise ValueError(f"tensors must all have the same first dimension, got lengths {sorted(lengths)}")
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
