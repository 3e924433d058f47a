"""Credentials for indexes, and the rule for where they may be sent.

Sources, first match wins for a URL:
1. userinfo in a URL kiln was given (``https://user:token@host/simple``), remembered for
   later requests to that host: an index's file URLs usually live on the same host but under
   another path, and must carry the same credentials;
2. ``KILN_INDEX_<NAME>_USERNAME`` / ``_PASSWORD`` for a named index (`CredentialStore.register`);
3. ``~/.netrc`` (or the file ``NETRC`` names).

Credentials go only to the exact host and port they belong to, never to a redirect target on
another host, and never into a message (see `kiln.net.redact`). An index with
``authenticate = "never"`` is forbidden any credentials (`CredentialStore.forbid`), netrc's too.
"""

from __future__ import annotations

import base64
import os
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kiln.core.records import record

_DEFAULT_PORTS = {"http": 80, "https": 443}


@record
class Credentials:
    """A username and password for one host."""

    username: str
    password: str

    def authorization(self) -> str:
        """The value of an ``Authorization`` header (HTTP basic)."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"

    def __repr__(self) -> str:
        # Credentials end up in reprs of objects that hold them; never print the secret.
        return "Credentials(****)"


HostKey = tuple[str, int]


def host_key(url: str) -> HostKey | None:
    """(host, port) with the scheme's default port filled in; None for URLs without a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host:
        return None
    return host, port if port is not None else _DEFAULT_PORTS.get(parts.scheme.lower(), 0)


def userinfo(url: str) -> Credentials | None:
    """Credentials written into ``url`` itself, percent-decoded."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.username is None and parts.password is None:
        return None
    return Credentials(unquote(parts.username or ""), unquote(parts.password or ""))


def env_var_prefix(name: str) -> str:
    """``KILN_INDEX_PYTORCH_CU124`` for an index named ``pytorch-cu124``, as uv spells it."""
    return "KILN_INDEX_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


@record
class _Entry:
    """Credentials found for a host, and the file they came from."""

    key: HostKey
    path: str
    credentials: Credentials


class CredentialStore:
    """Thread-safe: one store serves every request of one `HttpClient`."""

    def __init__(
        self, env: Mapping[str, str] | None = None, netrc_file: Path | None = None
    ) -> None:
        self._env = os.environ if env is None else env
        self._netrc_file = netrc_file
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()
        self._netrc_loaded = False
        self._netrc: dict[str, Credentials] = {}
        self._netrc_default: Credentials | None = None
        self._forbidden_prefixes: list[tuple[HostKey, str]] = []
        self._forbidden_urls: set[str] = set()

    def remember(self, url: str) -> None:
        """Keep the userinfo of ``url``, if any, for later requests to its host."""
        found = userinfo(url)
        if found is not None:
            self._add(url, found)

    def register(self, name: str, url: str) -> None:
        """A named index: its URL's userinfo, else ``KILN_INDEX_<NAME>_USERNAME/_PASSWORD``."""
        self.remember(url)
        if userinfo(url) is not None:
            return
        prefix = env_var_prefix(name)
        username = self._env.get(f"{prefix}_USERNAME")
        password = self._env.get(f"{prefix}_PASSWORD")
        if username is None and password is None:
            return
        self._add(url, Credentials(username or "", password or ""))

    def forbid(self, url: str) -> None:
        """Send no credentials to ``url`` or anything below it (``authenticate = "never"``)."""
        key = host_key(url)
        if key is None:
            return
        with self._lock:
            self._forbidden_prefixes.append((key, _dir_path(url)))

    def forbid_exact(self, urls: Iterable[str]) -> None:
        """Send no credentials to these URLs: the files a never-authenticated index lists,
        which may live on another path of a host that has credentials."""
        stripped = {_bare(url) for url in urls}
        with self._lock:
            self._forbidden_urls.update(stripped)

    def forbidden(self, url: str) -> bool:
        key = host_key(url)
        with self._lock:
            if not self._forbidden_prefixes and not self._forbidden_urls:
                return False
            if _bare(url) in self._forbidden_urls:
                return True
            path = _dir_path(url)
            return any(k == key and path.startswith(p) for k, p in self._forbidden_prefixes)

    def for_url(self, url: str) -> Credentials | None:
        """What to send to ``url``: only credentials that belong to its host and port."""
        if self.forbidden(url):
            return None
        inline = userinfo(url)
        if inline is not None:
            return inline
        key = host_key(url)
        if key is None:
            return None
        path = urlsplit(url).path or "/"
        with self._lock:
            same_host = [e for e in self._entries if e.key == key]
        if same_host:
            prefixed = [e for e in same_host if path.startswith(e.path)]
            if prefixed:
                return max(prefixed, key=lambda e: len(e.path)).credentials
            # Files of an index are often served from another path on the same host.
            return same_host[-1].credentials
        return self._from_netrc(key[0])

    def _add(self, url: str, credentials: Credentials) -> None:
        key = host_key(url)
        if key is None:
            return
        path = urlsplit(url).path or "/"
        with self._lock:
            self._entries = [e for e in self._entries if (e.key, e.path) != (key, path)]
            self._entries.append(_Entry(key, path, credentials))

    def _from_netrc(self, host: str) -> Credentials | None:
        with self._lock:
            if not self._netrc_loaded:
                self._load_netrc()
                self._netrc_loaded = True
            return self._netrc.get(host, self._netrc_default)

    def _load_netrc(self) -> None:
        path = self._netrc_file
        if path is None:
            env = self._env.get("NETRC")
            path = Path(env) if env else Path.home() / ".netrc"
        if not path.is_file():
            return
        import netrc

        try:
            parsed = netrc.netrc(str(path))
        except (netrc.NetrcParseError, OSError, UnicodeDecodeError):
            # A broken netrc must not break installs from indexes that need no credentials.
            return
        for host, (login, _account, password) in parsed.hosts.items():
            credentials = Credentials(login or "", password or "")
            if host == "default":
                self._netrc_default = credentials
            else:
                self._netrc[host.lower()] = credentials


def _dir_path(url: str) -> str:
    """The URL's path with exactly one trailing slash, so prefixes match whole segments."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return "/"
    return path.rstrip("/") + "/"


def _bare(url: str) -> str:
    """The URL without userinfo or fragment, as forbidden URLs are compared."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc, fragment="").geturl()
