"""Project pages of the Simple Repository API in HTML (PEP 503), as `DistFile`s.

A module of its own: PyPI answers in JSON (`simple_api`), and `html.parser` is imported only
for an index that does not, as download.pytorch.org and most mirrors.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from kiln.core.dist import DistFile
from kiln.core.hashes import Hashes


def parse_html_page(text: str, page_url: str, index: str) -> list[DistFile]:
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    dists = [
        dist for attrs in parser.anchors if (dist := _html_file(attrs, base, index)) is not None
    ]
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
        uploaded=uploaded or None,
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
