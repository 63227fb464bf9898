"""``DataLoader``: batching, shuffling and parallel loading in worker processes (Paddle's interface).

Map-style datasets are read through a ``BatchSampler`` (built from
``batch_size``/``shuffle``/``drop_last``, or given); iterable datasets are read
in order and cut into batches. With ``num_workers > 0`` batches load in worker
processes (``worker.py``) and come back in order for map-style datasets,
round-robin over the workers for iterable ones (as in Paddle).

Accepted for compatibility and without effect here (CPU-only, numpy memory):
``places``, ``use_buffer_reader``, ``reader_buffer_size``, ``use_shared_memory``,
and ``persistent_workers`` (workers restart each epoch; the batches are the same).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from lasandbox.autograd import creation
from lasandbox.io import worker
from lasandbox.io.collate import default_collate_fn, default_convert_fn, to_tensors
from lasandbox.io.dataset import IterableDataset
from lasandbox.io.sampler import BatchSampler, Sampler
from lasandbox.utils.validation import AssertedValueError, check_int, check_real


class NoLengthError(ValueError, TypeError):
    """``len()`` of a DataLoader over an IterableDataset: a ValueError as in Paddle, and a TypeError so
    that ``list(loader)`` (which asks for a length hint) still works."""


class _EpochPermutation(Sampler):
    """A fresh permutation from lasandbox's generator each epoch (so ``paddle.seed`` fixes the shuffle)."""

    def __iter__(self):
        return iter(creation.get_generator().permutation(len(self.data_source)).tolist())

    def __len__(self):
        return len(self.data_source)


class DataLoader:
    """Iterate over a dataset in batches; also callable as ``loader()`` (Paddle style)."""

    def __init__(self, dataset, feed_list=None, places=None, return_list=True, batch_sampler=None,
                 batch_size=1, shuffle=False, drop_last=False, collate_fn=None, num_workers=0,
                 use_buffer_reader=True, reader_buffer_size=2, prefetch_factor=2, use_shared_memory=True,
                 timeout=0, worker_init_fn=None, persistent_workers=False):
        if feed_list is not None or not return_list:
            raise NotImplementedError("feed_list / return_list=False are for Paddle's static graph, which "
                                      "lasandbox does not have: batches are always returned as lists")
        self.iterable = isinstance(dataset, IterableDataset)
        if not self.iterable and not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"dataset must define __getitem__ and __len__ (or be an IterableDataset), "
                            f"got {type(dataset).__name__}")
        self.dataset = dataset
        self.num_workers = check_int("num_workers", num_workers, low=0)
        self.prefetch_factor = check_int("prefetch_factor", prefetch_factor, low=1)
        self.timeout = check_real("timeout", timeout, low=0.0) or None
        self.return_list = True
        self.places = places
        self.worker_init_fn = worker_init_fn
        self.drop_last = bool(drop_last)
        self.batch_size = None if batch_size is None else check_int("batch_size", batch_size, low=1)
        self.batch_sampler = self._batch_sampler(batch_sampler, shuffle)
        self.auto_collate_batch = self.batch_sampler is not None or (self.iterable and self.batch_size is not None)
        self.collate_fn = collate_fn or (default_collate_fn if self.auto_collate_batch else default_convert_fn)

    def _batch_sampler(self, batch_sampler, shuffle):
        if self.iterable:
            if shuffle:
                raise ValueError("an IterableDataset cannot be shuffled by the DataLoader (shuffle=True given)")
            if batch_sampler is not None:
                raise ValueError("an IterableDataset takes no batch_sampler (it is read in order)")
            return None
        if batch_sampler is not None:
            if self.batch_size != 1 or shuffle or self.drop_last:
                raise AssertedValueError("batch_size/shuffle/drop_last must be left at their defaults "
                                         "when a batch_sampler is given")
            self.batch_size = None
            return batch_sampler
        if self.batch_size is None:
            return None
        if shuffle:
            sampler = BatchSampler(sampler=_EpochPermutation(self.dataset), batch_size=self.batch_size,
                                   drop_last=self.drop_last)
            sampler.shuffle = True
            return sampler
        return BatchSampler(dataset=self.dataset, batch_size=self.batch_size, drop_last=self.drop_last)

    def __len__(self):
        if self.iterable:
            raise NoLengthError("an IterableDataset has no length, so neither has its DataLoader")
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.dataset)

    def __call__(self):
        return iter(self)

    def _index_batches(self):
        return iter(self.batch_sampler) if self.batch_sampler is not None else iter(range(len(self.dataset)))

    def __iter__(self):
        if self.num_workers > 0:
            parallel = self._stream_parallel if self.iterable else self._map_parallel
            yield from parallel()
            return
        if self.iterable:
            yield from self._stream_serial()
            return
        for indices in self._index_batches():
            yield to_tensors(worker.load_task(self.dataset, self.collate_fn, _as_task(indices)))

    def _stream_serial(self):
        samples = iter(self.dataset)
        if self.batch_size is None:
            for sample in samples:
                yield to_tensors(self.collate_fn(sample))
            return
        while True:
            batch = [s for _, s in zip(range(self.batch_size), samples, strict=False)]
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield to_tensors(self.collate_fn(batch))
            if len(batch) < self.batch_size:
                return

    def _base_seed(self):
        return int(creation.get_generator().integers(0, 2**31))

    def _map_parallel(self):
        pool = worker.mp_context().Pool(
            self.num_workers, initializer=worker.pool_init,
            initargs=(self.dataset, self.collate_fn, self.num_workers, self._base_seed(), self.worker_init_fn),
        )
        try:
            pending = deque()
            todo = self._index_batches()
            window = self.prefetch_factor * self.num_workers
            for indices in todo:
                pending.append(pool.apply_async(worker.pool_load, (_as_task(indices),)))
                if len(pending) >= window:
                    break
            while pending:
                result = pending.popleft().get(self.timeout)
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.apply_async(worker.pool_load, (_as_task(nxt),)))
                yield to_tensors(result)
        finally:
            pool.terminate()
            pool.join()

    def _stream_parallel(self):
        context = worker.mp_context()
        base_seed = self._base_seed()
        queues, processes = [], []
        for worker_id in range(self.num_workers):
            queue = context.Queue(maxsize=self.prefetch_factor)
            process = context.Process(target=worker.stream_worker, daemon=True, args=(
                queue, worker_id, self.num_workers, self.dataset, base_seed, self.worker_init_fn,
                self.collate_fn, self.batch_size, self.drop_last))
            process.start()
            queues.append(queue)
            processes.append(process)
        try:
            active = list(range(self.num_workers))
            while active:
                for worker_id in list(active):
                    kind, payload = queues[worker_id].get(timeout=self.timeout)
                    if kind == "batch":
                        yield to_tensors(payload)
                    elif kind == "done":
                        active.remove(worker_id)
                    else:
                        raise RuntimeError(f"DataLoader worker {worker_id} failed:\n{payload}")
        finally:
            for process in processes:
                process.terminate()
                process.join()


def _as_task(indices):
    """Batches travel as lists of ints; an unbatched index as an int."""
    if isinstance(indices, (int, np.integer)):
        return int(indices)
    return [int(i) for i in indices]


__all__ = ["DataLoader"]
