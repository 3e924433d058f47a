"""A cache and an HTTP client per test; the index itself is the shared `index_server`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiln.cache.layout import Cache
from kiln.net.client import HttpClient


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.fixture
def client(cache: Cache) -> Iterator[HttpClient]:
    # No proxies or retry settings from the caller's shell; retries fast.
    http = HttpClient(cache=cache, retries=2, backoff=0.001, env={})
    yield http
    http.close()
