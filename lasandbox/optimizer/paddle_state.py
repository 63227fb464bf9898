"""An optimizer's state in Paddle's ``state_dict`` layout, both ways.

Paddle keeps one tensor per accumulator per parameter, named
``<param name>_[<optimizer name>_]<accumulator>_<n>`` (``linear_0.w_0_moment1_0``),
in the order it creates them (all ``moment1`` first, then all ``moment2`` ...),
plus ``LR_Scheduler`` when the learning rate is a scheduler. A parameter gets
accumulators at its first step, so a fresh optimizer's state_dict is empty.
Some accumulators are functions of the step count (Adam's ``beta1_pow_acc``);
the rule declares them (``declare.Counter``), lasandbox writes them from its
per-parameter counts and reads the counts back from them. When such a
hyperparameter is a Tensor, Paddle's accumulator is a running product of each
step's value instead (``Counter.tensor_start``): written and read as it is.

Files in lasandbox's earlier flat layout (``moment1``: one flat array,
``step_counts``) are still read.
"""

from __future__ import annotations

import re

import numpy as np

from lasandbox.autograd.tensor import Tensor

LR_SCHEDULER = "LR_Scheduler"
MAX_COUNT = 2**40


def _declare():
    from lasandbox.kernels import declare

    return declare


def _prefix(optimizer):
    return f"{optimizer._name}_" if optimizer._name else ""


def _name(param, index):
    """A parameter's name in the file; an unnamed one (``Parameter(array)``) is named by its position."""
    return param.name or f"param_{index}"


def _group_of(optimizer):
    groups = {}
    for group in optimizer._groups:
        for i in group.indices:
            groups[i] = group
    return groups


def _value_of(accumulator, optimizer, i, group, count):
    declare = _declare()
    space = optimizer._space
    param = space.params[i]
    start, stop = space.range_of(i)
    if isinstance(accumulator, declare.State):
        buffer = optimizer.state_buffer(accumulator.paddle)
        if accumulator.copies:
            return buffer[:, start:stop].reshape((buffer.shape[0], *param.shape)).copy()
        return buffer[start:stop].reshape(param.shape).copy()
    value = accumulator.value(declare.HyperValues(group.hypers, optimizer._powers.at(i, group)), count)
    shape = param.shape if accumulator.shape == "param" else (1,)
    return np.full(shape, value, dtype=np.dtype(accumulator.dtype))


def export(optimizer) -> dict:
    """Paddle's layout of ``optimizer``'s state (Tensors named by their keys, as ``paddle.save`` expects)."""
    groups, counts, prefix = _group_of(optimizer), optimizer._step_counts, _prefix(optimizer)
    state = {}
    for accumulator in optimizer.rule.paddle_layout:
        for i, param in enumerate(optimizer._space.params):
            if counts[i] == 0:  # Paddle has no accumulators for a parameter that never stepped
                continue
            key = f"{_name(param, i)}_{prefix}{accumulator.paddle}_0"
            state[key] = Tensor(_value_of(accumulator, optimizer, i, groups[i], int(counts[i])), name=key)
    return state


def is_legacy(state_dict) -> bool:
    return "step_counts" in state_dict


def parse(optimizer, state_dict):
    """``(state buffers by Paddle name, step counts, running powers by hyperparameter)`` read from Paddle's
    layout, checked whole; nothing of ``optimizer`` is changed."""
    declare = _declare()
    groups, prefix = _group_of(optimizer), _prefix(optimizer)
    space = optimizer._space
    buffers = {name: optimizer.state_buffer(name).copy() for name in optimizer.state_names}
    counts = optimizer._step_counts.copy()
    powers = optimizer._powers.copies()
    keys = [k for k in state_dict if k != LR_SCHEDULER]
    names = _names_in_file(optimizer, keys, prefix)
    used = set()
    for i, param in enumerate(space.params):
        found = {}
        for accumulator in optimizer.rule.paddle_layout:
            pattern = re.compile(rf"^{re.escape(names[i])}_(?:{re.escape(prefix)})?"
                                 rf"{re.escape(accumulator.paddle)}_\d+$")
            matches = [k for k in keys if pattern.match(k)]
            if len(matches) > 1:
                raise ValueError(f"optimizer state_dict holds {matches} for {names[i]}: one of each is expected")
            if matches:
                found[accumulator.paddle] = (accumulator, matches[0])
        if not found:
            continue  # this parameter had not stepped when the state was saved
        missing = [a.paddle for a in optimizer.rule.paddle_layout if a.paddle not in found]
        if missing:
            raise KeyError(f"optimizer state_dict has {sorted(k for _, k in found.values())} for {names[i]} but "
                           f"not its {missing}")
        start, stop = space.range_of(i)
        count = None
        for accumulator, key in found.values():
            used.add(key)
            value = np.asarray(getattr(state_dict[key], "_value", state_dict[key]))
            if isinstance(accumulator, declare.State):
                shape = (buffers[accumulator.paddle].shape[0], *param.shape) if accumulator.copies else param.shape
                if value.shape != tuple(shape):
                    raise ValueError(f"state_dict[{key!r}] has shape {list(value.shape)}; {names[i]} needs "
                                     f"{list(shape)}")
                # A state the rule keeps >= 0 (Adam's second moment) cannot hold a negative value: its square
                # root would be NaN at the next step. (NaN itself loads: a poisoned run's file round-trips.)
                if accumulator.nonnegative and np.any(value < 0):
                    raise ValueError(f"state_dict[{key!r}] holds negative values (down to {float(value.min())!r}); "
                                     f"{accumulator.paddle} is never negative")
                target = buffers[accumulator.paddle]
                if accumulator.copies:
                    target[:, start:stop] = value.reshape(target.shape[0], -1)
                else:
                    target[start:stop] = value.ravel()
            elif accumulator.hyper in powers and accumulator.hyper in groups[i].live:
                powers[accumulator.hyper][i] = _running_power_from(value, key)  # a Tensor's: kept as stored
            elif count is None:
                count = _count_from(accumulator, declare.HyperValues(groups[i].hypers), value, key)
        counts[i] = count if count is not None else max(1, counts[i])
    unknown = [k for k in keys if k not in used]
    if unknown:
        raise ValueError(f"optimizer state_dict has entries {unknown[:3]}{'...' if len(unknown) > 3 else ''} that "
                         f"match no parameter and accumulator of this {type(optimizer).__name__} (the parameters' "
                         f"names and the optimizer's name must be those it was saved with)")
    return buffers, counts, powers


def _names_in_file(optimizer, keys, prefix):
    """The parameter names the file uses: ours, or, when none of ours occurs (a model built again in the
    same process gets new unique names, ``linear_3`` for ``linear_0``), the file's names in the order of its
    first accumulator's entries, taken position by position when their count matches our parameters'."""
    params = optimizer._space.params
    own = [_name(p, i) for i, p in enumerate(params)]
    if not keys or any(k.startswith(f"{name}_") for name in own for k in keys):
        return own
    first = optimizer.rule.paddle_layout[0].paddle if optimizer.rule.paddle_layout else None
    suffix = re.compile(rf"_(?:{re.escape(prefix)})?{re.escape(first)}_\d+$") if first else None
    ordered = [suffix.sub("", k) for k in keys if suffix and suffix.search(k)]
    if len(ordered) != len(params):
        return own  # nothing matches: parse() reports the unknown entries
    return ordered


def _running_power_from(value, key):
    """A Tensor hyperparameter's power accumulator as stored: one float32 in [0, 1) (1 would make the
    next bias correction divide by zero)."""
    if value.size != 1:
        raise ValueError(f"state_dict[{key!r}] has shape {list(value.shape)}; a power accumulator holds one value")
    power = np.float32(value.ravel()[0])
    if not (0 <= power < 1):
        raise ValueError(f"state_dict[{key!r}] = {power!r}: a power of betas in [0, 1) lies in [0, 1)")
    return power


def _count_from(counter, hypers, value, key):
    """The step count whose accumulator value Paddle stored (the smallest, if the value no longer changes)."""
    stored = value.ravel()[0]
    if counter.monotone == "identity":
        return int(stored)
    target = np.float32(stored)

    def at(t):
        return np.float32(counter.value(hypers, t))

    high, previous = 1, at(1)
    while previous > target:
        high *= 2
        current = at(high)
        # A float32 power stalls once its products round back to it (0.9's at the smallest subnormal): if it
        # has not moved since high/2 it never will, and a target below it is never reached (the search had
        # run on toward MAX_COUNT, one multiplication per step, and hung).
        if high > MAX_COUNT or current == previous:
            raise ValueError(f"state_dict[{key!r}] = {target!r} is not a value this accumulator reaches with "
                             f"these hyperparameters (it was saved with others?)")
        previous = current
    low = 0
    while low < high:  # the smallest t with at(t) <= target (the values do not increase with t)
        middle = (low + high) // 2
        if at(middle) <= target:
            high = middle
        else:
            low = middle + 1
    if at(low) != target:
        raise ValueError(f"state_dict[{key!r}] = {target!r} is no step count's value of this accumulator with "
                         f"these hyperparameters (it was saved with others?)")
    return low


def parse_legacy(opt, state_dict):
    """The state buffers and step counts of lasandbox's earlier flat layout (``is_legacy``), checked."""
    missing = [k for k in opt.state_names if k not in state_dict]
    if missing:
        raise KeyError(f"optimizer state_dict is missing {missing}")
    arrays = {k: np.asarray(getattr(state_dict[k], "_value", state_dict[k])) for k in opt.state_names}
    for name, arr in arrays.items():
        if arr.shape != opt._state[name].shape:
            raise ValueError(f"state_dict[{name!r}] has shape {list(arr.shape)}, this optimizer's "
                             f"{name} has shape {list(opt._state[name].shape)}")
    counts = np.asarray(getattr(state_dict["step_counts"], "_value", state_dict["step_counts"]), dtype=np.int64)
    if counts.shape != opt._step_counts.shape:
        raise ValueError(f"state_dict['step_counts'] has {counts.size} entries, "
                         f"this optimizer has {opt._step_counts.size} parameters")
    return arrays, counts
