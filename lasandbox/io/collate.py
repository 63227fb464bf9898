"""Turning samples into batches: ``default_collate_fn`` and ``default_convert_fn`` (Paddle's rules).

Collation runs where the samples are loaded (possibly a worker process) and
gives numpy arrays; the DataLoader wraps those into Tensors in the main
process (``to_tensors``). Strings and bytes are not stacked: a field of strings
becomes a list of strings, as in Paddle.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from lasandbox.autograd.tensor import Tensor


def default_collate_fn(samples):
    """Stack a list of samples field by field (arrays, Tensors, numbers, str, dicts, sequences)."""
    first = samples[0]
    if isinstance(first, Tensor):
        return np.stack([s._value for s in samples])
    if isinstance(first, np.ndarray):
        return np.stack(samples)
    if isinstance(first, (numbers.Number, np.generic)):
        return np.asarray(samples)
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, Mapping):
        return {key: default_collate_fn([s[key] for s in samples]) for key in first}
    if isinstance(first, Sequence):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError(f"samples of a batch must have the same number of fields, got "
                               f"{sorted({len(s) for s in samples})}")
        return [default_collate_fn(list(field)) for field in zip(*samples, strict=True)]
    raise TypeError(f"default_collate_fn cannot batch samples of type {type(first).__name__} "
                    "(it takes Tensors, arrays, numbers, str, dicts and lists of them)")


def default_convert_fn(sample):
    """One sample without batching (``batch_size=None``): Tensors to arrays, containers walked."""
    if isinstance(sample, Tensor):
        return sample._value
    if isinstance(sample, (np.ndarray, str, bytes)):
        return sample
    if isinstance(sample, Mapping):
        return {key: default_convert_fn(value) for key, value in sample.items()}
    if isinstance(sample, Sequence):
        return [default_convert_fn(value) for value in sample]
    return sample


def to_tensors(batch):
    """Arrays become Tensors (dtype kept); lists and dicts are walked; strings and numbers stay."""
    if isinstance(batch, np.ndarray):
        return Tensor(batch)
    if isinstance(batch, dict):
        return {k: to_tensors(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [to_tensors(b) for b in batch]
    return batch
