"""What an install or uninstall cut short leaves, as the next run sees and removes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kiln.cache.layout import Cache
from kiln.install.installed import read_installed
from kiln.install.interrupted import INCOMPLETE, begin_install, scratch_dir, sweep_debris
from kiln.install.record import RecordEntry, format_record
from kiln.install.uninstall import uninstall

from .conftest import Venv


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid names no process now
    return child.pid


def test_scratch_of_a_dead_process_is_swept_and_a_live_ones_kept(tmp_path: Path) -> None:
    live = Path(scratch_dir(".kiln-uninstall-", str(tmp_path)))
    dead = tmp_path / f".kiln-install-{dead_pid()}-abc"
    dead.mkdir()
    (dead / "half").write_text("")
    unrelated = tmp_path / ".kiln-install-notapid"
    unrelated.mkdir()
    sweep_debris([tmp_path])
    assert live.is_dir() and unrelated.is_dir() and not dead.exists()


def test_a_dist_info_marked_incomplete_is_read_as_incomplete_even_without_metadata(
    tmp_path: Path,
) -> None:
    meta = tmp_path / "demo-1.0.dist-info"
    begin_install(meta, ["demo/__init__.py", "demo-1.0.dist-info/RECORD"])
    assert sorted(os.listdir(meta)) == [INCOMPLETE]
    dist = read_installed(meta)
    assert dist is not None and dist.incomplete
    assert (dist.name, str(dist.version)) == ("demo", "1.0")
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".kiln-install-")]


def test_an_interrupted_install_is_removed_by_what_its_mark_lists(venv: Venv, cache: Cache) -> None:
    site = venv.scheme.purelib
    meta = site / "demo-1.0.dist-info"
    begin_install(meta, ["demo/__init__.py", "demo/gone.py", "demo-1.0.dist-info/RECORD"])
    (site / "demo").mkdir()
    (site / "demo" / "__init__.py").write_text("")  # linked before the kill; gone.py was not
    dist = read_installed(meta)
    assert dist is not None and dist.incomplete
    uninstall(dist, venv.scheme)
    assert not (site / "demo").exists() and not meta.exists()


def test_an_uninstall_cut_after_its_files_moved_is_finished_by_the_next(
    venv: Venv, cache: Cache
) -> None:
    site = venv.scheme.purelib
    meta = site / "demo-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Name: demo\nVersion: 1.0\n\n")
    listing = [RecordEntry(p) for p in ("demo/__init__.py", "demo-1.0.dist-info/METADATA")]
    (meta / "RECORD").write_bytes(format_record(listing))
    (meta / INCOMPLETE).write_bytes(b"")
    (site / "demo").mkdir()  # its files were moved away, the folder stayed
    (meta / "METADATA").unlink()  # moved away with the rest; RECORD and the mark stay last
    dist = read_installed(meta)
    assert dist is not None and dist.incomplete
    uninstall(dist, venv.scheme)
    assert not (site / "demo").exists() and not meta.exists()
