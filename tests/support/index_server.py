"""A package index over real HTTP on 127.0.0.1, in PyPI's layout or download.pytorch.org's.

Tests add `Pkg`s; the server builds their files into a temporary directory and answers the
Simple API (PEP 503 HTML, PEP 691 JSON), serves files with Range support and PEP 658 metadata,
and logs every request so tests can assert what a client did and did not fetch.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import posixpath
import re
import shutil
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

from tests.support.wheels import FIXED_UPLOAD_TIME, Pkg, sdist_bytes, wheel_bytes

Layout = Literal["pypi", "pytorch"]
RequestKind = Literal["root", "page", "file", "metadata", "redirect", "other"]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "text/html"
_JSON_ACCEPTED = {JSON_TYPE, "application/vnd.pypi.simple.latest+json"}
_HTML_ACCEPTED = {
    HTML_TYPE,
    "application/vnd.pypi.simple.v1+html",
    "application/vnd.pypi.simple.latest+html",
}
_FILE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".metadata")

# Built files keyed by (repr of the Pkg, tag): a session that builds the same package for
# several servers pays once.
_BUILT: dict[tuple[str, str], bytes] = {}
_BUILT_LOCK = threading.Lock()


def _built(pkg: Pkg, tag: str) -> bytes:
    key = (repr(pkg), tag)
    with _BUILT_LOCK:
        data = _BUILT.get(key)
    if data is None:
        data = sdist_bytes(pkg) if tag == "sdist" else wheel_bytes(pkg, tag)
        with _BUILT_LOCK:
            _BUILT[key] = data
    return data


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    range: str | None
    status: int
    kind: RequestKind
    index: str | None = None

    @property
    def filename(self) -> str | None:
        if self.kind not in ("file", "metadata"):
            return None
        return urllib.parse.unquote(self.path.rsplit("/", 1)[-1])

    @property
    def fetched_body(self) -> bool:
        """A GET of a whole distribution file (not a range, not metadata)."""
        return self.kind == "file" and self.method == "GET" and self.range is None


@dataclass
class IndexOptions:
    layout: Layout = "pypi"
    advertise_metadata: bool = True
    serve_metadata: bool = True
    serve_ranges: bool = True
    # "relative" hrefs exercise URL joining in clients; the pytorch layout is always absolute.
    absolute_urls: bool = False
    cache_control: str = "max-age=0, must-revalidate"
    auth: tuple[str, str] | None = None


@dataclass(frozen=True)
class StoredFile:
    pkg: Pkg
    filename: str
    data: bytes
    sha256: str
    metadata: bytes | None
    tampered: bool = False

    @property
    def metadata_sha256(self) -> str | None:
        return None if self.metadata is None else hashlib.sha256(self.metadata).hexdigest()

    @property
    def body(self) -> bytes:
        # A tampered file keeps its listed hash but serves other bytes.
        return self.data + b"tampered" if self.tampered else self.data


@dataclass
class _Index:
    name: str
    options: IndexOptions
    directory: Path
    # normalized project name -> filename -> file
    projects: dict[str, dict[str, StoredFile]] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)


class IndexServer:
    """Serves synthetic packages on http://127.0.0.1:PORT until `stop()`."""

    def __init__(self, root: Path | None = None) -> None:
        self._owns_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="kiln-index-")) if root is None else root
        self.root.mkdir(parents=True, exist_ok=True)
        self.requests: list[Request] = []
        self._lock = threading.RLock()
        self._indexes: dict[str, _Index] = {}
        self._fail: list[int] = []
        self._index("pypi")
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        # A short poll keeps `stop()` (which waits for the serving loop) fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # -- configuration -------------------------------------------------------------------

    def _index(self, index: str) -> _Index:
        index = index.strip("/")
        with self._lock:
            found = self._indexes.get(index)
            if found is None:
                layout: Layout = "pytorch" if index.startswith("whl/") else "pypi"
                options = IndexOptions(layout=layout)
                if layout == "pytorch":
                    options.advertise_metadata = False
                    options.serve_metadata = False
                    options.absolute_urls = True
                directory = self.root / index.replace("/", "__")
                directory.mkdir(parents=True, exist_ok=True)
                found = _Index(index, options, directory)
                self._indexes[index] = found
            return found

    def add(self, *pkgs: Pkg, index: str = "pypi") -> None:
        target = self._index(index)
        for pkg in pkgs:
            tags = list(pkg.tags) if pkg.wheel else []
            if pkg.sdist or not pkg.wheel:
                tags.append("sdist")
            metadata = pkg.metadata().encode()
            with self._lock:
                project = target.projects.setdefault(pkg.normalized_name, {})
                target.display.setdefault(pkg.normalized_name, pkg.name)
            for tag in tags:
                data = _built(pkg, tag)
                filename = pkg.sdist_filename() if tag == "sdist" else pkg.wheel_filename(tag)
                (target.directory / filename).write_bytes(data)
                stored = StoredFile(
                    pkg=pkg,
                    filename=filename,
                    data=data,
                    sha256=hashlib.sha256(data).hexdigest(),
                    metadata=None if tag == "sdist" else metadata,
                )
                with self._lock:
                    project[filename] = stored

    def add_raw(
        self, pkg: Pkg, filename: str, data: bytes, metadata: bytes | None, index: str = "pypi"
    ) -> None:
        """Serve ``data`` as ``filename`` of ``pkg``'s project, as it is (crafted files)."""
        target = self._index(index)
        (target.directory / filename).write_bytes(data)
        stored = StoredFile(pkg, filename, data, hashlib.sha256(data).hexdigest(), metadata)
        with self._lock:
            target.projects.setdefault(pkg.normalized_name, {})[filename] = stored
            target.display.setdefault(pkg.normalized_name, pkg.name)

    def configure(
        self,
        index: str = "pypi",
        *,
        advertise_metadata: bool | None = None,
        serve_metadata: bool | None = None,
        serve_ranges: bool | None = None,
        absolute_urls: bool | None = None,
        cache_control: str | None = None,
    ) -> None:
        options = self._index(index).options
        with self._lock:
            if advertise_metadata is not None:
                options.advertise_metadata = advertise_metadata
            if serve_metadata is not None:
                options.serve_metadata = serve_metadata
            if serve_ranges is not None:
                options.serve_ranges = serve_ranges
            if absolute_urls is not None:
                options.absolute_urls = absolute_urls
            if cache_control is not None:
                options.cache_control = cache_control

    def options(self, index: str = "pypi") -> IndexOptions:
        return self._index(index).options

    def set_layout(self, index: str, layout: Layout) -> None:
        options = self._index(index).options
        with self._lock:
            options.layout = layout
            if layout == "pytorch":
                options.advertise_metadata = False
                options.serve_metadata = False
                options.absolute_urls = True

    def require_auth(self, index: str, username: str, password: str) -> None:
        self._index(index).options.auth = (username, password)

    def fail_next(self, n: int, status: int = 503) -> None:
        with self._lock:
            self._fail.extend([status] * n)

    def clear_failures(self) -> None:
        """Drop failures still queued by `fail_next` (a shared server must be left healthy)."""
        with self._lock:
            self._fail.clear()

    def tamper(self, project: str, index: str = "pypi") -> None:
        """Serve other bytes for every file of `project` while listing the original hashes."""
        target = self._index(index)
        name = re.sub(r"[-_.]+", "-", project).lower()
        with self._lock:
            files = target.projects[name]
            for filename, stored in files.items():
                files[filename] = replace(stored, tampered=True)

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- addresses -----------------------------------------------------------------------

    def _base_path(self, index: str) -> str:
        index = index.strip("/")
        if self._index(index).options.layout == "pypi" and index == "pypi":
            return "/simple/"
        return f"/{index}/"

    def index_url(self, index: str = "pypi") -> str:
        return self.url + self._base_path(index)

    def project_url(self, project: str, index: str = "pypi") -> str:
        return f"{self.index_url(index)}{re.sub(r'[-_.]+', '-', project).lower()}/"

    def file_path(self, filename: str, index: str = "pypi") -> str:
        target = self._index(index)
        quoted = urllib.parse.quote(filename)
        if target.options.layout == "pytorch":
            return f"/{target.name}/{quoted}"
        return f"/files/{target.name}/{quoted}"

    def file_url(self, filename: str, index: str = "pypi") -> str:
        return self.url + self.file_path(filename, index)

    def flat_dir(self, index: str = "flat") -> Path:
        return self._index(index).directory

    def files(self, project: str, index: str = "pypi") -> list[StoredFile]:
        target = self._index(index)
        with self._lock:
            return list(target.projects.get(re.sub(r"[-_.]+", "-", project).lower(), {}).values())

    # -- lifecycle -----------------------------------------------------------------------

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> IndexServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- routing (called from handler threads) -------------------------------------------

    def _take_failure(self) -> int | None:
        with self._lock:
            return self._fail.pop(0) if self._fail else None

    def _route(self, path: str) -> tuple[_Index, str] | None:
        """The index a path belongs to and the rest of the path below the index base."""
        with self._lock:
            indexes = list(self._indexes.values())
        if path.startswith("/files/"):
            rest = path[len("/files/") :]
            for target in sorted(indexes, key=lambda i: -len(i.name)):
                if target.options.layout == "pypi" and rest.startswith(target.name + "/"):
                    return target, "files/" + rest[len(target.name) + 1 :]
            return None
        for target in sorted(indexes, key=lambda i: -len(i.name)):
            base = self._base_path(target.name)
            if path == base.rstrip("/") or path.startswith(base):
                return target, path[len(base) :] if path.startswith(base) else ""
        return None


def _negotiate(accept: str | None) -> str | None:
    """JSON or HTML for a Simple API page, honouring q-values; None when nothing fits."""
    if not accept:
        return HTML_TYPE
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        if media in _JSON_ACCEPTED:
            chosen = JSON_TYPE
        elif media in _HTML_ACCEPTED or media in ("*/*", "text/*"):
            chosen = HTML_TYPE
        else:
            continue
        # Highest q wins; on a tie, the type listed first.
        if best is None or q > best[0]:
            best = (q, position, chosen)
    return None if best is None else best[2]


def _parse_range(header: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """The inclusive byte range asked for, None to send the whole file."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


def _make_handler(server: IndexServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        index_server = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    index_server: IndexServer
    protocol_version = "HTTP/1.1"
    server_version = "kiln-test-index/1.0"
    # Headers and body go out in two writes; with Nagle's algorithm the body waited for the
    # client's delayed ACK of the headers, 40 ms on most answers of a kept-alive connection,
    # which no real index adds.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    # -- plumbing ------------------------------------------------------------------------

    def _handle(self, *, head: bool) -> None:
        self._head = head
        self._kind: RequestKind = "other"
        self._index_name: str | None = None
        failure = self.index_server._take_failure()
        if failure is not None:
            self._send(failure, b"injected failure\n", "text/plain")
            return
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        routed = self.index_server._route(path)
        if routed is None:
            self._send(404, b"not found\n", "text/plain")
            return
        target, rest = routed
        self._index_name = target.name
        if not self._authorized(target):
            self._send(
                401,
                b"unauthorized\n",
                "text/plain",
                {"WWW-Authenticate": 'Basic realm="kiln-test"'},
            )
            return
        if rest.startswith("files/") or (
            target.options.layout == "pytorch" and "/" not in rest and rest.endswith(_FILE_SUFFIXES)
        ):
            self._serve_file(target, rest.removeprefix("files/"))
        elif rest == "":
            self._kind = "root"
            if not path.endswith("/"):
                self._redirect(self.index_server._base_path(target.name))
            else:
                self._serve_root(target)
        else:
            self._serve_project(target, rest)

    def _authorized(self, target: _Index) -> bool:
        auth = target.options.auth
        if auth is None:
            return True
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip()).decode()
        except ValueError:
            return False
        return decoded == f"{auth[0]}:{auth[1]}"

    def _log(self, status: int) -> None:
        entry = Request(
            method=self.command,
            path=self.path,
            headers=dict(self.headers.items()),
            range=self.headers.get("Range"),
            status=status,
            kind=self._kind,
            index=self._index_name,
        )
        with self.index_server._lock:
            self.index_server.requests.append(entry)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        # Logged before the response goes out, so a client that has its answer sees the entry.
        self._log(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not self._head:
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self._kind = "redirect"
        self._send(301, b"", "text/plain", {"Location": location})

    # -- pages ---------------------------------------------------------------------------

    def _page(self, target: _Index, body: bytes, content_type: str) -> None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": target.options.cache_control, "Vary": "Accept"}
        if self.headers.get("If-None-Match") == etag:
            self._log(304)
            self.send_response(304)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, body, content_type, headers)

    def _format(self, target: _Index) -> str | None:
        if target.options.layout == "pytorch":
            return HTML_TYPE
        return _negotiate(self.headers.get("Accept"))

    def _serve_root(self, target: _Index) -> None:
        fmt = self._format(target)
        if fmt is None:
            self._send(406, b"not acceptable\n", "text/plain")
            return
        with self.index_server._lock:
            names = sorted(target.projects)
        if fmt == JSON_TYPE:
            doc = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
            self._page(target, json.dumps(doc, indent=1).encode(), JSON_TYPE)
            return
        links = "".join(f'    <a href="{n}/">{n}</a><br/>\n' for n in names)
        self._page(target, _html_doc("Simple index", links).encode(), "text/html; charset=utf-8")

    def _serve_project(self, target: _Index, rest: str) -> None:
        self._kind = "page"
        name = rest.rstrip("/")
        normalized = re.sub(r"[-_.]+", "-", name).lower()
        with self.index_server._lock:
            files = list(target.projects.get(normalized, {}).values())
        if "/" in name or not files:
            self._send(404, b"not found\n", "text/plain")
            return
        if name != normalized or not rest.endswith("/"):
            self._redirect(f"{self.index_server._base_path(target.name)}{normalized}/")
            return
        fmt = self._format(target)
        if fmt is None:
            self._send(406, b"not acceptable\n", "text/plain")
            return
        files.sort(key=lambda f: f.filename)
        page_path = f"{self.index_server._base_path(target.name)}{normalized}/"
        if fmt == JSON_TYPE:
            body = self._json_page(target, normalized, files, page_path)
            self._page(target, body, JSON_TYPE)
        else:
            body = self._html_page(target, normalized, files, page_path)
            self._page(target, body, "text/html; charset=utf-8")

    def _href(self, target: _Index, stored: StoredFile, page_path: str) -> str:
        path = self.index_server.file_path(stored.filename, target.name)
        if target.options.absolute_urls:
            return self.index_server.url + path
        return posixpath.relpath(path, page_path) if page_path.endswith("/") else path

    def _json_page(
        self, target: _Index, name: str, files: list[StoredFile], page_path: str
    ) -> bytes:
        entries = []
        versions: set[str] = set()
        for stored in files:
            pkg = stored.pkg
            versions.add(pkg.file_version)
            entry: dict[str, object] = {
                "filename": stored.filename,
                "url": self._href(target, stored, page_path),
                "hashes": {"sha256": stored.sha256},
                "size": len(stored.data),
                "upload-time": pkg.upload_time or FIXED_UPLOAD_TIME,
                "yanked": False if pkg.yanked is None else pkg.yanked,
            }
            if pkg.requires_python is not None:
                entry["requires-python"] = pkg.requires_python
            if target.options.advertise_metadata and stored.metadata_sha256 is not None:
                entry["core-metadata"] = {"sha256": stored.metadata_sha256}
                entry["dist-info-metadata"] = {"sha256": stored.metadata_sha256}
            entries.append(entry)
        doc = {
            "meta": {"api-version": "1.1"},
            "name": name,
            "versions": sorted(versions),
            "files": entries,
        }
        return json.dumps(doc, indent=1).encode()

    def _html_page(
        self, target: _Index, name: str, files: list[StoredFile], page_path: str
    ) -> bytes:
        links = []
        for stored in files:
            pkg = stored.pkg
            href = f"{self._href(target, stored, page_path)}#sha256={stored.sha256}"
            attrs = [f'href="{html.escape(href)}"']
            if pkg.requires_python is not None:
                attrs.append(f'data-requires-python="{html.escape(pkg.requires_python)}"')
            if pkg.yanked is not None:
                attrs.append(f'data-yanked="{html.escape(pkg.yanked)}"')
            if target.options.advertise_metadata and stored.metadata_sha256 is not None:
                value = f"sha256={stored.metadata_sha256}"
                attrs.append(f'data-core-metadata="{value}"')
                attrs.append(f'data-dist-info-metadata="{value}"')
            links.append(f"    <a {' '.join(attrs)}>{html.escape(stored.filename)}</a><br/>\n")
        title = f"Links for {name}"
        return _html_doc(title, "".join(links), with_meta=target.options.layout == "pypi").encode()

    # -- files ---------------------------------------------------------------------------

    def _serve_file(self, target: _Index, filename: str) -> None:
        self._kind = "metadata" if filename.endswith(".metadata") else "file"
        base = filename.removesuffix(".metadata")
        with self.index_server._lock:
            stored = next(
                (p[base] for p in target.projects.values() if base in p),
                None,
            )
        if stored is None:
            self._send(404, b"not found\n", "text/plain")
            return
        if self._kind == "metadata":
            if not target.options.serve_metadata or stored.metadata is None:
                self._send(404, b"not found\n", "text/plain")
                return
            self._send(200, stored.metadata, "application/octet-stream")
            return
        body = stored.body
        headers = {"ETag": f'"{stored.sha256[:32]}"'}
        range_header = self.headers.get("Range")
        if target.options.serve_ranges:
            headers["Accept-Ranges"] = "bytes"
            if range_header is not None:
                wanted = _parse_range(range_header, len(body))
                if wanted == "unsatisfiable":
                    headers["Content-Range"] = f"bytes */{len(body)}"
                    self._send(416, b"", "application/octet-stream", headers)
                    return
                if wanted is not None:
                    start, end = wanted
                    headers["Content-Range"] = f"bytes {start}-{end}/{len(body)}"
                    self._send(206, body[start : end + 1], "application/octet-stream", headers)
                    return
        self._send(200, body, "application/octet-stream", headers)


def _html_doc(title: str, body: str, *, with_meta: bool = True) -> str:
    meta = '    <meta name="pypi:repository-version" content="1.1">\n' if with_meta else ""
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f"{meta}    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{body}  </body>\n</html>\n"
    )
