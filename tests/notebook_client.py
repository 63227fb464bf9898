"""A Jupyter kernel client for the notebook lane that cannot stall on a stuck ZeroMQ message.

nbclient sends each cell and waits for its reply with one ``socket.poll(timeout)``
on asyncio ZeroMQ sockets, which learn of readiness through edge-triggered file
descriptors. Now and then a notebook waited out the whole per-cell timeout and then
passed: 07 took 187 s (180 s timeout + its 7 s of cells; 900 s + 7 s when that was
the timeout) in 2 of 7 CI runs and in 4 of 9 local lane runs on 2026-12-01
(ipykernel 7.4 and 6.31 alike, pyzmq 27.3, jupyter_client 8.10). During the wait
the kernel was idle with only its start-up CPU time: it had not received the cell,
so the request sat in the client's socket until the poll's timeout made pyzmq look
at the socket again. Waiting in polls of at most ``SLICE_S`` makes it look every
second; the overall timeout is unchanged. With it: 10 lane runs (4 of them beside
the default test suite), no stall.
"""

from __future__ import annotations

import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type, default

SLICE_S = 1.0


class SlicedChannel(AsyncZMQSocketChannel):
    """``get_msg(timeout)`` as polls of at most ``SLICE_S`` seconds until a message or the timeout."""

    async def get_msg(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = SLICE_S if deadline is None else max(0.0, min(SLICE_S, deadline - time.monotonic()))
            try:
                return await super().get_msg(timeout=left)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class SlicedKernelClient(AsyncKernelClient):
    shell_channel_class = Type(SlicedChannel)
    iopub_channel_class = Type(SlicedChannel)
    control_channel_class = Type(SlicedChannel)


class SlicedKernelManager(AsyncKernelManager):
    @default("client_factory")
    def _sliced_client(self):
        return SlicedKernelClient
