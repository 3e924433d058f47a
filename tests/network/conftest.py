"""Network tests run only when the real PyPI answers; `kiln` comes from tests/conftest.py."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

PYPI_SIMPLE = "https://pypi.org/simple/"


@pytest.fixture(scope="session", autouse=True)
def pypi_reachable() -> Iterator[None]:
    request = urllib.request.Request(PYPI_SIMPLE, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=5):
            pass
    except (urllib.error.URLError, OSError) as error:
        pytest.skip(f"PyPI is unreachable: {error}")
    yield
