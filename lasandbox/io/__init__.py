"""Data loading with Paddle's names (``lasandbox.io`` ~ ``paddle.io``)."""

from lasandbox.io.collate import default_collate_fn, default_convert_fn
from lasandbox.io.dataloader import DataLoader
from lasandbox.io.dataset import (
    ChainDataset,
    ComposeDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from lasandbox.io.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequenceSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from lasandbox.io.worker import WorkerInfo, get_worker_info

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ComposeDataset", "ChainDataset", "ConcatDataset",
    "random_split", "DataLoader", "default_collate_fn", "default_convert_fn", "Sampler", "SequenceSampler",
    "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "get_worker_info", "WorkerInfo",
]
