"""The shared argparse types of lasandbox.utils.cliargs."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from lasandbox.utils.cliargs import (
    EXISTING_FILE,
    FILE_PATH,
    OUTPUT_DIR,
    SEEDS,
    check_file_path,
    check_output_dir,
    int_at_least,
    int_list,
)


def test_int_at_least_takes_the_bound_and_refuses_below_it_or_non_ints():
    assert int_at_least(0)("0") == 0 and SEEDS("3") == 3
    for text in ("-1", "1.5", "abc", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="must be an int >= 0"):
            int_at_least(0)(text)
    with pytest.raises(argparse.ArgumentTypeError, match="got 0"):
        SEEDS("0")


def test_int_list_skips_empty_items_and_refuses_the_rest():
    assert int_list("10,14, 20") == [10, 14, 20]
    assert int_list("10,") == [10]
    for text, shown in (("abc", "got 'abc'$"), ("10,x", "got 'x' in '10,x'"), (",", "got ','"), ("", "got ''")):
        with pytest.raises(argparse.ArgumentTypeError, match=shown):
            int_list(text)


def test_output_dir_takes_a_folder_or_a_new_path_and_refuses_a_file_in_the_way(tmp_path):
    afile = tmp_path / "f"
    afile.write_text("x")
    assert check_output_dir(tmp_path) == tmp_path
    assert OUTPUT_DIR(str(tmp_path / "new" / "deeper")) == tmp_path / "new" / "deeper"
    with pytest.raises(ValueError, match="exists and is not a folder"):
        check_output_dir(afile)
    with pytest.raises(argparse.ArgumentTypeError, match="inside .* which is not a folder"):
        OUTPUT_DIR(str(afile / "sub" / "deeper"))
    assert not (tmp_path / "new").exists()  # checking makes nothing


def test_file_path_takes_a_file_or_a_new_path_and_refuses_folders_and_devices(tmp_path):
    afile = tmp_path / "store.sqlite"
    afile.write_text("")
    assert check_file_path(afile) == afile and FILE_PATH(str(tmp_path / "new.sqlite")) == tmp_path / "new.sqlite"
    with pytest.raises(ValueError, match="is a folder"):
        check_file_path(tmp_path)
    with pytest.raises(ValueError, match="which is not a folder"):
        check_file_path(afile / "x.sqlite")
    if Path("/dev/null").exists():
        with pytest.raises(ValueError, match="not a regular file"):
            check_file_path("/dev/null")


def test_existing_file_wants_the_file_to_be_there(tmp_path):
    afile = tmp_path / "store.sqlite"
    afile.write_text("")
    assert EXISTING_FILE(str(afile)) == afile
    with pytest.raises(argparse.ArgumentTypeError, match="no such file"):
        EXISTING_FILE(str(tmp_path / "missing.sqlite"))
    with pytest.raises(argparse.ArgumentTypeError, match="is a folder"):
        EXISTING_FILE(str(tmp_path))
