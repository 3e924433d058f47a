"""Email-style header blocks (METADATA, PKG-INFO, WHEEL), read without the email package
when they are plain.

Nearly every such block is one ``Name: value`` line per field. For those, a regular
expression gives what `email.parser` (policy ``compat32``, which `packaging.metadata` and
pip use) gives, at a fraction of its cost and without its import, which pulls in sockets
and half the email package. Anything else (a folded line, a carriage return, a line the
email parser would read as the start of the body) is left to the email parser itself, so
the answer never differs from its answer.
"""

from __future__ import annotations

import re
from collections.abc import Collection

# A header line as the email parser recognises one (printable ASCII but ':' before the
# colon), with the value as compat32 keeps it: leading blanks dropped, trailing ones kept.
_FIELD = re.compile(r"([\x21-\x39\x3b-\x7e]+):[ \t]*(.*)")


def plain_headers(text: str, wanted: Collection[str] | None = None) -> dict[str, list[str]] | None:
    """The fields of the header block (only those named in ``wanted``, lower-case, when
    given), by lower-cased name, their values in file order; None when only the email
    parser can say what they hold. A field that is not wanted may be folded over several
    lines: where its value ends is all that matters of it."""
    end = text.find("\n\n")
    head = text[:end] if end >= 0 else text.removesuffix("\n")
    if not head or "\r" in head:
        return None
    fields: dict[str, list[str]] = {}
    keep: bool | None = None  # whether the field before this line is kept; None: no field yet
    for line in head.split("\n"):
        if line[:1] in (" ", "\t"):
            if keep is None or keep:
                return None  # a folded value of a field read here: the email parser unfolds
            continue
        match = _FIELD.fullmatch(line)
        if match is None:
            return None
        name = match[1].lower()
        keep = wanted is None or name in wanted
        if keep:
            fields.setdefault(name, []).append(match[2])
    return fields


def first_header(text: str, name: str) -> str | None:
    """The first value of field ``name`` in ``text``'s header block, as
    ``email.parser.HeaderParser().parsestr(text).get(name)`` gives it."""
    fields = plain_headers(text, (name.lower(),))
    if fields is not None:
        values = fields.get(name.lower())
        return values[0] if values else None
    from email.parser import HeaderParser

    value = HeaderParser().parsestr(text).get(name)
    return None if value is None else str(value)
