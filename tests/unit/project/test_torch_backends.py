"""A project locked for several PyTorch backends, as the tables uv already has."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.accel.backends import parse_backend
from kiln.core.errors import KilnError
from kiln.project.pyproject import parse_pyproject
from kiln.project.torch_backends import with_backends

BASE = {
    "project": {
        "name": "p",
        "version": "0",
        "requires-python": ">=3.12",
        "dependencies": ["torch>=2.5"],
    }
}


def project(extra: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    data = {**BASE, **(extra or {})}
    return parse_pyproject(data, Path("pyproject.toml"))


def test_each_backend_is_an_explicit_index_a_group_source_and_one_conflict_set() -> None:
    backends = [parse_backend("cpu"), parse_backend("cu126"), parse_backend("rocm6.2")]
    got = with_backends(project(), backends, "https://mirror.example/whl")
    indexes = {i.name: i for i in got.uv.indexes}
    assert indexes["torch-backend-cu126"].url == "https://mirror.example/whl/cu126/"
    assert all(i.explicit for i in indexes.values())
    sources = got.uv.sources["torch"]
    assert [s.group for s in sources] == [
        "torch-backend-cpu",
        "torch-backend-cu126",
        "torch-backend-rocm6-2",
    ]
    assert sources[0].marker is None  # CPU builds exist everywhere
    assert "x86_64" in str(sources[2].marker) and "win32" not in str(sources[2].marker)
    assert got.uv.sources["torchvision"] == sources  # the whole family moves together
    assert [len(c) for c in got.uv.conflicts] == [3]
    assert got.dependency_groups == {}, "the groups are not the user's"


def test_no_backends_leave_the_project_as_it_is() -> None:
    p = project()
    assert with_backends(p, [], "https://x") is p


def test_own_torch_sources_and_a_backend_are_an_error() -> None:
    p = project(
        {
            "tool": {
                "uv": {
                    "sources": {"torch": {"index": "mine"}},
                    "index": [{"name": "mine", "url": "https://mine.example/simple"}],
                }
            }
        }
    )
    with pytest.raises(KilnError) as info:
        with_backends(p, [parse_backend("cpu")], "https://x")
    assert "both choose where `torch` comes from" in info.value.message


def test_a_name_the_backends_need_is_refused() -> None:
    p = project({"dependency-groups": {"torch-backend-cpu": ["rich"]}})
    with pytest.raises(KilnError) as info:
        with_backends(p, [parse_backend("cpu")], "https://x")
    assert "`torch-backend-cpu`" in info.value.message
