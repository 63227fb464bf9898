"""save / load: Paddle's file format both ways, file objects, Paddle's arguments, and what load refuses."""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.serialization import CorruptCheckpointError, UnsafeCheckpointError, paddle_layout, restricted

FIXTURES = Path(__file__).parent / "fixtures" / "paddle_checkpoints"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
PADDLE_FILES = sorted(EXPECTED["files"])


def assert_matches_paddle(got, described, where="obj"):
    """``got`` (what lasandbox.load returned) equals what paddle.load returned, as recorded."""
    if "tensor" in described or "ndarray" in described:
        kind = "tensor" if "tensor" in described else "ndarray"
        assert isinstance(got, paddle.Tensor if kind == "tensor" else np.ndarray), where
        array = got.numpy() if kind == "tensor" else got
        assert str(array.dtype) == described["dtype"] and list(array.shape) == described["shape"], where
        recorded = np.array(described[kind], dtype=described["dtype"]).reshape(described["shape"])  # [] of [0, 3]
        np.testing.assert_array_equal(array, recorded, err_msg=where)
        if kind == "tensor":
            assert got.name == described["name"], where
    elif "dict" in described:
        assert type(got).__name__ == described["type"], where
        assert [str(k) for k in got] == described["keys"], where
        for key, value in got.items():
            assert_matches_paddle(value, described["dict"][str(key)], f"{where}[{key!r}]")
    else:
        assert type(got).__name__ == described["type"] and got == described["value"], where


@pytest.mark.parametrize("name", PADDLE_FILES)
def test_files_written_by_paddle_load_with_the_values_paddle_read(name):
    assert EXPECTED["paddle_version"] == "3.3.1"
    assert_matches_paddle(paddle.load(FIXTURES / name), EXPECTED["files"][name]["loaded"])
    assert_matches_paddle(paddle.load(FIXTURES / name, keep_name_table=True),
                          EXPECTED["files"][name]["loaded_keep_name_table"])


@pytest.mark.parametrize("name", PADDLE_FILES)
def test_paddle_files_need_only_allow_listed_globals(name):
    for dotted in EXPECTED["files"][name]["globals"]:
        module, _, attr = dotted.rpartition(".")
        assert restricted.allowed(module, attr) is not None, dotted


def test_paddle_optimizer_file_feeds_a_paddle_style_state_dict():
    state = paddle.load(FIXTURES / "optimizer.pdopt")
    assert state["LR_Scheduler"] == {"last_epoch": 1, "last_lr": 0.1}
    assert state["linear_0.w_0_moment1_0"].shape == [3, 2] and state["linear_0.b_0_beta2_pow_acc_0"].shape == [1]
    as_numpy = paddle.load(FIXTURES / "optimizer.pdopt", return_numpy=True)
    assert all(isinstance(v, np.ndarray) for k, v in as_numpy.items() if k != "LR_Scheduler")


def test_paddle_model_file_loads_into_a_lasandbox_linear():
    model = paddle.nn.Linear(3, 2)
    assert model.set_state_dict(paddle.load(FIXTURES / "model.pdparams")) == ([], [])
    weight = EXPECTED["files"]["model.pdparams"]["loaded"]["dict"]["weight"]["tensor"]
    np.testing.assert_array_equal(model.weight.numpy(), np.array(weight, dtype=np.float32))


# ------------------------------------------------------------------------------------------- round trips

def _trained_linear():
    paddle.seed(3)
    model = paddle.nn.Linear(3, 2)
    scheduler = paddle.optimizer.lr.StepDecay(learning_rate=0.1, step_size=2)
    opt = paddle.optimizer.Adam(learning_rate=scheduler, parameters=model.parameters())
    (model(paddle.ones([4, 3])) ** 2).mean().backward()
    opt.step()
    scheduler.step()
    return model, opt


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_state_dict_round_trip_is_paddles_layout(tmp_path, protocol):
    model, _ = _trained_linear()
    path = tmp_path / "m.pdparams"
    paddle.save(model.state_dict(), path, protocol=protocol)
    assert path.read_bytes()[:2] == bytes([0x80, protocol])
    raw = pickle.loads(path.read_bytes())  # what Paddle's pickle.load sees (the trailer is ignored)
    assert raw[paddle_layout.NAME_TABLE] == {"weight": model.weight.name, "bias": model.bias.name}
    assert model.weight.name.startswith("linear_") and model.weight.name.endswith(".w_0")
    assert isinstance(raw["weight"], np.ndarray)
    loaded = paddle.load(path)
    assert list(loaded) == ["weight", "bias"] and loaded["weight"].name == model.weight.name
    np.testing.assert_array_equal(loaded["weight"].numpy(), model.weight.numpy())
    other = paddle.nn.Linear(3, 2)
    other.set_state_dict(loaded)
    np.testing.assert_array_equal(other.bias.numpy(), model.bias.numpy())


def test_nested_checkpoint_round_trip_keeps_types(tmp_path):
    model, opt = _trained_linear()
    obj = {"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 3, "note": "x", "lr": 0.5,
           "flags": (True, None), "ids": [1, 2], "tags": {"a"}, "z": 1 + 2j, "raw": b"\x00\x01",
           "np_scalar": np.float64(2.5), "dtype": np.dtype("int16")}
    path = tmp_path / "ckpt.pdparams"
    paddle.save(obj, path)
    loaded = paddle.load(path)
    assert isinstance(loaded["model"], collections.OrderedDict)
    assert isinstance(loaded["model"]["weight"], paddle.Tensor)
    np.testing.assert_array_equal(loaded["model"]["weight"].numpy(), model.weight.numpy())
    # Paddle's rule: with Tensors in the file, plain arrays stay arrays.
    for key, value in opt.state_dict().items():
        if isinstance(value, np.ndarray):
            assert isinstance(loaded["opt"][key], np.ndarray)
            np.testing.assert_array_equal(loaded["opt"][key], value)
    for key in ("epoch", "note", "lr", "flags", "ids", "tags", "z", "raw", "np_scalar", "dtype"):
        assert loaded[key] == obj[key] and type(loaded[key]) is type(obj[key]), key


def test_arrays_without_tensors_come_back_as_tensors_as_in_paddle(tmp_path):
    paddle.save({"a": np.arange(3.0), "n": 1}, tmp_path / "a.pd")
    assert isinstance(paddle.load(tmp_path / "a.pd")["a"], paddle.Tensor)
    assert isinstance(paddle.load(tmp_path / "a.pd", return_numpy=True)["a"], np.ndarray)


def test_a_lone_tensor_and_a_list_of_tensors(tmp_path):
    tensor = paddle.to_tensor([1.0, 2.0])
    paddle.save(tensor, tmp_path / "t.pd")
    np.testing.assert_array_equal(paddle.load(tmp_path / "t.pd").numpy(), [1.0, 2.0])
    paddle.save([tensor, tensor * 2], tmp_path / "l.pd")
    assert [t.numpy().tolist() for t in paddle.load(tmp_path / "l.pd")] == [[1.0, 2.0], [2.0, 4.0]]


def test_lookahead_checkpoint_resumes(tmp_path):
    model, _ = _trained_linear()
    la = paddle.incubate.LookAhead(paddle.optimizer.SGD(0.1, parameters=model.parameters()), alpha=0.5, k=2)
    for _ in range(3):
        (model(paddle.ones([2, 3])) ** 2).mean().backward()
        la.step()
        la.clear_grad()
    paddle.save(la.state_dict(), tmp_path / "la.pd")  # no Tensor inside: arrays come back as Tensors
    other = paddle.incubate.LookAhead(paddle.optimizer.SGD(0.1, parameters=model.parameters()), alpha=0.5, k=2)
    other.set_state_dict(paddle.load(tmp_path / "la.pd"))
    np.testing.assert_array_equal(other.state_dict()["slow"], la.state_dict()["slow"])
    assert other.state_dict()["global_step"] == 3


def test_bytesio_and_open_file_handles_hold_several_objects():
    buffer = io.BytesIO()
    paddle.save({"w": paddle.to_tensor([1.0])}, buffer)
    paddle.save(paddle.to_tensor([2.0, 3.0]), buffer)  # Paddle's example 5: two objects in one buffer
    buffer.seek(0)
    assert paddle.load(buffer)["w"].numpy().tolist() == [1.0]
    assert paddle.load(buffer).numpy().tolist() == [2.0, 3.0]


def test_open_file_handles(tmp_path):
    with open(tmp_path / "f.pd", "wb") as handle:
        paddle.save({"a": paddle.to_tensor([4.0])}, handle)
    with open(tmp_path / "f.pd", "rb") as handle:
        assert paddle.load(handle)["a"].numpy().tolist() == [4.0]
    assert paddle.load(tmp_path / "f.pd")["a"].numpy().tolist() == [4.0]  # no trailer: read unchecked


def test_files_of_earlier_lasandbox_versions_still_load(tmp_path):
    legacy = {"model": {"w": {paddle_layout.LEGACY_TAG: np.ones(2, np.float32)}}, "raw": np.zeros(1)}
    (tmp_path / "old.pd").write_bytes(pickle.dumps(legacy, protocol=4))
    loaded = paddle.load(tmp_path / "old.pd")
    assert isinstance(loaded["model"]["w"], paddle.Tensor) and isinstance(loaded["raw"], np.ndarray)


def test_big_arrays_are_split_for_protocols_2_and_3_as_paddle_does(tmp_path, monkeypatch):
    monkeypatch.setattr(paddle_layout, "MAX_SLICE_BYTES", 40)  # 10 float32 per slice instead of 2**28
    weight = paddle.to_tensor(np.arange(24, dtype=np.float32).reshape(4, 6))
    paddle.save({"w": weight, "b": paddle.to_tensor([1.0])}, tmp_path / "big.pd", protocol=2)
    raw = pickle.loads((tmp_path / "big.pd").read_bytes())
    assert raw[paddle_layout.BIG_PARAMS] == {"w": {"OriginShape": (4, 6), "slices": ["w@@.0", "w@@.1", "w@@.2"]}}
    loaded = paddle.load(tmp_path / "big.pd")
    assert sorted(loaded) == ["b", "w"]
    np.testing.assert_array_equal(loaded["w"].numpy(), weight.numpy())


# ---------------------------------------------------------------------------------------- Paddle's arguments

def test_protocol_is_checked_like_paddles(tmp_path):
    with pytest.raises(ValueError, match="protocol"):
        paddle.save({}, tmp_path / "x", protocol=5)
    with pytest.raises(TypeError, match="protocol"):
        paddle.save({}, tmp_path / "x", protocol="4")
    with pytest.warns(DeprecationWarning, match="pickle_protocol"):
        paddle.save({"a": 1}, tmp_path / "p2", pickle_protocol=2)
    assert (tmp_path / "p2").read_bytes()[:2] == b"\x80\x02"
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("config", ["safetensors"])  # use_binary_format: tests/test_serialization_binary.py
def test_unimplemented_save_configs_raise_naming_themselves(tmp_path, config):
    with pytest.raises(NotImplementedError, match=config):
        paddle.save({}, tmp_path / "x", **{config: True})
    paddle.save({"a": 1}, tmp_path / "ok", **{config: False})  # the default value is fine
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("config, value", [("model_filename", "m.pdmodel"), ("params_filename", "m.pdiparams"),
                                           ("safetensors", True)])
def test_unimplemented_load_configs_raise_naming_themselves(config, value):
    with pytest.raises(NotImplementedError, match=config):
        paddle.load(FIXTURES / "model.pdparams", **{config: value})


def test_unknown_configs_and_bad_flags_are_errors(tmp_path):
    with pytest.raises(ValueError, match="'colour'"):
        paddle.save({}, tmp_path / "x", colour=1)
    with pytest.raises(ValueError, match="'colour'"):
        paddle.load(FIXTURES / "model.pdparams", colour=1)
    for flag in ("return_numpy", "keep_name_table", "trusted"):
        with pytest.raises(TypeError, match=flag):
            paddle.load(FIXTURES / "model.pdparams", **{flag: "yes"})
    with pytest.raises(TypeError, match="binary mode"), open(tmp_path / "t.txt", "w") as text:
        paddle.save({}, text)
    with pytest.raises(ValueError, match="must name a file"):
        paddle.save({}, tmp_path)
    with pytest.raises(FileNotFoundError, match="folder"):
        paddle.load(tmp_path)


def test_save_refuses_what_load_would_refuse_before_writing(tmp_path):
    path = tmp_path / "x.pd"
    cases = [({"model": paddle.nn.Linear(2, 2)}, TypeError, r"obj\['model'\] of type Linear: save its state_dict"),
             ({"fn": len}, TypeError, r"obj\['fn'\]"),
             ([np.array([1, "a"], dtype=object)], TypeError, r"obj\[0\]: arrays of dtype object"),
             ({"when": __import__("datetime").date(2024, 1, 1)}, TypeError, "date")]
    for obj, error, message in cases:
        with pytest.raises(error, match=message):
            paddle.save(obj, path)
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        paddle.save(loop, path)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------ refusals

class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Harmless:
    def __init__(self, value):
        self.value = value


def _refused(payload, tmp_path, match):
    path = tmp_path / "evil.pd"
    path.write_bytes(payload)
    with pytest.raises(UnsafeCheckpointError, match=match) as info:
        paddle.load(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, pickle.UnpicklingError)
    return info.value


def test_a_pickle_that_runs_code_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    for protocol in (2, 4):
        _refused(pickle.dumps({"w": np.ones(2), "x": _RunsCode(marker)}, protocol=protocol), tmp_path,
                 r"refused (posix|os|nt)\.system")
    assert not marker.exists()
    paddle.load(tmp_path / "evil.pd", trusted=True)  # the escape hatch really unpickles (and runs it)
    assert marker.exists()


@pytest.mark.parametrize("payload, match", [
    (pickle.dumps(_Harmless(1)), r"refused .*_Harmless"),
    (pickle.dumps(collections.Counter("ab")), r"refused collections\.Counter"),
    (pickle.dumps([eval]), r"refused builtins\.eval"),
    (pickle.dumps(np.array([1, "a"], dtype=object)), r"numpy\.dtype\('O8'\)"),
    (pickle.dumps(np.zeros(2, dtype=[("a", "f4")])), r"numpy\.dtype\('V4'\)"),
    (pickle.dumps(np.rec.array([(1,)], dtype=[("a", "i4")])), r"refused numpy\.rec"),
    (pickle.dumps(np.ma.masked_array([1.0])), r"refused numpy\.ma"),
], ids=["class", "Counter", "eval", "object-array", "structured-array", "recarray", "masked-array"])
def test_anything_but_data_is_refused_naming_it(tmp_path, payload, match):
    _refused(payload, tmp_path, match)
    paddle.load(tmp_path / "evil.pd", trusted=True)  # the same file reads when trusted


def test_a_codec_other_than_latin1_is_refused(tmp_path):
    import codecs

    class Rot13:
        def __reduce__(self):
            return (codecs.encode, ("payload", "rot13"))

    _refused(pickle.dumps(Rot13(), protocol=2), tmp_path, r"_codecs\.encode\(\.\.\., 'rot13'\)")


def test_a_persistent_id_is_refused(tmp_path):
    buffer = io.BytesIO()

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return "external" if obj == "ref" else None

    Pickler(buffer, protocol=4).dump(["ref"])
    _refused(buffer.getvalue(), tmp_path, "persistent id")


def test_a_big_array_table_that_does_not_match_is_a_damaged_file(tmp_path):
    table = {"w": {"OriginShape": (4,), "slices": ["w@@.0", "w@@.1"]}}  # w@@.1 is missing
    broken = {"w@@.0": np.zeros(2), paddle_layout.BIG_PARAMS: table, paddle_layout.NAME_TABLE: {}}
    (tmp_path / "b.pd").write_bytes(pickle.dumps(broken, protocol=2))
    with pytest.raises(CorruptCheckpointError, match=r"b\.pd.*does not match its entries"):
        paddle.load(tmp_path / "b.pd")
