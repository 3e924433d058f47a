from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from kiln.project.pyproject import PyprojectError, find_project, load_pyproject

S4 = """
[project]
name = "project"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = []

[project.optional-dependencies]
cpu = ["torch>=2.5.1", "torchvision>=0.20.1"]
cu124 = ["torch>=2.5.1", "torchvision>=0.20.1"]

[tool.uv]
conflicts = [
  [
    { extra = "cpu" },
    { extra = "cu124" },
  ],
]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu124", extra = "cu124" },
]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu124"
url = "https://download.pytorch.org/whl/cu124"
explicit = true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return path


def test_seed_s4_reads_indexes_sources_and_conflicts(tmp_path: Path) -> None:
    p = load_pyproject(write(tmp_path, S4))
    assert [i.name for i in p.uv.indexes] == ["pytorch-cpu", "pytorch-cu124"]
    assert all(i.explicit for i in p.uv.indexes)
    torch = p.uv.sources["torch"]
    assert [(s.index, s.extra) for s in torch] == [
        ("pytorch-cpu", "cpu"),
        ("pytorch-cu124", "cu124"),
    ]
    assert [[c.extra for c in group] for group in p.uv.conflicts] == [["cpu", "cu124"]]
    assert str(p.requires_python) == ">=3.12"
    assert set(p.optional_dependencies) == {"cpu", "cu124"}


def test_source_markers_are_parsed(tmp_path: Path) -> None:
    text = """
[project]
name = "p"
version = "0"
dependencies = ["torch"]
[tool.uv.sources]
torch = [{ index = "pytorch-cpu", marker = "platform_system != 'Darwin'" }]
[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true
"""
    (source,) = load_pyproject(write(tmp_path, text)).uv.sources["torch"]
    assert source.marker is not None
    assert not source.marker.evaluate({"platform_system": "Darwin"})


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = """
[project]
name = "p"
dependencies = ["ok", "not valid!!"]
requires-python = "three"
[tool.uv]
exclude-newer = "yesterday"
[tool.uv.sources]
torch = { index = "nowhere" }
"""
    with pytest.raises(PyprojectError) as info:
        load_pyproject(write(tmp_path, text))
    causes = "\n".join(info.value.causes)
    assert "not valid!!" in causes
    assert "requires-python" in causes
    assert "exclude-newer" in causes
    assert "`nowhere`" in causes


def test_unknown_keys_warn_instead_of_failing(tmp_path: Path) -> None:
    p = load_pyproject(
        write(
            tmp_path,
            '[project]\nname = "p"\n[tool.uv]\nfuture-key = 1\n[tool.kiln]\ntorch-backend = "cu124"\n',
        )
    )
    assert any("future-key" in w for w in p.warnings)
    assert p.kiln.torch_backend == "cu124"


def test_dependency_groups_expand_includes_and_legacy_dev(tmp_path: Path) -> None:
    text = """
[project]
name = "p"
[dependency-groups]
test = ["pytest"]
dev = [{ include-group = "test" }, "ruff"]
[tool.uv]
dev-dependencies = ["mypy"]
"""
    groups = load_pyproject(write(tmp_path, text)).dependency_groups
    assert [r.name for r in groups["dev"]] == ["pytest", "ruff", "mypy"]


def test_include_cycle_is_an_error(tmp_path: Path) -> None:
    text = '[dependency-groups]\na = [{ include-group = "b" }]\nb = [{ include-group = "a" }]\n'
    with pytest.raises(PyprojectError, match="not valid"):
        load_pyproject(write(tmp_path, text))


def test_exclude_newer_dates_mean_end_of_day_utc(tmp_path: Path) -> None:
    p = load_pyproject(write(tmp_path, '[tool.uv]\nexclude-newer = "2024-03-01"\n'))
    assert p.uv.exclude_newer is not None
    assert p.uv.exclude_newer.date() == datetime(2024, 3, 1, tzinfo=timezone.utc).date()
    assert p.uv.exclude_newer.tzinfo is not None


def test_project_discovery_walks_up(tmp_path: Path) -> None:
    path = write(tmp_path, "[project]\nname='p'\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project(deep) == path
