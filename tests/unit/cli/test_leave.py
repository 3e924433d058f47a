"""The program's exit skips the interpreter's teardown but keeps everything a reader sees."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


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


def test_teardown_is_skipped() -> None:
    # A finalizer the teardown would run at exit: skipped, so the heap was not taken apart.
    done = _program("""
        class Noisy:
            def __del__(self):
                print("torn down")
        kept = Noisy()
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


def test_a_profiler_still_gets_to_write(tmp_path: Path) -> None:
    stats = tmp_path / "stats"
    script = tmp_path / "script.py"
    script.write_text("from kiln.cli.main import leave\nleave(0)\n")
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats), str(script)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0
    assert stats.stat().st_size > 0
