"""HTTP for indexes and downloads: retries, redirects, credentials, a page cache, offline mode.

Every request goes through `HttpClient`, which is thread-safe: the resolver's metadata
prefetch and the installer's parallel downloads share one client and its connection pools.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar
from urllib.parse import urljoin

from kiln import __version__
from kiln.cache.atomic import new_file_mode
from kiln.cache.layout import Cache
from kiln.core.errors import NetworkError, OfflineError, UsageError
from kiln.core.hashes import Hashes
from kiln.core.kill_points import reached
from kiln.core.records import field, record
from kiln.net.auth import CredentialStore
from kiln.net.failures import (
    UNREACHABLE_HINT,
    certificate_refused,
    describe,
    status_error,
    status_text,
)
from kiln.net.hashing import CHUNK, Hasher, copy_local, verify
from kiln.net.http_cache import CachedPage, HttpCache, storable
from kiln.net.locations import local_path
from kiln.net.redact import redact_url, strip_userinfo

if TYPE_CHECKING:
    import urllib3

    from kiln.net.transport import Transport

__all__ = ["HttpClient", "Response", "redact_url", "status_text"]

T = TypeVar("T")

_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10
_MAX_BACKOFF = 10.0


@record
class Response:
    """One HTTP answer with its whole body."""

    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def reason(self) -> str:
        return status_text(self.status)

    def text(self) -> str:
        content_type = self.headers.get("content-type", "")
        charset = "utf-8"
        for param in content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


@record
class Page:
    """An index page's answer whose body may still be in the page cache: ``digest`` (the
    body's sha256) names what a parse of it was kept under, and `read` fetches the body only
    for a page not parsed before."""

    url: str
    status: int
    headers: Mapping[str, str]
    digest: str
    # The whole answer, and its body's sha256: ``digest`` unless the cache entry was
    # rewritten by another process in between.
    read: Callable[[], tuple[Response, str]] = field(repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @classmethod
    def whole(cls, response: Response, digest: str | None = None) -> Page:
        """A page whose body is in memory already (``digest``: its sha256, when known)."""
        known = digest if digest is not None else hashlib.sha256(response.body).hexdigest()
        return cls(
            response.url, response.status, response.headers, known, lambda: (response, known)
        )


def _kept(store: HttpCache, key: str, accept: str, response: Response) -> Page:
    """A page fetched over the network, stored when it is a 200 the server lets be kept."""
    if response.status == 200 and storable(response.headers):
        stored = store.store(key, accept, response.url, response.headers, response.body)
        return Page.whole(response, stored.digest)
    return Page.whole(response)


class _Retry(Exception):
    """An answer worth asking again for (5xx, 429): what happened and how long to wait."""

    def __init__(self, description: str, wait: float | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.wait = wait


class HttpClient:
    def __init__(
        self,
        *,
        offline: bool = False,
        retries: int | None = None,
        timeout: float | None = None,
        cache: Cache | None = None,
        credentials: CredentialStore | None = None,
        backoff: float = 0.5,
        env: Mapping[str, str] | None = None,
        refresh: bool = False,
        log: Callable[[str], None] | None = None,
    ) -> None:
        environ = os.environ if env is None else env
        # `-v`: one line per request sent; URLs never carry credentials.
        self.log = log
        if retries is None:
            retries = _int_env(environ, "KILN_HTTP_RETRIES", 3)
        if timeout is None:
            timeout = float(_int_env(environ, "KILN_HTTP_TIMEOUT", 30))
        self.offline = offline
        # --refresh: cached pages are revalidated even while Cache-Control calls them fresh.
        self.refresh = refresh
        # As uv counts them: retries after the first attempt.
        self.attempts = max(0, retries) + 1
        self.backoff = backoff
        self.credentials = credentials if credentials is not None else CredentialStore(environ)
        self._cache = cache
        self._http_cache: HttpCache | None = None
        self._cache_lock = threading.Lock()
        # The connection pools (urllib3, ssl) are made on the first request: a command served
        # from the cache, or one that finds nothing to do, never imports them.
        self._environ = environ
        self._transport_made: Transport | None = None
        self._timeout_seconds = timeout
        self._user_agent = f"kiln/{__version__}"
        self._sent = 0
        self._sent_lock = threading.Lock()

    # -- public API ----------------------------------------------------------------------

    @property
    def requests_sent(self) -> int:
        """Requests this client has sent over the network so far (a cache hit sends none)."""
        return self._sent

    def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, cache_page: bool = False
    ) -> Response:
        """GET ``url``; any status but 5xx/429 is returned, those are retried and then raised.
        With ``cache_page``, through the page cache (`get_page`)."""
        if cache_page:
            return self.get_page(url, headers=headers).read()[0]
        self.credentials.remember(url)
        path = local_path(url)
        if path is not None:
            return _read_local(url, path)
        return self._get(url, {k.title(): v for k, v in (headers or {}).items()}, None)

    def make_transport(self) -> None:
        """Make the connection pools now, on this thread (importing urllib3 and taking the
        trust store), unless offline; else the first request makes them."""
        if not self.offline:
            _ = self._transport

    def page_is_kept(self, url: str, accept: str) -> bool:
        """Whether `get_page` would answer ``url`` from the cache (or a local file), with no
        request: a look at the entry's first line."""
        if local_path(url) is not None:
            return True
        store = self._pages()
        if store is None:
            return False
        return self._answers(store.load(strip_userinfo(url), accept))

    def _answers(self, page: CachedPage | None) -> bool:
        """Whether a cached entry stands for the page without asking: any entry offline, a
        fresh one otherwise unless --refresh."""
        return page is not None and (self.offline or (page.is_fresh() and not self.refresh))

    def get_page(self, url: str, *, headers: Mapping[str, str] | None = None) -> Page:
        """GET an index page through the page cache: a fresh entry (any entry, offline) is
        answered from its first line, its body read only if `Page.read` is called; a stale
        one is revalidated."""
        self.credentials.remember(url)
        path = local_path(url)
        if path is not None:
            return Page.whole(_read_local(url, path))
        wanted = {k.title(): v for k, v in (headers or {}).items()}
        accept = wanted.get("Accept", "")
        key = strip_userinfo(url)
        store = self._pages()
        page = store.load(key, accept) if store is not None else None
        if store is None:
            return Page.whole(self._get(url, wanted, None))
        if page is not None and self._answers(page):
            kept = page

            def read() -> tuple[Response, str]:
                whole = store.body(key, accept, kept)
                if whole is not None and whole.body is not None:
                    return Response(whole.url, 200, whole.headers, whole.body), whole.digest
                # The entry went away since its first line was read: asked for again, and
                # only a page the index still serves stands in for the one it had.
                again = self._get(url, wanted, None)
                if again.status != 200:
                    raise status_error(url, again.status)
                return _kept(store, key, accept, again).read()

            return Page(page.url, 200, page.headers, page.digest, read)
        response = self._get(url, wanted, page)
        if response.status == 304 and page is not None:
            renewed = store.revalidated(key, accept, page, response.headers)
            if renewed is None or renewed.body is None:
                # The body the validators stood for is gone: the whole page, asked again.
                response = self._get(url, wanted, None)
            else:
                answer = Response(renewed.url, 200, renewed.headers, renewed.body)
                return Page.whole(answer, renewed.digest)
        return _kept(store, key, accept, response)

    def _get(self, url: str, wanted: dict[str, str], page: CachedPage | None) -> Response:
        """One GET over the network (conditional on ``page``'s validators)."""
        if self.offline:
            raise OfflineError(
                f"`{redact_url(url)}` is not in the cache and the network is off",
                hint="run once without --offline",
            )
        sent = dict(wanted)
        if page is not None:
            sent.update(page.validators())
        sent.setdefault("Accept-Encoding", "gzip, deflate")
        return self._with_retries(url, lambda: self._fetch("GET", url, sent))

    def fetch_range(self, url: str, start: int, end: int | None) -> Response | None:
        """Bytes ``start..end`` (inclusive) of ``url``; a negative ``start`` asks for the last
        ``-start`` bytes. None when the server does not answer with a range (then its body is
        left unread)."""
        self._require_online(url)
        self.credentials.remember(url)
        if start < 0:
            spec = f"bytes={start}"
        else:
            spec = f"bytes={start}-" + ("" if end is None else str(end))
        headers = {"Range": spec, "Accept-Encoding": "identity"}

        def attempt() -> Response | None:
            final, resp = self._open("GET", url, headers, stream=True)
            try:
                if resp.status == 206:
                    body = resp.read(decode_content=False)
                    return Response(final, 206, _headers(resp), body)
                # A 200 carries the whole file: dropping the connection beats reading it.
                resp.close()
                if resp.status in _RETRY_STATUSES:
                    raise _Retry(status_text(resp.status), _retry_after(resp))
                return None
            finally:
                resp.release_conn()

        return self._with_retries(url, attempt)

    def get_range(self, url: str, start: int, end: int | None) -> bytes | None:
        found = self.fetch_range(url, start, end)
        return None if found is None else found.body

    def content_length(self, url: str) -> int | None:
        self._require_online(url)
        self.credentials.remember(url)
        response = self._with_retries(url, lambda: self._fetch("HEAD", url, {}))
        length = response.headers.get("content-length", "")
        return int(length) if response.ok and length.isdigit() else None

    def download(
        self,
        url: str,
        dest: Path,
        *,
        hashes: Hashes,
        progress: Callable[[int], None] | None = None,
    ) -> str:
        """Fetch ``url`` to ``dest`` and return its sha256; ``dest`` exists only on success.

        The file is checked against the strongest of ``hashes`` while it streams.
        """
        self.credentials.remember(url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        # mkstemp makes 0600; a kept download must read as any other file the user makes.
        os.fchmod(fd, new_file_mode())
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w+b") as out:
                source = local_path(url)
                if source is not None:
                    digests = copy_local(url, source, out, hashes, progress)
                else:
                    self._require_online(url)
                    digests = self._with_retries(
                        url, lambda: self._stream(url, out, hashes, progress)
                    )
            sha256, checked = digests
            verify(dest.name, url, hashes, checked)
            reached("download-verified")
            os.replace(tmp, dest)
            return sha256
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def close(self) -> None:
        with self._cache_lock:
            if self._transport_made is not None:
                self._transport_made.close()

    @property
    def _transport(self) -> Transport:
        with self._cache_lock:
            if self._transport_made is None:
                import urllib3

                from kiln.net.transport import Transport

                self._transport_made = Transport(self._environ)
                seconds = self._timeout_seconds
                self._timeout = urllib3.Timeout(connect=seconds, read=seconds)
            return self._transport_made

    # -- plumbing ------------------------------------------------------------------------

    def _pages(self) -> HttpCache | None:
        if self._cache is None:
            return None
        with self._cache_lock:
            if self._http_cache is None:
                self._http_cache = HttpCache(self._cache.http)
            return self._http_cache

    def _require_online(self, url: str) -> None:
        if self.offline:
            raise OfflineError(
                f"`{redact_url(url)}` is not in the cache and the network is off",
                hint="run once without --offline",
            )

    def _open(
        self, method: str, url: str, headers: Mapping[str, str], *, stream: bool
    ) -> tuple[str, urllib3.BaseHTTPResponse]:
        """One request, following redirects; credentials go only to their own host.

        Returns the URL that answered (without userinfo) and its response."""
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            with self._sent_lock:
                self._sent += 1
            wire = strip_userinfo(current)
            sent = {"User-Agent": self._user_agent, **headers}
            credentials = self.credentials.for_url(current)
            if credentials is not None:
                sent["Authorization"] = credentials.authorization()
            resp = self._transport.manager(wire).request(
                method,
                wire,
                headers=sent,
                redirect=False,
                retries=False,
                preload_content=not stream,
                decode_content=not stream,
                timeout=self._timeout,
            )
            if self.log is not None:
                ranged = f" ({headers['Range']})" if "Range" in headers else ""
                self.log(f"{method} {redact_url(wire)}{ranged} -> {resp.status}")
            location = resp.headers.get("location")
            if resp.status not in _REDIRECT_STATUSES or not location:
                return wire, resp
            resp.drain_conn()
            resp.release_conn()
            current = urljoin(wire, location)
            if resp.status == 303 and method != "HEAD":
                method = "GET"
        raise NetworkError(
            f"failed to fetch `{redact_url(url)}`",
            causes=(f"more than {_MAX_REDIRECTS} redirects",),
            hint="check the index URL",
        )

    def _fetch(self, method: str, url: str, headers: Mapping[str, str]) -> Response:
        final, resp = self._open(method, url, headers, stream=False)
        if resp.status in _RETRY_STATUSES:
            raise _Retry(status_text(resp.status), _retry_after(resp))
        return Response(final, resp.status, _headers(resp), resp.data)

    def _stream(
        self,
        url: str,
        out: IO[bytes],
        hashes: Hashes,
        progress: Callable[[int], None] | None,
    ) -> tuple[str, str | None]:
        out.seek(0)
        out.truncate()
        _, resp = self._open("GET", url, {"Accept-Encoding": "identity"}, stream=True)
        try:
            if resp.status in _RETRY_STATUSES:
                raise _Retry(status_text(resp.status), _retry_after(resp))
            if resp.status != 200:
                raise status_error(url, resp.status)
            hasher = Hasher(hashes)
            for chunk in resp.stream(CHUNK, decode_content=False):
                out.write(chunk)
                reached("download-chunk")
                hasher.update(chunk)
                if progress is not None:
                    progress(len(chunk))
            return hasher.result()
        except BaseException:
            # Unread or half-read: the connection cannot serve another request.
            resp.close()
            raise
        finally:
            resp.release_conn()

    def _with_retries(self, url: str, attempt: Callable[[], T]) -> T:
        from urllib3.exceptions import HTTPError, SSLError

        last = ""
        for n in range(self.attempts):
            try:
                return attempt()
            except _Retry as retry:
                last, wait = retry.description, retry.wait
            except SSLError as error:
                if certificate_refused(error):
                    # Certificates do not fix themselves between attempts.
                    raise NetworkError(
                        f"failed to fetch `{redact_url(url)}`",
                        causes=(describe(error),),
                        hint="set SSL_CERT_FILE to a CA bundle that signs the index's certificate",
                    ) from None
                # Anything else in TLS (an alert from the server, a handshake cut off) is
                # the network's: files.pythonhosted.org answered one handshake of a cold
                # sync here with a decode_error alert, and the syncs after it passed.
                last, wait = describe(error), None
            except (HTTPError, OSError) as error:
                last, wait = describe(error), None
            if n + 1 < self.attempts:
                delay = min(self.backoff * 2**n, _MAX_BACKOFF)
                time.sleep(max(delay, min(wait or 0.0, _MAX_BACKOFF)))
        count = self.attempts
        cause = last if count == 1 else f"{last} ({count} attempts)"
        raise NetworkError(
            f"failed to fetch `{redact_url(url)}`", causes=(cause,), hint=UNREACHABLE_HINT
        )


def _read_local(url: str, path: Path) -> Response:
    """A ``file://`` index page: a directory answers with its ``index.html``."""
    if path.is_dir():
        path = path / "index.html"
    try:
        body = path.read_bytes()
    except OSError:
        return Response(url, 404)
    content_type = "text/html" if path.suffix in (".html", ".htm") else ""
    if path.suffix == ".json":
        content_type = "application/vnd.pypi.simple.v1+json"
    return Response(url, 200, {"content-type": content_type}, body)


def _headers(resp: urllib3.BaseHTTPResponse) -> dict[str, str]:
    return {key.lower(): value for key, value in resp.headers.items()}


def _retry_after(resp: urllib3.BaseHTTPResponse) -> float | None:
    value = resp.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    """``KILN_X``, else uv's ``UV_X``, as a whole number of seconds or tries; a value that is
    not one is an error, as in uv, not the default."""
    for key in (name, "UV_" + name.removeprefix("KILN_")):
        value = env.get(key, "").strip()
        if not value:
            continue
        if not value.isdigit():
            raise UsageError(
                f"`{key}` is `{value}`, not a whole number",
                hint=f"set `{key}` to a number such as {default}, or unset it",
            )
        return int(value)
    return default
