"""Large JSON index pages decoded and grouped in helper processes.

A cold lock of a 30-package ML project reads 48 MB of JSON pages: decoding them and grouping
their hundred thousand entries took 1.2-1.5 s of CPU, all of it holding the GIL that the
resolver, the network threads and the METADATA parser wait for, while the machine's other
cores sat idle. A page of `LARGE` bytes or more is handed to a helper process, which answers
with the page's releases in the form `parsed_pages` stores them (`stored_form`): reading
that back costs little, and what it holds is what a parse here would have made.

A helper is a plain `python -c` of this interpreter, given this process's `sys.path` so
that it imports the same kiln and the same libraries. It holds no state between pages and
touches no file: a helper that cannot start, dies or fails a page costs nothing but the
parse here, which then reports the page's fault as any parse does.
"""

from __future__ import annotations

import atexit
import contextlib
import marshal
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

# Smaller pages parse in less time than the round trip to a helper costs.
LARGE = 256 * 1024

_HEAD = struct.Struct(">Q")
_READY = b"ready"
# A stored form is never empty: an empty answer says the page could not be parsed.
_FAILED = b""

_BOOT = (
    "import sys; sys.path[:] = sys.argv[1:]; "
    "from kiln.index.page_worker import serve; serve(sys.stdin.buffer, sys.stdout.buffer)"
)


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """A helper's loop: each request is a page in two frames (its URL and index label, then
    its body), each answer its `stored_form` or, empty, a failure; it ends when the asking
    process closes its end."""
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        from kiln.index import parsed_pages, simple_api  # noqa: F401  (imported before ready)

        _write_frame(answers, _READY)
        while (about := _read_frame(requests)) is not None:
            body = _read_frame(requests)
            if body is None:
                break
            answer, made = _answer(about, body)
            _write_frame(answers, answer)
            # Freeing a large page's hundred thousand objects takes a while: done now, while
            # the asking process reads the answer, not when the next page has come.
            del about, body, answer, made


def _answer(about: bytes, body: bytes) -> tuple[bytes, object]:
    from kiln.index.parsed_pages import group_entries, stored_form
    from kiln.index.simple_api import JsonEntries, json_page_entries

    try:
        page_url, shown = marshal.loads(about)
        entries = json_page_entries(body, page_url, shown)
        releases = group_entries(JsonEntries(entries, page_url), shown)
        return stored_form(releases, page_url), (entries, releases)
    except Exception:  # the asking process parses the page itself, and says why
        return _FAILED, None


class _Helper:
    """One helper process, asked one page at a time."""

    def __init__(self) -> None:
        if not sys.executable:  # an embedded interpreter: nothing to start
            raise OSError("no interpreter to start a helper with")
        here = Path(__file__).resolve().parents[2]  # the folder `kiln` is imported from
        paths = [str(here), *(p for p in sys.path if p and p != str(here))]
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _BOOT, *paths],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def booted(self) -> bool:
        """Whether the helper started and imported what it needs (it says so first)."""
        assert self.process.stdout is not None
        return _read_frame(self.process.stdout) == _READY

    def ask(self, page_url: str, shown: str, body: bytes) -> bytes | None:
        process = self.process
        assert process.stdin is not None and process.stdout is not None
        # The body goes as it is: a copy of a large page is memory the lock does not need.
        _write_frame(process.stdin, marshal.dumps((page_url, shown)))
        _write_frame(process.stdin, body)
        answer = _read_frame(process.stdout)
        if answer is None:
            raise OSError("the page helper ended")
        return answer or None

    def close(self) -> None:
        # Its end of the pipe closed, the helper ends by itself: nothing here waits for it.
        with contextlib.suppress(OSError, ValueError):
            if self.process.stdin is not None:
                self.process.stdin.close()


class PageHelpers:
    """Helper processes, one per spare core (at least one), started when the first large
    page comes.

    A helper takes about 0.15 s to start; until one has, pages are parsed here (the first
    page of a small lock is often its largest, and it would wait). Once one runs, a page
    waits for a free helper rather than being parsed here: parsing here whenever all were
    busy made the cold ML lock 0.3-0.6 s slower than waiting, the parse competing with the
    resolver for the GIL.
    """

    def __init__(self, size: int | None = None) -> None:
        self._size = size if size is not None else max(1, min(4, (os.cpu_count() or 1) - 1))
        self._lock = threading.Lock()
        self._free = threading.Condition(self._lock)
        self._idle: list[_Helper] = []
        self._started = 0
        self._running = 0
        self._broken = False

    def stored_form(self, page_url: str, shown: str, body: bytes) -> bytes | None:
        """What `parsed_pages.stored_form` makes of this JSON page, made by a helper; None
        when no helper could (the caller parses the page itself)."""
        helper = self._take()
        if helper is None:
            return None
        try:
            answer = helper.ask(page_url, shown, body)
        except (OSError, ValueError):
            self._lost(helper)
            return None
        with self._lock:
            self._idle.append(helper)
            self._free.notify()
        return answer

    def _take(self) -> _Helper | None:
        with self._lock:
            if self._started < self._size and not self._broken:
                self._started += 1
                threading.Thread(target=self._start, name="kiln-page-helper", daemon=True).start()
            while not self._broken and self._running:
                if self._idle:
                    return self._idle.pop()
                self._free.wait()
            return None

    def _start(self) -> None:
        try:
            helper = _Helper()
        except (OSError, ValueError):
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
        # A helper that could not start or died is not tried again: the pages are parsed
        # here from then on.
        if helper is not None:
            helper.close()
        with self._lock:
            self._broken = True
            self._free.notify_all()


_shared: PageHelpers | None = None
_shared_lock = threading.Lock()


def page_helpers() -> PageHelpers:
    """The process's helpers, shared by every finder."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PageHelpers()
        return _shared


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
