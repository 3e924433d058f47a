"""`SourceDists`: a direct source asked for by the solver and the look-ahead threads at the
same time is fetched and built once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName

from kiln.commands.source_dists import SourceDists
from kiln.project.source_rules import SourceOrigin
from kiln.project.uv_tables import Source


def test_a_source_asked_for_by_two_threads_at_once_is_fetched_once(tmp_path: Path) -> None:
    dists = SourceDists(None, None, None)  # type: ignore[arg-type]  # only _fetch is used
    entered, release = threading.Event(), threading.Event()
    fetched: list[NormalizedName] = []

    def fetch(name: NormalizedName, source: Any, origin: Any, where: str = "") -> object:
        fetched.append(name)
        entered.set()
        release.wait(timeout=5)
        return object()

    dists._fetch = fetch  # type: ignore[method-assign]
    source = Source(path="lib")
    origin = SourceOrigin(tmp_path, tmp_path / "pyproject.toml", tmp_path)
    got: list[object] = []

    def ask() -> None:
        got.append(dists.dist(NormalizedName("lib"), source, origin))

    first = threading.Thread(target=ask)
    first.start()
    assert entered.wait(timeout=5)
    second = threading.Thread(target=ask)
    second.start()
    second.join(timeout=0.2)
    release.set()
    first.join(timeout=5)
    second.join(timeout=5)
    assert fetched == ["lib"]
    assert len(got) == 2 and got[0] is got[1]
