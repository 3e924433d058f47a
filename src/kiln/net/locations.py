"""Telling local paths and ``file://`` URLs from remote URLs, and converting between them."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit


def local_path(location: str) -> Path | None:
    """The file system path ``location`` names, or None when it is a remote URL.

    ``file:///x/y``, ``/x/y``, ``./y`` and ``C:\\x`` are local; ``https://...`` is not.
    """
    try:
        scheme = urlsplit(location).scheme.lower()
    except ValueError:
        return Path(location)
    if scheme == "file":
        parts = urlsplit(location)
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            from urllib.request import url2pathname

            return Path(url2pathname(parts.path))
        return Path(unquote(parts.path))
    # A one-letter "scheme" is a Windows drive.
    if scheme == "" or len(scheme) == 1:
        return Path(location)
    return None


def path_to_url(path: Path) -> str:
    return path.resolve().as_uri()


def is_remote(location: str) -> bool:
    return local_path(location) is None
