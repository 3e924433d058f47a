"""What a wheel may not hold: more bytes than the unpacked-size limit, links out of itself,
or METADATA that names another project or version than the wheel is filed as.

The limit (`KILN_MAX_WHEEL_UNPACKED_SIZE`, 16 GiB unless set; 0 for none) is checked against
the sizes the zip declares before anything is written, and each member is cut off when it
inflates past its declared size, so a crafted archive cannot fill the disk either way.

A member whose mode says symbolic link is refused when its target leaves the wheel (an
absolute target or one climbing out with ``..``). A link that stays inside is unpacked as the
regular file a zip reader sees, as pip and uv do: kiln never creates a link from a wheel.
"""

from __future__ import annotations

import contextlib
import posixpath
import stat
import zipfile
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from kiln.core.errors import InstallError
from kiln.core.headers import first_header

SIZE_VARIABLE = "KILN_MAX_WHEEL_UNPACKED_SIZE"
_UNIX = 3  # ZipInfo.create_system of archives made on Unix: their mode bits mean something
_MAX_LINK_TARGET = 4096


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def check_unpacked_size(wheel: Path, infos: list[zipfile.ZipInfo], limit: int) -> None:
    if limit <= 0:
        return
    total = sum(info.file_size for info in infos)
    if total > limit:
        raise InstallError(
            f"`{wheel.name}` would unpack to {format_size(total)}, more than the "
            f"{format_size(limit)} kiln allows one wheel",
            causes=[f"its {len(infos)} members declare {total} bytes"],
            hint=f"if the wheel is genuine, raise the limit with `{SIZE_VARIABLE}` "
            f"(bytes, or a number with K, M, G or T, e.g. `{SIZE_VARIABLE}=64G`; 0 for none)",
        )


def oversized_member(wheel: Path, posix: str, declared: int) -> InstallError:
    return InstallError(
        f"`{posix}` in `{wheel.name}` inflates past the {declared} bytes the archive declares",
        hint="the wheel is corrupt or crafted to exhaust the disk; do not install it",
    )


def check_member_link(
    wheel: Path, info: zipfile.ZipInfo, posix: str, archive: zipfile.ZipFile
) -> None:
    """Refuse a symbolic-link member whose target points outside the wheel."""
    if info.create_system != _UNIX or not stat.S_ISLNK(info.external_attr >> 16):
        return
    if info.file_size > _MAX_LINK_TARGET:
        raise _escaping(wheel, posix, f"a target of {info.file_size} bytes")
    target = archive.read(info).decode("utf-8", "replace")
    plain = target.replace("\\", "/")
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(posix), plain))
    absolute = plain.startswith("/") or (len(plain) > 1 and plain[1] == ":")
    if absolute or joined == ".." or joined.startswith("../"):
        raise _escaping(wheel, posix, f"`{target}`")


def _escaping(wheel: Path, posix: str, target: str) -> InstallError:
    return InstallError(
        f"`{wheel.name}` contains `{posix}`, a symbolic link to {target} outside the wheel",
        hint="a wheel may only hold paths inside itself; report this to the package's "
        "maintainers and do not install it",
    )


def check_metadata_matches(wheel: Path, archive: zipfile.ZipFile, dist_info: str) -> None:
    """Refuse a wheel whose METADATA names another project or version than it is filed as."""
    stem = dist_info[: -len(".dist-info")]
    folder_name, _, folder_version = stem.partition("-")
    try:
        text = archive.read(f"{dist_info}/METADATA").decode("utf-8", "replace")
    except KeyError:
        return  # refused as missing elsewhere
    block = text.split("\n\n", 1)[0] + "\n"
    name = (first_header(block, "Name") or "").strip()
    version = (first_header(block, "Version") or "").strip()
    filed = [(folder_name, folder_version, f"its `{dist_info}` folder")]
    with contextlib.suppress(InvalidWheelFilename):
        parsed = parse_wheel_filename(wheel.name)
        filed.append((str(parsed[0]), str(parsed[1]), "its file name"))
    for want_name, want_version, where in filed:
        same_name = bool(name) and canonicalize_name(name) == canonicalize_name(want_name)
        if not same_name or not _same_version(version, want_version):
            raise InstallError(
                f"`{wheel.name}` says in its METADATA it is `{name or '?'} {version or '?'}`, "
                f"which disagrees with {where}",
                hint="the wheel is malformed or was altered; do not install it",
            )


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b.replace("_", "-"))
    except InvalidVersion:
        return a == b
