"""Crafted malicious or broken wheels, and a way to serve exact bytes from the test index.

`craft` builds a wheel member by member (paths, modes, symlinks, a RECORD that lies) where
`tests.support.wheels` only builds honest ones.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg, record_hash

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_SYMLINK = 0o120000
_REGULAR = 0o100000


@dataclass
class Member:
    path: str
    data: bytes
    mode: int = _REGULAR | 0o644
    in_record: bool = True
    record_hash: str | None = None  # None: the honest hash


@dataclass
class Crafted:
    name: str
    version: str
    members: list[Member] = field(default_factory=list)
    metadata_name: str | None = None  # None: the honest name
    metadata_version: str | None = None
    dist_info_name: str | None = None  # e.g. another project's `.dist-info`

    @property
    def filename(self) -> str:
        return f"{self.stem}-py3-none-any.whl"

    @property
    def stem(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}"

    def wheel(self) -> bytes:
        dist_info = self.dist_info_name or f"{self.stem}.dist-info"
        metadata = (
            "Metadata-Version: 2.1\n"
            f"Name: {self.metadata_name or self.name}\n"
            f"Version: {self.metadata_version or self.version}\n\n"
        ).encode()
        wheel_file = b"Wheel-Version: 1.0\nGenerator: hostile\nRoot-Is-Purelib: true\n"
        members = [
            *self.members,
            Member(f"{dist_info}/METADATA", metadata),
            Member(f"{dist_info}/WHEEL", wheel_file + b"Tag: py3-none-any\n\n"),
        ]
        lines = [
            f"{m.path},{m.record_hash or record_hash(m.data)},{len(m.data)}"
            for m in members
            if m.in_record
        ]
        lines.append(f"{dist_info}/RECORD,,")
        members.append(Member(f"{dist_info}/RECORD", ("\n".join(lines) + "\n").encode()))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for member in members:
                info = zipfile.ZipInfo(member.path, date_time=_ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = member.mode << 16
                info.create_system = 3
                archive.writestr(info, member.data)
        return buffer.getvalue()


def symlink(path: str, target: str) -> Member:
    return Member(path, target.encode(), mode=_SYMLINK | 0o777)


def serve(
    server: IndexServer, crafted: Crafted, index: str = "pypi", *, honest_metadata: bool = False
) -> None:
    """Put ``crafted``'s exact bytes on ``index``, its METADATA served beside it (PEP 658).

    With ``honest_metadata`` the index serves what the wheel should say, so the lie inside is
    met only by the installer.
    """
    data = crafted.wheel()
    pkg = Pkg(crafted.name, crafted.version)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        metadata = next(
            archive.read(n) for n in archive.namelist() if n.endswith(".dist-info/METADATA")
        )
    if honest_metadata:
        metadata = pkg.metadata().encode()
    server.add_raw(pkg, crafted.filename, data, metadata, index)
