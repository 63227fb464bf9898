"""Damaged and half-written checkpoints: a clear error naming the file, and the previous file kept."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import lasandbox as paddle
from lasandbox.serialization import CorruptCheckpointError
from lasandbox.serialization.checksum import TRAILER_SIZE

FIXTURES = Path(__file__).parent / "fixtures" / "paddle_checkpoints"
ROOT = Path(__file__).parents[1]


def _lasandbox_file(tmp_path):
    paddle.seed(0)
    model = paddle.nn.Linear(4, 3)
    path = tmp_path / "ckpt.pdparams"
    paddle.save({"model": model.state_dict(), "epoch": 2}, path)
    return path


@pytest.mark.parametrize("source", ["paddle", "lasandbox"])
def test_every_truncation_is_a_value_error_naming_the_file(tmp_path, source):
    data = (FIXTURES / "nested.pdparams" if source == "paddle" else _lasandbox_file(tmp_path)).read_bytes()
    path = tmp_path / "cut.pdparams"
    whole_pickle = len(data) - (TRAILER_SIZE if source == "lasandbox" else 0)
    for length in range(len(data)):
        path.write_bytes(data[:length])
        if length == whole_pickle:  # cut exactly before the checksum: the data is whole, and reads
            assert paddle.load(path)["epoch"] == 2
            continue
        with pytest.raises(CorruptCheckpointError, match="cut.pdparams") as info:
            paddle.load(path)
        assert isinstance(info.value, ValueError)
    for length in range(0, whole_pickle, 7):  # file objects too (named by their type; a stream may go on)
        with pytest.raises(CorruptCheckpointError, match="BytesIO"):
            paddle.load(io.BytesIO(data[:length]))


def test_every_changed_byte_of_a_lasandbox_file_is_caught(tmp_path):
    data = _lasandbox_file(tmp_path).read_bytes()
    path = tmp_path / "flip.pdparams"
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x20
        path.write_bytes(bytes(damaged))
        with pytest.raises(CorruptCheckpointError, match="flip.pdparams"):
            paddle.load(path)


def test_bytes_appended_after_a_checkpoint_are_reported(tmp_path):
    path = tmp_path / "tail.pdparams"
    path.write_bytes((FIXTURES / "model.pdparams").read_bytes() + b"junk")
    with pytest.raises(CorruptCheckpointError, match="4 unexpected bytes"):
        paddle.load(path)


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pdparams"
    paddle.save({"w": paddle.to_tensor([1.0])}, path)
    before = path.read_bytes()

    real_fdopen = os.fdopen

    class FullDisk:  # writes part of what it is given, then fails as a full disk does
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(bytes(data[: len(data) // 2]))
            raise OSError(28, "No space left on device")

    monkeypatch.setattr("lasandbox.utils.atomic.os.fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="No space"):
        paddle.save({"w": paddle.to_tensor([2.0])}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pdparams"]


def test_saved_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        paddle.save({"a": 1}, tmp_path / "m.pd")
    finally:
        os.umask(old)
    assert (tmp_path / "m.pd").stat().st_mode & 0o777 == 0o640


KILLED_SAVE = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import lasandbox as paddle

    path, mode = sys.argv[1], sys.argv[2]
    if mode == "before-replace":  # the worst moment: everything written, not yet renamed
        os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
    big = {f"layer{i}.weight": paddle.to_tensor(np.full((1024, 1024), i, np.float32)) for i in range(48)}
    print("saving", flush=True)
    paddle.save(big, path)
    print("saved", flush=True)
    """
)


def _start_killed_save(tmp_path, mode):
    path = tmp_path / "ckpt.pdparams"
    paddle.save({"version": 1, "w": paddle.to_tensor([1.0, 2.0])}, path)
    before = path.read_bytes()
    script = tmp_path / "killed_save.py"
    script.write_text(KILLED_SAVE)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, str(script), str(path), mode], stdout=subprocess.PIPE, env=env,
                             text=True)
    return path, before, child


def test_kill_9_in_the_middle_of_a_save_keeps_the_previous_checkpoint(tmp_path):
    path, before, child = _start_killed_save(tmp_path, "mid-write")
    try:
        assert child.stdout.readline().strip() == "saving"
        deadline = time.monotonic() + 120
        temporaries = []
        # Kill as soon as the temporary file has some bytes in it: the 192 MiB save is then under way.
        while time.monotonic() < deadline and child.poll() is None:
            temporaries = [p for p in tmp_path.glob(".ckpt.pdparams.*.tmp") if p.stat().st_size > 0]
            if temporaries:
                break
            time.sleep(0.001)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert temporaries, "the save finished before the kill (the test could not interrupt it)"
    assert child.returncode == -signal.SIGKILL
    assert temporaries[0].stat().st_size < 48 * 4 * 2**20  # it was killed mid-write
    assert path.read_bytes() == before
    assert paddle.load(path)["version"] == 1


def test_kill_9_after_writing_but_before_the_rename_keeps_the_previous_checkpoint(tmp_path):
    path, before, child = _start_killed_save(tmp_path, "before-replace")
    out, _ = child.communicate(timeout=300)
    assert child.returncode == -signal.SIGKILL and "saved" not in out
    assert path.read_bytes() == before
    loaded = paddle.load(path)
    assert loaded["version"] == 1 and np.array_equal(loaded["w"].numpy(), [1.0, 2.0])
    stray = list(tmp_path.glob(".ckpt.pdparams.*.tmp"))
    assert len(stray) == 1  # the complete but never renamed new file, hidden beside the old one
