"""The local index speaks the Simple API the way PyPI and download.pytorch.org do."""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from typing import Any

import pytest

from tests.support.index_server import JSON_TYPE, IndexServer
from tests.support.wheels import Pkg
from tests.unit.support.client import fetch


@pytest.fixture
def served(index_server: IndexServer) -> IndexServer:
    index_server.add(
        Pkg("Typing_Extensions", "4.12.2", requires_python=">=3.8"),
        Pkg("Typing_Extensions", "4.0.0", requires_python="<4,>=3.6", yanked="broken"),
        Pkg("srcpkg", "1.0", sdist=True),
    )
    return index_server


def project_json(server: IndexServer, name: str, index: str = "pypi") -> Any:
    answer = fetch(server.project_url(name, index), headers={"Accept": JSON_TYPE})
    assert answer.status == 200
    return json.loads(answer.body)


# -- content negotiation ---------------------------------------------------------------


def test_project_page_defaults_to_html(served: IndexServer) -> None:
    answer = fetch(served.project_url("typing-extensions"))
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "typing_extensions-4.12.2-py3-none-any.whl" in answer.text


def test_json_is_served_when_asked_for(served: IndexServer) -> None:
    answer = fetch(served.project_url("typing-extensions"), headers={"Accept": JSON_TYPE})
    assert answer.headers["content-type"] == JSON_TYPE
    doc = json.loads(answer.body)
    assert doc["name"] == "typing-extensions"
    assert doc["meta"]["api-version"].startswith("1.")
    assert sorted(doc["versions"]) == ["4.0.0", "4.12.2"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"{JSON_TYPE};q=0.5, text/html;q=0.9", "text/html"),
        (f"text/html;q=0.2, {JSON_TYPE}", JSON_TYPE),
        (f"{JSON_TYPE}, text/html", JSON_TYPE),
        ("application/vnd.pypi.simple.v1+html;q=1, */*;q=0.1", "text/html"),
        (f"{JSON_TYPE};q=0, */*", "text/html"),
    ],
)
def test_accept_q_values_pick_the_format(served: IndexServer, accept: str, expected: str) -> None:
    answer = fetch(served.project_url("srcpkg"), headers={"Accept": accept})
    assert answer.headers["content-type"].startswith(expected)


def test_unacceptable_format_is_406(served: IndexServer) -> None:
    assert fetch(served.project_url("srcpkg"), headers={"Accept": "image/png"}).status == 406


def test_json_files_carry_hashes_sizes_times_and_yank_reasons(served: IndexServer) -> None:
    files = {f["filename"]: f for f in project_json(served, "typing-extensions")["files"]}
    current = files["typing_extensions-4.12.2-py3-none-any.whl"]
    stored = {f.filename: f for f in served.files("typing-extensions")}
    data = stored["typing_extensions-4.12.2-py3-none-any.whl"].data
    assert current["hashes"] == {"sha256": hashlib.sha256(data).hexdigest()}
    assert current["size"] == len(data)
    assert current["upload-time"] == "2024-01-01T00:00:00Z"
    assert current["requires-python"] == ">=3.8"
    assert current["yanked"] is False
    assert files["typing_extensions-4.0.0-py3-none-any.whl"]["yanked"] == "broken"


def test_html_anchors_carry_escaped_python_bound_yank_and_hash_fragment(
    served: IndexServer,
) -> None:
    page = fetch(served.project_url("typing-extensions")).text
    old = next(line for line in page.splitlines() if "4.0.0" in line)
    assert 'data-requires-python="&lt;4,&gt;=3.6"' in old
    assert 'data-yanked="broken"' in old
    assert re.search(
        r'href="\.\./\.\./files/pypi/typing_extensions-4\.0\.0-py3-none-any\.whl#sha256=[0-9a-f]{64}"',
        old,
    )


def test_root_lists_normalized_projects(served: IndexServer) -> None:
    html = fetch(served.index_url()).text
    assert 'href="typing-extensions/"' in html and 'href="srcpkg/"' in html
    doc = json.loads(fetch(served.index_url(), headers={"Accept": JSON_TYPE}).body)
    assert {p["name"] for p in doc["projects"]} == {"typing-extensions", "srcpkg"}


def test_relative_file_urls_resolve_to_files_that_match_their_hash(served: IndexServer) -> None:
    doc = project_json(served, "srcpkg")
    for entry in doc["files"]:
        url = urllib.parse.urljoin(served.project_url("srcpkg"), entry["url"])
        assert url.startswith(served.url + "/files/pypi/")
        body = fetch(url).body
        assert hashlib.sha256(body).hexdigest() == entry["hashes"]["sha256"]
    assert {e["filename"] for e in doc["files"]} == {
        "srcpkg-1.0-py3-none-any.whl",
        "srcpkg-1.0.tar.gz",
    }


def test_absolute_urls_on_request(served: IndexServer) -> None:
    served.configure(absolute_urls=True)
    entry = project_json(served, "srcpkg")["files"][0]
    assert entry["url"].startswith(served.url + "/files/pypi/")


# -- names and errors ------------------------------------------------------------------


def test_non_normalized_project_url_redirects_permanently(served: IndexServer) -> None:
    answer = fetch(f"{served.index_url()}Typing_Extensions/")
    assert answer.status == 301
    assert answer.headers["location"] == "/simple/typing-extensions/"
    assert fetch(f"{served.index_url()}typing-extensions").status == 301


def test_unknown_project_is_404(served: IndexServer) -> None:
    assert fetch(served.project_url("no-such-thing")).status == 404
    assert fetch(served.file_url("nothing-1.0-py3-none-any.whl")).status == 404


def test_other_indexes_live_at_their_own_path(index_server: IndexServer) -> None:
    index_server.add(Pkg("extrapkg", "1.0"), index="extra")
    assert index_server.index_url("extra") == f"{index_server.url}/extra/"
    assert fetch(index_server.project_url("extrapkg", "extra")).status == 200
    assert fetch(index_server.project_url("extrapkg")).status == 404


def test_flat_dir_holds_the_built_files(index_server: IndexServer) -> None:
    index_server.add(Pkg("flatpkg", "0.3", sdist=True), index="flat")
    names = sorted(p.name for p in index_server.flat_dir("flat").iterdir())
    assert names == ["flatpkg-0.3-py3-none-any.whl", "flatpkg-0.3.tar.gz"]


def test_packages_added_later_appear_on_the_page(served: IndexServer) -> None:
    served.add(Pkg("srcpkg", "2.0"))
    assert "srcpkg-2.0-py3-none-any.whl" in fetch(served.project_url("srcpkg")).text


def test_page_etag_answers_304_when_unchanged(served: IndexServer) -> None:
    first = fetch(served.project_url("srcpkg"))
    again = fetch(served.project_url("srcpkg"), headers={"If-None-Match": first.headers["etag"]})
    assert again.status == 304 and again.body == b""


# -- metadata --------------------------------------------------------------------------


def test_metadata_is_advertised_and_served_beside_the_wheel(served: IndexServer) -> None:
    entry = next(
        f for f in project_json(served, "srcpkg")["files"] if f["filename"].endswith(".whl")
    )
    answer = fetch(served.file_url(entry["filename"]) + ".metadata")
    assert answer.status == 200 and b"Name: srcpkg" in answer.body
    digest = hashlib.sha256(answer.body).hexdigest()
    assert entry["core-metadata"] == {"sha256": digest}
    assert entry["dist-info-metadata"] == {"sha256": digest}
    assert f'data-core-metadata="sha256={digest}"' in fetch(served.project_url("srcpkg")).text


def test_sdists_advertise_no_metadata(served: IndexServer) -> None:
    entry = next(
        f for f in project_json(served, "srcpkg")["files"] if f["filename"].endswith(".tar.gz")
    )
    assert "core-metadata" not in entry


def test_metadata_toggles(served: IndexServer) -> None:
    served.configure(advertise_metadata=False, serve_metadata=False)
    entry = next(
        f for f in project_json(served, "srcpkg")["files"] if f["filename"].endswith(".whl")
    )
    assert "core-metadata" not in entry and "dist-info-metadata" not in entry
    assert "data-core-metadata" not in fetch(served.project_url("srcpkg")).text
    assert fetch(served.file_url(entry["filename"]) + ".metadata").status == 404


# -- files and ranges ------------------------------------------------------------------


def wheel_of(server: IndexServer, project: str) -> tuple[str, bytes]:
    stored = next(f for f in server.files(project) if f.filename.endswith(".whl"))
    return server.file_url(stored.filename), stored.data


def test_range_requests_answer_206_with_content_range(served: IndexServer) -> None:
    url, data = wheel_of(served, "srcpkg")
    head = fetch(url, headers={"Range": "bytes=0-9"})
    assert head.status == 206 and head.body == data[:10]
    assert head.headers["content-range"] == f"bytes 0-9/{len(data)}"
    assert head.headers["content-length"] == "10"
    tail = fetch(url, headers={"Range": "bytes=-22"})
    assert tail.status == 206 and tail.body == data[-22:]
    assert tail.headers["content-range"] == f"bytes {len(data) - 22}-{len(data) - 1}/{len(data)}"
    assert fetch(url, headers={"Range": f"bytes={len(data)}-"}).status == 416


def test_ranges_are_ignored_when_turned_off(served: IndexServer) -> None:
    served.configure(serve_ranges=False)
    url, data = wheel_of(served, "srcpkg")
    answer = fetch(url, headers={"Range": "bytes=0-9"})
    assert answer.status == 200 and answer.body == data
    assert "accept-ranges" not in answer.headers


def test_head_gives_length_without_a_body(served: IndexServer) -> None:
    url, data = wheel_of(served, "srcpkg")
    answer = fetch(url, method="HEAD")
    assert answer.status == 200 and answer.body == b""
    assert answer.headers["content-length"] == str(len(data))
    assert answer.headers["accept-ranges"] == "bytes"


def test_tampered_files_keep_their_listed_hash(served: IndexServer) -> None:
    url, data = wheel_of(served, "srcpkg")
    served.tamper("srcpkg")
    body = fetch(url).body
    assert body != data
    listed = project_json(served, "srcpkg")["files"][0]["hashes"]["sha256"]
    assert listed == hashlib.sha256(data).hexdigest()


# -- failures, auth, log ---------------------------------------------------------------


def test_fail_next_answers_the_given_status_then_recovers(served: IndexServer) -> None:
    served.fail_next(2, status=502)
    url = served.project_url("srcpkg")
    assert [fetch(url).status for _ in range(3)] == [502, 502, 200]


def test_auth_is_required_where_asked(index_server: IndexServer) -> None:
    index_server.add(Pkg("secret", "1.0"), index="private")
    index_server.require_auth("private", "alice", "s3cret")
    page = index_server.project_url("secret", "private")
    denied = fetch(page)
    assert denied.status == 401 and denied.headers["www-authenticate"].startswith("Basic")
    assert fetch(page, auth=("alice", "wrong")).status == 401
    assert fetch(page, auth=("alice", "s3cret")).status == 200
    stored = index_server.files("secret", "private")[0]
    assert fetch(index_server.file_url(stored.filename, "private")).status == 401
    assert fetch(index_server.project_url("secret")).status == 404, "other indexes stay open"


def test_request_log_tells_pages_ranges_and_bodies_apart(served: IndexServer) -> None:
    url, _ = wheel_of(served, "srcpkg")
    served.clear_requests()
    fetch(served.project_url("srcpkg"), headers={"Accept": JSON_TYPE})
    fetch(url + ".metadata")
    fetch(url, headers={"Range": "bytes=-100"})
    fetch(url, method="HEAD")
    assert not any(r.fetched_body for r in served.requests)
    fetch(url)
    kinds = [(r.method, r.kind, r.status, r.range) for r in served.requests]
    assert kinds == [
        ("GET", "page", 200, None),
        ("GET", "metadata", 200, None),
        ("GET", "file", 206, "bytes=-100"),
        ("HEAD", "file", 200, None),
        ("GET", "file", 200, None),
    ]
    assert served.requests[0].headers["Accept"] == JSON_TYPE
    assert (
        served.requests[-1].fetched_body
        and served.requests[-1].filename == "srcpkg-1.0-py3-none-any.whl"
    )
    served.clear_requests()
    assert served.requests == []
