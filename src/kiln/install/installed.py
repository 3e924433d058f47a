"""What an environment has installed: its ``*.dist-info`` and ``*.egg-info`` entries."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from kiln.core.errors import InstallError
from kiln.core.names import canonical_name
from kiln.core.records import record
from kiln.install.interrupted import INCOMPLETE

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    # Parsing METADATA (packaging's email-based parser) is needed only by the callers that
    # read dependencies; listing what is installed reads names and versions alone.
    from kiln.core.metadata import CoreMetadata

_SUFFIXES = (".dist-info", ".egg-info")


@record
class InstalledDist:
    """One distribution installed in an environment."""

    name: NormalizedName
    display_name: str
    version: Version
    # The .dist-info folder, or the .egg-info folder (or single file, as distutils wrote it).
    dist_info: Path
    installer: str | None
    requested: bool
    direct_url: Mapping[str, object] | None
    # An install or uninstall of it was cut short (see `interrupted`): it must be removed
    # and, when wanted, installed again.
    incomplete: bool = False

    def __str__(self) -> str:
        return f"{self.display_name}=={self.version}"

    @property
    def site_dir(self) -> Path:
        """The folder RECORD paths are relative to."""
        return self.dist_info.parent

    @property
    def metadata_path(self) -> Path:
        if self.dist_info.suffix == ".egg-info":
            return self.dist_info / "PKG-INFO" if self.dist_info.is_dir() else self.dist_info
        return self.dist_info / "METADATA"

    def metadata(self) -> CoreMetadata:
        try:
            data = self.metadata_path.read_bytes()
        except OSError as exc:
            raise InstallError(
                f"the metadata of {self} cannot be read",
                causes=[str(exc)],
                hint=f"reinstall `{self.display_name}`",
            ) from exc
        from kiln.core.metadata import CoreMetadata

        return CoreMetadata.parse(data, origin=str(self.metadata_path))

    @property
    def editable(self) -> bool:
        dir_info = (self.direct_url or {}).get("dir_info")
        return isinstance(dir_info, Mapping) and dir_info.get("editable") is True

    @property
    def url(self) -> str | None:
        """The URL it was installed from when it came from a direct URL or path (PEP 610)."""
        url = (self.direct_url or {}).get("url")
        return url if isinstance(url, str) else None


def read_installed(dist_info: Path) -> InstalledDist | None:
    """The installed distribution described by ``dist_info``, or None when it is broken."""
    is_egg = dist_info.name.endswith(".egg-info")
    if is_egg and not dist_info.is_dir():
        meta_path = dist_info
    else:
        meta_path = dist_info / ("PKG-INFO" if is_egg else "METADATA")
    incomplete = not is_egg and os.path.exists(os.path.join(dist_info, INCOMPLETE))
    try:
        headers = _headers(meta_path.read_bytes().decode("utf-8", "replace"))
    except OSError:
        if not incomplete:
            return None
        # Cut short before METADATA was linked (or after it was moved away): the folder's
        # name says which distribution it was.
        stem_name, _, stem_version = dist_info.name[: -len(".dist-info")].partition("-")
        headers = {"name": stem_name, "version": stem_version}
    name, version_text = headers.get("name"), headers.get("version")
    if not name or not version_text:
        return None
    try:
        version = Version(version_text)
    except InvalidVersion:
        return None
    if is_egg and not dist_info.is_dir():
        return InstalledDist(canonical_name(name), name, version, dist_info, None, False, None)
    return InstalledDist(
        name=canonical_name(name),
        display_name=name,
        version=version,
        dist_info=dist_info,
        installer=_read_text(dist_info / "INSTALLER"),
        requested=(dist_info / "REQUESTED").exists(),
        direct_url=_read_direct_url(dist_info / "direct_url.json"),
        incomplete=incomplete,
    )


def installed_distributions(site_dirs: Sequence[Path] | Path) -> list[InstalledDist]:
    """Every readable distribution in ``site_dirs``, sorted by name.

    When a project appears twice, the one found first wins, as it would on ``sys.path``.
    Broken entries (no metadata, no version) are skipped: listing must not fail on them.
    """
    found: dict[NormalizedName, InstalledDist] = {}
    for path in _entries([site_dirs] if isinstance(site_dirs, Path) else site_dirs):
        dist = read_installed(path)
        if dist is not None and dist.name not in found:
            found[dist.name] = dist
    return sorted(found.values(), key=lambda d: d.name)


def find_installed(site_dirs: Sequence[Path] | Path, name: str) -> InstalledDist | None:
    wanted = canonical_name(name)
    for dist in installed_distributions(site_dirs):
        if dist.name == wanted:
            return dist
    return None


def _entries(site_dirs: Iterable[Path]) -> Iterable[Path]:
    seen: set[str] = set()
    for site in site_dirs:
        real = os.path.realpath(site)
        if real in seen:
            continue
        seen.add(real)
        try:
            names = sorted(os.listdir(site))
        except OSError:
            continue
        # dist-info before egg-info: a leftover egg-info must not hide a real install.
        for suffix in _SUFFIXES:
            yield from (site / n for n in names if n.endswith(suffix))


def _headers(text: str) -> dict[str, str]:
    """``Name`` and ``Version`` from a metadata file, without parsing its whole body."""
    wanted = {"name", "version"}
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in wanted and key not in out:
            out[key] = value.strip()
            if len(out) == len(wanted):
                break
    return out


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _read_direct_url(path: Path) -> Mapping[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
