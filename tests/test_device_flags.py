"""device, flags and base: the CPU-only, always-eager answers to Paddle's runtime switches."""

from __future__ import annotations

import pytest

import lasandbox as paddle


def test_cpu_device_is_accepted_and_gpu_refused():
    assert paddle.set_device("cpu") == paddle.CPUPlace() and paddle.get_device() == "cpu"
    assert paddle.device.get_device(paddle.ones([1])) == -1
    for bad in ("gpu", "gpu:0", "xpu"):
        with pytest.raises(ValueError, match="not available"):
            paddle.set_device(bad)
    with pytest.raises(ValueError, match="device"):
        paddle.set_device(1)
    assert paddle.ones([2]).place.is_cpu_place() and not paddle.CPUPlace().is_gpu_place()
    assert not paddle.is_compiled_with_cuda()


def test_flags_are_recorded():
    paddle.set_flags({"FLAGS_cudnn_deterministic": True})
    assert paddle.get_flags("FLAGS_cudnn_deterministic") == {"FLAGS_cudnn_deterministic": True}
    paddle.set_flags({"FLAGS_cudnn_deterministic": False})
    with pytest.raises(ValueError, match="never set"):
        paddle.get_flags(["FLAGS_no_such_flag"])
    with pytest.raises(TypeError, match="dict"):
        paddle.set_flags("FLAGS_x")
    with pytest.raises(ValueError, match="FLAGS_"):
        paddle.set_flags({"cudnn": 1})


def test_modes():
    assert paddle.in_dynamic_mode()
    paddle.disable_static(paddle.CPUPlace())
    with pytest.raises(NotImplementedError, match="static"):
        paddle.enable_static()
    with paddle.base.dygraph.guard(paddle.CPUPlace()):
        pass
    with pytest.raises(ValueError), paddle.base.dygraph.guard("gpu:0"):
        pass


def test_default_dtype():
    try:
        paddle.set_default_dtype("float64")
        assert paddle.get_default_dtype() == "float64"
        assert paddle.to_tensor(1.5).dtype == paddle.float64 and paddle.zeros([1]).dtype == paddle.float64
        assert paddle.nn.Linear(2, 2).weight.dtype == paddle.float64
    finally:
        paddle.set_default_dtype("float32")
    with pytest.raises(TypeError, match="set_default_dtype"):
        paddle.set_default_dtype("int32")
    assert paddle.nn.Linear(2, 2).weight.dtype == paddle.float32
