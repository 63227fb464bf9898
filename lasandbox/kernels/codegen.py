"""Generate the cpu loops and cuda kernels of a rule (and its epilogue chain) as Python source.

numba compiles one function per argument list, and a ``prange`` driver cannot
take a variable number of arrays, so the loops are written out as source text
with the rule's own argument names and compiled like hand-written ones. For a
plain step of Adam the cpu source reads::

    def pass0_serial(param, grad, m, v, lr_t, beta1, ...):
        lr_t = _f32(lr_t)
        ...
        for _i in range(param.size):
            _param, _m, _v = _fn0(param[_i], grad[_i], m[_i], v[_i], lr_t, beta1, ...)
            m[_i] = _m
            v[_i] = _v
            param[_i] = _param

``_fn0`` is the rule's element function compiled for the target
(``translate.py``) and injected into the module's globals by ``compiled.py``.
An epilogue chain (the fused Lookahead sync) adds its arrays and scalars with
an ``_e<j>`` suffix and runs on ``_param`` before it is stored. A segmented
rule's passes loop over chunks (``loops.py``) and a ``SegmentStep`` turns the
per-chunk sums into per-segment values.

Generated names start with ``_``; a declaration may not (``declare.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from lasandbox.kernels.declare import PARAM, Pass, Rule

THREADS_PER_BLOCK = 256


@dataclass(frozen=True)
class StepSpec:
    """What one generated driver takes and does, shared by the code generators and the executors."""

    index: int
    kind: str  # "pass" | "segment"
    fn: object
    call: tuple  # the element function's arguments, as the generated code spells them
    arrays: tuple = ()  # array arguments of the driver (epilogue arrays suffixed)
    scalars: tuple = ()  # scalar arguments of the driver (epilogue scalars suffixed)
    bools: frozenset = frozenset()
    writes: tuple = ()
    reductions: tuple = ()  # (name, column in the partial sums) of the values the element function returns
    squares: tuple = ()  # (name, column, array) of the SumOfSquares reductions
    segment_reads: tuple = ()  # (name, column in the per-segment values)
    epilogues: tuple = ()  # (epilogue, suffix) when this pass stores param
    outputs: tuple = ()  # SegmentStep: (name, column)
    inputs: tuple = ()  # SegmentStep: (name, column)

    @property
    def name(self) -> str:
        return f"{self.kind}{self.index}"

    @property
    def summed(self) -> tuple:
        """``(name, column)`` of every reduction of the pass: the returned values, then the squares."""
        return (*self.reductions, *((n, col) for n, col, _ in self.squares))

    @property
    def has_reductions(self) -> bool:
        return bool(self.summed)


def step_specs(rule: Rule, epilogues=()) -> list:
    """One ``StepSpec`` per pass / segment step of ``rule``, the epilogue chain on the pass storing param."""
    reduction_column = {name: j for j, name in enumerate(rule.reductions)}
    value_column = {name: j for j, name in enumerate(rule.segment_values)}
    specs = []
    last_pass = max(i for i, s in enumerate(rule.passes) if isinstance(s, Pass))
    for index, step in enumerate(rule.passes):
        args = step.argument_names()
        if not isinstance(step, Pass):
            scalars = tuple(a for a in args[len(step.inputs):])
            specs.append(StepSpec(index, "segment", step.fn, call=args, scalars=scalars,
                                  inputs=tuple((n, reduction_column[n]) for n in step.inputs),
                                  outputs=tuple((n, value_column[n]) for n in step.outputs)))
            continue
        arrays = [a for a in rule.kernel_arrays if a in args or a in step.writes]
        scalars = [a for a in args if a in rule.scalar_names]
        chain = ()
        if index == last_pass:
            chain = tuple((e, f"_e{j}") for j, e in enumerate(epilogues))
            for epilogue, suffix in chain:
                arrays += [a + suffix for a in epilogue.arrays]
                scalars += [s + suffix for s in epilogue.scalars]
        specs.append(StepSpec(
            index, "pass", step.fn, call=args, arrays=tuple(arrays), scalars=tuple(scalars),
            bools=frozenset(rule.bool_scalars), writes=tuple(step.writes),
            reductions=tuple((n, reduction_column[n]) for n in step.returned_reductions),
            squares=tuple((q.name, reduction_column[q.name], q.of) for q in step.squares),
            segment_reads=tuple((n, value_column[n]) for n in args if n in value_column), epilogues=chain))
    return specs


# ------------------------------------------------------------------------------------------- shared body
def _element_body(spec: StepSpec, rule: Rule, index: str, indent: str, reduce_into="accumulator") -> list:
    """Statements updating element ``index``: call the rule, store its writes, run the epilogues, and add
    each reduction's contribution to its accumulator (or store it in a per-chunk buffer: ``"buffer"``)."""
    arrays = set(rule.kernel_arrays)
    args = [f"{a}[{index}]" if a in arrays else (f"_seg_{a}" if any(a == n for n, _ in spec.segment_reads) else a)
            for a in spec.call]
    targets = [f"_{w}" for w in spec.writes] + [f"_red_{n}" for n, _ in spec.reductions]
    # A pass that only sums squares of arrays (norms before an update) has nothing to call per element.
    lines = [f"{', '.join(targets)}{',' if len(targets) == 1 else ''} = _fn{spec.index}({', '.join(args)})"] \
        if targets else []
    lines += [f"{w}[{index}] = _{w}" for w in spec.writes if w != PARAM]
    if PARAM in spec.writes:
        for epilogue, suffix in spec.epilogues:
            outs = [f"_{a}{suffix}" for a in epilogue.arrays]
            ins = [f"{a}{suffix}[{index}]" for a in epilogue.arrays] + [s + suffix for s in epilogue.scalars]
            lines.append(f"_param, {', '.join(outs)} = _epi{suffix}(_param, {', '.join(ins)})")
            lines += [f"{a}{suffix}[{index}] = _{a}{suffix}" for a in epilogue.arrays]
        lines.append(f"param[{index}] = _param")
    if reduce_into == "buffer":  # the squares are summed from their arrays after the chunk's loop
        lines += [f"_buf_{n}[{index}] = _red_{n}" for n, _ in spec.reductions]
    else:
        lines += [f"_acc_{n} += _red_{n}" for n, _ in spec.reductions]
        for n, _, array in spec.squares:  # the value stored (param: after the epilogues)
            value = f"_{array}" if array in spec.writes else f"{array}[{index}]"
            lines.append(f"_acc_{n} += {value} * {value}")
    return [indent + line for line in lines or ["pass"]]


def _casts(spec: StepSpec, indent: str) -> list:
    return [f"{indent}{s} = _f32({s})" for s in spec.scalars if s not in spec.bools]


HEADER = ("# Generated by lasandbox.kernels.codegen from a rule declaration; edit the rule, not this file.\n"
          "import numpy as np\n")


# ------------------------------------------------------------------------------------------------- cpu
_CPU_JIT = 'cache=True, error_model="numpy"'


def cpu_source(rule: Rule, specs: list) -> str:
    """The cpu module: per pass a serial loop and a parallel driver (or chunk loops for segmented rules)."""
    out = [HEADER, "from numba import njit, prange",
           "from lasandbox.kernels.loops import aligned_head as _aligned_head, block_bounds as _block_bounds, "
           "block_count as _block_count, tree_sum as _tree_sum, tree_width as _tree_width", "",
           "_f32 = np.float32", ""]
    for spec in specs:
        if spec.kind == "segment":
            out += _cpu_segment(spec)
        elif rule.segmented:
            out += _cpu_chunk_pass(rule, spec)
        else:
            out += _cpu_pass(rule, spec)
    return "\n".join(out) + "\n"


def _cpu_pass(rule, spec):
    params = ", ".join(spec.arrays + spec.scalars)
    first = spec.arrays[0]
    sliced = lambda bounds: ", ".join([f"{a}[{bounds}]" for a in spec.arrays] + list(spec.scalars))  # noqa: E731
    return [
        f"@njit({_CPU_JIT})",
        f"def {spec.name}_serial({params}):",
        *_casts(spec, "    "),
        f"    for _i in range({first}.size):",
        *_element_body(spec, rule, "_i", "        "),
        "", "",
        f"@njit(parallel=True, {_CPU_JIT})",
        f"def {spec.name}_parallel({params}):",
        f"    _n, _head = {first}.size, _aligned_head({first})",
        f"    {spec.name}_serial({sliced(':_head')})",
        "    for _b in prange(_block_count(_n, _head)):",
        "        _lo, _hi = _block_bounds(_n, _head, _b)",
        f"        {spec.name}_serial({sliced('_lo:_hi')})",
        "", "",
    ]


_CHUNK_ARGS = "_chunk_lo, _chunk_hi, _chunk_segment, _partials, _values"


def _cpu_chunk_pass(rule, spec):
    """A chunk's loop on sliced arrays (so it vectorises, as the blocked loops do): contributions to the
    reductions go to a chunk-sized buffer, summed after as a fixed tree (``loops.tree_sum``, which the
    numpy reference mirrors). The buffers are allocated once per run of chunks, not once per chunk: the
    parallel driver hands each of ``_threads`` threads one contiguous run (numba's ``get_num_threads``
    inside the driver would keep it out of the on-disk cache)."""
    params = ", ".join(spec.arrays + spec.scalars)
    names = [n for n, _ in spec.reductions]
    first = spec.arrays[0]
    # After the arrays: the per-segment values (``_seg_*``), then the scalars, in every signature.
    tail = "".join(f", _seg_{n}" for n, _ in spec.segment_reads) + "".join(f", {s}" for s in spec.scalars)
    reduces = spec.has_reductions
    raw = "".join(f", _raw_{n}" for n in names) + (", _work" if reduces else "")  # allocated once per run
    # In column order: the returned values from their buffers, the squares from their arrays.
    sums = sorted([(col, f"_tree_sum(_buf_{n}[:{first}.size], _work, False)") for n, col in spec.reductions]
                  + [(col, f"_tree_sum({array}, _work, True)") for _, col, array in spec.squares])
    columns = [col for col, _ in sums]
    sums = ", ".join(expr for _, expr in sums)
    seg_values = "".join(f", _values[_s, {col}]" for _, col in spec.segment_reads)
    scalar_args = "".join(f", {s}" for s in spec.scalars)
    sliced = ", ".join(f"{a}[_lo:_hi]" for a in spec.arrays)
    call = f"{spec.name}_chunk({sliced}{raw}{seg_values}{scalar_args})"

    def span_call(bounds):
        arrays = ", ".join(f"{a}[{bounds}]" for a in spec.arrays)
        return f"    {spec.name}_span({arrays}{''.join(f', _buf_{n}[{bounds}]' for n in names)}{tail})"

    lines = [
        f"@njit({_CPU_JIT})",
        f"def {spec.name}_span({', '.join(spec.arrays)}{''.join(f', _buf_{n}' for n in names)}{tail}):",
        *_casts(spec, "    "),
        f"    for _i in range({first}.size):",
        *_element_body(spec, rule, "_i", "        ", reduce_into="buffer"),
        "", "",
        f"@njit({_CPU_JIT})",
        f"def {spec.name}_chunk({', '.join(spec.arrays)}{raw}{tail}):",
        # Split where the arrays reach a 64-byte boundary: from there no vector load straddles two cache
        # lines (1.6 ms of an 11 ms trust-ratio first pass at 2^24 on the AMD EPYC VM). The buffers are views of
        # padded allocations placed so that they too are aligned from that element on. Each part is a
        # loop over a slice from 0, as in the blocked loops: a loop from a variable start does not vectorise.
        f"    _h = _aligned_head({first})",
        *[f"    _k_{n} = _aligned_head(_raw_{n}[_h:])" for n in names],
        *[f"    _buf_{n} = _raw_{n}[_k_{n}:_k_{n} + {first}.size]" for n in names],
        span_call(":_h"),
        span_call("_h:"),
        f"    return ({sums}{',' if len(columns) == 1 else ''})" if reduces else "    return",
        "", "",
        f"@njit({_CPU_JIT})",
        f"def {spec.name}_chunks(_first, _last, {_CHUNK_ARGS}, {params}):",
    ]
    if reduces:
        lines += [
            "    _width = 0",
            "    for _c in range(_first, _last):",
            "        _width = max(_width, _chunk_hi[_c] - _chunk_lo[_c])",
            *[f"    _raw_{n} = np.empty(_width + 16, dtype=np.float32)" for n in names],
            "    _work = np.empty(_tree_width(_width) // 2, dtype=np.float64)",
        ]
    lines += [
        "    for _c in range(_first, _last):",
        "        _lo, _hi, _s = _chunk_lo[_c], _chunk_hi[_c], _chunk_segment[_c]",
    ]
    if reduces:
        lines.append(f"        _sums = {call}")
        lines += [f"        _partials[_c, {col}] = _sums[{j}]" for j, col in enumerate(columns)]
    else:
        lines.append(f"        {call}")
    lines += [
        "", "",
        f"@njit(parallel=True, {_CPU_JIT})",
        f"def {spec.name}_chunks_parallel(_threads, {_CHUNK_ARGS}, {params}):",
        "    _n = _chunk_lo.size",
        "    _runs = max(1, min(_n, _threads))",
        "    for _r in prange(_runs):",
        f"        {spec.name}_chunks(_r * _n // _runs, (_r + 1) * _n // _runs, {_CHUNK_ARGS}, {params})",
        "", "",
    ]
    return lines


def _cpu_segment(spec):
    scalars = "".join(f", {s}" for s in spec.scalars)
    ins = [f"_sum_{n}" for n, _ in spec.inputs]
    outs = [f"_out_{n}" for n, _ in spec.outputs]
    return [
        f"@njit({_CPU_JIT})",
        f"def {spec.name}_segments(_first_chunk, _partials, _values{scalars}):",
        "    for _s in range(_values.shape[0]):",
        *[f"        _sum_{n} = 0.0" for n, _ in spec.inputs],
        "        for _c in range(_first_chunk[_s], _first_chunk[_s + 1]):",
        *[f"            _sum_{n} += _partials[_c, {col}]" for n, col in spec.inputs],
        f"        {', '.join(outs)}{',' if len(outs) == 1 else ''} = _fn{spec.index}({', '.join(ins)}{scalars})",
        *[f"        _values[_s, {col}] = _out_{n}" for n, col in spec.outputs],
        "", "",
    ]


# ------------------------------------------------------------------------------------------------ cuda
def cuda_source(rule: Rule, specs: list, threads=THREADS_PER_BLOCK) -> str:
    """The cuda module: one kernel per pass (one thread per element, or one block of ``threads`` per chunk)."""
    out = [HEADER, "from numba import cuda, float64", "", "_f32 = np.float32", f"THREADS = {threads}", ""]
    for spec in specs:
        if spec.kind == "segment":
            out += _cuda_segment(spec)
        elif rule.segmented:
            out += _cuda_chunk_pass(rule, spec, threads)
        else:
            out += _cuda_pass(rule, spec)
    return "\n".join(out) + "\n"


def _cuda_pass(rule, spec):
    params = ", ".join(spec.arrays + spec.scalars)
    return [
        "@cuda.jit",
        f"def {spec.name}({params}):",
        "    _i = cuda.grid(1)",
        f"    if _i < {spec.arrays[0]}.size:",
        *_element_body(spec, rule, "_i", "        "),
        "", "",
    ]


def _cuda_chunk_pass(rule, spec, threads):
    params = ", ".join(spec.arrays + spec.scalars)
    lines = [
        "@cuda.jit",
        f"def {spec.name}_chunks({_CHUNK_ARGS}, {params}):",
        "    _c = cuda.blockIdx.x",
        "    _t = cuda.threadIdx.x",
        *[f"    _seg_{n} = _values[_chunk_segment[_c], {col}]" for n, col in spec.segment_reads],
        # float64(0.0), not 0.0: under NumPy 2 the simulator adds a Python float and a float32 in float32, so
        # its per-thread sums would not be the device's float64 ones.
        *[f"    _acc_{n} = float64(0.0)" for n, _ in spec.summed],
        "    _i = _chunk_lo[_c] + _t",
        "    while _i < _chunk_hi[_c]:",
        *_element_body(spec, rule, "_i", "        "),
        "        _i += cuda.blockDim.x",
    ]
    for n, col in spec.summed:  # a tree sum over the block's threads, in shared memory
        lines += [
            f"    _shared_{n} = cuda.shared.array({threads}, float64)",
            f"    _shared_{n}[_t] = _acc_{n}",
            "    cuda.syncthreads()",
            f"    _stride = {threads // 2}",
            "    while _stride > 0:",
            "        if _t < _stride:",
            f"            _shared_{n}[_t] += _shared_{n}[_t + _stride]",
            "        cuda.syncthreads()",
            "        _stride //= 2",
            "    if _t == 0:",
            f"        _partials[_c, {col}] = _shared_{n}[0]",
        ]
    return lines + ["", ""]


def _cuda_segment(spec):
    scalars = "".join(f", {s}" for s in spec.scalars)
    ins = [f"_sum_{n}" for n, _ in spec.inputs]
    outs = [f"_out_{n}" for n, _ in spec.outputs]
    return [
        "@cuda.jit",
        f"def {spec.name}_segments(_first_chunk, _partials, _values{scalars}):",
        "    _s = cuda.grid(1)",
        "    if _s < _values.shape[0]:",
        *[f"        _sum_{n} = 0.0" for n, _ in spec.inputs],
        "        for _c in range(_first_chunk[_s], _first_chunk[_s + 1]):",
        *[f"            _sum_{n} += _partials[_c, {col}]" for n, col in spec.inputs],
        f"        {', '.join(outs)}{',' if len(outs) == 1 else ''} = _fn{spec.index}({', '.join(ins)}{scalars})",
        *[f"        _values[_s, {col}] = _out_{n}" for n, col in spec.outputs],
        "", "",
    ]
