"""The packse scenario reader: packse's defaults, uv's `[testgen]` routing, the flags each mode
passes, and what the suite expects of a scenario (run, skip or strict xfail)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios import known_failures
from tests.scenarios.known_failures import MissingFlag, Wrong, outcome
from tests.scenarios.packse import (
    DISABLED_REASON,
    Scenario,
    load_scenario,
    load_scenarios,
    tomllib,
)
from tests.support.pythons import installed_pythons, interpreter_for


def _write(tmp_path: Path, text: str, category: str = "wheels", stem: str = "case") -> Scenario:
    folder = tmp_path / category
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.toml"
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


def _with(tmp_path: Path, **tables: str) -> Scenario:
    """`_BASIC` plus the given tables (`resolver_options`, `testgen`, `environment`)."""
    text = _BASIC + "".join(f"\n[{name}]\n{body}\n" for name, body in tables.items())
    return _write(tmp_path, text)


# -- packse's defaults -----------------------------------------------------------------------


def test_releases_default_to_an_sdist_and_a_pure_wheel_needing_python_3_12(
    tmp_path: Path,
) -> None:
    scenario = _write(tmp_path, _BASIC)
    assert scenario.id == "wheels/basic"
    assert scenario.python == "3.12"
    assert scenario.root_requires_python == ">=3.12"
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


def test_the_id_comes_from_the_name_not_the_file(tmp_path: Path) -> None:
    # uv names its tests after `name`; many files are named otherwise (`fork/basic.toml`
    # holds `fork-basic`).
    assert _write(tmp_path, _BASIC, stem="other-file").id == "wheels/basic"


def test_two_scenarios_with_one_id_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, _BASIC, stem="one")
    _write(tmp_path, _BASIC, stem="two")
    with pytest.raises(ValueError, match="wheels/basic"):
        load_scenarios(tmp_path)


@pytest.mark.parametrize(
    ("table", "body", "match"),
    [
        ('packages.a.versions."1.0.0"', "wheel_tag = ['x']", "wheel_tag"),
        ("resolver_options", "fork_strategy = 'fewest'", "fork_strategy"),
        ("testgen", "skip = true", "skip"),
        ("environment", "platform = 'linux'", "platform"),
        ("resolver_options", "resolution = 'newest'", "newest"),
        ("testgen", "kind = 'sync'", "sync"),
    ],
)
def test_unknown_keys_and_values_are_refused(
    tmp_path: Path, table: str, body: str, match: str
) -> None:
    text = _BASIC.replace('[packages.a.versions."1.0.0"]\n', "")
    with pytest.raises(ValueError, match=match):
        _write(tmp_path, text + f"\n[{table}]\n{body}\n")


# -- routing (uv's generator, in its order) ----------------------------------------------------


@pytest.mark.parametrize(
    ("tables", "mode"),
    [
        ({}, "install"),
        ({"environment": 'python = "3.9"'}, "install"),
        ({"resolver_options": 'python = "3.11"'}, "compile"),
        ({"resolver_options": "universal = true"}, "lock"),
        # universal outranks python
        ({"resolver_options": 'universal = true\npython = "3.11"'}, "lock"),
        # `required_environments` alone is not universal: uv's generator looks only at that key
        ({"resolver_options": "required_environments = ['sys_platform == \"linux\"']"}, "install"),
        # `[testgen] kind` outranks everything
        ({"resolver_options": "universal = true", "testgen": 'kind = "compile"'}, "compile"),
        ({"resolver_options": 'python = "3.11"', "testgen": 'kind = "install"'}, "install"),
        ({"testgen": 'kind = "lock"'}, "lock"),
    ],
)
def test_each_scenario_is_routed_as_uv_routes_it(
    tmp_path: Path, tables: dict[str, str], mode: str
) -> None:
    assert _with(tmp_path, **tables).mode == mode


def test_a_disabled_scenario_keeps_its_mode_and_is_skipped_with_uvs_reason(
    tmp_path: Path,
) -> None:
    scenario = _with(tmp_path, resolver_options="universal = true", testgen="disable = true")
    assert scenario.disabled
    assert scenario.mode == "lock"
    assert outcome(scenario) == ("skip", DISABLED_REASON)


def test_a_universal_scenario_locks_a_project_of_its_requirements(tmp_path: Path) -> None:
    scenario = _with(tmp_path, resolver_options="universal = true")
    project = tomllib.loads(scenario.pyproject())["project"]
    assert project["dependencies"] == list(scenario.root_requires)
    assert project["requires-python"] == ">=3.12"
    assert "tool" not in tomllib.loads(scenario.pyproject())


def test_required_environments_go_to_tool_uv(tmp_path: Path) -> None:
    scenario = _with(
        tmp_path,
        resolver_options="universal = true\nrequired_environments = ['sys_platform == \"linux\"']",
    )
    uv = tomllib.loads(scenario.pyproject())["tool"]["uv"]
    assert uv["required-environments"] == ['sys_platform == "linux"']


def test_a_compile_writes_the_requirements_one_a_line(tmp_path: Path) -> None:
    scenario = _write(tmp_path, _BASIC.replace('requires = ["a"]', 'requires = ["a", "b<2"]'))
    assert scenario.requirements_in() == "a\nb<2\n"


# -- flags -----------------------------------------------------------------------------------


_EVERY_OPTION = """resolution = "lowest-direct"
prereleases = true
no_build = ["a"]
no_binary = ["b"]
python_platform = "x86_64-manylinux2014"
"""


def test_install_passes_each_option_as_uv_pip_install_spells_it(tmp_path: Path) -> None:
    scenario = _with(tmp_path, resolver_options=_EVERY_OPTION)
    assert scenario.flag_args() == [
        "--resolution",
        "lowest-direct",
        "--prerelease=allow",
        "--only-binary",
        "a",
        "--no-binary",
        "b",
        "--python-platform",
        "x86_64-manylinux2014",
    ]


def test_compile_adds_the_target_python_and_universal(tmp_path: Path) -> None:
    scenario = _with(
        tmp_path,
        resolver_options='resolution = "lowest"\npython = "3.11"\nuniversal = true',
        testgen='kind = "compile"',
    )
    assert [f.name for f in scenario.flags()] == ["--resolution", "--python-version", "--universal"]
    assert scenario.flag_args()[2:4] == ["--python-version", "3.11"]


def test_a_lock_passes_no_resolver_flags(tmp_path: Path) -> None:
    # uv's generator hands `uv lock` only the index; the project says the rest.
    scenario = _with(tmp_path, resolver_options="universal = true\n" + _EVERY_OPTION)
    assert scenario.flags() == ()


# -- what the suite expects ------------------------------------------------------------------


@pytest.fixture
def no_known_failures(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(known_failures, "MISSING_FLAGS", {})
    monkeypatch.setattr(known_failures, "KNOWN_WRONG", {})
    return monkeypatch


def test_a_missing_flag_is_a_strict_xfail_naming_it_not_a_skip(
    tmp_path: Path, no_known_failures: pytest.MonkeyPatch
) -> None:
    no_known_failures.setattr(
        known_failures, "MISSING_FLAGS", {"--resolution": MissingFlag("strategy", "no such flag")}
    )
    scenario = _with(tmp_path, resolver_options='resolution = "lowest"', testgen='kind = "lock"')
    # a lock passes no flags, so nothing is missing there
    assert outcome(scenario) == ("pass", None)
    scenario = _with(tmp_path, resolver_options='resolution = "lowest"')
    kind, reason = outcome(scenario)
    assert kind == "xfail"
    assert "`kiln pip install` has no --resolution" in (reason or "")
    assert "--resolution lowest" in (reason or "")


def test_a_known_wrong_answer_is_a_strict_xfail_with_its_diagnosis(
    tmp_path: Path, no_known_failures: pytest.MonkeyPatch
) -> None:
    wrong = Wrong("lock", "a 2.0.0", "a 1.0.0", "forks solved in the wrong order")
    no_known_failures.setattr(known_failures, "KNOWN_WRONG", {"wheels/basic": wrong})
    scenario = _with(tmp_path, resolver_options="universal = true")
    assert outcome(scenario) == ("xfail", wrong.reason())
    assert known_failures.planned_xfail(scenario)


def test_a_python_that_is_not_installed_is_a_reason_to_skip(
    tmp_path: Path, no_known_failures: pytest.MonkeyPatch
) -> None:
    scenario = _with(tmp_path, environment='python = "3.4.99"')
    assert interpreter_for("3.4.99") is None
    assert outcome(scenario) == ("skip", "needs CPython 3.4.99, which is not installed")
    compiled = _with(
        tmp_path,
        environment='python = "3.12"\nadditional_python = ["3.4.99"]',
        resolver_options='python = "3.11"',
    )
    assert compiled.missing_interpreter() == "3.4.99"


def test_a_lock_needs_no_interpreter(tmp_path: Path, no_known_failures: pytest.MonkeyPatch) -> None:
    scenario = _with(tmp_path, environment='python = "3.4.99"', resolver_options="universal = true")
    assert scenario.interpreters_needed() == ()
    assert outcome(scenario) == ("pass", None)


# -- interpreters ----------------------------------------------------------------------------


@pytest.fixture
def fresh_discovery() -> Iterator[None]:
    installed_pythons.cache_clear()
    yield
    installed_pythons.cache_clear()


def _fake_python(path: Path, version: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n", encoding="utf-8")
    path.chmod(0o755)


@pytest.mark.skipif(os.name != "posix", reason="fake interpreters are shell scripts")
def test_interpreters_come_from_pyenv_root_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_discovery: None
) -> None:
    _fake_python(tmp_path / "pyenv" / "versions" / "3.99.1" / "bin" / "python3", "3.99.1")
    _fake_python(tmp_path / "bin" / "python3.98", "3.98.4")
    # pyenv's shims run whatever pyenv selects, so they name no version
    _fake_python(tmp_path / "pyenv" / "shims" / "python3.97", "3.97.0")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(tmp_path / "bin"), str(tmp_path / "pyenv" / "shims")])
    )
    found = installed_pythons()
    assert found == {
        "3.99.1": tmp_path / "pyenv" / "versions" / "3.99.1" / "bin" / "python3",
        "3.98.4": (tmp_path / "bin" / "python3.98").resolve(),
    }
    assert interpreter_for("3.98") == found["3.98.4"]
    assert interpreter_for("3.97") is None


@pytest.mark.skipif(os.name != "posix", reason="fake interpreters are shell scripts")
def test_a_compile_for_a_target_version_runs_with_another_patch_of_its_minor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_discovery: None
) -> None:
    _fake_python(tmp_path / "pyenv" / "versions" / "3.99.1" / "bin" / "python3", "3.99.1")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("PATH", "")
    targeted = _with(tmp_path, environment='python = "3.99.7"', resolver_options='python = "3.99"')
    assert targeted.mode == "compile"
    assert targeted.runner_python() == "3.99"
    assert targeted.missing_interpreter() is None
    # Without a target version the interpreter is what is resolved for: exactly that one.
    plain = _with(tmp_path, environment='python = "3.99.7"')
    assert plain.runner_python() == "3.99.7"
    assert plain.missing_interpreter() == "3.99.7"
