"""An in-memory PackageFinder: projects described as data, no HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.dist import DistFile
from kiln.core.hashes import Hashes
from kiln.core.metadata import CoreMetadata
from kiln.core.protocols import FindResult, Found, NotFound
from kiln.core.releases import Releases


class FakeFinder:
    def __init__(self) -> None:
        self.files: dict[NormalizedName, list[DistFile]] = {}
        self.meta: dict[str, CoreMetadata] = {}
        self.metadata_calls: list[str] = []
        # (thread name, file name) of every metadata call.
        self.metadata_threads: list[tuple[str, str]] = []
        # What `used_network` answers: a real finder's cold cache.
        self.network = True
        # What `may_use_network` answers: False as under --offline.
        self.online = True
        # What `answers_from_cache` answers: False as for a cold cache.
        self.cached = False

    def add(
        self,
        name: str,
        version: str,
        deps: Sequence[str] = (),
        *,
        tags: Sequence[str] = ("py3-none-any",),
        requires_python: str | None = None,
        yanked: str | None = None,
        extras: dict[str, list[str]] | None = None,
        sdist_only: bool = False,
    ) -> None:
        norm = canonicalize_name(name)
        stem = f"{norm.replace('-', '_')}-{version}"
        filenames = [f"{stem}.tar.gz"] if sdist_only else [f"{stem}-{tag}.whl" for tag in tags]
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        if requires_python:
            lines.append(f"Requires-Python: {requires_python}")
        lines += [f"Requires-Dist: {d}" for d in deps]
        for extra, reqs in (extras or {}).items():
            lines.append(f"Provides-Extra: {extra}")
            for r in reqs:
                spec, _, marker = r.partition(";")
                both = (
                    f"({marker.strip()}) and extra == '{extra}'"
                    if marker
                    else f"extra == '{extra}'"
                )
                lines.append(f"Requires-Dist: {spec.strip()}; {both}")
        meta = CoreMetadata.parse("\n".join(lines) + "\n")
        for filename in filenames:
            file = DistFile(
                filename=filename,
                url=f"https://example.invalid/{filename}",
                hashes=Hashes.of({"sha256": "0" * 64}),
                requires_python=requires_python,
                yanked=yanked,
                index="https://example.invalid/simple",
            )
            self.files.setdefault(norm, []).append(file)
            self.meta[file.url] = meta

    def find(self, name: NormalizedName) -> FindResult:
        if name not in self.files:
            return NotFound(name, ("https://example.invalid/simple",))
        return Found(Releases.of(self.files[name], name))

    def metadata(self, file: DistFile) -> CoreMetadata:
        self.metadata_calls.append(file.filename)
        self.metadata_threads.append((threading.current_thread().name, file.filename))
        return self.meta[file.url]

    def prefetch(self, files: Sequence[DistFile]) -> None:
        return None

    def used_network(self) -> bool:
        return self.network

    def may_use_network(self) -> bool:
        return self.online

    def answers_from_cache(self, names: Iterable[NormalizedName]) -> bool:
        return self.cached
