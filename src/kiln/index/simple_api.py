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
import sys
from collections.abc import Iterable
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
    dists = [dist for entry in files if (dist := _json_file(entry, page_url, index)) is not None]
    share_names(dists)
    return dists


_UNSEEN = object()


def share_names(files: Iterable[DistFile]) -> None:
    """Work out what the file names say once per release, not once per file.

    A PyPI page lists thousands of wheels but a few hundred versions; parsing each file's
    name and version on its own was a large part of a warm install. Wheels named
    ``name-version-py-abi-platform.whl`` get their release from the first file of the same
    ``name-version``: exactly what `DistFile.name_version` computes from those two parts,
    filled into the instance's dict, where that cached property keeps its value.
    """
    names: dict[str, object] = {}
    for dist in files:
        filename = dist.filename
        if not filename.endswith(".whl"):
            continue
        parts = filename[:-4].split("-")
        if len(parts) != 5:
            continue
        stem = f"{parts[0]}-{parts[1]}"
        known = names.get(stem, _UNSEEN)
        if known is _UNSEEN:
            names[stem] = dist.name_version
        else:
            vars(dist)["name_version"] = known


def _json_file(entry: Any, page_url: str, index: str) -> DistFile | None:
    if not isinstance(entry, dict):
        return None
    get = entry.get
    filename, href = get("filename"), get("url")
    if not isinstance(filename, str) or not isinstance(href, str) or not filename:
        return None
    # PyPI's pages hold thousands of absolute URLs: joining each one was a measurable part of
    # a warm resolution, so only relative ones are joined.
    absolute = href.startswith(("https://", "http://"))
    url, _, fragment = (href if absolute else urljoin(page_url, href)).partition("#")
    raw_hashes = get("hashes")
    hashes = _json_hashes(raw_hashes) if isinstance(raw_hashes, dict) else _NO_HASHES
    if not hashes and fragment:
        hashes = Hashes.from_fragment(fragment)
    requires_python = get("requires-python")
    size = get("size")
    upload_time = get("upload-time")
    # PEP 714: prefer the new key; older indexes send only a legacy one, and PyPI's JSON
    # once spelled the legacy key with the HTML attribute's `data-` prefix.
    metadata = (
        entry["core-metadata"]
        if "core-metadata" in entry
        else get("dist-info-metadata", get("data-dist-info-metadata"))
    )
    yanked = get("yanked")
    return make_dist_file(
        filename=filename,
        url=url,
        hashes=hashes,
        requires_python=requires_python if type(requires_python) is str else None,
        yanked=None if yanked is None or yanked is False else _yanked(yanked),
        upload_time=parse_upload_time(upload_time) if type(upload_time) is str else None,
        size=size if type(size) is int else None,
        metadata_file=None if metadata is None else _json_metadata(metadata),
        index=index,
    )


_NO_HASHES = Hashes()
_FIELDS = (
    "filename", "url", "hashes", "requires_python", "yanked", "upload_time", "size",
    "metadata_file", "index",
)  # fmt: skip


def _filled(**fields: Any) -> DistFile:
    """A `DistFile` with every field given, without the frozen dataclass's `__init__` (a
    quarter of the cost of a file on a page of thousands)."""
    dist: DistFile = object.__new__(DistFile)
    vars(dist).update(fields)
    return dist


# Only while the fields are exactly these; a field added to `DistFile` gets the constructor.
make_dist_file = (
    _filled
    if tuple(DistFile.__dataclass_fields__) == _FIELDS and not hasattr(DistFile, "__post_init__")
    else DistFile
)


def _json_hashes(raw: dict[Any, Any]) -> Hashes:
    if len(raw) == 1:
        # The usual entry, `{"sha256": "<lowercase hex>"}`, is already what `Hashes.of` makes.
        ((algo, digest),) = raw.items()
        usual = type(algo) is str and type(digest) is str and algo.islower()
        if usual and digest and (digest.islower() or digest.isdigit()):
            return Hashes(((algo, digest),))
    return Hashes.of({str(k): str(v) for k, v in raw.items() if isinstance(v, str)})


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


# From 3.11, `fromisoformat` reads a trailing `Z` as UTC itself.
_ISO_ZULU = sys.version_info >= (3, 11)
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
            if _ISO_ZULU:
                return datetime.fromisoformat(text)
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
    dists = [
        dist for attrs in parser.anchors if (dist := _html_file(attrs, base, index)) is not None
    ]
    share_names(dists)
    return dists


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
