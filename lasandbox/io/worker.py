"""What runs inside a DataLoader worker process, and ``get_worker_info()``.

Workers are forked processes (so a dataset defined in a script's ``__main__``
works without pickling). Each gets its own seed (numpy's global generator and
lasandbox's), then runs the user's ``worker_init_fn``. Map-style datasets are
served by a process pool that loads whole batches by index; each worker of an
iterable dataset iterates its own copy and streams batches through a queue.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from dataclasses import dataclass
from itertools import islice

import numpy as np

from lasandbox.autograd import creation


@dataclass(frozen=True)
class WorkerInfo:
    """Inside a worker: its ``id`` (0 .. num_workers-1), ``num_workers``, its copy of the ``dataset``, its ``seed``."""

    id: int
    num_workers: int
    dataset: object
    seed: int


_info: WorkerInfo | None = None
_END = object()
_pool_state = {}  # the map-style pool worker's dataset and collate_fn (set once per process)


def get_worker_info():
    """The ``WorkerInfo`` of the worker process this runs in, or None in the main process."""
    return _info


def mp_context():
    methods = mp.get_all_start_methods()
    # fork lets workers see datasets defined in a script's __main__ without pickling.
    return mp.get_context("fork" if "fork" in methods else methods[0])


def _start_worker(worker_id, num_workers, dataset, base_seed, worker_init_fn):
    global _info
    seed = (base_seed + worker_id) % 2**32
    np.random.seed(seed)  # noqa: NPY002 - user datasets (Paddle's examples) draw from the legacy global RNG
    creation.seed(seed)
    _info = WorkerInfo(worker_id, num_workers, dataset, seed)
    if worker_init_fn is not None:
        worker_init_fn(worker_id)


def pool_init(dataset, collate_fn, num_workers, base_seed, worker_init_fn):
    """Initializer of a map-style pool worker."""
    ident = mp.current_process()._identity
    worker_id = (ident[0] - 1) % num_workers if ident else 0
    _pool_state.update(dataset=dataset, collate_fn=collate_fn)
    _start_worker(worker_id, num_workers, dataset, base_seed, worker_init_fn)


def load_task(dataset, collate_fn, task):
    """Load and collate one batch of a map-style dataset (``task`` is a list of indices, or one index unbatched)."""
    if isinstance(task, list):
        return collate_fn([dataset[i] for i in task])
    return collate_fn(dataset[task])


def pool_load(task):
    """``load_task`` in a pool worker, on the dataset it was initialised with."""
    return load_task(_pool_state["dataset"], _pool_state["collate_fn"], task)


def stream_worker(queue, worker_id, num_workers, dataset, base_seed, worker_init_fn, collate_fn, batch_size,
                  drop_last):
    """Body of an iterable-dataset worker: put ('batch', data) messages, then ('done', None) or ('error', text)."""
    try:
        _start_worker(worker_id, num_workers, dataset, base_seed, worker_init_fn)
        samples = iter(dataset)
        while True:
            if batch_size is None:
                sample = next(samples, _END)
                if sample is _END:
                    break
                queue.put(("batch", collate_fn(sample)))
                continue
            batch = list(islice(samples, batch_size))
            if not batch or (drop_last and len(batch) < batch_size):
                break
            queue.put(("batch", collate_fn(batch)))
            if len(batch) < batch_size:
                break
        queue.put(("done", None))
    except Exception:  # the main process re-raises it with this traceback
        queue.put(("error", traceback.format_exc()))

