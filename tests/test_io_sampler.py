"""io: samplers, dataset combinators, iterable datasets with workers, collation of mixed fields."""

from __future__ import annotations

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.io import (
    BatchSampler,
    ComposeDataset,
    ConcatDataset,
    DataLoader,
    IterableDataset,
    RandomSampler,
    SequenceSampler,
    TensorDataset,
    get_worker_info,
    random_split,
)


class Stream(IterableDataset):
    def __init__(self, n, fail_at=None):
        self.n, self.fail_at = n, fail_at

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        for i in range(start, self.n, step):
            if i == self.fail_at:
                raise KeyError(f"sample {i} is broken")
            yield np.array([i], np.int64), f"s{i}"


def test_batch_sampler_checks_and_lengths():
    data = list(range(10))
    assert len(BatchSampler(dataset=data, batch_size=3)) == 4
    assert len(BatchSampler(dataset=data, batch_size=3, drop_last=True)) == 3
    assert list(BatchSampler(sampler=SequenceSampler(data), batch_size=4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(dataset=data, batch_size=0)
    with pytest.raises(ValueError, match="not both"):
        BatchSampler(dataset=data, sampler=range(3))
    with pytest.raises(TypeError, match="IterableDataset"):
        BatchSampler(dataset=Stream(3))


def test_random_sampler_follows_numpy_seed_and_checks():
    np.random.seed(0)  # noqa: NPY002 - RandomSampler draws from the legacy global generator, as Paddle
    first = list(RandomSampler(range(20)))
    np.random.seed(0)  # noqa: NPY002 - RandomSampler draws from the legacy global generator, as Paddle
    assert list(RandomSampler(range(20))) == first and sorted(first) == list(range(20))
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(5), num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(5), replacement=1)


def test_iterable_dataset_serial_and_with_workers():
    serial = [b[0].numpy().ravel().tolist() for b in DataLoader(Stream(7), batch_size=2)]
    assert serial == [[0, 1], [2, 3], [4, 5], [6]]
    batches = list(DataLoader(Stream(8), batch_size=2, num_workers=2))
    assert [b[0].numpy().ravel().tolist() for b in batches] == [[0, 2], [1, 3], [4, 6], [5, 7]]
    assert batches[0][1] == ["s0", "s2"]  # str fields batch into lists
    loader = DataLoader(Stream(3))
    with pytest.raises(ValueError, match="no length"):
        len(loader)
    assert len(list(loader)) == 3  # list() asks for a length hint and gets none
    with pytest.raises(ValueError, match="shuffled"):
        DataLoader(Stream(3), shuffle=True)


def test_worker_errors_come_back_with_their_traceback():
    with pytest.raises(RuntimeError, match="sample 3 is broken"):
        list(DataLoader(Stream(6, fail_at=3), batch_size=2, num_workers=2))
    assert get_worker_info() is None


def test_unbatched_loading_and_batch_sampler_argument_checks():
    data = TensorDataset([np.arange(6).reshape(3, 2).astype(np.float32)])
    items = list(DataLoader(data, batch_size=None))
    assert len(items) == 3 and items[0][0].shape == [2]
    sampler = BatchSampler(dataset=data, batch_size=2)
    assert len(DataLoader(data, batch_sampler=sampler)) == 2
    with pytest.raises(AssertionError):
        DataLoader(data, batch_sampler=sampler, batch_size=2)
    with pytest.raises(NotImplementedError, match="static graph"):
        DataLoader(data, return_list=False)


def test_collate_rejects_ragged_sequences():
    class Ragged(paddle.io.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return [1, 2] if i == 0 else [1, 2, 3]

    with pytest.raises(RuntimeError, match="number of fields"):
        next(iter(DataLoader(Ragged(), batch_size=2)))


def test_combinators_and_split():
    left = TensorDataset([np.array([[1, 2]]), np.array([[3]])])
    right = TensorDataset([np.array([[4]])])
    assert [np.asarray(f).tolist() for f in ComposeDataset([left, right])[0]] == [[1, 2], [3], [4]]
    with pytest.raises(TypeError, match="Dataset"):
        ComposeDataset([[(1, 2)]])
    with pytest.raises(ValueError, match="one length"):
        ComposeDataset([paddle.io.Subset(range(3), [0]), paddle.io.Subset(range(3), [0, 1])])
    concat = ConcatDataset([range(3), range(2)])
    assert [concat[i] for i in range(len(concat))] == [0, 1, 2, 0, 1] and concat[-1] == 1
    paddle.seed(3)
    a, b = random_split(range(10), [0.25, 0.75])
    assert (len(a), len(b)) == (3, 7) and sorted([*a, *b]) == list(range(10))
    with pytest.raises(NotImplementedError, match="generator"):
        random_split(range(4), [2, 2], generator=object())
