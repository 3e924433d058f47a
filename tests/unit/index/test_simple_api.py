"""Parsing PEP 691 JSON and PEP 503 HTML project pages shaped like PyPI's and PyTorch's."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from kiln.core.hashes import Hashes
from kiln.index.simple_api import InvalidIndexPage, is_json_page, parse_json_page
from kiln.index.simple_html import parse_html_page

PAGES = Path(__file__).parent / "pages"
SIX_PAGE = "https://pypi.org/simple/six/"


def by_name(files: list) -> dict:  # type: ignore[type-arg]
    return {f.filename: f for f in files}


# -- PEP 691 JSON --------------------------------------------------------------------------


def test_json_page_lists_every_well_formed_file() -> None:
    files = parse_json_page((PAGES / "pypi_six.json").read_bytes(), SIX_PAGE, "pypi")
    assert [f.filename for f in files] == [
        "six-1.15.0-py2.py3-none-any.whl",
        "six-1.16.0-py2.py3-none-any.whl",
        "six-1.16.0.tar.gz",
        "six-1.17.0-py2.py3-none-any.whl",
    ]
    assert {f.index for f in files} == {"pypi"}


def test_json_page_reads_hashes_sizes_upload_times_and_requires_python() -> None:
    files = by_name(parse_json_page((PAGES / "pypi_six.json").read_bytes(), SIX_PAGE, "pypi"))
    wheel = files["six-1.16.0-py2.py3-none-any.whl"]
    assert wheel.hashes.get("sha256") == (
        "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"
    )
    assert wheel.size == 11053
    assert wheel.upload_time == datetime(2021, 5, 5, 14, 18, 17, 237677, tzinfo=timezone.utc)
    assert wheel.requires_python == ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*"
    assert wheel.url.startswith("https://files.pythonhosted.org/packages/d9/5a/")
    assert files["six-1.17.0-py2.py3-none-any.whl"].hashes.get("blake2b_256") is not None


def test_json_page_reads_yanks_as_reasons() -> None:
    files = by_name(parse_json_page((PAGES / "pypi_six.json").read_bytes(), SIX_PAGE, "pypi"))
    assert files["six-1.16.0-py2.py3-none-any.whl"].yanked is None
    assert files["six-1.17.0-py2.py3-none-any.whl"].yanked == "broke py2 users"
    page = b'{"files": [{"filename": "a-1.0.tar.gz", "url": "a-1.0.tar.gz", "yanked": true}]}'
    assert parse_json_page(page, "https://i/simple/a/", "i")[0].yanked == ""


def test_json_page_reads_core_metadata_and_its_legacy_spellings() -> None:
    files = by_name(parse_json_page((PAGES / "pypi_six.json").read_bytes(), SIX_PAGE, "pypi"))
    assert files["six-1.15.0-py2.py3-none-any.whl"].metadata_file is None
    assert files["six-1.16.0-py2.py3-none-any.whl"].metadata_file == Hashes.of(
        {"sha256": "4a6a5a2d1e0a0d7f0ad0a9c5a0b64d2bb2b4c56f7e3b0b6d6f4e5f8a9b0c1d2e"}
    )
    # `dist-info-metadata: true`: served, hash unknown.
    assert files["six-1.16.0.tar.gz"].metadata_file == Hashes()
    # PyPI's JSON once wrote the legacy key as `data-dist-info-metadata`.
    legacy = files["six-1.17.0-py2.py3-none-any.whl"].metadata_file
    assert legacy is not None and legacy.get(
        "sha256",
    ).startswith("1f2e3d")


def test_json_page_resolves_relative_urls_against_the_page() -> None:
    files = by_name(parse_json_page((PAGES / "pypi_six.json").read_bytes(), SIX_PAGE, "pypi"))
    assert files["six-1.16.0.tar.gz"].url == (
        "https://pypi.org/packages/71/39/171f1c67cd00715f190ba0b100d606d440a28c93c7714febeca8b79af85e/six-1.16.0.tar.gz"
    )


def test_json_page_takes_a_hash_from_the_url_fragment_when_hashes_are_empty() -> None:
    page = b'{"files": [{"filename": "a-1.0.tar.gz", "url": "a-1.0.tar.gz#sha256=ABCD", "hashes": {}}]}'
    (file,) = parse_json_page(page, "https://i/simple/a/", "i")
    assert file.url == "https://i/simple/a/a-1.0.tar.gz"
    assert file.hashes.get("sha256") == "abcd"


@pytest.mark.parametrize("page", [b"<html>", b"[1, 2]", b'{"meta": {}}'])
def test_a_page_that_is_not_pep_691_names_the_url(page: bytes) -> None:
    with pytest.raises(InvalidIndexPage) as caught:
        parse_json_page(page, "https://i/simple/a/", "https://i/simple")
    assert "`https://i/simple/a/`" in caught.value.message
    assert caught.value.hint


def test_content_type_decides_json() -> None:
    assert is_json_page("application/vnd.pypi.simple.v1+json")
    assert is_json_page("application/vnd.pypi.simple.v1+json; charset=utf-8")
    assert not is_json_page("text/html; charset=utf-8")
    assert not is_json_page("application/vnd.pypi.simple.v1+html")


# -- PEP 503 HTML --------------------------------------------------------------------------


def test_html_page_reads_hash_fragments_and_unescapes_requires_python() -> None:
    files = by_name(parse_html_page((PAGES / "pypi_six.html").read_text(), SIX_PAGE, "pypi"))
    wheel = files["six-1.15.0-py2.py3-none-any.whl"]
    assert wheel.requires_python == ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*"
    assert wheel.hashes.get("sha256") == (
        "8b74bedcbbbaca38ff6d7491d76f2b06b3592611af620f8426e82dddb04a5ced"
    )
    assert "#" not in wheel.url
    assert wheel.upload_time is None and wheel.size is None


def test_html_page_skips_anchors_without_href() -> None:
    files = parse_html_page((PAGES / "pypi_six.html").read_text(), SIX_PAGE, "pypi")
    assert len(files) == 5


def test_html_page_reads_yanks_with_and_without_reason() -> None:
    files = by_name(parse_html_page((PAGES / "pypi_six.html").read_text(), SIX_PAGE, "pypi"))
    assert files["six-1.17.0-py2.py3-none-any.whl"].yanked == "broke py2 users"
    assert files["six-1.9.0-py2.py3-none-any.whl"].yanked == ""
    assert files["six-1.15.0-py2.py3-none-any.whl"].yanked is None


def test_html_page_reads_core_metadata_attributes() -> None:
    files = by_name(parse_html_page((PAGES / "pypi_six.html").read_text(), SIX_PAGE, "pypi"))
    assert files["six-1.15.0-py2.py3-none-any.whl"].metadata_file is None
    assert files["six-1.16.0-py2.py3-none-any.whl"].metadata_file == Hashes.of(
        {"sha256": "4a6a5a2d1e0a0d7f0ad0a9c5a0b64d2bb2b4c56f7e3b0b6d6f4e5f8a9b0c1d2e"}
    )
    assert files["six-1.16.0.tar.gz"].metadata_file == Hashes()


def test_pytorch_page_decodes_local_versions_and_joins_absolute_paths() -> None:
    page = "https://download.pytorch.org/whl/cpu/torch/"
    files = parse_html_page((PAGES / "pytorch_torch.html").read_text(), page, "pytorch-cpu")
    names = [f.filename for f in files]
    assert names[0] == "torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl"
    first = files[0]
    assert first.url == (
        "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp312-cp312-linux_x86_64.whl"
    )
    assert first.requires_python == ">=3.9"
    assert first.name_version is not None and str(first.name_version[1]) == "2.5.1+cpu"
    assert files[1].metadata_file is not None and files[1].metadata_file.get("sha256")
    assert files[2].url.startswith("https://download-r2.pytorch.org/whl/cpu/torch-2.6.0%2Bcpu")
    assert files[3].url == (
        "https://download.pytorch.org/whl/torch-2.5.1-cp312-none-macosx_11_0_arm64.whl"
    )


def test_base_href_changes_how_relative_links_resolve() -> None:
    html = (
        '<html><head><base href="https://mirror.example/files/"></head><body>'
        '<a href="a-1.0-py3-none-any.whl">a</a><a href="../b/b-2.0.tar.gz">b</a></body></html>'
    )
    files = parse_html_page(html, "https://index.example/simple/a/", "mirror")
    assert [f.url for f in files] == [
        "https://mirror.example/files/a-1.0-py3-none-any.whl",
        "https://mirror.example/b/b-2.0.tar.gz",
    ]


def test_relative_hrefs_resolve_against_the_page_url() -> None:
    html = '<a href="../../files/pypi/a-1.0-py3-none-any.whl#sha256=00ff">a</a>'
    (file,) = parse_html_page(html, "http://127.0.0.1:9/simple/a/", "local")
    assert file.url == "http://127.0.0.1:9/files/pypi/a-1.0-py3-none-any.whl"
    assert file.hashes.get("sha256") == "00ff"


def test_files_of_one_version_share_what_their_names_say() -> None:
    from kiln.core.dist import DistFile

    page = {
        "files": [
            {"filename": f"Demo_Pkg-1.0-cp312-cp312-{tag}.whl", "url": f"/d/{tag}.whl"}
            for tag in ("manylinux_2_28_x86_64", "macosx_11_0_arm64", "win_amd64")
        ]
    }
    import json

    files = parse_json_page(json.dumps(page).encode(), SIX_PAGE, "pypi")
    fresh = [DistFile(filename=f.filename, url=f.url, index=f.index) for f in files]
    assert files == fresh
    assert [f.name_version for f in files] == [f.name_version for f in fresh]
    assert files[1].name_version == ("demo-pkg", files[0].name_version[1])  # type: ignore[index]


def test_a_json_page_is_read_without_the_html_parser() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from kiln.index.pages import parse_page\n"
        "from kiln.net.client import Response\n"
        'body = b\'{"meta": {"api-version": "1.1"}, "name": "six", "files": ['
        '{"filename": "six-1.16.0-py2.py3-none-any.whl", "url": "six-1.16.0-py2.py3-none-any.whl",'
        ' "hashes": {}}]}\'\n'
        "headers = {'content-type': 'application/vnd.pypi.simple.v1+json'}\n"
        "files = parse_page(Response('https://pypi.org/simple/six/', 200, headers, body), 'pypi')\n"
        "print([f.filename for f in files], 'html.parser' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['six-1.16.0-py2.py3-none-any.whl'] False"
