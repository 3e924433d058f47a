"""Console output: every line in one write, so lines logged from threads stay whole."""

from __future__ import annotations

import io
import sys

import pytest

from kiln.cli.console import Console


class _Writes(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)

    def isatty(self) -> bool:
        return False


def test_each_line_is_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _Writes()
    monkeypatch.setattr(sys, "stderr", stream)
    console = Console(verbose=1)
    console.debug("GET http://example/simple/a/ -> 304")
    console.info("Resolved 3 packages in 10ms")
    console.warn("no wheel fits")
    console.error("error: no such index")
    console.added("a==1")
    console.removed("b==2")
    assert stream.calls == [
        "GET http://example/simple/a/ -> 304\n",
        "Resolved 3 packages in 10ms\n",
        "warning: no wheel fits\n",
        "error: no such index\n",
        " + a==1\n",
        " - b==2\n",
    ]
