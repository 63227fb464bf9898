"""The readable reference: each rule's element function run as written, on whole arrays.

The rule's functions are plain Python over ``rulemath`` primitives, which are
numpy's, so calling them with float32 arrays and float32 scalars computes
every element with the same float32 operations in the same order as the
compiled backends: on the CPU the results agree to the bit (the parity tests
rely on that). All outputs of a pass are computed before any is stored, as
in the compiled loops, where each element is read before it is written.

Reductions (segmented rules) are summed as the cpu backend sums them: each
chunk as a fixed float64 tree of halvings, then each segment's chunk sums in order (``loops.py``).

Overflow to inf (e.g. ``g*g`` for ``|g| > 1.8e19``) is silent, as it is in the
compiled backends, rather than a RuntimeWarning that only this backend raises.
"""

from __future__ import annotations

import numpy as np

from lasandbox.kernels import loops, scratch
from lasandbox.kernels.declare import PARAM, Pass

f32 = np.float32
_SILENT = {"over": "ignore", "under": "ignore", "invalid": "ignore", "divide": "ignore"}


def run(rule, chain, arrays, scalars, table=None):
    """One step of ``rule`` on host arrays (dict by name), the ``chain`` of epilogues on the stored param."""
    arrays = scratch.with_scratch(rule, arrays, scratch.host_scratch)
    with np.errstate(**_SILENT):
        partials = values = None
        if rule.segmented:
            partials = np.zeros((table.num_chunks, len(rule.reductions)))
            values = np.zeros((table.num_segments, len(rule.segment_values)), dtype=f32)
        last = max(i for i, step in enumerate(rule.passes) if isinstance(step, Pass))
        value_column = {name: j for j, name in enumerate(rule.segment_values)}
        reduction_column = {name: j for j, name in enumerate(rule.reductions)}
        for index, step in enumerate(rule.passes):
            args = step.argument_names()
            if not isinstance(step, Pass):
                sums = [_segment_sums(partials[:, reduction_column[n]], table) for n in step.inputs]
                outs = step.fn(*sums, *(scalars[a] for a in args[len(step.inputs):]))
                for name, out in zip(step.outputs, outs, strict=True):
                    values[:, value_column[name]] = out
                continue
            inputs = [_element_input(a, rule, arrays, scalars, values, value_column, table) for a in args]
            outs = step.fn(*inputs)
            written = dict(zip(step.writes, outs[:len(step.writes)], strict=True))
            for name, contribution in zip(step.returned_reductions, outs[len(step.writes):], strict=True):
                partials[:, reduction_column[name]] = _chunk_sums(contribution, table)
            if index == last:
                written[PARAM] = _apply_chain(written[PARAM], chain, arrays, scalars)
            for name, value in written.items():
                arrays[name][...] = value
            for square in step.squares:  # of the values the pass leaves in the array (float32 products)
                stored = arrays[square.of]
                partials[:, reduction_column[square.name]] = _chunk_sums(stored * stored, table)


def _element_input(name, rule, arrays, scalars, values, value_column, table):
    if name in rule.kernel_arrays:
        return arrays[name]
    if name in value_column:  # a per-segment value, repeated over the segment's elements
        return np.repeat(values[:, value_column[name]], table.lengths)
    return _scalar(name, rule, scalars)


def _scalar(name, rule, scalars):
    value = scalars[name]
    return value if name in rule.bool_scalars else f32(value)


def _apply_chain(new_param, chain, arrays, scalars):
    for j, epilogue in enumerate(chain):
        suffix = f"_e{j}"
        outs = epilogue.fn(new_param, *(arrays[a + suffix] for a in epilogue.arrays),
                           *(f32(scalars[s + suffix]) for s in epilogue.scalars))
        new_param = outs[0]
        for name, value in zip(epilogue.arrays, outs[1:], strict=True):
            arrays[name + suffix][...] = value
    return new_param


def _chunk_sums(contribution, table):
    """Each chunk's contributions summed as ``loops.tree_sum`` sums them: float64, padded with 0.0 to
    ``loops.tree_width`` slots, halved until 8 slots, then ``((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7))``.
    Chunks of one padded width are halved together as the rows of one matrix."""
    size = int(table.offsets[-1])
    c = np.broadcast_to(np.asarray(contribution, dtype=np.float32), (size,))
    lengths = table.hi - table.lo
    padded_width = np.full(lengths.shape, loops.TREE_MIN, dtype=np.int64)  # loops.tree_width, elementwise
    while np.any(padded_width < lengths):
        padded_width = np.where(padded_width < lengths, 2 * padded_width, padded_width)
    out = np.zeros(table.num_chunks)
    for width in np.unique(padded_width):
        rows = np.flatnonzero(padded_width == width)
        index = table.lo[rows, None] + np.arange(width)
        inside = index < table.hi[rows, None]
        slots = np.zeros(index.shape)
        if size:
            slots = np.where(inside, c[np.minimum(index, size - 1)], np.float32(0)).astype(np.float64)
        while slots.shape[1] > 8:
            half = slots.shape[1] // 2
            slots = slots[:, :half] + slots[:, half:]
        out[rows] = ((slots[:, 0] + slots[:, 1]) + (slots[:, 2] + slots[:, 3])) + \
            ((slots[:, 4] + slots[:, 5]) + (slots[:, 6] + slots[:, 7]))
    return out


def _segment_sums(chunk_sums, table):
    """Each segment's chunk sums added in order, from 0.0."""
    out = np.zeros(table.num_segments)
    for s in range(table.num_segments):
        part = chunk_sums[table.first_chunk[s]:table.first_chunk[s + 1]]
        out[s] = np.cumsum(np.concatenate([[0.0], part]))[-1]
    return out


run_in_training = run  # an optimizer step runs like any other call here (the cpu backend has a policy of its own)
