"""The input fingerprint: one hash of everything a lock was made from.

`kiln lock --check` / `--locked` compare it with the fingerprint of the project as it is now;
a lock whose inputs changed is out of date without resolving anything. The hash is over a
canonical JSON text, so neither dict order nor set order nor the types that carry a value
(a `Marker` or its string, a tuple or a list) change it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Set
from datetime import datetime
from pathlib import PurePath

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from kiln.core.records import fields as record_fields
from kiln.core.records import is_record

__all__ = ["fingerprint"]

_AS_TEXT = (Marker, Requirement, SpecifierSet, Version, PurePath)


def fingerprint(inputs: Mapping[str, object]) -> str:
    """sha256 (hex) of the canonical JSON of ``inputs``."""
    text = json.dumps(_plain(inputs), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    """``value`` as JSON types: mappings with string keys, lists, strings, numbers."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, _AS_TEXT):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Set):
        # Set members have no order: sort them by their own canonical text.
        items = [_plain(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if is_record(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in record_fields(value)}
        return {"__type__": type(value).__name__, **{k: _plain(v) for k, v in fields.items()}}
    raise TypeError(f"cannot fingerprint a {type(value).__name__}: {value!r}")
