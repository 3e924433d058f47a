"""Which PyTorch backends a command locks and installs, from flag, variable and project."""

from __future__ import annotations

import pytest

from kiln.core.errors import UsageError
from kiln.project.uv_tables import KilnTables
from kiln.settings.torch_settings import parse_choice, pip_torch_settings, project_torch


def names(choice: object) -> tuple[str, ...] | None:
    return None if choice is None else choice.names()  # type: ignore[attr-defined]


def test_auto_one_backend_and_a_list() -> None:
    assert parse_choice("auto", "--torch-backend").auto
    assert parse_choice(" CU126 ", "x").names() == ("cu126",)
    assert parse_choice("cpu,cu124,cpu", "x").names() == ("cpu", "cu124")


@pytest.mark.parametrize("text", ["cu999", "", ",", "cuda"])
def test_an_unknown_backend_names_itself(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_choice(text, "--torch-backend")
    assert "unknown torch backend" in info.value.message
    assert "cu126" in info.value.message  # the valid names are listed


def test_flag_beats_kiln_variable_beats_uv_variable() -> None:
    env = {"KILN_TORCH_BACKEND": "cu124", "UV_TORCH_BACKEND": "cpu"}
    assert names(pip_torch_settings("cu126", env).choice) == ("cu126",)
    assert names(pip_torch_settings(None, env).choice) == ("cu124",)
    assert names(pip_torch_settings(None, {"UV_TORCH_BACKEND": "cpu"}).choice) == ("cpu",)
    assert pip_torch_settings(None, {}).choice is None


def test_pip_takes_one_backend() -> None:
    with pytest.raises(UsageError):
        pip_torch_settings("cpu,cu124", {})


def test_index_url_from_variable_then_project_then_default() -> None:
    kiln = KilnTables(torch_backend="auto", torch_index_url="https://mirror.example/whl/")
    assert project_torch(kiln, None, {}).index_url == "https://mirror.example/whl"
    env = {"KILN_TORCH_INDEX_URL": "http://127.0.0.1:9/whl"}
    assert project_torch(kiln, None, env).index_url == "http://127.0.0.1:9/whl"
    assert project_torch(KilnTables(), None, {}).index_url == "https://download.pytorch.org/whl"


def test_lock_flag_replaces_what_the_project_locks() -> None:
    torch = project_torch(KilnTables(torch_backend="auto"), "cpu,cu126", {}, verb="lock")
    assert names(torch.lock_request(parse_choice("auto", "lock"))) == ("cpu", "cu126")
    plain = project_torch(KilnTables(torch_backend="auto"), None, {}, verb="lock")
    # `kiln lock` starts from the project's setting, not from what the lock was asked.
    assert names(plain.lock_request(parse_choice("cpu", "lock"))) == ("auto",)


def test_installing_a_backend_the_project_lists_keeps_the_lock() -> None:
    listed = KilnTables(torch_backend=("cpu", "cu124"))
    torch = project_torch(listed, "cu124", {})
    assert names(torch.lock_request(None)) == ("cpu", "cu124")
    assert names(torch.install(torch.lock_request(None))) == ("cu124",)
    # auto at install time chooses among what is locked; it does not widen the lock.
    assert names(project_torch(listed, "auto", {}).lock_request(None)) == ("cpu", "cu124")
    auto = project_torch(KilnTables(torch_backend="auto"), "cu126", {})
    assert names(auto.lock_request(None)) == ("auto",)


def test_installing_a_backend_the_lock_lacks_adds_it_to_the_lock() -> None:
    torch = project_torch(KilnTables(torch_backend="cpu"), "cu126", {})
    assert names(torch.lock_request(None)) == ("cpu", "cu126")
    plain = project_torch(KilnTables(), "cu126", {})
    assert names(plain.lock_request(None)) == ("cu126",)
    assert project_torch(KilnTables(), None, {}).lock_request(None) is None


def test_the_verbs_that_install_keep_what_an_up_to_date_lock_was_asked() -> None:
    made_with = parse_choice("cpu", "lock")
    torch = project_torch(KilnTables(torch_backend="auto"), None, {})
    assert names(torch.lock_request(made_with)) == ("cpu",)
    assert names(torch.install(torch.lock_request(made_with))) == ("cpu",)
    widened = project_torch(KilnTables(), "cu124", {}).lock_request(made_with)
    assert names(widened) == ("cpu", "cu124")
