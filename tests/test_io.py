"""io: Dataset, TensorDataset, DataLoader (batching, shuffling, workers, callable like Paddle's)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.io import DataLoader, Dataset, TensorDataset


class IndexDataset(Dataset):
    """Sample i is (i as float32 vector, pid of the process that loaded it)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, idx):
        return np.full([3], idx, np.float32), np.array([os.getpid()], np.int64)

    def __len__(self):
        return self.n


def _indices(batches):
    return [b[0].numpy()[:, 0].astype(int).tolist() for b in batches]


def test_batches_in_order_with_and_without_drop_last():
    loader = DataLoader(IndexDataset(10), batch_size=4)
    batches = list(loader)
    assert _indices(batches) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(loader) == 3
    assert isinstance(batches[0][0], paddle.Tensor) and batches[0][1].dtype == paddle.int64
    loader = DataLoader(IndexDataset(10), batch_size=4, drop_last=True)
    assert _indices(loader()) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(loader) == 2


def test_shuffle_is_a_permutation_and_follows_seed():
    paddle.seed(5)
    first = sum(_indices(DataLoader(IndexDataset(20), batch_size=5, shuffle=True)), [])
    paddle.seed(5)
    again = sum(_indices(DataLoader(IndexDataset(20), batch_size=5, shuffle=True)), [])
    assert sorted(first) == list(range(20)) and first == again and first != list(range(20))


def test_workers_load_in_parallel_processes_and_keep_order():
    loader = DataLoader(IndexDataset(24), batch_size=3, num_workers=2)
    batches = list(loader())
    assert _indices(batches) == [[i, i + 1, i + 2] for i in range(0, 24, 3)]
    pids = {int(b[1].numpy()[0, 0]) for b in batches}
    assert os.getpid() not in pids and len(pids) == 2


def test_workers_get_different_numpy_seeds():
    class RandomDataset(Dataset):
        def __getitem__(self, idx):
            return np.random.random([4]).astype(np.float32)  # noqa: NPY002 - what user datasets do

        def __len__(self):
            return 8

    batches = [b.numpy() for b in DataLoader(RandomDataset(), batch_size=2, num_workers=2)]
    rows = np.concatenate(batches)
    assert len({tuple(r) for r in rows}) == len(rows)


def test_tensor_dataset_and_bad_arguments():
    ds = TensorDataset([np.arange(6).reshape(3, 2).astype(np.float32), np.arange(3)])
    x, y = next(iter(DataLoader(ds, batch_size=3)))
    assert x.shape == [3, 2] and y.numpy().tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset([np.zeros(3), np.zeros(4)])
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(TypeError, match="num_workers"):
        DataLoader(ds, num_workers=1.5)
    with pytest.raises(TypeError, match="dataset"):
        DataLoader([1, 2, 3][0])


def test_custom_collate_fn():
    loader = DataLoader(IndexDataset(4), batch_size=2, collate_fn=lambda samples: np.stack([s[0] for s in samples]))
    assert [b.shape for b in loader] == [[2, 3], [2, 3]]
