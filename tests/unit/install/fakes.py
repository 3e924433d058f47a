"""A Downloader that serves local wheels, and a Reporter that remembers what it was told."""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.core.dist import Candidate, DistFile
from kiln.core.errors import NetworkError
from kiln.core.hashes import Hashes
from kiln.core.protocols import ProgressCallback

from .conftest import BuiltWheel


def candidate(wheel: BuiltWheel, *, with_hash: bool = True, url: str | None = None) -> Candidate:
    name, version = wheel.dist_info[: -len(".dist-info")].split("-")
    file = DistFile(
        filename=wheel.path.name,
        url=url or f"https://files.test/{wheel.path.name}",
        hashes=Hashes.of({"sha256": wheel.sha256}) if with_hash else Hashes(),
    )
    return Candidate(canonicalize_name(name), Version(version), file)


class FakeDownloader:
    def __init__(self, wheels: list[BuiltWheel]) -> None:
        self.wheels = {w.path.name: w.path for w in wheels}
        self.failing: set[str] = set()
        self.barrier: threading.Barrier | None = None
        self.calls: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def download(self, file: DistFile, dest: Path, progress: ProgressCallback | None = None) -> str:
        with self._lock:
            self.calls.append(file.filename)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.barrier is not None:
                self.barrier.wait(timeout=10)
            if file.filename in self.failing:
                raise NetworkError(f"cannot fetch `{file.filename}`", hint="check the network")
            data = self.wheels[file.filename].read_bytes()
            tmp = dest.with_name(dest.name + ".part")
            tmp.write_bytes(data)
            if progress is not None:
                progress(len(data))
            shutil.move(tmp, dest)
            return hashlib.sha256(data).hexdigest()
        finally:
            with self._lock:
                self.in_flight -= 1


class RecordingReporter:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.bytes = 0
        self._lock = threading.Lock()

    def download_started(self, key: str, label: str, total: int | None) -> ProgressCallback:
        with self._lock:
            self.started.append(label)

        def advance(advanced_bytes: int) -> None:
            with self._lock:
                self.bytes += advanced_bytes

        return advance

    def download_finished(self, key: str) -> None:
        with self._lock:
            self.finished.append(key)
