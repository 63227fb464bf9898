"""The flat parameter space of an optimizer.

All parameters live in one contiguous float32 buffer and every Tensor's data
is a reshaped view into it; gradients and optimizer state likewise. So one
kernel call updates every parameter, and the LookAhead slow weights are just
one more buffer with the same layout.

On the ``cuda`` backend the optimizer state (and the slow weights) stay on
the device; parameters and gradients are mirrored there for each step,
because the autograd that produces the gradients runs on the host.
"""

from __future__ import annotations

import numpy as np


def aligned_zeros(size):
    # Imported on use: the kernels pull in numba, and `import lasandbox` stays light.
    from lasandbox.kernels.api import aligned_zeros as allocate

    return allocate(size)


class FlatSpace:
    """Layout of a list of parameters in one buffer, with views installed into each Tensor."""

    def __init__(self, params, owner):
        self.params = list(params)
        self.owner = owner
        sizes = [p._value.size for p in self.params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.size = int(self.offsets[-1])
        # 64-byte aligned: the kernels stream these buffers, and numpy's default
        # 16-byte alignment measurably slows the vectorised loops.
        self.param_buffer = aligned_zeros(self.size)
        self.grad_buffer = aligned_zeros(self.size)
        for i in range(len(self.params)):
            self.adopt(i)

    def range_of(self, i):
        return int(self.offsets[i]), int(self.offsets[i + 1])

    def adopt(self, i):
        """Copy parameter ``i``'s current value and gradient into the buffers and point it at them."""
        p = self.params[i]
        start, stop = self.range_of(i)
        shape = p._value.shape
        self.param_buffer[start:stop] = np.asarray(p._value, dtype=np.float32).ravel()
        p._value = self.param_buffer[start:stop].reshape(shape)
        grad_view = self.grad_buffer[start:stop].reshape(shape)
        if p._grad is not None:
            grad_view[...] = p._grad
            p._grad = grad_view
        else:
            grad_view.fill(0)
        p._grad_storage = grad_view
        p._flat_owner = self.owner

    def reclaim_stolen(self):
        """Re-adopt parameters that another optimizer took over since our last step."""
        for i, p in enumerate(self.params):
            if getattr(p, "_flat_owner", None) is not self.owner:
                self.adopt(i)

    def zeros(self, copies=1):
        """A zeroed aligned buffer of ``copies`` times the parameters' size."""
        return aligned_zeros(self.size * copies)


class DeviceMirror:
    """Device copies of the buffers for the cuda backend (state stays on the device)."""

    def __init__(self, space, kernels_module):
        self.kernels = kernels_module
        self.space = space
        self.params = kernels_module.to_device(space.param_buffer)
        self.grads = kernels_module.to_device(space.grad_buffer)
        self.states = {}

    def state(self, name, host_array):
        if name not in self.states:
            self.states[name] = self.kernels.to_device(host_array)
        return self.states[name]

    def upload_step_inputs(self):
        self.params.copy_to_device(self.space.param_buffer)
        self.grads.copy_to_device(self.space.grad_buffer)

    def download_params(self):
        self.params.copy_to_host(self.space.param_buffer)

    def download_state(self, name, host_array):
        if name in self.states:
            self.states[name].copy_to_host(host_array)

    def upload_state(self, name, host_array):
        if name in self.states:
            self.states[name].copy_to_device(host_array)
