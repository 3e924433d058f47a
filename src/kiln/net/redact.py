"""URLs as they may appear in messages: with any credentials they carry masked.

Index URLs often carry a token in their userinfo (``https://user:token@host/simple``); every
message, log line and error that names a URL goes through `redact_url` first.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

MASK = "****"


def redact_url(url: str) -> str:
    """``https://user:secret@host/x`` -> ``https://****:****@host/x``; others unchanged.

    The user name is masked too: for token-based indexes the name *is* the secret.
    """
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    masked = f"{MASK}:{MASK}" if ":" in userinfo else MASK
    return urlunsplit(parts._replace(netloc=f"{masked}@{hostport}"))


def strip_userinfo(url: str) -> str:
    """The URL without ``user:password@``, as it goes on the wire."""
    if "@" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
