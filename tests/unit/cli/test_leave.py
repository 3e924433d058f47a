"""The program's exit skips the interpreter's teardown but keeps everything a reader sees."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import kiln
from tests.support.pythons import interpreter_for


def _program(body: str) -> subprocess.CompletedProcess[str]:
    code = "from kiln.cli.main import leave\n" + textwrap.dedent(body)
    # Buffered output, as a user's terminal-less run has it: nothing written through early.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
        env=env,
    )  # fmt: skip


def test_buffered_output_and_exit_handlers_survive(tmp_path: Path) -> None:
    marker = tmp_path / "handler-ran"
    done = _program(f"""
        import atexit, pathlib, sys
        atexit.register(pathlib.Path({str(marker)!r}).write_text, "yes")
        sys.stdout.write("out, never flushed")
        sys.stderr.write("err, never flushed")
        leave(3)
    """)
    assert done.returncode == 3
    assert done.stdout == "out, never flushed"
    assert done.stderr == "err, never flushed"
    assert marker.read_text() == "yes"


@pytest.mark.parametrize("daemon", [False, True], ids=["alone", "beside a daemon thread"])
def test_teardown_is_skipped(daemon: bool) -> None:
    # A finalizer the teardown would run at exit: skipped, so the heap was not taken apart.
    # A daemon thread still running (a request that lost a race) changes nothing.
    started = "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()"
    done = _program(f"""
        import threading, time
        class Noisy:
            def __del__(self):
                print("torn down")
        kept = Noisy()
        {started if daemon else ""}
        leave(0)
    """)
    assert done.returncode == 0
    assert "torn down" not in done.stdout


def test_a_thread_still_running_is_waited_for(tmp_path: Path) -> None:
    marker = tmp_path / "thread-finished"
    done = _program(f"""
        import pathlib, threading, time
        def work():
            time.sleep(0.3)
            pathlib.Path({str(marker)!r}).write_text("done")
        threading.Thread(target=work).start()
        leave(5)
    """)
    assert done.returncode == 5
    assert marker.read_text() == "done"


def _newer_python() -> str | None:
    """An interpreter from 3.12 on, where cProfile watches through `sys.monitoring`."""
    if sys.version_info >= (3, 12):
        return sys.executable
    found = interpreter_for("3.13") or interpreter_for("3.12")
    return None if found is None else str(found)


@pytest.mark.parametrize("which", ["this", "3.12 or later"])
def test_a_profiler_still_gets_to_write(tmp_path: Path, which: str) -> None:
    python = sys.executable if which == "this" else _newer_python()
    if python is None:
        pytest.skip("no CPython 3.12 or later on this machine")
    stats = tmp_path / "stats"
    script = tmp_path / "script.py"
    script.write_text("from kiln.cli.main import leave\nleave(0)\n")
    # `kiln.cli.main` imports only the standard library: any interpreter can load it.
    env = {**os.environ, "PYTHONPATH": str(Path(kiln.__file__).parent.parent)}
    done = subprocess.run(
        [python, "-m", "cProfile", "-o", str(stats), str(script)],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert stats.stat().st_size > 0
