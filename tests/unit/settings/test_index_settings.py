from __future__ import annotations

from types import SimpleNamespace

import pytest

from kiln.core.errors import UsageError
from kiln.settings.index_settings import PYPI, IndexSettings


def args(**kw: object) -> SimpleNamespace:
    base = {
        "index_url": None,
        "extra_index_url": [],
        "find_links": [],
        "no_index": False,
        "index_strategy": None,
    }
    base.update(kw)
    return SimpleNamespace(**base)


def test_pypi_is_the_default_index() -> None:
    s = IndexSettings.resolve(args(), {})
    assert s.ordered() == (PYPI,)
    assert s.strategy == "first-index"


def test_flags_win_over_environment_and_extras_come_first() -> None:
    env = {
        "KILN_INDEX_URL": "https://env.example/simple",
        "KILN_EXTRA_INDEX_URL": "https://e1 https://e2",
    }
    s = IndexSettings.resolve(
        args(index_url="https://flag.example/simple/", extra_index_url=["https://x"]), env
    )
    assert s.ordered() == ("https://x", "https://e1", "https://e2", "https://flag.example/simple")


def test_environment_default_index_is_read() -> None:
    s = IndexSettings.resolve(args(), {"KILN_DEFAULT_INDEX": "https://d.example/simple"})
    assert s.default_index == "https://d.example/simple"


def test_no_index_leaves_only_find_links() -> None:
    s = IndexSettings.resolve(args(no_index=True, find_links=["/wheels"]), {})
    assert s.ordered() == ()
    assert s.find_links == ("/wheels",)


def test_unknown_strategy_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown index strategy"):
        IndexSettings.resolve(args(), {"KILN_INDEX_STRATEGY": "fastest"})
