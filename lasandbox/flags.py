"""``set_flags`` / ``get_flags``: Paddle's global switches, recorded and without effect here.

Paddle's flags tune its C++ runtime (memory pools, kernel choices, summation order,
oneDNN, ...). lasandbox has no such runtime, so every flag is a documented no-op:
values set are remembered and read back, which is what scripts that save and restore
flags need. A name must start with ``FLAGS_``; reading a flag that was never set
and is not in the small table of Paddle defaults below is a ValueError, as in Paddle.
"""

from __future__ import annotations

# Paddle 3.3.1's defaults of flags that Paddle's tests and examples commonly read.
_DEFAULTS = {
    "FLAGS_sort_sum_gradient": False,
    "FLAGS_use_legacy_linear": False,
    "FLAGS_cudnn_deterministic": False,
    "FLAGS_use_mkldnn": False,
    "FLAGS_check_nan_inf": False,
    "FLAGS_use_fast_math": False,
    "FLAGS_enable_pir_api": True,
    "FLAGS_embedding_deterministic": 0,
    "FLAGS_eager_delete_tensor_gb": 0.0,
}
_values: dict = {}


def _check_name(name):
    if not isinstance(name, str) or not name.startswith("FLAGS_"):
        raise ValueError(f"flag names start with 'FLAGS_', got {name!r}")


def set_flags(flags):
    """Record ``{name: value}`` flags (no effect on lasandbox's numpy runtime)."""
    if not isinstance(flags, dict):
        raise TypeError(f"flags in set_flags should be a dict, got {type(flags).__name__}")
    for name in flags:
        _check_name(name)
    _values.update(flags)


def get_flags(flags):
    """``{name: value}`` for a flag name or a list of names."""
    names = [flags] if isinstance(flags, str) else list(flags) if isinstance(flags, (list, tuple)) else None
    if names is None:
        raise TypeError(f"flags in get_flags should be a str or a list of str, got {type(flags).__name__}")
    result = {}
    for name in names:
        _check_name(name)
        if name in _values:
            result[name] = _values[name]
        elif name in _DEFAULTS:
            result[name] = _DEFAULTS[name]
        else:
            raise ValueError(f"flag {name} was never set, and lasandbox knows no default for it")
    return result


__all__ = ["set_flags", "get_flags"]
