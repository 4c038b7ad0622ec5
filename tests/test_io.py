"""Atomic writes: complete files only, with the permissions any new file would get."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from kryptonite_n.io import atomic_path, write_csv


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_written_files_get_the_umasks_permissions(tmp_path, umask):
    previous = os.umask(umask)
    try:
        write_csv(tmp_path / "table.csv", pd.DataFrame({"a": [1]}))
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "table.csv").stat().st_mode)
    assert mode == 0o666 & ~umask  # a group on shared storage reads what its umask allows


def test_a_failed_write_leaves_neither_the_file_nor_its_temporary(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed half-way")
    assert list(tmp_path.iterdir()) == []
