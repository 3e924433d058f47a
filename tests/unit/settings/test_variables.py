"""Boolean and numeric variables read as uv reads them: a value that is neither is an error
naming the variable, never a quiet default."""

from __future__ import annotations

import pytest

from kiln.core.errors import UsageError
from kiln.net.client import HttpClient
from kiln.settings.global_settings import env_flag


@pytest.mark.parametrize("value", ["1", "true", "YES", "on", "t", "y", " True "])
def test_true_values(value: str) -> None:
    assert env_flag({"KILN_OFFLINE": value}, "KILN_OFFLINE") is True


@pytest.mark.parametrize("value", ["", "0", "false", "No", "off", "f", "n"])
def test_false_values(value: str) -> None:
    assert env_flag({"KILN_OFFLINE": value}, "KILN_OFFLINE") is False


def test_unset_is_false() -> None:
    assert env_flag({}, "KILN_OFFLINE") is False


@pytest.mark.parametrize("key", ["KILN_OFFLINE", "UV_OFFLINE"])
def test_a_value_that_is_no_boolean_names_its_variable(key: str) -> None:
    with pytest.raises(UsageError, match=f"`{key}` is `banana`, not a boolean"):
        env_flag({key: "banana"}, "KILN_OFFLINE")


def test_the_http_timeout_comes_from_kiln_or_uv_and_must_be_a_number() -> None:
    assert HttpClient(env={"UV_HTTP_TIMEOUT": "7"})._timeout_seconds == 7
    assert HttpClient(env={"KILN_HTTP_TIMEOUT": "9", "UV_HTTP_TIMEOUT": "7"})._timeout_seconds == 9
    assert HttpClient(env={})._timeout_seconds == 30
    with pytest.raises(UsageError, match="`KILN_HTTP_TIMEOUT` is `soon`, not a whole number"):
        HttpClient(env={"KILN_HTTP_TIMEOUT": "soon"})
