"""mdnlib.files: atomic writes and the cleaning of orphaned temporary files."""
import os
import subprocess
import sys

import numpy as np
import pytest

from mdnlib.files import atomic_path, check_writable, remove_stale_temporaries


def test_atomic_path_renames_on_success_with_normal_permissions(tmp_path):
    target = tmp_path / "sub" / "out.npz"
    with atomic_path(target) as temporary:
        assert temporary.parent == target.parent and temporary.suffix == ".npz" and temporary.exists()
        np.savez(temporary, x=np.arange(3))
        assert not target.exists()
    assert np.load(target)["x"].tolist() == [0, 1, 2]
    assert list(target.parent.iterdir()) == [target]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_atomic_path_keeps_the_old_file_and_removes_the_temporary_on_error(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_path_refuses_a_folder_before_writing(tmp_path):
    with pytest.raises(IsADirectoryError, match="give a file name"):
        with atomic_path(tmp_path):
            pytest.fail("the body must not run")


def test_stale_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    target = tmp_path / "cache.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    orphan = tmp_path / f".cache.{dead}-0123abcd.tmp.npz"
    live = tmp_path / f".cache.{os.getpid()}-0123abcd.tmp.npz"
    other = tmp_path / f".other.{dead}-0123abcd.tmp.npz"
    for path in (orphan, live, other):
        path.write_bytes(b"partial")
    assert remove_stale_temporaries(target) == [orphan]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])


def test_check_writable_leaves_nothing_and_names_the_folder_that_refuses(tmp_path, monkeypatch):
    check_writable(tmp_path / "new" / "out.npz")
    assert [p.name for p in tmp_path.rglob("*")] == ["new"]   # only the folder it would write into
    with pytest.raises(IsADirectoryError):
        check_writable(tmp_path)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(OSError) as error:
        check_writable(tmp_path / "a_file" / "out.npz")
    assert "a_file" in error.value.filename

    def refuse(path, *args):       # root ignores permission bits: inject the fault
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError) as error:
        check_writable(tmp_path / "out.npz")
    assert error.value.filename == str(tmp_path) and "cannot write out.npz here" in error.value.strerror
