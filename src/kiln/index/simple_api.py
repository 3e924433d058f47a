"""Project pages of the Simple Repository API, JSON (PEP 691) and HTML (PEP 503), as `DistFile`s.

Both parsers accept what real indexes serve: PyPI's JSON with PEP 700 upload times and sizes,
PEP 714's ``core-metadata`` beside the legacy ``dist-info-metadata``, PEP 592 yanks; and
download.pytorch.org's HTML with absolute hrefs, ``%2B`` in local versions, ``#sha256=``
fragments and ``data-upload-time`` (PEP 700's key, which that index also writes into its
HTML). Unknown keys are ignored, as the PEPs ask.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from kiln.core.dist import DistFile
from kiln.core.errors import KilnError
from kiln.core.hashes import Hashes

JSON_CONTENT_TYPES = (
    "application/vnd.pypi.simple.v1+json",
    "application/vnd.pypi.simple.latest+json",
)


class InvalidIndexPage(KilnError):
    """An index answered with a page that is not a Simple API project page."""


def is_json_page(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in JSON_CONTENT_TYPES


def parse_json_page(data: bytes, page_url: str, index: str) -> list[DistFile]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidIndexPage(
            f"`{index}` answered `{page_url}` with a page that is not valid JSON",
            causes=(str(exc),),
            hint="check that the URL points at a Simple API index (PEP 691)",
        ) from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        raise InvalidIndexPage(
            f"`{index}` answered `{page_url}` with JSON that has no `files` list",
            hint="check that the URL points at a Simple API index (PEP 691)",
        )
    return [dist for entry in files if (dist := _json_file(entry, page_url, index)) is not None]


def _json_file(entry: Any, page_url: str, index: str) -> DistFile | None:
    if not isinstance(entry, dict):
        return None
    filename, href = entry.get("filename"), entry.get("url")
    if not isinstance(filename, str) or not isinstance(href, str) or not filename:
        return None
    # PyPI's pages hold thousands of absolute URLs: joining each one was a measurable part of
    # a warm resolution, so only relative ones are joined.
    absolute = href.startswith(("https://", "http://"))
    url, _, fragment = (href if absolute else urljoin(page_url, href)).partition("#")
    raw_hashes = entry.get("hashes")
    hashes = (
        Hashes.of({str(k): str(v) for k, v in raw_hashes.items() if isinstance(v, str)})
        if isinstance(raw_hashes, dict)
        else Hashes()
    )
    if not hashes and fragment:
        hashes = Hashes.from_fragment(fragment)
    requires_python = entry.get("requires-python")
    size = entry.get("size")
    upload_time = entry.get("upload-time")
    # PEP 714: prefer the new key; older indexes send only a legacy one, and PyPI's JSON
    # once spelled the legacy key with the HTML attribute's `data-` prefix.
    metadata = entry.get(
        "core-metadata", entry.get("dist-info-metadata", entry.get("data-dist-info-metadata"))
    )
    return DistFile(
        filename=filename,
        url=url,
        hashes=hashes,
        requires_python=requires_python if isinstance(requires_python, str) else None,
        yanked=_yanked(entry.get("yanked")),
        upload_time=parse_upload_time(upload_time) if isinstance(upload_time, str) else None,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        metadata_file=_json_metadata(metadata),
        index=index,
    )


def _yanked(value: object) -> str | None:
    if value is True:
        return ""
    if isinstance(value, str):
        return value
    return None


def _json_metadata(value: object) -> Hashes | None:
    if value is True:
        return Hashes()
    if isinstance(value, dict):
        return Hashes.of({str(k): str(v) for k, v in value.items() if isinstance(v, str)})
    return None


_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def parse_upload_time(text: str) -> datetime | None:
    """ISO 8601 as indexes write it (``2021-05-05T14:18:17.237677Z``), as an aware UTC time.

    Python 3.10's ``fromisoformat`` rejects ``Z`` and short fractions, hence the pattern; the
    common shape (PyPI's, with six fraction digits) takes a fast path first.
    """
    if len(text) == 27 and text[-1] == "Z" and text[10] == "T":
        try:
            return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    match = _TIME.match(text.strip())
    if match is None:
        return None
    clock = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
    frac = (match["frac"] or "0")[:6].ljust(6, "0")
    try:
        naive = datetime.fromisoformat(f"{match['date']}T{clock}.{frac}")
    except ValueError:
        return None
    tz = match["tz"]
    if tz is None or tz == "Z":
        return naive.replace(tzinfo=timezone.utc)
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return naive.replace(tzinfo=timezone(sign * offset)).astimezone(timezone.utc)


def parse_html_page(text: str, page_url: str, index: str) -> list[DistFile]:
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    return [
        dist for attrs in parser.anchors if (dist := _html_file(attrs, base, index)) is not None
    ]


def _html_file(attrs: dict[str, str | None], base: str, index: str) -> DistFile | None:
    href = attrs.get("href")
    if not href:
        return None
    url, fragment = urldefrag(urljoin(base, href))
    # The file name is the URL's last segment, decoded: pytorch writes `2.5.1%2Bcpu`.
    filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not filename:
        return None
    yanked: str | None = None
    if "data-yanked" in attrs:
        yanked = attrs["data-yanked"] or ""
    metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
    has_metadata = "data-core-metadata" in attrs or "data-dist-info-metadata" in attrs
    uploaded = attrs.get("data-upload-time")
    return DistFile(
        filename=filename,
        url=url,
        hashes=Hashes.from_fragment(fragment) if fragment else Hashes(),
        requires_python=attrs.get("data-requires-python") or None,
        yanked=yanked,
        upload_time=parse_upload_time(uploaded) if uploaded else None,
        metadata_file=_html_metadata(metadata) if has_metadata else None,
        index=index,
    )


def _html_metadata(value: str | None) -> Hashes | None:
    if value is None or value.lower() == "true":
        return Hashes()
    if value.lower() == "false":
        return None
    return Hashes.from_fragment(value)


class _AnchorParser(HTMLParser):
    """Collects ``<a>`` attributes and the first ``<base href>``; attribute values arrive
    unescaped (``&gt;=3.8`` reads ``>=3.8``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append({name.lower(): value for name, value in attrs})
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href") or None
