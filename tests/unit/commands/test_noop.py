"""The record of a no-op check stands only for exactly the inputs it was taken with."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiln.commands.project.noop import NoopCheck


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    site = root / ".venv" / "lib" / "python3.12" / "site-packages"
    (site / "demo-1.0.dist-info").mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    (root / "pylock.toml").write_text('lock-version = "1.0"\n')
    monkeypatch.chdir(root)
    return root


def recorded_after_change(change: object) -> bool:
    NoopCheck.capture("sync", {"extra": []}, None).record(Path.cwd(), audited=1)  # type: ignore[union-attr]
    assert NoopCheck.capture("sync", {"extra": []}, None).recorded() is not None  # type: ignore[union-attr]
    change()  # type: ignore[operator]
    return NoopCheck.capture("sync", {"extra": []}, None).recorded() is not None  # type: ignore[union-attr]


def bump(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_no_project_no_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert NoopCheck.capture("sync", {}, None) is None


def test_nothing_is_recorded_before_a_full_check(project: Path) -> None:
    check = NoopCheck.capture("sync", {}, None)
    assert check is not None and check.recorded() is None
    check.record(Path.cwd(), audited=3)
    again = NoopCheck.capture("sync", {}, None)
    assert again is not None and again.recorded() == {"key": again.key, "state": again.state,
                                                      "watch": [], "audited": 3}  # fmt: skip


def test_a_record_stands_only_while_the_files_it_watches_are_unchanged(project: Path) -> None:
    watched = project / "lib-pyproject.toml"
    watched.write_text("[project]\n")
    check = NoopCheck.capture("sync", {}, None)
    assert check is not None
    check.record(Path.cwd(), watch=[str(watched)], audited=1)
    assert NoopCheck.capture("sync", {}, None).recorded() is not None  # type: ignore[union-attr]
    watched.write_text("[project]\nversion = '2'\n")
    assert NoopCheck.capture("sync", {}, None).recorded() is None  # type: ignore[union-attr]


def test_other_options_are_another_check(project: Path) -> None:
    NoopCheck.capture("sync", {"extra": []}, None).record(Path.cwd(), audited=1)  # type: ignore[union-attr]
    assert NoopCheck.capture("sync", {"extra": ["cpu"]}, None).recorded() is None  # type: ignore[union-attr]
    assert NoopCheck.capture("run", {"extra": []}, None).recorded() is None  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["pyproject.toml", "pylock.toml"])
def test_an_edited_input_file_voids_the_record(project: Path, name: str) -> None:
    assert not recorded_after_change(lambda: bump(project / name))


def test_a_new_config_file_voids_the_record(project: Path) -> None:
    assert not recorded_after_change(lambda: (project / "uv.toml").write_text(""))


def test_an_install_by_another_tool_voids_the_record(project: Path) -> None:
    site = project / ".venv" / "lib" / "python3.12" / "site-packages"
    assert not recorded_after_change(lambda: (site / "other-2.0.dist-info").mkdir())


def test_a_changed_variable_voids_the_record(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not recorded_after_change(lambda: monkeypatch.setenv("KILN_INDEX_URL", "http://x"))


def test_an_unrelated_variable_does_not(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert recorded_after_change(lambda: monkeypatch.setenv("SOMETHING_ELSE", "1"))


def test_a_check_whose_inputs_changed_while_it_ran_records_nothing(project: Path) -> None:
    check = NoopCheck.capture("sync", {}, None)
    assert check is not None
    bump(project / "pylock.toml")  # e.g. the check relocked
    check.record(Path.cwd(), audited=1)
    assert NoopCheck.capture("sync", {}, None).recorded() is None  # type: ignore[union-attr]


def test_a_workspace_or_another_root_is_not_recorded(project: Path) -> None:
    check = NoopCheck.capture("sync", {}, None)
    assert check is not None
    check.record(project.parent, audited=1)  # the full check used another project
    assert NoopCheck.capture("sync", {}, None).recorded() is None  # type: ignore[union-attr]
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '[tool.uv.workspace]\nmembers = ["a"]\n')
    check = NoopCheck.capture("sync", {}, None)
    assert check is not None
    check.record(project, audited=1)
    assert NoopCheck.capture("sync", {}, None).recorded() is None  # type: ignore[union-attr]


def capture(**options: object) -> NoopCheck:
    check = NoopCheck.capture("sync", {"extra": [], **options}, None)
    assert check is not None
    return check


def test_a_target_stands_for_its_inputs_whatever_is_installed(project: Path) -> None:
    capture().record_target(Path.cwd(), {"wanted": ["demo"]})
    site = project / ".venv" / "lib" / "python3.12" / "site-packages"
    (site / "other-2.0.dist-info").mkdir()  # what is installed is no input of a target
    found = capture().recorded_target()
    assert found is not None and found["wanted"] == ["demo"]
    assert capture().recorded() is None  # but the no-op record is gone with that change
    assert capture(extra=["cpu"]).recorded_target() is None  # another key
    bump(project / "pylock.toml")
    assert capture().recorded_target() is None  # another lock


def test_targets_of_other_keys_are_kept_and_no_op_records_of_the_new_state(project: Path) -> None:
    cpu, cu = capture(extra=["cpu"]), capture(extra=["cu124"])
    cpu.record_target(Path.cwd(), {"wanted": ["cpu"]})
    cu.record(Path.cwd(), audited=2)
    cu.record_target(Path.cwd(), {"wanted": ["cu"]})
    assert capture(extra=["cpu"]).recorded_target() == {
        "key": cpu.key, "inputs": cpu.inputs, "watch": [], "wanted": ["cpu"]
    }  # fmt: skip
    assert capture(extra=["cu124"]).recorded_target()["wanted"] == ["cu"]  # type: ignore[index]
    assert capture(extra=["cu124"]).recorded() is not None  # recorded in the same state
    capture(extra=["cpu"]).record(Path.cwd(), audited=1)  # a no-op record keeps the targets
    assert capture(extra=["cu124"]).recorded_target() is not None


def test_no_target_is_recorded_when_the_inputs_changed_during_the_sync(project: Path) -> None:
    check = capture()
    bump(project / "pyproject.toml")  # e.g. the sync re-locked, or someone edited it
    check.record_target(Path.cwd(), {"wanted": []})
    assert capture().recorded_target() is None
    assert not check.inputs_unchanged()
