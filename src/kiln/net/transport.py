"""Connection pools: proxies from the environment, one pool manager per route (the TLS
trust they use comes from `kiln.net.trust`).

Imports urllib3 and ssl, which together cost tens of milliseconds; only `kiln.net.client`
imports this module, and nothing on the CLI's start-up path imports that.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

import urllib3

from kiln.net.trust import take

# Downloads run 8 at a time and metadata prefetch another 8; keep their connections alive.
_POOL_SIZE = 16


def _getenv(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name) or env.get(name.lower()) or None


def bypasses_proxy(url: str, no_proxy: str | None) -> bool:
    """Whether ``url``'s host is exempt from proxying (NO_PROXY, or a loopback address).

    NO_PROXY entries: ``*``, a host name (matching itself and its subdomains; a leading dot
    is allowed), an IP address, a CIDR block, each optionally with ``:port``.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return True
    # A proxy cannot reach the caller's own loopback interface.
    if host == "localhost" or _is_loopback(host):
        return True
    if not no_proxy:
        return False
    try:
        port = parts.port
    except ValueError:
        port = None
    for raw in no_proxy.replace(" ", "").split(","):
        entry = raw.lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry_host, entry_port = entry, None
        if entry.count(":") == 1:
            entry_host, _, port_text = entry.partition(":")
            entry_port = int(port_text) if port_text.isdigit() else None
        if entry_port is not None and port is not None and entry_port != port:
            continue
        if _matches_host(host, entry_host.strip("[]")):
            return True
    return False


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _matches_host(host: str, entry: str) -> bool:
    if "/" in entry:
        try:
            return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    entry = entry.lstrip(".")
    return host == entry or host.endswith("." + entry)


class Transport:
    """Hands out the pool manager a URL's requests go through; thread-safe."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(os.environ if env is None else env)
        self._lock = threading.Lock()
        # Without a proxy: one manager for https, one for plain http (keyed by needing TLS).
        self._direct: dict[bool, urllib3.PoolManager] = {}
        self._proxied: dict[str, urllib3.ProxyManager] = {}
        self._context: ssl.SSLContext | None = None

    def _ssl(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = take(self._env)
        return self._context

    def proxy_for(self, url: str) -> str | None:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            return None
        proxy = _getenv(self._env, f"{scheme.upper()}_PROXY") or _getenv(self._env, "ALL_PROXY")
        if proxy is None or bypasses_proxy(url, _getenv(self._env, "NO_PROXY")):
            return None
        return proxy

    def manager(self, url: str) -> urllib3.PoolManager:
        proxy = self.proxy_for(url)
        with self._lock:
            if proxy is None:
                secure = url[:7].lower() != "http://"
                direct = self._direct.get(secure)
                if direct is None:
                    # Plain http (a mirror on the local network) has no use for the trust
                    # store, whose loading took 58 ms here before a first request left.
                    direct = self._direct[secure] = (
                        urllib3.PoolManager(
                            num_pools=32, maxsize=_POOL_SIZE, ssl_context=self._ssl()
                        )
                        if secure
                        else urllib3.PoolManager(num_pools=32, maxsize=_POOL_SIZE)
                    )
                return direct
            found = self._proxied.get(proxy)
            if found is None:
                found = urllib3.ProxyManager(
                    proxy, num_pools=32, maxsize=_POOL_SIZE, ssl_context=self._ssl()
                )
                self._proxied[proxy] = found
            return found

    def close(self) -> None:
        with self._lock:
            for direct in self._direct.values():
                direct.clear()
            for manager in self._proxied.values():
                manager.clear()
