"""The packse scenario reader: packse's defaults, and which scenarios kiln must skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenarios.packse import Scenario, interpreter_for, load_scenario, tomllib


def _write(tmp_path: Path, text: str, category: str = "wheels") -> Scenario:
    folder = tmp_path / category
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "case.toml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path, tmp_path)


_BASIC = """
name = "basic"
description = "one package"

[root]
requires = ["a"]

[expected]
satisfiable = true

[expected.packages]
a = "1.0.0"

[packages.a.versions."1.0.0"]
"""


def test_releases_default_to_an_sdist_and_a_pure_wheel_needing_python_3_12(
    tmp_path: Path,
) -> None:
    scenario = _write(tmp_path, _BASIC)
    assert scenario.id == "wheels/basic"
    assert scenario.python == "3.12"
    (pkg,) = scenario.pkgs()
    assert (pkg.name, pkg.version) == ("a", "1.0.0")
    assert pkg.sdist and pkg.wheel
    assert pkg.tags == ["py3-none-any"]
    assert pkg.requires_python == ">=3.12"
    assert pkg.yanked is None


def test_release_fields_reach_the_served_package(tmp_path: Path) -> None:
    scenario = _write(
        tmp_path,
        _BASIC
        + """requires = ["b>=1"]
requires_python = ">=3.8"
yanked = true
sdist = false
wheel_tags = ["cp312-cp312-manylinux_2_17_x86_64"]
extras = { fast = ["c"] }
""",
    )
    (pkg,) = scenario.pkgs()
    assert pkg.requires_dist == ["b>=1"]
    assert pkg.requires_python == ">=3.8"
    assert pkg.yanked  # a reason, so every Simple API reader sees it as yanked
    assert not pkg.sdist
    assert pkg.tags == ["cp312-cp312-manylinux_2_17_x86_64"]
    assert pkg.extras == {"fast": ["c"]}


def test_expected_versions_are_compared_in_normal_form(tmp_path: Path) -> None:
    scenario = _write(tmp_path, _BASIC.replace('a = "1.0.0"', 'A_b = "1.0.0-post1"'))
    assert scenario.expected_set() == {"a-b": "1.0.0.post1"}


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ('python = "3.11"', "--python-version"),
        ("prereleases = true", "--prerelease"),
        ('no_binary = ["a"]', "--no-binary"),
        ('python_platform = "aarch64-apple-darwin"', "--python-platform"),
    ],
)
def test_scenarios_needing_a_missing_flag_say_which(
    tmp_path: Path, options: str, reason: str
) -> None:
    scenario = _write(tmp_path, _BASIC + f"\n[resolver_options]\n{options}\n")
    assert reason in (scenario.unsupported() or "")


def test_a_universal_scenario_runs_in_lock_mode_with_its_requirements_as_a_project(
    tmp_path: Path,
) -> None:
    scenario = _write(tmp_path, _BASIC + "\n[resolver_options]\nuniversal = true\n")
    assert scenario.lock_mode
    assert scenario.unsupported() is None
    project = tomllib.loads(scenario.pyproject())["project"]
    assert project["dependencies"] == list(scenario.root_requires)
    assert project["requires-python"] == ">=3.12"


def test_required_environments_go_to_tool_uv(tmp_path: Path) -> None:
    scenario = _write(
        tmp_path,
        _BASIC + "\n[resolver_options]\nrequired_environments = ['sys_platform == \"linux\"']\n",
    )
    assert scenario.lock_mode
    uv = tomllib.loads(scenario.pyproject())["tool"]["uv"]
    assert uv["required-environments"] == ['sys_platform == "linux"']


def test_a_satisfiable_scenario_that_needs_an_sdist_build_is_unsupported(tmp_path: Path) -> None:
    only_sdist = _write(tmp_path, _BASIC + "wheel = false\n")
    assert "sdist" in (only_sdist.unsupported() or "")
    foreign_wheel = _write(tmp_path, _BASIC + 'wheel_tags = ["py3-none-macosx_10_0_ppc64"]\n')
    assert "sdist" in (foreign_wheel.unsupported() or "")


@pytest.mark.skipif(interpreter_for("3.12") is None, reason="needs CPython 3.12 installed")
def test_an_unsatisfiable_scenario_without_wheels_still_runs(tmp_path: Path) -> None:
    text = _BASIC.replace("satisfiable = true", "satisfiable = false") + "wheel = false\n"
    assert _write(tmp_path, text).unsupported() is None


def test_a_python_that_is_not_installed_is_a_reason_to_skip(tmp_path: Path) -> None:
    scenario = _write(tmp_path, _BASIC + '\n[environment]\npython = "3.4.99"\n')
    assert interpreter_for("3.4.99") is None
    assert "3.4.99" in (scenario.unsupported() or "")


def test_unknown_release_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="wheel_tag"):
        _write(tmp_path, _BASIC + 'wheel_tag = ["x"]\n')
