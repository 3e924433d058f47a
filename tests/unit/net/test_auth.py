"""Credentials: where they come from, where they may go, and that no message shows them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from kiln.net.auth import Credentials, CredentialStore, env_var_prefix
from kiln.net.client import HttpClient
from kiln.net.redact import redact_url, strip_userinfo
from tests.unit.net.conftest import Reply, ScriptedServer


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def store(env: dict[str, str] | None = None, netrc: Path | None = None) -> CredentialStore:
    return CredentialStore(env or {}, netrc_file=netrc or Path("/nonexistent/netrc"))


# -- redaction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pass@host/simple/", "https://****:****@host/simple/"),
        ("https://token@host:8443/simple/", "https://****@host:8443/simple/"),
        ("https://host/simple/", "https://host/simple/"),
        ("https://host/a@b/", "https://host/a@b/"),
        ("/local/dir@2", "/local/dir@2"),
    ],
)
def test_redaction_masks_the_whole_userinfo(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_userinfo_is_stripped_before_the_request() -> None:
    assert strip_userinfo("https://u:p@host:1/x?y=1") == "https://host:1/x?y=1"


def test_credentials_repr_hides_the_secret() -> None:
    assert "hunter2" not in repr(Credentials("me", "hunter2"))


# -- sources and scope ---------------------------------------------------------------------


def test_url_credentials_are_remembered_for_other_paths_on_the_same_host() -> None:
    creds = store()
    creds.remember("https://alice:pw@pkgs.example.com/simple/")
    found = creds.for_url("https://pkgs.example.com/files/a-1.0-py3-none-any.whl")
    assert found == Credentials("alice", "pw")


def test_credentials_are_not_sent_to_another_port_or_host() -> None:
    creds = store()
    creds.remember("https://alice:pw@pkgs.example.com/simple/")
    assert creds.for_url("https://pkgs.example.com:8443/simple/") is None
    assert creds.for_url("https://files.example.com/simple/") is None
    assert creds.for_url("http://pkgs.example.com/simple/") is None  # port 80, not 443


def test_the_longest_matching_path_prefix_wins_on_a_shared_host() -> None:
    creds = store()
    creds.remember("https://a:1@host/team-a/simple/")
    creds.remember("https://b:2@host/team-b/simple/")
    assert creds.for_url("https://host/team-a/simple/x/") == Credentials("a", "1")
    assert creds.for_url("https://host/team-b/simple/x/") == Credentials("b", "2")


def test_percent_encoded_userinfo_is_decoded() -> None:
    creds = store()
    creds.remember("https://me%40corp:p%3Ass@host/simple/")
    assert creds.for_url("https://host/simple/") == Credentials("me@corp", "p:ss")


def test_named_index_reads_its_environment_variables() -> None:
    creds = store(
        {"KILN_INDEX_PYTORCH_CU124_USERNAME": "bob", "KILN_INDEX_PYTORCH_CU124_PASSWORD": "tok"}
    )
    creds.register("pytorch-cu124", "https://download.example.com/whl/cu124")
    assert creds.for_url("https://download.example.com/whl/cu124/torch/") == Credentials(
        "bob", "tok"
    )
    assert env_var_prefix("pytorch-cu124") == "KILN_INDEX_PYTORCH_CU124"


def test_netrc_supplies_credentials_by_host(tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine private.example.com login carol password pw3\n")
    netrc.chmod(0o600)
    creds = store(netrc=netrc)
    assert creds.for_url("https://private.example.com/simple/") == Credentials("carol", "pw3")
    assert creds.for_url("https://public.example.com/simple/") is None


def test_netrc_location_comes_from_the_netrc_variable(tmp_path: Path) -> None:
    netrc = tmp_path / "custom-netrc"
    netrc.write_text("machine h.example.com login dave password pw4\n")
    netrc.chmod(0o600)
    creds = CredentialStore({"NETRC": str(netrc)})
    assert creds.for_url("https://h.example.com/") == Credentials("dave", "pw4")


def test_a_broken_netrc_is_ignored(tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine\n")
    assert store(netrc=netrc).for_url("https://h.example.com/") is None


def test_a_forbidden_prefix_gets_no_credentials_not_even_from_netrc(tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine h.example.com login carol password pw3\n")
    netrc.chmod(0o600)
    creds = store(netrc=netrc)
    creds.remember("https://u:p@h.example.com/private/simple")
    creds.forbid("https://h.example.com/public/simple")
    assert creds.for_url("https://h.example.com/public/simple/foo/") is None
    assert creds.for_url("https://h.example.com/public/simple") is None
    # Whole path segments only: a sibling path keeps what the host has.
    assert creds.for_url("https://h.example.com/public/simple2/") == Credentials("u", "p")
    assert creds.for_url("https://h.example.com/private/simple/x/") == Credentials("u", "p")


def test_forbidden_file_urls_get_no_credentials_on_a_shared_host() -> None:
    creds = store()
    creds.remember("https://u:p@h.example.com/simple")
    creds.forbid_exact(["https://h.example.com/files/a.whl#sha256=00"])
    assert creds.for_url("https://h.example.com/files/a.whl") is None
    assert creds.for_url("https://h.example.com/files/b.whl") == Credentials("u", "p")


# -- on the wire ---------------------------------------------------------------------------


def test_index_credentials_go_with_file_requests_to_the_same_host(
    http_server: ScriptedServer,
) -> None:
    http_server.script("/simple/a/", Reply(200, b"page"))
    http_server.script("/files/a.whl", Reply(200, b"file"))
    client = HttpClient(retries=0, env={})
    index = http_server.url.replace("://", "://alice:pw@") + "/simple/a/"
    client.get(index)
    client.get(http_server.url + "/files/a.whl")
    page, file = http_server.seen("/simple/a/")[0], http_server.seen("/files/a.whl")[0]
    assert page.headers.get("Authorization") == basic("alice", "pw")
    assert file.headers.get("Authorization") == basic("alice", "pw")


def test_redirect_to_another_host_drops_the_credentials(
    http_server: ScriptedServer, other_server: ScriptedServer
) -> None:
    other_server.script("/files/a.whl", Reply(200, b"file"))
    http_server.script(
        "/files/a.whl", Reply(302, headers={"Location": other_server.url + "/files/a.whl"})
    )
    client = HttpClient(retries=0, env={})
    url = http_server.url.replace("://", "://alice:pw@") + "/files/a.whl"
    assert client.get(url).body == b"file"
    assert http_server.seen("/files/a.whl")[0].headers.get("Authorization") == basic("alice", "pw")
    assert "Authorization" not in other_server.seen("/files/a.whl")[0].headers
