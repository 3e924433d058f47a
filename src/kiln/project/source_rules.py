"""Where a `[tool.uv.sources]` entry is declared and where it applies."""

from __future__ import annotations

from pathlib import Path

from packaging.markers import Marker

from kiln.core.records import record
from kiln.project.uv_tables import Source


@record
class SourceOrigin:
    """Where a source is declared: its paths are relative to ``root``."""

    root: Path  # the folder of the pyproject.toml that declares it
    path: Path  # that pyproject.toml, for messages
    lock_root: Path  # the folder of the lock: locked paths are relative to it


def source_condition(source: Source) -> Marker | None:
    """Where a `[tool.uv.sources]` entry applies: its marker, extra and group together."""
    parts = [f"({source.marker})"] if source.marker is not None else []
    if source.extra is not None:
        parts.append(f"'{source.extra}' in extras")
    if source.group is not None:
        parts.append(f"'{source.group}' in dependency_groups")
    return Marker(" and ".join(parts)) if parts else None
