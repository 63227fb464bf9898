"""Gradient mode and the backward pass.

The graph is implicit: every Tensor produced by a differentiable op keeps its
parent Tensors and a closure that maps the output gradient to one gradient
per parent. ``backward`` walks the graph in reverse topological order with an
explicit stack (no recursion limit on deep graphs) and sums the contributions
of a node used several times before passing them on.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

_state = threading.local()


def is_grad_enabled() -> bool:
    """True unless inside a ``no_grad()`` block."""
    return getattr(_state, "grad_enabled", True)


class _GradMode(contextlib.ContextDecorator):
    """Set graph recording on or off inside the block; re-entrant, because one decorated function
    (``LookAhead.apply`` over a nested LookAhead) may run inside itself: each entry keeps its own
    previous state on a stack."""

    enabled = False

    def __init__(self):
        self._previous = []

    def __enter__(self):
        self._previous.append(is_grad_enabled())
        _state.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _state.grad_enabled = self._previous.pop()
        return False


class no_grad(_GradMode):
    """Context manager / decorator that records no graph (like ``paddle.no_grad``)."""

    enabled = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block."""

    enabled = True


def _topological_order(root):
    """Nodes reachable from ``root`` that need gradients, parents after children."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if not parent.stop_gradient and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()  # root first
    return order


def run_backward(root, grad_output=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every reachable leaf.

    On a Tensor with ``stop_gradient=True`` nothing needs a gradient, and (as in Paddle,
    whose tests call ``loss.backward()`` on constant losses) this does nothing.
    """
    if root.stop_gradient:
        return
    if root._graph_freed:
        raise RuntimeError(
            "the graph behind this Tensor was freed by an earlier backward(); "
            "call backward(retain_graph=True) the first time to go through it twice"
        )
    if grad_output is None:
        seed = np.ones(root._value.shape, dtype=root._value.dtype)
    else:
        seed = np.asarray(getattr(grad_output, "_value", grad_output), dtype=root._value.dtype)
        if seed.shape != root._value.shape:
            raise ValueError(
                f"grad_tensor must have the shape of the Tensor, {list(root._value.shape)}, "
                f"got {list(seed.shape)}"
            )
    grads = {id(root): seed}
    for node in _topological_order(root):
        grad = grads.pop(id(node), None)
        if grad is None:
            continue
        if node._backward_fn is None:  # a leaf
            node._accumulate_grad(grad)
            continue
        parent_grads = node._backward_fn(grad)
        for parent, parent_grad in zip(node._parents, parent_grads, strict=True):
            if parent_grad is None or parent.stop_gradient:
                continue
            key = id(parent)
            if key in grads:
                grads[key] = grads[key] + parent_grad
            else:
                grads[key] = parent_grad
        if not retain_graph:
            node._free_graph()
