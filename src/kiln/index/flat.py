"""Flat indexes and ``--find-links``: a local folder of archives, or one HTML page of links."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName

from kiln.core.dist import DistFile
from kiln.core.errors import NotFoundError
from kiln.index.simple_api import is_json_page, parse_html_page, parse_json_page
from kiln.net.failures import status_error, status_text
from kiln.net.locations import local_path, path_to_url
from kiln.net.redact import redact_url

if TYPE_CHECKING:
    from kiln.net.client import HttpClient

ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")


def list_flat(location: str, client: HttpClient) -> dict[NormalizedName, list[DistFile]]:
    """Every distribution file ``location`` offers, by project.

    Local files carry no hash (computing one would read every archive in the folder up
    front); the download computes it while copying.
    """
    path = local_path(location)
    files: list[DistFile]
    if path is not None:
        if path.is_dir():
            entries = sorted(p for p in path.iterdir() if p.is_file())
        elif path.is_file():
            entries = [path]
        else:
            raise NotFoundError(
                f"find-links location `{location}` does not exist",
                hint="check the path passed to --find-links",
            )
        files = [
            DistFile(filename=entry.name, url=path_to_url(entry), index=location)
            for entry in entries
            if entry.name.endswith(ARCHIVE_SUFFIXES)
        ]
    else:
        files = _remote(location, client)
    grouped: defaultdict[NormalizedName, list[DistFile]] = defaultdict(list)
    for dist in files:
        parsed = dist.name_version
        if parsed is not None:
            grouped[parsed[0]].append(dist)
    return dict(grouped)


def _remote(location: str, client: HttpClient) -> list[DistFile]:
    response = client.get(location, headers={"Accept": "text/html"}, cache_page=True)
    if response.status in (404, 410):
        raise NotFoundError(
            f"find-links location `{redact_url(location)}` was not found",
            causes=(status_text(response.status),),
            hint="check the URL passed to --find-links",
        )
    if not response.ok:
        raise status_error(location, response.status)
    shown = redact_url(location)
    if is_json_page(response.headers.get("content-type", "")):
        return parse_json_page(response.body, response.url, shown)
    return parse_html_page(response.text(), response.url, shown)
