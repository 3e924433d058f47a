"""Helper processes for CPU-bound work that would otherwise hold the GIL beside the threads
waiting on the network.

A cold lock mixes waiting (index pages, METADATA) with Python-level work (decoding JSON
pages) in one process, where the work holds the GIL the waiting threads need to make
progress, and a second core stays idle. A `HelperPool` runs such work in helper processes:
plain `python -c` runs of this interpreter, given this process's `sys.path` so that they
import the same kiln and the same libraries.

A job names a function by module and name; it gets its arguments (plain `marshal` values)
and one bytes payload, sent as it is, and answers with bytes. The asking side treats any
failure alike: a helper that cannot start, dies, or whose job raises gives None, and the
caller does the work itself, which then fails or succeeds as it always did. A helper never
decides an outcome; it only saves time.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import marshal
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, cast

# What a job's arguments may be: values `marshal` carries without running code.
Arg = str | int | float | bool | bytes | None
Job = Callable[[tuple[Arg, ...], bytes], bytes]

_HEAD = struct.Struct(">Q")
_READY = b"ready"
# A job's answer is never empty (`serve` makes sure): an empty answer is a failure.
_FAILED = b""

_BOOT = (
    "import sys; sys.path[:] = sys.argv[2:]; from kiln.core.helper_processes import main; "
    "main(sys.argv[1])"
)


def main(preload: str) -> None:
    """A helper process: frames on stdin and on a copy of stdout, which itself goes to the
    null device, so that nothing a module prints can land among the frames."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
    serve(preload, sys.stdin.buffer, answers)


def serve(preload: str, requests: IO[bytes], answers: IO[bytes]) -> None:
    """A helper's loop: it imports the modules named in ``preload`` (comma-separated), says
    it is ready, then answers each job (a frame naming it and its arguments, then a frame of
    payload) until the asking process closes its end."""
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        for module in filter(None, preload.split(",")):
            importlib.import_module(module)
        _write_frame(answers, _READY)
        while (about := _read_frame(requests)) is not None:
            payload = _read_frame(requests)
            if payload is None:
                break
            _write_frame(answers, _answer(about, payload))
            del about, payload  # a large page is not kept while the next one is awaited


def _answer(about: bytes, payload: bytes) -> bytes:
    try:
        target, args = marshal.loads(about)
        module, _, name = target.partition(":")
        job = cast("Job", getattr(importlib.import_module(module), name))
        return job(tuple(args), payload) or _FAILED
    except Exception:  # the asking process does the work itself, and says why it failed
        return _FAILED


class _Helper:
    """One helper process, asked one job at a time."""

    def __init__(self, preload: str) -> None:
        if not sys.executable:  # an embedded interpreter: nothing to start
            raise OSError("no interpreter to start a helper with")
        # This process's path as it is (a folder moved ahead of the standard library could
        # shadow it), with the folder kiln came from first only when an import hook found it.
        here = str(Path(__file__).resolve().parents[2])
        paths = [str(p) for p in sys.path]
        if here not in {os.path.abspath(p) for p in paths}:
            paths.insert(0, here)
        flags = ["-I", "-S"]
        if sys.dont_write_bytecode:
            flags.append("-B")
        if sys.pycache_prefix:
            flags += ["-X", f"pycache_prefix={sys.pycache_prefix}"]
        self.process = subprocess.Popen(
            [sys.executable, *flags, "-c", _BOOT, preload, *paths],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def booted(self) -> bool:
        """Whether the helper started and imported what it was to preload (it says so)."""
        assert self.process.stdout is not None
        return _read_frame(self.process.stdout) == _READY

    def ask(self, about: bytes, payload: bytes) -> bytes | None:
        process = self.process
        assert process.stdin is not None and process.stdout is not None
        # The payload goes as it is: a copy of a large page is memory nothing needs.
        _write_frame(process.stdin, about)
        _write_frame(process.stdin, payload)
        answer = _read_frame(process.stdout)
        if answer is None:
            raise OSError("the helper ended")
        return answer or None

    def close(self) -> None:
        # Its end of the pipe closed, the helper ends by itself: nothing here waits for it.
        with contextlib.suppress(OSError, ValueError):
            if self.process.stdin is not None:
                self.process.stdin.close()

    def end(self) -> None:
        """Stop a helper that is not to be asked again, whatever it is doing."""
        self.close()
        with contextlib.suppress(OSError):
            self.process.kill()
            self.process.wait()


class HelperPool:
    """Up to ``size`` helpers, started when the first job comes, each preloading the
    modules its jobs need.

    A helper takes about 0.15 s to start; until one has, `ask` answers None at once and the
    caller does the job itself (the first job is often on the critical path, and would
    wait). Once one runs, a job waits for a free helper rather than being done here: doing
    it here whenever all were busy made the cold ML lock 0.3-0.6 s slower than waiting, the
    work competing with the resolver for the GIL.
    """

    def __init__(self, size: int, preload: Sequence[str] = ()) -> None:
        self._size = max(1, size)
        self._preload = ",".join(preload)
        self._lock = threading.Lock()
        self._free = threading.Condition(self._lock)
        self._idle: list[_Helper] = []
        self._started = 0
        self._running = 0
        self._broken = False

    def ask(self, target: str, args: tuple[Arg, ...], payload: bytes = b"") -> bytes | None:
        """``target``'s answer (``"kiln.module:function"``, a `Job`) to ``args`` and
        ``payload``, from a helper; None when no helper could answer."""
        about = marshal.dumps((target, args))
        helper = self._take()
        if helper is None:
            return None
        try:
            answer = helper.ask(about, payload)
        except (OSError, ValueError):
            self._lost(helper)
            return None
        except BaseException:
            # Interrupted (Ctrl-C) between a request and its answer: the helper cannot be
            # asked again, and callers waiting for it must not wait forever.
            self._lost(helper)
            raise
        with self._lock:
            self._idle.append(helper)
            self._free.notify()
        return answer

    def _take(self) -> _Helper | None:
        with self._lock:
            if self._started < self._size and not self._broken:
                self._started += 1
                starter = threading.Thread(target=self._start, name="kiln-helper", daemon=True)
                try:
                    starter.start()
                except RuntimeError:  # no thread to be had: the work is done here
                    self._broken = True
                    self._free.notify_all()
            while not self._broken and self._running:
                if self._idle:
                    return self._idle.pop()
                self._free.wait()
            return None

    def _start(self) -> None:
        try:
            helper = _Helper(self._preload)
        except Exception:  # whatever stops a start (a path Popen refuses): done here instead
            self._lost(None)
            return
        atexit.register(helper.close)
        try:
            booted = helper.booted()
        except (OSError, ValueError):
            booted = False
        if not booted:
            self._lost(helper)
            return
        with self._lock:
            self._running += 1
            self._idle.append(helper)
            self._free.notify()

    def _lost(self, helper: _Helper | None) -> None:
        # A helper that could not start or died is not tried again: the work is done here
        # from then on.
        if helper is not None:
            helper.end()
        with self._lock:
            self._broken = True
            self._free.notify_all()


def spare_cores(most: int = 4) -> int:
    """One helper per core this process leaves idle, at least one, at most ``most`` (the
    cores it may run on, where the system says)."""
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    return max(1, min(most, cores - 1))


def _write_frame(out: IO[bytes], data: bytes) -> None:
    out.write(_HEAD.pack(len(data)))
    out.write(data)
    out.flush()


def _read_frame(source: IO[bytes]) -> bytes | None:
    head = source.read(_HEAD.size)
    if len(head) < _HEAD.size:
        return None
    (size,) = _HEAD.unpack(head)
    data = source.read(size)
    if len(data) < size:
        return None
    return data
