"""Against the real PyPI: finding `six`, and a wheel's metadata through range requests."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import NormalizedName

from kiln.cache.layout import Cache
from kiln.core.dist import DistFile
from kiln.core.hashes import Hashes
from kiln.core.protocols import Found
from kiln.index.finder import IndexFinder, IndexUrl
from kiln.index.metadata import archive_path, fetch_metadata
from kiln.net.client import HttpClient

pytestmark = pytest.mark.network

PYPI = "https://pypi.org/simple"
SIX_WHEEL = DistFile(
    filename="six-1.16.0-py2.py3-none-any.whl",
    url=(
        "https://files.pythonhosted.org/packages/d9/5a/"
        "e7c31adbe875f2abbb91bd84cf2dc52d792b5a01506781dbcf25c91daf11/"
        "six-1.16.0-py2.py3-none-any.whl"
    ),
    hashes=Hashes.of(
        {"sha256": "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"}
    ),
    index=PYPI,
)


@pytest.fixture(autouse=True, scope="module")
def pypi_reachable() -> None:
    try:
        with urllib.request.urlopen(urllib.request.Request(PYPI + "/", method="HEAD"), timeout=5):
            pass
    except (urllib.error.URLError, OSError) as error:
        pytest.skip(f"PyPI is unreachable: {error}")


class CountingClient(HttpClient):
    """Records which kinds of request were made."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[str] = []

    def _record(self, kind: str, inner: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kind)
        return inner(*args, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._record("get", super().get, url, **kwargs)

    def fetch_range(self, url: str, start: int, end: int | None) -> Any:
        return self._record("range", super().fetch_range, url, start, end)

    def download(self, url: str, dest: Path, **kwargs: Any) -> str:
        return str(self._record("download", super().download, url, dest, **kwargs))


def test_six_metadata_comes_from_range_requests(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    client = CountingClient(cache=cache, env={})
    metadata = fetch_metadata(SIX_WHEEL, client, cache)
    assert metadata.name == "six"
    assert str(metadata.version) == "1.16.0"
    assert str(metadata.requires_python) == "!=3.0.*,!=3.1.*,!=3.2.*,>=2.7"
    assert "download" not in client.calls
    assert client.calls[0] == "range"
    # The wheel is smaller than the first read, so it came whole and was kept for install.
    assert archive_path(SIX_WHEEL, cache).is_file()


def test_find_six_on_pypi(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    client = HttpClient(cache=cache, env={})
    finder = IndexFinder(
        [IndexUrl(PYPI, default=True)],
        (),
        client,
        cache,
        exclude_newer=datetime(2024, 1, 1, tzinfo=timezone.utc),
    )
    result = finder.find(NormalizedName("six"))
    assert isinstance(result, Found)
    names = {f.filename for f in result.files}
    assert SIX_WHEEL.filename in names
    assert "six-1.17.0-py2.py3-none-any.whl" not in names  # uploaded December 2024
    (wheel,) = [f for f in result.files if f.filename == SIX_WHEEL.filename]
    assert wheel.hashes == SIX_WHEEL.hashes
    assert wheel.upload_time is not None and wheel.size == 11053
    assert finder.metadata(wheel).name == "six"


def test_metadata_of_a_wheel_larger_than_one_read_never_downloads_it(tmp_path: Path) -> None:
    wheel = DistFile(
        filename="urllib3-2.2.1-py3-none-any.whl",
        url=(
            "https://files.pythonhosted.org/packages/a2/73/"
            "a68704750a7679d0b6d3ad7aa8d4da8e14e151ae82e6fee774e6e0d05ec8/"
            "urllib3-2.2.1-py3-none-any.whl"
        ),
        hashes=Hashes.of(
            {"sha256": "450b20ec296a467077128bff42b73080516e71b56ff59a60a02bef2232c4fa9d"}
        ),
        size=121067,
        index=PYPI,
    )
    cache = Cache(tmp_path / "cache")
    client = CountingClient(cache=cache, env={})
    metadata = fetch_metadata(wheel, client, cache)
    assert (metadata.name, str(metadata.version)) == ("urllib3", "2.2.1")
    assert "socks" in metadata.provides_extra
    assert set(client.calls) == {"range"}
    assert not archive_path(wheel, cache).exists()
