"""Upload times as indexes write them (PEP 700), read into aware UTC datetimes."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta, timezone

# From 3.11, `fromisoformat` reads a trailing `Z` as UTC itself.
_ISO_ZULU = sys.version_info >= (3, 11)
_TIME = (
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
    # Compiled on first use (`re` keeps it): every command imports this module.
    match = re.match(_TIME, text.strip())
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
