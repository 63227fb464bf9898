"""Compiled kernels of a rule: generated source, written under a name that hashes everything it depends on.

numba's on-disk cache (``cache=True``) checks only the time stamp of the file
that defines a function; the rule's element function is inlined into the
loops, so editing a rule would leave the *old* compiled rule in the cache. So
the cpu loops of each (rule, epilogue chain) are written to a file whose name
carries a hash of the generated source, of the source of every function it
inlines (the rule's element functions, their helpers, the epilogues), of the
values of the other globals those functions read (numba freezes a module-level
constant such as ``SCALE = np.float32(2)`` into the machine code, so editing it
must compile anew too) and of the modules that shape the machine code
(``rulemath``, ``translate``, ``loops``).
Change any of them and the next run writes a new file, which numba compiles
afresh; unchanged, every process loads the cached machine code.

The files live in ``kernel_cache_dir()``: ``$NUMBA_CACHE_DIR/lasandbox-kernels``
when numba's cache is redirected (so an empty ``NUMBA_CACHE_DIR`` is a truly
cold start), else ``lasandbox-kernels`` under ``LASANDBOX_CACHE`` or
``~/.cache/lasandbox``. They are small and only ever added; deleting the
folder is always safe.

cuda kernels are not cached on disk (numba.cuda compiles them on first launch);
their source is executed in memory.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib.util
import inspect
import linecache
import marshal
import os
import sys
import tempfile
import types
from pathlib import Path

import numba
import numpy as np

from lasandbox.kernels import codegen, loops, rulemath, translate

_modules: dict = {}


def kernel_cache_dir() -> Path:
    """Where the generated kernel sources (and numba's cache of them) are written."""
    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    if numba_dir:
        return Path(numba_dir) / "lasandbox-kernels"
    root = os.environ.get("LASANDBOX_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "lasandbox")
    return Path(root) / "lasandbox-kernels"


def _function_source(function) -> bytes:
    try:
        return inspect.getsource(function).encode()
    except (OSError, TypeError):  # defined at a prompt: its bytecode stands for its source
        return marshal.dumps(function.__code__)


def _module_source(module) -> bytes:
    return Path(module.__file__).read_bytes()


def _global_values(function) -> bytes:
    """The values of the non-function globals ``function`` reads, as numba freezes them into the machine code
    (functions are hashed by their source; a module by its name, its attributes are read at compile time
    too but are not followed here)."""
    parts = []
    for name in sorted(translate.global_names(function)):
        value = function.__globals__.get(name, getattr(builtins, name, None))
        if isinstance(value, types.FunctionType):
            continue
        if isinstance(value, types.ModuleType):
            parts.append(f"{name}=module {value.__name__}")
        elif isinstance(getattr(value, "py_func", None), types.FunctionType):  # a numba dispatcher
            parts.append(f"{name}=dispatcher {_function_source(value.py_func)!r}")
        elif isinstance(value, np.ndarray):
            parts.append(f"{name}=array {value.dtype.str} {value.shape} {hashlib.sha256(value.tobytes()).hexdigest()}")
        else:
            parts.append(f"{name}={type(value).__module__}.{type(value).__qualname__} {value!r}")
    return "\n".join(parts).encode()


def source_hash(rule, epilogues, source: str) -> str:
    """A hash of what the compiled kernels of ``rule`` (+ ``epilogues``) depend on."""
    digest = hashlib.sha256(source.encode())
    functions = [step.fn for step in rule.passes] + [e.fn for e in epilogues]
    for function in functions:
        for helper in translate.helpers_of(function):
            digest.update(_function_source(helper))
            digest.update(_global_values(helper))
    for module in (rulemath, translate, loops):
        digest.update(_module_source(module))
    digest.update(numba.__version__.encode())
    return digest.hexdigest()[:16]


def _injected(rule, specs, target) -> dict:
    names = {}
    for spec in specs:
        names[f"_fn{spec.index}"] = translate.element_function(spec.fn, target)
        for epilogue, suffix in spec.epilogues:
            names[f"_epi{suffix}"] = translate.element_function(epilogue.fn, target)
    return names


def kernels_for(rule, epilogues, target):
    """The module of compiled drivers of ``rule`` with the ``epilogues`` chain for ``target``
    (``"cpu"``, ``"cuda"`` or ``"cudasim"``), built once per process."""
    key = (rule, tuple(epilogues), target)
    module = _modules.get(key)
    if module is None:
        specs = codegen.step_specs(rule, epilogues)
        if target == "cpu":
            module = _cpu_module(rule, epilogues, specs)
        else:
            module = _memory_module(rule, epilogues, specs, target)
        module.specs = specs
        _modules[key] = module
    return module


def _stem(rule, epilogues, target, digest):
    chain = "+".join(e.name for e in epilogues) or "plain"
    return f"{rule.name}__{chain}__{target}__{digest}"


def _cpu_module(rule, epilogues, specs):
    source = codegen.cpu_source(rule, specs)
    stem = _stem(rule, epilogues, "cpu", source_hash(rule, epilogues, source))
    path = _write_once(stem, source)
    name = f"_lasandbox_kernels_{stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(_injected(rule, specs, "cpu"))
    # numba's cache re-imports a function's module by name when it loads machine code.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _write_once(stem, source) -> Path:
    """The generated file for ``stem`` (written atomically if missing; a fallback folder if unwritable)."""
    for folder in (kernel_cache_dir(), Path(tempfile.gettempdir()) / f"lasandbox-kernels-{os.getuid()}"):
        path = folder / f"{stem}.py"
        try:
            if path.exists() and path.read_text() == source:
                return path
            folder.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                handle.write(source)
            os.replace(temporary, path)  # other processes see the whole file or none
            return path
        except OSError:
            continue
    raise OSError(f"cannot write the generated kernels of {stem} to {kernel_cache_dir()} nor to a temp folder")


def _memory_module(rule, epilogues, specs, target):
    # The simulator runs a Python thread per CUDA thread: smaller blocks keep the chunk kernels quick there.
    source = codegen.cuda_source(rule, specs, threads=32 if target == "cudasim" else codegen.THREADS_PER_BLOCK)
    filename = f"<lasandbox kernels {_stem(rule, epilogues, target, source_hash(rule, epilogues, source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # readable tracebacks
    module = types.ModuleType(filename)
    module.__dict__.update(_injected(rule, specs, target))
    exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - our own generated source
    return module
