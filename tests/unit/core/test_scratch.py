from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kiln.core.scratch import new_dir, new_file, remove_tree


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_scratch_files_and_folders_are_new_and_private(tmp_path: Path) -> None:
    fd, path = new_file(str(tmp_path), prefix=".x.", suffix=".tmp")
    os.write(fd, b"data")
    os.close(fd)
    folder = new_dir(str(tmp_path), prefix="d-")
    assert Path(path).read_bytes() == b"data"
    assert os.path.basename(path).startswith(".x.") and path.endswith(".tmp")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    names = {new_file(str(tmp_path))[1] for _ in range(20)}
    assert len(names) == 20


def test_a_taken_name_is_never_opened_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiln.core import scratch

    (tmp_path / "taken").write_text("keep")
    names = iter([str(tmp_path / "taken"), str(tmp_path / "free")])
    monkeypatch.setattr(scratch, "_names", lambda *args: names)
    fd, path = new_file(str(tmp_path))
    os.close(fd)
    assert path == str(tmp_path / "free")
    assert (tmp_path / "taken").read_text() == "keep"


def test_remove_tree_removes_everything_below_and_nothing_a_link_points_to(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("x")
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "f").write_text("x")
    (tree / "g").write_text("x")
    (tree / "a" / "link").symlink_to(outside, target_is_directory=True)
    (tree / "file-link").symlink_to(outside / "precious")
    remove_tree(str(tree))
    assert not tree.exists()
    assert (outside / "precious").read_text() == "x"


def test_remove_tree_takes_a_file_a_link_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / "target").mkdir()
    (tmp_path / "l").symlink_to(tmp_path / "target", target_is_directory=True)
    remove_tree(str(tmp_path / "f"))
    remove_tree(str(tmp_path / "l"))
    remove_tree(str(tmp_path / "missing"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]
