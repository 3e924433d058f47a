"""Progress on a terminal (projects being resolved, files being downloaded); nothing at all
when stderr is not one (CI, pipes, tests) or with `-q`."""

from __future__ import annotations

import sys
import threading
from typing import Any

from kiln.core.protocols import ProgressCallback, Reporter, SilentReporter


class RichReporter:
    """One bar per file being downloaded, drawn by rich (imported only when a bar is needed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._resolving: Any = None

    def _ensure(self) -> Any:
        if self._progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
        return self._progress

    def download_started(self, key: str, label: str, total: int | None) -> ProgressCallback:
        with self._lock:
            progress = self._ensure()
            if self._resolving is not None:
                # Downloads start once resolving is done.
                progress.remove_task(self._resolving)
                self._resolving = None
            task = progress.add_task(label, total=total)
            self._tasks[key] = task

        def advance(advanced_bytes: int) -> None:
            progress.update(task, advance=advanced_bytes)

        return advance

    def resolving(self, name: str, seen: int) -> None:
        with self._lock:
            progress = self._ensure()
            label = f"Resolving {seen} packages: {name}"
            if self._resolving is None:
                self._resolving = progress.add_task(label, total=None)
            else:
                progress.update(self._resolving, description=label)

    def download_finished(self, key: str) -> None:
        with self._lock:
            task = self._tasks.pop(key, None)
            if task is not None and self._progress is not None:
                self._progress.remove_task(task)

    def close(self) -> None:
        with self._lock:
            self._resolving = None
            if self._progress is not None:
                self._progress.stop()
                self._progress = None


def make_reporter(quiet: int) -> Reporter:
    if quiet or not sys.stderr.isatty():
        return SilentReporter()
    return RichReporter()
