"""io cases: Paddle's sampler and dataset unit tests (eager) and the API-doc examples of paddle.io.

Sources (PaddlePaddle, test/legacy_test/):
  test_batch_sampler.py: TestSampler, TestSequenceSampler, TestRandomSampler (all six),
    TestSubsetRandomSampler (both), TestBatchSampler and its variants (DropLast, Shuffle,
    WithSampler, WithSamplerShuffle, WithIterableSampler(+DropLast, +Shuffle)),
    TestWeightedRandomSampler (all four).
  test_multiprocess_dataloader_dataset.py: TestComposeDataset,
    TestRandomSplitApi, TestRandomSplitApi2, TestRandomSplitError, TestSubsetDataset,
    TestChainDataset, TestNumpyMixTensorDataset, TestComplexDataset (num_workers 0 and 2),
    TestSingleFieldDataset, TestSingleFieldIterableDataset, TestDatasetWithDropLast (both),
    TestConcatDataset (test_main, test_iterable_dataset_err).
  Cut: the CUDAPlace loops; ``isinstance(x, base.core.eager.Tensor)`` is kept (lasandbox's
  ``base.core.eager.Tensor`` is its Tensor).
Docs (python/paddle/io/, 3.3.1): Dataset, IterableDataset (three examples), TensorDataset,
  ComposeDataset, ChainDataset, ConcatDataset, Subset, random_split, DataLoader, BatchSampler,
  Sampler, SequenceSampler, RandomSampler, WeightedRandomSampler, SubsetRandomSampler,
  get_worker_info. What each example prints is asserted instead (the printed values that
  depend on the random generator only by their shape).
"""

import math
import random

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox import base
from lasandbox.io import (
    BatchSampler,
    ChainDataset,
    ComposeDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequenceSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    get_worker_info,
)

IMAGE_SIZE = 32


class RandomDataset(Dataset):
    def __init__(self, sample_num, class_num=10):
        self.sample_num = sample_num
        self.class_num = class_num

    def __getitem__(self, idx):
        np.random.seed(idx)
        image = np.random.random([IMAGE_SIZE]).astype("float32")
        label = np.random.randint(0, self.class_num - 1, (1,)).astype("int64")
        return image, label

    def __len__(self):
        return self.sample_num


class RandomIterableDataset(IterableDataset):
    def __init__(self, sample_num):
        self.sample_num = sample_num

    def __iter__(self):
        for i in range(self.sample_num):
            np.random.seed(i)
            image = np.random.random([IMAGE_SIZE]).astype("float32")
            label = np.random.randint(0, 9, (1,)).astype("int64")
            yield image, label


# ------------------------------------------------------------------------- test_batch_sampler.py
def test_sampler_base_is_abstract():
    """test_batch_sampler.py TestSampler.test_main."""
    sampler = Sampler(RandomDataset(100, 10))
    with pytest.raises(NotImplementedError):
        iter(sampler)


def test_sequence_sampler():
    """test_batch_sampler.py TestSequenceSampler.test_main."""
    sampler = SequenceSampler(RandomDataset(100, 10))
    assert len(sampler) == 100
    for i, index in enumerate(iter(sampler)):
        assert i == index


def test_random_sampler():
    """test_batch_sampler.py TestRandomSampler.test_main."""
    sampler = RandomSampler(RandomDataset(100, 10))
    assert len(sampler) == 100
    assert tuple(sorted(iter(sampler))) == tuple(range(100))


def test_random_sampler_with_num_samples():
    """test_batch_sampler.py TestRandomSampler.test_with_num_samples."""
    sampler = RandomSampler(RandomDataset(100, 10), num_samples=50, replacement=True)
    assert len(sampler) == 50
    for i in iter(sampler):
        assert 0 <= i < 100


def test_random_sampler_with_num_samples_without_replacement():
    """test_batch_sampler.py TestRandomSampler.test_with_num_samples_and_without_replacement."""
    sampler = RandomSampler(RandomDataset(100, 10), num_samples=80, replacement=False)
    assert len(sampler) == 80
    rets = list(iter(sampler))
    assert all(0 <= i < 100 for i in rets)


def test_random_sampler_with_generator():
    """test_batch_sampler.py TestRandomSampler.test_with_generator."""
    sampler = RandomSampler(RandomDataset(100, 10), generator=iter(range(0, 60)))
    assert len(sampler) == 100
    assert tuple(sorted(iter(sampler))) == tuple(range(0, 60))


def test_random_sampler_with_generator_num_samples():
    """test_batch_sampler.py TestRandomSampler.test_with_generator_num_samples."""
    sampler = RandomSampler(RandomDataset(100, 10), generator=iter(range(0, 60)), num_samples=50, replacement=True)
    assert len(sampler) == 50
    assert tuple(sorted(iter(sampler))) == tuple(range(0, 50))


def test_random_sampler_num_samples_error():
    """test_batch_sampler.py TestRandomSampler.test_with_num_samples_error."""
    with pytest.raises(ValueError):
        RandomSampler(RandomDataset(100, 10), False, 120)


def test_subset_random_sampler():
    """test_batch_sampler.py TestSubsetRandomSampler.test_main."""
    indices = list(range(100))
    random.shuffle(indices)
    indices = indices[:30]
    sampler = SubsetRandomSampler(indices)
    assert len(sampler) == len(indices)
    hints = dict.fromkeys(indices, 0)
    for index in iter(sampler):
        hints[index] += 1
    assert all(h == 1 for h in hints.values())


def test_subset_random_sampler_raise():
    """test_batch_sampler.py TestSubsetRandomSampler.test_raise."""
    with pytest.raises(ValueError):
        SubsetRandomSampler([])


def _check_batch_sampler(bs, num_samples, batch_size, shuffle, drop_last):
    """TestBatchSampler.test_main: the length and, without shuffling, the indices in order."""
    assert len(bs) == (num_samples + int(not drop_last) * (batch_size - 1)) // batch_size
    if not shuffle:
        index = 0
        for indices in bs:
            for idx in indices:
                assert index == idx
                index += 1


@pytest.mark.parametrize("shuffle, drop_last", [(False, False), (False, True), (True, True)],
                         ids=["TestBatchSampler", "TestBatchSamplerDropLast", "TestBatchSamplerShuffle"])
def test_batch_sampler_from_dataset(shuffle, drop_last):
    """test_batch_sampler.py TestBatchSampler.test_main (and its DropLast / Shuffle subclasses)."""
    bs = BatchSampler(dataset=RandomDataset(1000, 10), batch_size=32, shuffle=shuffle, drop_last=drop_last)
    _check_batch_sampler(bs, 1000, 32, shuffle, drop_last)


def test_batch_sampler_with_sampler():
    """test_batch_sampler.py TestBatchSamplerWithSampler.test_main."""
    bs = BatchSampler(sampler=SequenceSampler(RandomDataset(1000, 10)), batch_size=32, drop_last=False)
    _check_batch_sampler(bs, 1000, 32, False, False)


def test_batch_sampler_with_sampler_and_shuffle_asserts():
    """test_batch_sampler.py TestBatchSamplerWithSamplerShuffle.test_main."""
    with pytest.raises(AssertionError):
        BatchSampler(sampler=RandomSampler(RandomDataset(1000, 10)), shuffle=True, batch_size=32, drop_last=True)


@pytest.mark.parametrize("shuffle, drop_last", [(False, False), (False, True), (True, True)],
                         ids=["WithIterableSampler", "WithIterableSamplerDropLast", "WithIterableSamplerShuffle"])
def test_batch_sampler_with_iterable_sampler(shuffle, drop_last):
    """test_batch_sampler.py TestBatchSamplerWithIterableSampler(+DropLast, +Shuffle).test_main."""
    bs = BatchSampler(sampler=range(1000), batch_size=32, drop_last=drop_last)
    _check_batch_sampler(bs, 1000, 32, shuffle, drop_last)


def _probs(total, pos):
    pos_probs = np.random.random((pos,)).astype("float32")
    probs = np.zeros((total,)).astype("float32")
    probs[:pos] = pos_probs
    np.random.shuffle(probs)
    return probs


def test_weighted_random_sampler_replacement():
    """test_batch_sampler.py TestWeightedRandomSampler.test_replacement."""
    probs = _probs(20, 10)
    sampler = WeightedRandomSampler(probs, 30, True)
    assert len(sampler) == 30
    for idx in iter(sampler):
        assert probs[idx] > 0.0


def test_weighted_random_sampler_no_replacement():
    """test_batch_sampler.py TestWeightedRandomSampler.test_no_replacement."""
    probs = _probs(20, 10)
    sampler = WeightedRandomSampler(probs, 10, False)
    assert len(sampler) == 10
    idxs = list(iter(sampler))
    assert all(probs[i] > 0.0 for i in idxs) and len(set(idxs)) == len(idxs)


def test_weighted_random_sampler_asserts():
    """test_batch_sampler.py TestWeightedRandomSampler.test_assert."""
    for probs, replacement in ((np.zeros((10,)).astype("float32"), True), (_probs(10, 5), False),
                               (-1.0 * np.ones((10,)).astype("float32"), True)):
        sampler = WeightedRandomSampler(probs, 10, replacement)
        with pytest.raises(AssertionError):
            for _ in iter(sampler):
                pass


def test_weighted_random_sampler_raise():
    """test_batch_sampler.py TestWeightedRandomSampler.test_raise."""
    probs = _probs(10, 5)
    for num_samples, replacement in ((2.3, True), (-1, True), (5, 5)):
        with pytest.raises(ValueError):
            WeightedRandomSampler(probs, num_samples, replacement)


# ------------------------------------------------------------ test_multiprocess_dataloader_dataset.py
def test_compose_dataset():
    """test_multiprocess_dataloader_dataset.py TestComposeDataset.test_main."""
    paddle.seed(1)
    dataset1, dataset2 = RandomDataset(10), RandomDataset(10)
    dataset = ComposeDataset([dataset1, dataset2])
    assert len(dataset) == 10
    for i in range(len(dataset)):
        input1, label1, input2, label2 = dataset[i]
        input1_t, label1_t = dataset1[i]
        input2_t, label2_t = dataset2[i]
        np.testing.assert_allclose(input1, input1_t)
        np.testing.assert_allclose(label1, label1_t)
        np.testing.assert_allclose(input2, input2_t)
        np.testing.assert_allclose(label2, label2_t)


def test_random_split():
    """test_multiprocess_dataloader_dataset.py TestRandomSplitApi.test_main."""
    paddle.seed(1)
    dataset1, dataset2 = paddle.io.random_split(range(5), [1, 4])
    assert len(dataset1) == 1 and len(dataset2) == 4
    elements = list(range(5))
    for val in dataset1:
        elements.remove(val)
    for val in dataset2:
        elements.remove(val)
    assert len(elements) == 0


def test_random_split_fractions():
    """test_multiprocess_dataloader_dataset.py TestRandomSplitApi2.test_main."""
    paddle.seed(1)
    dataset1, dataset2, dataset3 = paddle.io.random_split(range(5), [0.3, 0.0, 0.7])
    assert (len(dataset1), len(dataset2), len(dataset3)) == (2, 0, 3)
    elements = list(range(5))
    for val in dataset1:
        elements.remove(val)
    for val in dataset3:
        elements.remove(val)
    assert len(elements) == 0


def test_random_split_errors():
    """test_multiprocess_dataloader_dataset.py TestRandomSplitError.test_errors."""
    paddle.seed(1)
    for lengths in ([3, 8], [8], [], [-0.2, 1.2]):
        with pytest.raises(ValueError):
            paddle.io.random_split(range(5), lengths)


def test_subset_dataset():
    """test_multiprocess_dataloader_dataset.py TestSubsetDataset.test_main (CPUPlace, num_workers=0)."""
    paddle.seed(1)
    input_np = np.random.random([5, 3, 4]).astype("float32")
    label_np = np.random.random([5, 1]).astype("int32")
    dataset = TensorDataset([paddle.to_tensor(input_np), paddle.to_tensor(label_np)])
    even_subset = paddle.io.Subset(dataset, [0, 2, 4])
    odd_subset = paddle.io.Subset(dataset, [1, 3])
    assert len(dataset) == 5

    def loader(ds):
        return DataLoader(ds, places=paddle.CPUPlace(), num_workers=0, batch_size=1, drop_last=True)

    def assert_basic(input, label):
        assert len(input) == 1 and len(label) == 1
        assert input.shape == [1, 3, 4] and label.shape == [1, 1]
        assert isinstance(input, base.core.eager.Tensor) and isinstance(label, base.core.eager.Tensor)

    elements = []
    for input, label in loader(dataset)():
        assert_basic(input, label)
        elements.append(label)
    for input, label in loader(even_subset)():
        assert_basic(input, label)
        elements.remove(label)
    odd = []
    for input, label in loader(odd_subset)():
        assert_basic(input, label)
        odd.append(label)
    assert odd == elements


def test_chain_dataset():
    """test_multiprocess_dataloader_dataset.py TestChainDataset.test_main."""
    paddle.seed(1)
    dataset1, dataset2 = RandomIterableDataset(10), RandomIterableDataset(10)
    samples = list(iter(ChainDataset([dataset1, dataset2])))
    assert len(samples) == 20
    idx = 0
    for image, label in [*iter(dataset1), *iter(dataset2)]:
        np.testing.assert_allclose(image, samples[idx][0])
        np.testing.assert_allclose(label, samples[idx][1])
        idx += 1


class NumpyMixTensorDataset(Dataset):
    def __init__(self, sample_num):
        self.sample_num = sample_num

    def __len__(self):
        return self.sample_num

    def __getitem__(self, idx):
        np.random.seed(idx)
        image = np.random.random([IMAGE_SIZE]).astype("float32")
        label = np.random.randint(0, 9, (1,)).astype("int64")
        return paddle.to_tensor(image, place=paddle.CPUPlace()), label


def test_numpy_mix_tensor_dataset():
    """test_multiprocess_dataloader_dataset.py TestNumpyMixTensorDataset.test_main."""
    paddle.seed(1)
    place = paddle.CPUPlace()
    with base.dygraph.guard(place):
        dataloader = DataLoader(NumpyMixTensorDataset(16), places=place, num_workers=0, batch_size=1, drop_last=True)
        for input, label in dataloader():
            assert len(input) == 1 and len(label) == 1
            assert input.shape == [1, IMAGE_SIZE] and label.shape == [1, 1]
            assert isinstance(input, base.core.eager.Tensor) and isinstance(label, base.core.eager.Tensor)


class ComplexDataset(Dataset):
    def __init__(self, sample_num):
        self.sample_num = sample_num

    def __len__(self):
        return self.sample_num

    def __getitem__(self, idx):
        return (
            3.1,
            "abc",
            paddle.to_tensor(np.random.random([IMAGE_SIZE]).astype("float32"), place=paddle.CPUPlace()),
            [1, np.random.random([2]).astype("float32")],
            {"a": 2.0, "b": np.random.random([2]).astype("float32")},
        )


@pytest.mark.parametrize("num_workers", [0, 2])
def test_complex_dataset(num_workers):
    """test_multiprocess_dataloader_dataset.py TestComplexDataset.test_main: numbers, str, Tensor, list, dict."""
    paddle.seed(1)
    place = paddle.CPUPlace()
    with base.dygraph.guard(place):
        dataloader = DataLoader(ComplexDataset(16), places=place, num_workers=num_workers, batch_size=2,
                                drop_last=True)
        for data in dataloader():
            assert len(data) == 5
            assert data[0].shape == [2]
            assert isinstance(data[1], list) and len(data[1]) == 2
            assert isinstance(data[1][0], str) and isinstance(data[1][1], str)
            assert data[2].shape == [2, IMAGE_SIZE]
            assert isinstance(data[3], list) and data[3][0].shape == [2] and data[3][1].shape == [2, 2]
            assert isinstance(data[4], dict) and data[4]["a"].shape == [2] and data[4]["b"].shape == [2, 2]


class SingleFieldDataset(Dataset):
    def __init__(self, sample_num):
        self.sample_num = sample_num

    def __len__(self):
        return self.sample_num

    def __getitem__(self, idx):
        return np.random.random((2, 3)).astype("float32")


class SingleFieldIterableDataset(IterableDataset):
    def __init__(self, sample_num):
        self.sample_num = sample_num

    def __iter__(self):
        for _ in range(self.sample_num):
            yield np.random.random((2, 3)).astype("float32")


@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.parametrize("make", [SingleFieldDataset, SingleFieldIterableDataset],
                         ids=["TestSingleFieldDataset", "TestSingleFieldIterableDataset"])
def test_single_field_dataset(make, num_workers):
    """test_multiprocess_dataloader_dataset.py TestSingleFieldDataset / TestSingleFieldIterableDataset."""
    paddle.seed(1)
    with base.dygraph.guard(paddle.CPUPlace()):
        dataloader = DataLoader(make(16), places=paddle.CPUPlace(), num_workers=num_workers, batch_size=2,
                                drop_last=True)
        for data in dataloader():
            assert isinstance(data, base.core.eager.Tensor)
            assert data.shape == [2, 2, 3]


@pytest.mark.parametrize("make", [RandomDataset, RandomIterableDataset],
                         ids=["test_map_dataset", "test_iterable_dataset"])
def test_dataset_with_drop_last(make):
    """test_multiprocess_dataloader_dataset.py TestDatasetWithDropLast (map and iterable datasets)."""
    dataset, num_samples, batch_size = make(10), 10, 3
    for num_workers in [0, 1]:
        for drop_last in [True, False]:
            steps = (num_samples + (1 - int(drop_last)) * (batch_size - 1)) // batch_size
            dataloader = DataLoader(dataset, batch_size=batch_size, drop_last=drop_last, num_workers=num_workers)
            datas = []
            for data in dataloader:
                datas.append(data)
            assert len(datas) == steps


def test_concat_dataset():
    """test_multiprocess_dataloader_dataset.py TestConcatDataset.test_main."""
    result = ConcatDataset([[0], [1]])
    assert len(result) == 2 and result[0] == 0 and result[1] == 1
    result = ConcatDataset([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
    assert len(result) == 10 and result[0] == 0 and result[5] == 5
    result = ConcatDataset([[0, 1, 2, 3, 4], [], [5, 6, 7, 8, 9]])
    assert len(result) == 10 and result[0] == 0 and result[5] == 5
    result = ConcatDataset([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
    with pytest.raises(IndexError):
        result[11]


# ---------------------------------------------------------------------------------- API docs
class DocRandomDataset(Dataset):
    def __init__(self, num_samples):
        self.num_samples = num_samples

    def __getitem__(self, idx):
        image = np.random.random([784]).astype("float32")
        label = np.random.randint(0, 9, (1,)).astype("int64")
        return image, label

    def __len__(self):
        return self.num_samples


def test_doc_dataset():
    """python/paddle/io/dataloader/dataset.py Dataset docstring."""
    dataset = DocRandomDataset(10)
    for i in range(len(dataset)):
        image, label = dataset[i]
        assert image.shape == (784,) and label.shape == (1,)


def test_doc_iterable_dataset():
    """python/paddle/io/dataloader/dataset.py IterableDataset docstring, example 1."""

    class RandomIterable(IterableDataset):
        def __init__(self, num_samples):
            self.num_samples = num_samples

        def __iter__(self):
            for _ in range(self.num_samples):
                yield np.random.random([784]).astype("float32"), np.random.randint(0, 9, (1,)).astype("int64")

    assert sum(1 for _img, _label in RandomIterable(10)) == 10


class SplitedIterableDataset(IterableDataset):
    def __init__(self, start, end):
        self.start = start
        self.end = end

    def __iter__(self):
        worker_info = get_worker_info()
        if worker_info is None:
            iter_start, iter_end = self.start, self.end
        else:
            per_worker = int(math.ceil((self.end - self.start) / float(worker_info.num_workers)))
            iter_start = self.start + worker_info.id * per_worker
            iter_end = min(iter_start + per_worker, self.end)
        for i in range(iter_start, iter_end):
            yield np.array([i])


@pytest.mark.parametrize("source", ["IterableDataset example 2", "get_worker_info example"])
def test_doc_split_iterable_dataset_by_worker(source):
    """python/paddle/io IterableDataset docstring example 2 and get_worker_info docstring (places=CPUPlace):
    each of two workers reads its half of range(2, 9); the batches arrive alternately."""
    kwargs = {"places": paddle.CPUPlace()} if source.startswith("get_worker_info") else {}
    dataloader = DataLoader(SplitedIterableDataset(start=2, end=9), num_workers=2, batch_size=1, drop_last=True,
                            **kwargs)
    seen = [int(data.numpy().item()) for data in dataloader]
    assert sorted(seen) == list(range(2, 9))
    assert seen[:6] == [2, 6, 3, 7, 4, 8]


def test_doc_iterable_dataset_worker_init_fn():
    """python/paddle/io/dataloader/dataset.py IterableDataset docstring, example 3: worker_init_fn splits the range."""

    class RangeIterableDataset(IterableDataset):
        def __init__(self, start, end):
            self.start = start
            self.end = end

        def __iter__(self):
            for i in range(self.start, self.end):
                yield np.array([i])

    def worker_init_fn(worker_id):
        worker_info = get_worker_info()
        dataset = worker_info.dataset
        start, end = dataset.start, dataset.end
        num_per_worker = int(math.ceil((end - start) / float(worker_info.num_workers)))
        dataset.start = start + worker_info.id * num_per_worker
        dataset.end = min(dataset.start + num_per_worker, end)

    dataloader = DataLoader(RangeIterableDataset(start=2, end=9), num_workers=2, batch_size=1, drop_last=True,
                            worker_init_fn=worker_init_fn)
    assert sorted(int(d.numpy().item()) for d in dataloader) == list(range(2, 9))


def test_doc_tensor_dataset():
    """python/paddle/io/dataloader/dataset.py TensorDataset docstring."""
    input_np = np.random.random([2, 3, 4]).astype("float32")
    label_np = np.random.random([2, 1]).astype("int32")
    dataset = TensorDataset([paddle.to_tensor(input_np), paddle.to_tensor(label_np)])
    for i in range(len(dataset)):
        input, label = dataset[i]
        np.testing.assert_array_equal(np.asarray(input), input_np[i])
        np.testing.assert_array_equal(np.asarray(label), label_np[i])


class Doc32Dataset(Dataset):
    def __init__(self, num_samples):
        self.num_samples = num_samples

    def __getitem__(self, idx):
        return np.random.random([32]).astype("float32"), np.random.randint(0, 9, (1,)).astype("int64")

    def __len__(self):
        return self.num_samples


def test_doc_compose_dataset():
    """python/paddle/io/dataloader/dataset.py ComposeDataset docstring."""
    dataset = ComposeDataset([Doc32Dataset(10), Doc32Dataset(10)])
    for i in range(len(dataset)):
        image1, label1, image2, label2 = dataset[i]
        assert image1.shape == image2.shape == (32,) and label1.shape == label2.shape == (1,)


def test_doc_chain_dataset():
    """python/paddle/io/dataloader/dataset.py ChainDataset docstring."""

    class RandomIterable(IterableDataset):
        def __init__(self, num_samples):
            self.num_samples = num_samples

        def __iter__(self):
            for _ in range(10):
                yield np.random.random([32]).astype("float32"), np.random.randint(0, 9, (1,)).astype("int64")

    assert sum(1 for _ in iter(ChainDataset([RandomIterable(10), RandomIterable(10)]))) == 20


def test_doc_concat_dataset():
    """python/paddle/io/dataloader/dataset.py ConcatDataset docstring."""
    dataset = ConcatDataset([Doc32Dataset(10), Doc32Dataset(10)])
    assert len(dataset) == 20
    for i in range(len(dataset)):
        image, label = dataset[i]
        assert image.shape == (32,)


def test_doc_subset():
    """python/paddle/io/dataloader/dataset.py Subset docstring (prints [1, 3] and [2, 2])."""

    class RangeDataset(paddle.io.Dataset):
        def __init__(self, start, stop):
            self.start = start
            self.stop = stop

        def __getitem__(self, index):
            return index + self.start

        def __len__(self):
            return self.stop - self.start

    assert list(paddle.io.Subset(dataset=RangeDataset(1, 4), indices=[0, 2])) == [1, 3]
    assert list(paddle.io.Subset(dataset=RangeDataset(1, 4), indices=[1, 1])) == [2, 2]


def test_doc_random_split():
    """python/paddle/io/dataloader/dataset.py random_split docstring (prints 2, then the two subsets)."""
    paddle.seed(2023)
    a_list = paddle.io.random_split(range(10), [3, 7])
    assert len(a_list) == 2
    assert sorted([*a_list[0], *a_list[1]]) == list(range(10)) and len(list(a_list[0])) == 3


def test_doc_dataloader():
    """python/paddle/io/reader.py DataLoader docstring (EPOCH_NUM 4 -> 2, BATCH_NUM 20 -> 4, to stay fast)."""
    batch_num, batch_size, epoch_num, image_size, class_num = 4, 16, 2, 784, 10

    class DocDataset(Dataset):
        def __init__(self, num_samples):
            self.num_samples = num_samples

        def __getitem__(self, idx):
            image = np.random.random([image_size]).astype("float32")
            label = np.random.randint(0, class_num - 1, (1,)).astype("int64")
            return image, label

        def __len__(self):
            return self.num_samples

    class SimpleNet(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.fc = paddle.nn.Linear(image_size, class_num)

        def forward(self, image, label=None):
            return self.fc(image)

    simple_net = SimpleNet()
    opt = paddle.optimizer.SGD(learning_rate=1e-3, parameters=simple_net.parameters())
    loader = DataLoader(DocDataset(batch_num * batch_size), batch_size=batch_size, shuffle=True, drop_last=True,
                        num_workers=2)
    losses = []
    for _ in range(epoch_num):
        for image, label in loader():
            out = simple_net(image)
            loss = paddle.nn.functional.cross_entropy(out, label)
            avg_loss = paddle.mean(loss)
            avg_loss.backward()
            opt.minimize(avg_loss)
            simple_net.clear_gradients()
            losses.append(float(np.mean(loss.numpy())))
    assert len(losses) == epoch_num * batch_num and all(np.isfinite(losses))


def test_doc_batch_sampler():
    """python/paddle/io/dataloader/batch_sampler.py BatchSampler docstring."""
    np.random.seed(2023)
    bs = BatchSampler(dataset=DocRandomDataset(100), shuffle=False, batch_size=16, drop_last=False)
    batches = list(bs)
    assert batches[0] == list(range(16)) and batches[-1] == list(range(96, 100)) and len(batches) == 7
    bs = BatchSampler(sampler=RandomSampler(DocRandomDataset(100)), batch_size=8, drop_last=True)
    batches = list(bs)
    assert len(batches) == 12 and all(len(b) == 8 for b in batches) and len({i for b in batches for i in b}) == 96


def test_doc_sampler_subclass():
    """python/paddle/io/dataloader/sampler.py Sampler docstring: a user sampler."""

    class MySampler(Sampler):
        def __init__(self, data_source):
            self.data_source = data_source

        def __iter__(self):
            return iter(range(len(self.data_source)))

        def __len__(self):
            return len(self.data_source)

    assert list(MySampler(data_source=DocRandomDataset(100))) == list(range(100))


def test_doc_sequence_sampler():
    """python/paddle/io/dataloader/sampler.py SequenceSampler docstring."""
    assert list(SequenceSampler(data_source=DocRandomDataset(100))) == list(range(100))


def test_doc_random_sampler():
    """python/paddle/io/dataloader/sampler.py RandomSampler docstring."""
    np.random.seed(2023)
    assert sorted(RandomSampler(data_source=DocRandomDataset(100))) == list(range(100))


def test_doc_weighted_random_sampler():
    """python/paddle/io/dataloader/sampler.py WeightedRandomSampler docstring."""
    np.random.seed(2023)
    sampler = WeightedRandomSampler(weights=[0.1, 0.3, 0.5, 0.7, 0.2], num_samples=5, replacement=True)
    indices = []
    for index in sampler:
        indices.append(index)
    assert len(indices) == 5 and all(0 <= i < 5 for i in indices)


def test_doc_subset_random_sampler():
    """python/paddle/io/dataloader/sampler.py SubsetRandomSampler docstring."""
    paddle.seed(2023)
    assert sorted(SubsetRandomSampler(indices=[1, 3, 5, 7, 9])) == [1, 3, 5, 7, 9]


def test_concat_dataset_refuses_iterable_datasets():
    """test_multiprocess_dataloader_dataset.py TestConcatDataset.test_iterable_dataset_err."""
    d1 = TensorDataset([paddle.rand((7, 3, 28, 28)), paddle.rand((7,))])
    it1, it2 = RandomIterableDataset(10), RandomIterableDataset(10)
    for datasets in ([d1, it2, it1], [it2], [it1, d1]):
        with pytest.raises(AssertionError, match="does not support IterableDataset"):
            ConcatDataset(datasets)
