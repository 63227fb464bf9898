"""Turning the flat rows of ``lasandbox.datasets`` into the images or sequences a conv net takes."""

from __future__ import annotations

import numpy as np

from lasandbox.autograd import ops_shape


def as_images(x, shape):
    """``x`` ``[N, prod(shape)]`` reshaped to ``[N, *shape]``; ``x`` as it is when ``shape`` is None."""
    if shape is None:
        return x
    if x.ndim == len(shape) + 1 and tuple(x.shape[1:]) == tuple(shape):
        return x
    if x.ndim != 2 or x.shape[1] != int(np.prod(shape)):
        raise ValueError(f"expected inputs of shape [N, {int(np.prod(shape))}] or [N, {', '.join(map(str, shape))}], "
                         f"got {x.shape}")
    return ops_shape.reshape(x, [x.shape[0], *shape])
