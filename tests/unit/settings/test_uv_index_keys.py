"""`[tool.uv]` pip-style index keys and `UV_*` variables reach kiln; unhonoured settings fail."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kiln.project.pyproject import PyprojectError, parse_pyproject
from kiln.settings.index_settings import PYPI, index_settings, project_indexes


def args(**kw: object) -> SimpleNamespace:
    return SimpleNamespace(**kw)


def project(uv: dict[str, object]):  # type: ignore[no-untyped-def]
    data = {"project": {"name": "p", "version": "0"}, "tool": {"uv": uv}}
    return parse_pyproject(data, Path("pyproject.toml"))


def test_index_url_replaces_pypi_and_ranks_below_named_indexes() -> None:
    p = project(
        {
            "index-url": "https://mirror.example/simple",
            "extra-index-url": ["https://extra.example/simple"],
            "find-links": ["https://links.example/"],
            "index": [{"name": "own", "url": "https://own.example/simple"}],
        }
    )
    got = project_indexes(args(), p.uv, {})
    assert [(i.url, i.default) for i in got.indexes] == [
        ("https://own.example/simple", False),
        ("https://extra.example/simple", False),
        ("https://mirror.example/simple", True),
    ]
    assert PYPI not in got.ordered()
    assert got.find_links == ("https://links.example/",)


def test_a_default_index_table_wins_over_index_url() -> None:
    p = project(
        {
            "index-url": "https://mirror.example/simple",
            "index": [{"name": "main", "url": "https://main.example/simple", "default": True}],
        }
    )
    assert project_indexes(args(), p.uv, {}).default_index == "https://main.example/simple"


def test_no_index_in_the_project_consults_no_index() -> None:
    assert project_indexes(args(), project({"no-index": True}).uv, {}).indexes == ()


def test_uv_variables_stand_in_for_kiln_ones() -> None:
    env = {
        "UV_INDEX_URL": "https://mirror.example/simple",
        "UV_INDEX_STRATEGY": "unsafe-best-match",
    }
    got = index_settings(args(), env)
    assert got.default_index == "https://mirror.example/simple"
    assert got.strategy == "unsafe-best-match"
    both = {**env, "KILN_INDEX_URL": "https://kiln.example/simple"}
    assert index_settings(args(), both).default_index == "https://kiln.example/simple"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("managed", False),
        ("link-mode", "symlink"),
        ("build-constraint-dependencies", ["setuptools<70"]),
        ("config-settings", {"editable_mode": "compat"}),
        ("no-binary", True),
    ],
)
def test_a_setting_kiln_cannot_honour_is_an_error_naming_it(key: str, value: object) -> None:
    with pytest.raises(PyprojectError) as info:
        project({key: value})
    assert any(f"tool.uv.{key}" in cause for cause in info.value.causes)


def test_build_isolation_keys_are_read_not_refused() -> None:
    p = project(
        {
            "no-build-isolation-package": ["torch"],
            "extra-build-dependencies": {"flash-attn": ["torch==2.5.1"]},
        }
    )
    assert p.uv.no_build_isolation is False
    assert p.uv.no_build_isolation_package == ("torch",)
    assert p.uv.extra_build_dependencies == {"flash-attn": ("torch==2.5.1",)}


def test_resolver_keys_are_read_not_refused() -> None:
    p = project(
        {
            "resolution": "lowest-direct",
            "prerelease": "allow",
            "no-build": True,
            "no-build-package": ["numpy"],
        }
    )
    assert p.uv.resolver.resolution == "lowest-direct"
    assert p.uv.resolver.prerelease == "allow"
    assert p.uv.resolver.no_build is True
    assert p.uv.resolver.no_build_package == ("numpy",)


def test_uv_defaults_are_accepted() -> None:
    p = project(
        {"resolution": "highest", "managed": True, "prerelease": "if-necessary-or-explicit"}
    )
    assert p.uv.pip_indexes.index_url is None
