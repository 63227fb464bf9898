"""Forward hooks of a Layer (Paddle's ``register_forward_pre_hook`` / ``register_forward_post_hook``).

A pre-hook ``hook(layer, inputs)`` may return new inputs (a tuple, or one value);
with ``with_kwargs=True`` it is ``hook(layer, args, kwargs)`` and returns
``(args, kwargs)`` or None. A post-hook ``hook(layer, inputs, output)`` (with
kwargs: ``hook(layer, inputs, kwargs, output)``) may return a new output.
A post-hook registered with ``always_call=True`` also runs when the forward
(or an earlier hook) raises; an error inside it is then reported as a warning
so that the original error comes through.
"""

from __future__ import annotations

import itertools
import warnings

_hook_ids = itertools.count()


class HookRemoveHelper:
    """What ``register_*_hook`` returns: ``remove()`` unregisters the hook."""

    def __init__(self, hooks, extra_hook_dicts=()):
        self._hooks = hooks
        self._extra = list(extra_hook_dicts)
        self._hook_id = next(_hook_ids)

    def remove(self):
        for table in (self._hooks, *self._extra):
            table.pop(self._hook_id, None)


def register(layer, kind, hook, *, prepend=False, with_kwargs=False, always_call=False):
    """Add ``hook`` to ``layer``'s ``kind`` ('pre' or 'post') hooks; returns its HookRemoveHelper."""
    if not callable(hook):
        raise TypeError(f"a forward hook must be callable, got {type(hook).__name__}")
    hooks = layer._forward_pre_hooks if kind == "pre" else layer._forward_post_hooks
    kwargs_flags = (layer._forward_pre_hooks_with_kwargs_flag if kind == "pre"
                    else layer._forward_post_hooks_with_kwargs_flag)
    extra = [kwargs_flags] + ([layer._forward_post_hooks_always_called] if kind == "post" else [])
    helper = HookRemoveHelper(hooks, extra)
    hooks[helper._hook_id] = hook
    if with_kwargs:
        kwargs_flags[helper._hook_id] = True
    if always_call:
        layer._forward_post_hooks_always_called[helper._hook_id] = True
    if prepend:
        hooks.move_to_end(helper._hook_id, last=False)
    return helper


def _run_pre_hooks(layer, inputs, kwargs):
    for hook_id, hook in list(layer._forward_pre_hooks.items()):
        if hook_id in layer._forward_pre_hooks_with_kwargs_flag:
            result = hook(layer, inputs, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"a forward pre-hook with kwargs must return None or (args, kwargs), "
                                       f"got {result!r}")
                inputs, kwargs = result
        else:
            result = hook(layer, inputs)
            if result is not None:
                inputs = result if isinstance(result, tuple) else (result,)
    return inputs, kwargs


def _post(layer, hook_id, hook, inputs, kwargs, output):
    if hook_id in layer._forward_post_hooks_with_kwargs_flag:
        result = hook(layer, inputs, kwargs, output)
    else:
        result = hook(layer, inputs, output)
    return output if result is None else result


def call_with_hooks(layer, inputs, kwargs):
    """``layer.forward(*inputs, **kwargs)`` wrapped in its pre- and post-hooks."""
    output = None
    ran = set()
    try:
        inputs, kwargs = _run_pre_hooks(layer, inputs, kwargs)
        output = layer.forward(*inputs, **kwargs)
        for hook_id, hook in list(layer._forward_post_hooks.items()):
            ran.add(hook_id)
            output = _post(layer, hook_id, hook, inputs, kwargs, output)
        return output
    except Exception:
        for hook_id, hook in list(layer._forward_post_hooks.items()):
            if hook_id in layer._forward_post_hooks_always_called and hook_id not in ran:
                try:
                    output = _post(layer, hook_id, hook, inputs, kwargs, output)
                except Exception as err:  # noqa: BLE001 - the first error is the one to report
                    warnings.warn(f"a forward hook with always_call=True raised {err!r} while another error "
                                  "was being raised", stacklevel=3)
        raise
