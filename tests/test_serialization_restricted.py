"""The allow-list reader against hand-written pickles: what a crafted checkpoint can ask for, and is refused.

Each payload is written opcode by opcode (the names of ``pickle``'s opcode constants, as
``pickletools.dis`` prints them), since ``pickle.dumps`` never writes most of these programs.
"""

from __future__ import annotations

import collections
import pickle
import re
import signal
import struct

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.serialization import CorruptCheckpointError, UnsafeCheckpointError, restricted

P = pickle
NUMPY = "numpy._core.multiarray"


def text(value):
    data = value.encode()
    return P.BINUNICODE + struct.pack("<I", len(data)) + data


def raw(data):
    return P.BINBYTES + struct.pack("<I", len(data)) + data


def integer(value):
    return P.LONG1 + bytes([8]) + value.to_bytes(8, "little", signed=True)


def name(module, attr):
    return P.GLOBAL + f"{module}\n{attr}\n".encode()


def tup(*items):
    return P.MARK + b"".join(items) + P.TUPLE


def call(function, *args):
    return function + tup(*args) + P.REDUCE


def put(index):
    return P.BINPUT + bytes([index])


def get(index):
    return P.BINGET + bytes([index])


def program(body, protocol=2):
    return (P.PROTO + bytes([protocol]) if protocol >= 2 else b"") + body + P.STOP


def dtype(spec, state=(3, "<", None, None, None, -1, -1, 0)):
    parts = [integer(v) if isinstance(v, int) else text(v) if isinstance(v, str) else P.NONE for v in state]
    return call(name("numpy", "dtype"), text(spec), P.NEWFALSE, P.NEWTRUE) + tup(*parts) + P.BUILD


def array_of(shape, dtype_ops, data):
    empty = call(name(NUMPY, "_reconstruct"), name("numpy", "ndarray"), tup(integer(0)), raw(b"b"))
    return empty + tup(integer(1), tup(*map(integer, shape)), dtype_ops, P.NEWFALSE, raw(data)) + P.BUILD


def refused(tmp_path, payload, match):
    path = tmp_path / "crafted.pd"
    path.write_bytes(payload)
    with pytest.raises(UnsafeCheckpointError, match=match) as info:
        paddle.load(path)
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)
    return path


def test_a_plain_array_written_opcode_by_opcode_loads(tmp_path):
    """The helpers above write what numpy writes: the refusals below are about what changed, nothing else."""
    path = tmp_path / "plain.pd"
    path.write_bytes(program(array_of((2,), dtype("f8"), struct.pack("<2d", 1.5, -2.0))))
    np.testing.assert_array_equal(paddle.load(path, return_numpy=True), [1.5, -2.0])


@pytest.mark.parametrize("protocol, opcode", [(protocol, opcode) for protocol in range(6)
                                               for opcode in ("GLOBAL", "STACK_GLOBAL", "INST")
                                               if opcode != "STACK_GLOBAL" or protocol >= 4])  # new in 4
def test_an_import_of_code_is_refused_in_every_protocol(tmp_path, protocol, opcode):
    marker = tmp_path / "ran"
    command = text(f"touch {marker}")
    body = {"GLOBAL": call(name("os", "system"), command),
            "STACK_GLOBAL": call(text("os") + text("system") + P.STACK_GLOBAL, command),
            "INST": P.MARK + command + P.INST + b"os\nsystem\n"}[opcode]
    refused(tmp_path, program(body, protocol), r"refused os\.system")
    assert not marker.exists()


@pytest.mark.parametrize("module, attr", [
    ("builtins", "eval"), ("builtins", "getattr"), ("__builtin__", "getattr"), ("numpy", "load"),
    ("numpy", "frombuffer"), ("copyreg", "_reconstructor"), ("functools", "partial"), ("builtins", "type"),
])
def test_names_outside_the_allow_list_are_refused_by_name(tmp_path, module, attr):
    refused(tmp_path, program(call(name(module, attr), text("x"))), rf"refused {module}\.{attr}")


@pytest.mark.parametrize("payload", [
    call(name("numpy", "ndarray"), tup(integer(3)), text("O")),  # REDUCE: an object array, no dtype pickled
    call(name("numpy", "ndarray"), tup(integer(4_000_000_000)), text("f4")),  # 16 GB from 40 bytes
    call(name(NUMPY, "_reconstruct"), name("numpy", "ndarray"), tup(integer(3)), text("O")),
], ids=["ndarray-object", "ndarray-16GB", "reconstruct-typecode-O"])
def test_numpy_ndarray_is_never_called_as_the_file_asks(tmp_path, payload):
    refused(tmp_path, program(payload), r"refused (numpy\.ndarray\(\.\.\.\) called directly|_reconstruct)")


@pytest.mark.parametrize("opcode", ["NEWOBJ", "NEWOBJ_EX", "OBJ"])
@pytest.mark.parametrize("module, attr", [("numpy", "ndarray"), ("builtins", "tuple"),
                                          ("collections", "OrderedDict")])
def test_no_allowed_name_is_a_type_to_instantiate(tmp_path, opcode, module, attr):
    args = tup(tup(integer(3)), text("O"))
    body = {"NEWOBJ": name(module, attr) + args + P.NEWOBJ,
            "NEWOBJ_EX": name(module, attr) + args + P.EMPTY_DICT + P.NEWOBJ_EX,
            "OBJ": P.MARK + name(module, attr) + tup(integer(3)) + text("O") + P.OBJ}[opcode]
    path = tmp_path / "crafted.pd"
    path.write_bytes(program(body, 4))
    with pytest.raises((UnsafeCheckpointError, CorruptCheckpointError), match="crafted.pd"):
        paddle.load(path)


@pytest.mark.parametrize("spec", ["O", "object", "f4,O", "i8,(2,)O", "(2,)f4", "V8", "f4,i4", "no such dtype"])
def test_a_dtype_that_could_hold_objects_or_fields_is_refused(tmp_path, spec):
    refused(tmp_path, program(dtype(spec)), re.escape(f"numpy.dtype({spec!r})"))


@pytest.mark.parametrize("state, why", [
    ((3, "<", None, None, None, -1, -1, 1), "flags: float64 claiming to hold Python objects"),
    ((3, "<", None, None, None, 64, 1, 0), "an itemsize numpy does not have for f8"),
    ((3, "?", None, None, None, -1, -1, 0), "a byte order"),
    ((2, "<", None, None, None, -1, -1, 0), "a state version"),
])
def test_a_dtype_state_numpy_would_not_write_is_refused(tmp_path, state, why):
    # The BUILD state goes to dtype.__setstate__, which numpy applies as given: with flags=1 numpy reads
    # the float64 array's bytes (here 0x4141...) as PyObject pointers.
    payload = P.MARK + array_of((1,), dtype("f8", state), b"A" * 8) + P.LIST
    refused(tmp_path, program(payload), r"the state .* for numpy\.dtype\('f8'\)")


def test_the_builtin_float64_dtype_is_never_handed_to_the_file(tmp_path):
    # dtype('f8', False, False) is numpy's one float64 dtype: a BUILD on it would change every array's.
    body = call(name("numpy", "dtype"), text("f8"), P.NEWFALSE, P.NEWFALSE) + \
        tup(integer(3), text(">"), P.NONE, P.NONE, P.NONE, integer(-1), integer(-1), integer(1)) + P.BUILD
    refused(tmp_path, program(body), "the state")
    assert np.dtype("f8").byteorder == "=" and not np.dtype("f8").hasobject


def test_an_array_is_not_rebuilt_under_a_view_of_it(tmp_path):
    # A view over an array, then a second BUILD of that array: numpy frees the memory the view reads.
    first = array_of((100_000,), dtype("f8"), b"A" * 800_000) + put(2) + P.POP
    view = call(name("numpy", "ndarray"), tup(integer(100_000)), text("f8"), get(2)) + P.POP
    again = get(2) + tup(integer(1), tup(integer(1)), dtype("f8"), P.NEWFALSE, raw(b"B" * 8)) + P.BUILD
    refused(tmp_path, program(P.MARK + first + view + again + P.LIST), r"numpy\.ndarray\(\.\.\.\) called directly")
    refused(tmp_path, program(P.MARK + first + again + P.LIST), "a second state for one numpy array")


def test_an_array_state_is_checked_against_its_data_before_anything_is_allocated(tmp_path):
    refused(tmp_path, program(array_of((10**12,), dtype("f8"), b"A" * 8)),
            r"shape \(1000000000000,\) and dtype float64 with 8 bytes of data \(8000000000000 needed\)")
    refused(tmp_path, program(array_of((2**62, 2**62), dtype("f8"), b"")), "bytes of data")
    refused(tmp_path, program(array_of((-1,), dtype("f8"), b"")), r"shape \(-1,\)")


def test_an_array_whose_state_never_comes_is_refused(tmp_path):
    empty = call(name(NUMPY, "_reconstruct"), name("numpy", "ndarray"), tup(integer(0)), raw(b"b"))
    refused(tmp_path, program(empty), "never came")


def test_a_numpy_scalar_needs_exactly_its_bytes(tmp_path):
    scalar = name(NUMPY, "scalar")
    refused(tmp_path, program(call(scalar, dtype("f8"), raw(b"ab"))), "float64 scalar from bytes data of 2 bytes")
    refused(tmp_path, program(call(scalar, dtype("f8"))), "float64 scalar from NoneType")
    path = tmp_path / "ok.pd"
    path.write_bytes(program(call(scalar, dtype("f8"), raw(struct.pack("<d", 2.5)))))
    assert paddle.load(path) == np.float64(2.5)


@pytest.mark.parametrize("payload, match", [
    (call(name("builtins", "bytearray"), integer(10)), r"bytearray\(\) of a int"),  # a 10 GB allocation, scaled
    (call(name("builtins", "bytes"), integer(10)), r"bytes\(\) of a int"),
    (call(name("builtins", "tuple"), text("abc")), r"tuple\(\) of a str"),
    (call(name("builtins", "complex"), text("1+2j")), r"complex\('1\+2j'"),
    (call(name("collections", "OrderedDict"), integer(3)), r"OrderedDict\(\) of a int"),
], ids=["bytearray-length", "bytes-length", "tuple-of-str", "complex-of-str", "OrderedDict-of-int"])
def test_allowed_names_take_only_the_arguments_pickle_writes(tmp_path, payload, match):
    refused(tmp_path, program(payload), match)


def _alarm(seconds):
    def expired(*_):
        raise AssertionError(f"load took over {seconds} s")
    signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)


@pytest.mark.parametrize("trusted", [False, True])
def test_a_list_shared_many_times_over_reads_in_linear_time(tmp_path, trusted):
    # Each list holds the one before twice: 2**60 paths through 300 bytes (a 'billion laughs').
    body = P.EMPTY_LIST + put(0) + b"".join(P.MARK + get(k - 1) + get(k - 1) + P.LIST + put(k) for k in range(1, 61))
    path = tmp_path / "laughs.pd"
    path.write_bytes(program(body))
    _alarm(20)
    try:
        loaded = paddle.load(path, trusted=trusted)
    finally:
        signal.alarm(0)
    assert loaded[0] is loaded[1]  # shared in the file, shared in what load returns


def test_containers_nested_too_deep_or_holding_themselves_are_refused(tmp_path):
    deep = P.EMPTY_LIST * 100_000 + P.APPEND * 99_999
    refused(tmp_path, program(deep), f"nested more than {restricted.MAX_NESTING} deep")
    refused(tmp_path, program((P.EMPTY_DICT + text("k")) * 5000 + P.EMPTY_DICT + P.SETITEM * 5000), "nested")
    refused(tmp_path, program(P.EMPTY_LIST + put(0) + get(0) + P.APPEND), "reference cycle")
    for payload, match in [(deep, "nested too deep"), (P.EMPTY_LIST + put(0) + get(0) + P.APPEND, "cycle")]:
        path = tmp_path / "trusted.pd"
        path.write_bytes(program(payload))
        with pytest.raises(CorruptCheckpointError, match=match):  # not a RecursionError
            paddle.load(path, trusted=True)


def test_save_refuses_the_nesting_load_refuses_and_keeps_what_it_reads(tmp_path):
    def nested(levels, inner):
        for _ in range(levels):
            inner = [inner]
        return inner

    limit = restricted.MAX_NESTING
    for protocol in (2, 4):
        path = tmp_path / f"deep{protocol}.pd"
        paddle.save(nested(limit - 1, []), path, protocol=protocol)  # `limit` lists, the deepest load reads
        assert paddle.load(path) == nested(limit - 1, [])
        paddle.save(nested(limit - 1, paddle.ones([1])), path, protocol=protocol)  # a Tensor is a tuple inside
        with pytest.raises(ValueError, match=f"nested more than {limit} deep"):
            paddle.save(nested(limit, []), path, protocol=protocol)
        with pytest.raises(ValueError, match=r"nested more than .* \(a Tensor is saved as a \(name, array\) tuple\)"):
            paddle.save(nested(limit, paddle.ones([1])), path, protocol=protocol)


@pytest.mark.parametrize("payload, match", [
    (P.PERSID + b"x\n", "persistent id"),
    (text("x") + P.BINPERSID, "persistent id"),
    (P.EMPTY_LIST + text("k") + P.APPEND + P.EMPTY_DICT + text("keys") + integer(1) + P.SETITEM + P.BUILD,
     "not a readable checkpoint"),  # a list has no state to set
], ids=["PERSID", "BINPERSID", "BUILD-on-list"])
def test_other_instructions_that_reach_outside_the_data(tmp_path, payload, match):
    path = tmp_path / "crafted.pd"
    path.write_bytes(program(payload))
    with pytest.raises(ValueError, match=match):
        paddle.load(path)


@pytest.mark.parametrize("payload", [
    P.EXT1 + bytes([1]), P.BINGET + bytes([7]), P.LONG_BINGET + struct.pack("<I", 10**6),
    P.NEXT_BUFFER, P.BINBYTES8 + struct.pack("<Q", 10**12) + b"x", P.FRAME + struct.pack("<Q", 10**12) + P.NONE,
], ids=["EXT1-unregistered", "memo-GET-never-PUT", "memo-LONG_BINGET", "out-of-band-buffer",
        "BINBYTES8-claims-1TB", "FRAME-claims-1TB"])
def test_instructions_that_point_at_nothing_are_a_damaged_file(tmp_path, payload):
    path = tmp_path / "crafted.pd"
    path.write_bytes(program(payload, 5))
    with pytest.raises(CorruptCheckpointError, match="crafted.pd"):
        paddle.load(path)


def test_an_ordered_dict_state_is_not_kept(tmp_path):
    body = call(name("collections", "OrderedDict"), P.EMPTY_LIST) + P.EMPTY_DICT + text("x") + integer(1) \
        + P.SETITEM + P.BUILD
    path = tmp_path / "od.pd"
    path.write_bytes(program(body))
    loaded = paddle.load(path)
    assert type(loaded) is collections.OrderedDict and not hasattr(loaded, "x")


def test_the_data_numpy_writes_still_reads(tmp_path):
    """Every plain dtype, byte order, Fortran order, scalars and dtypes, with the protocols save offers
    (and Python 2's spelling: str data read as latin1)."""
    values = {"f16": np.array([1.5, -0.0], np.float16), "c64": np.array([1 + 2j], np.complex64),
              "bool": np.array([True, False]), "big-endian": np.arange(3, dtype=">f8"),
              "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "strings": np.array(["ab", "c"]),
              "bytes": np.array([b"x"]), "dates": np.array(["2020-01-01"], "M8[5s]"),
              "delta": np.array([3], "m8[D]"), "empty": np.zeros((0, 3), np.float32),
              "scalar": np.float32(1.25), "dtype": np.dtype(">i2"), "zero-d": np.array(7, np.int64)}
    for protocol in (2, 3, 4):  # paddle.save's; numpy writes protocol 5 with _frombuffer, not allowed
        data = pickle.dumps(values, protocol=protocol)
        path = tmp_path / f"numpy{protocol}.pd"
        path.write_bytes(data)
        loaded, unpickled = paddle.load(path, return_numpy=True), pickle.loads(data)  # numpy's own reading
        for key, value in values.items():
            got = loaded[key]
            assert type(got) is type(value) and getattr(got, "dtype", got) == getattr(unpickled[key], "dtype",
                                                                                   unpickled[key]), key
            if key != "dtype":
                np.testing.assert_array_equal(got, value, err_msg=key)
        assert loaded["fortran"].flags.f_contiguous
    python2 = call(name("numpy.core.multiarray", "_reconstruct"), name("numpy", "ndarray"), tup(integer(0)),
                   P.SHORT_BINSTRING + b"\x01b") + tup(
        integer(1), tup(integer(2)), call(name("numpy", "dtype"), P.SHORT_BINSTRING + b"\x02f8", integer(0),
                                          integer(1)) + tup(integer(3), P.SHORT_BINSTRING + b"\x01<", P.NONE, P.NONE,
                                                            P.NONE, integer(-1), integer(-1), integer(0)) + P.BUILD,
        P.NEWFALSE, P.SHORT_BINSTRING + bytes([16]) + struct.pack("<2d", 1.0, 2.0)) + P.BUILD
    path = tmp_path / "python2.pd"
    path.write_bytes(program(python2))
    np.testing.assert_array_equal(paddle.load(path, return_numpy=True), [1.0, 2.0])


def test_protocol_2_writes_an_empty_array_with_bytes_and_it_reads_back(tmp_path):
    # numpy's empty array data is b"", which protocol 2 spells builtins.bytes() (was refused).
    for protocol in (2, 3, 4):
        paddle.save({"e": paddle.zeros([0, 3])}, tmp_path / "e.pd", protocol=protocol)
        assert paddle.load(tmp_path / "e.pd")["e"].shape == [0, 3]
