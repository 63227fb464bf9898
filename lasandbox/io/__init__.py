"""Data loading with Paddle's names (``lasandbox.io`` ~ ``paddle.io``)."""

from lasandbox.io.dataloader import DataLoader, default_collate_fn
from lasandbox.io.dataset import Dataset, Subset, TensorDataset

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "default_collate_fn"]
