"""The modes of what `kiln.cache.atomic` writes: those of the file replaced, else the umask's."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiln.cache import atomic


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def forget_umask() -> None:
    # The umask is read once per process; these tests change it.
    cached = getattr(atomic, "umask", None)
    if cached is not None:
        cached.cache_clear()


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    forget_umask()
    try:
        yield
    finally:
        os.umask(old)
        forget_umask()


def test_the_umask_is_read_without_changing_it(umask_022: None) -> None:
    assert atomic.umask() == 0o022
    assert os.umask(0o022) == 0o022


def test_a_new_file_gets_what_the_umask_allows(umask_022: None, tmp_path: Path) -> None:
    atomic.write_text(tmp_path / "new.toml", "a = 1\n")
    atomic.write_bytes(tmp_path / "deep" / "er" / "new.bin", b"\0")
    atomic.write_text(tmp_path / "run.sh", "#!/bin/sh\n", executable=True)
    assert mode(tmp_path / "new.toml") == 0o644
    assert mode(tmp_path / "deep" / "er" / "new.bin") == 0o644
    assert mode(tmp_path / "run.sh") == 0o755


@pytest.mark.parametrize("before", [0o600, 0o664, 0o640, 0o755], ids=oct)
def test_a_rewrite_keeps_the_mode_of_the_file_it_replaces(
    umask_022: None, tmp_path: Path, before: int
) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("old\n")
    path.chmod(before)
    atomic.write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert mode(path) == before


def test_a_staged_folder_gets_what_the_umask_allows(umask_022: None, tmp_path: Path) -> None:
    final = tmp_path / "entries" / "abc"
    with atomic.staged_dir(final, tmp_path / "scratch") as staging:
        (staging / "inner").mkdir()
        (staging / "inner" / "file").write_text("x")
    assert mode(final) == 0o755
    assert mode(final / "inner") == 0o755
    assert mode(final / "inner" / "file") == 0o644


def test_a_stricter_umask_is_honoured(tmp_path: Path) -> None:
    old = os.umask(0o077)
    forget_umask()
    try:
        atomic.write_text(tmp_path / "private", "x")
        with atomic.staged_dir(tmp_path / "dir", tmp_path / "scratch"):
            pass
        assert mode(tmp_path / "private") == 0o600
        assert mode(tmp_path / "dir") == 0o700
    finally:
        os.umask(old)
        forget_umask()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="no /proc here")
def test_the_umask_is_read_from_proc_not_by_setting_it(
    umask_022: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Setting the umask to read it would, for that instant, change it for every thread.
    def refuse(mask: int) -> int:
        raise AssertionError(f"os.umask({mask:#o}) called")

    monkeypatch.setattr(os, "umask", refuse)
    assert atomic.umask() == 0o022


def test_without_proc_the_umask_is_still_found(
    umask_022: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = open

    def no_proc(file: object, *args: object, **kwargs: object) -> object:
        if file == "/proc/self/status":
            raise FileNotFoundError(file)
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", no_proc)
    assert atomic.umask() == 0o022
    assert os.umask(0o022) == 0o022
