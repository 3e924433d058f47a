"""Flat indexes: a folder of archives, or one HTML page of links."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import NormalizedName

from kiln.core.errors import NotFoundError
from kiln.index.flat import list_flat
from kiln.net.client import HttpClient
from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg, build_sdist, build_wheel


def test_local_folder_is_grouped_by_project(tmp_path: Path, client: HttpClient) -> None:
    folder = tmp_path / "wheels"
    build_wheel(Pkg("Foo.Bar", "1.0"), "py3-none-any", folder)
    build_wheel(Pkg("foo-bar", "1.1"), "py3-none-any", folder)
    build_sdist(Pkg("baz", "0.1"), folder)
    (folder / "README.txt").write_text("not a distribution")
    (folder / "notes.whl.bak").write_text("nor this")
    listing = list_flat(str(folder), client)
    assert sorted(listing) == ["baz", "foo-bar"]
    assert [f.filename for f in listing[NormalizedName("foo-bar")]] == [
        "foo_bar-1.0-py3-none-any.whl",
        "foo_bar-1.1-py3-none-any.whl",
    ]
    wheel = listing[NormalizedName("foo-bar")][0]
    assert wheel.url == (folder / "foo_bar-1.0-py3-none-any.whl").resolve().as_uri()
    # Hashing every archive of a folder up front would read them all; the download does it.
    assert not wheel.hashes
    assert wheel.index == str(folder)


def test_file_url_of_a_folder_works_like_its_path(tmp_path: Path, client: HttpClient) -> None:
    build_wheel(Pkg("a", "1.0"), "py3-none-any", tmp_path)
    assert list(list_flat(tmp_path.as_uri(), client)) == ["a"]


def test_a_single_archive_is_its_own_listing(tmp_path: Path, client: HttpClient) -> None:
    path = build_wheel(Pkg("a", "1.0"), "py3-none-any", tmp_path)
    assert [f.filename for f in list_flat(str(path), client)[NormalizedName("a")]] == [path.name]


def test_missing_folder_is_named_in_the_error(tmp_path: Path, client: HttpClient) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(NotFoundError) as caught:
        list_flat(str(missing), client)
    assert f"`{missing}`" in caught.value.message
    assert caught.value.hint


def test_html_page_of_links_is_a_flat_index(index_server: IndexServer, client: HttpClient) -> None:
    index_server.add(Pkg("torch", "2.5.1+cpu", tags=["cp312-cp312-linux_x86_64"]), index="whl/cpu")
    index_server.add(Pkg("torch", "2.5.1+cpu", tags=["cp312-cp312-win_amd64"]), index="whl/cpu")
    listing = list_flat(index_server.project_url("torch", "whl/cpu"), client)
    files = listing[NormalizedName("torch")]
    assert [f.filename for f in files] == [
        "torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl",
        "torch-2.5.1+cpu-cp312-cp312-win_amd64.whl",
    ]
    assert all(f.hashes.get("sha256") for f in files)


def test_missing_flat_page_is_not_found(index_server: IndexServer, client: HttpClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        list_flat(index_server.url + "/nothing-here/", client)
    assert caught.value.causes == ("404 Not Found",)
