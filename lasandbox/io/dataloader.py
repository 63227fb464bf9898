"""``DataLoader``: batching, shuffling and parallel loading in worker processes.

Workers are forked processes (so a dataset defined in a script's ``__main__``
works without pickling); each loads whole batches and sends back numpy
arrays, which the main process wraps into Tensors in order. Each worker gets
its own numpy seed, so random augmentations differ between workers.
"""

from __future__ import annotations

import multiprocessing as mp
import numbers
from collections import deque

import numpy as np

from lasandbox.autograd import creation
from lasandbox.autograd.tensor import Tensor
from lasandbox.io.dataset import Dataset
from lasandbox.utils.validation import check_int


def default_collate_fn(samples):
    """Stack a list of samples field by field into numpy arrays."""
    first = samples[0]
    if isinstance(first, Tensor):
        return np.stack([s._value for s in samples])
    if isinstance(first, np.ndarray):
        return np.stack(samples)
    if isinstance(first, numbers.Number) or isinstance(first, np.generic):
        return np.asarray(samples)
    if isinstance(first, dict):
        return {key: default_collate_fn([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        return [default_collate_fn(list(field)) for field in zip(*samples, strict=True)]
    raise TypeError(f"default_collate_fn cannot batch samples of type {type(first).__name__}")


def _to_tensors(batch):
    if isinstance(batch, np.ndarray):
        return Tensor(batch)
    if isinstance(batch, dict):
        return {k: _to_tensors(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [_to_tensors(b) for b in batch]
    return batch


# State of a worker process, set once by the pool initializer (inherited by fork).
_worker = {}


def _worker_init(dataset, collate_fn, base_seed, worker_init_fn):
    ident = mp.current_process()._identity
    worker_id = (ident[0] - 1) if ident else 0
    seed = (base_seed + worker_id) % 2**32
    np.random.seed(seed)  # noqa: NPY002 - user datasets (Paddle's examples) draw from the legacy global RNG
    creation.seed(seed)
    _worker.update(dataset=dataset, collate_fn=collate_fn)
    if worker_init_fn is not None:
        worker_init_fn(worker_id)


def _worker_load(indices):
    dataset, collate = _worker["dataset"], _worker["collate_fn"]
    return collate([dataset[i] for i in indices])


class DataLoader:
    """Iterate over a dataset in batches; also callable as ``loader()`` (Paddle style).

    ``num_workers > 0`` loads batches in that many worker processes, keeping at
    most ``prefetch_factor * num_workers`` batches in flight, and yields them in order.
    """

    def __init__(self, dataset, feed_list=None, places=None, return_list=True, batch_sampler=None,
                 batch_size=1, shuffle=False, drop_last=False, collate_fn=None, num_workers=0,
                 use_buffer_reader=True, prefetch_factor=2, use_shared_memory=True, timeout=0,
                 worker_init_fn=None, persistent_workers=False):
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"dataset must define __getitem__ and __len__, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else check_int("batch_size", batch_size, low=1)
        self.num_workers = check_int("num_workers", num_workers, low=0)
        self.prefetch_factor = check_int("prefetch_factor", prefetch_factor, low=1)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn or default_collate_fn
        self.worker_init_fn = worker_init_fn
        self.timeout = timeout or None
        self.return_list = return_list

    def _batches(self):
        if self.batch_sampler is not None:
            return [list(b) for b in self.batch_sampler]
        n = len(self.dataset)
        order = creation.get_generator().permutation(n) if self.shuffle else np.arange(n)
        size = self.batch_size or 1
        stop = n - n % size if self.drop_last else n
        return [order[i : i + size].tolist() for i in range(0, stop, size)]

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n, size = len(self.dataset), self.batch_size or 1
        return n // size if self.drop_last else -(-n // size)

    def __call__(self):
        return iter(self)

    def __iter__(self):
        batches = self._batches()
        if self.num_workers == 0:
            for indices in batches:
                yield _to_tensors(self.collate_fn([self.dataset[i] for i in indices]))
            return
        yield from self._parallel(batches)

    def _parallel(self, batches):
        methods = mp.get_all_start_methods()
        # fork lets workers see datasets defined in a script's __main__ without pickling.
        context = mp.get_context("fork" if "fork" in methods else methods[0])
        base_seed = int(creation.get_generator().integers(0, 2**31))
        pool = context.Pool(
            self.num_workers, initializer=_worker_init,
            initargs=(self.dataset, self.collate_fn, base_seed, self.worker_init_fn),
        )
        try:
            pending = deque()
            todo = iter(batches)
            window = self.prefetch_factor * self.num_workers
            for indices in todo:
                pending.append(pool.apply_async(_worker_load, (indices,)))
                if len(pending) >= window:
                    break
            while pending:
                result = pending.popleft().get(self.timeout)
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.apply_async(_worker_load, (nxt,)))
                yield _to_tensors(result)
        finally:
            pool.terminate()
            pool.join()


__all__ = ["DataLoader", "Dataset", "default_collate_fn"]
