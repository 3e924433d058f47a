"""Unpacking sdists refuses members that would land outside; PKG-INFO stands in when static."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from kiln.build.sdist import extract_sdist, static_metadata
from kiln.core.build import BuildError


def _tar(path: Path, *members: tarfile.TarInfo, data: bytes = b"x = 1\n") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            if member.isfile():
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
            else:
                tar.addfile(member)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def test_extracts_the_single_top_level_folder(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "demo-1.0.tar.gz",
        _member("demo-1.0", tarfile.DIRTYPE),
        _member("demo-1.0/demo.py"),
        _member("demo-1.0/inner-link", tarfile.SYMTYPE, "demo.py"),
    )
    top = extract_sdist(archive, tmp_path / "out")
    assert top == tmp_path / "out" / "demo-1.0"
    assert (top / "demo.py").read_text() == "x = 1\n"


@pytest.mark.parametrize(
    "member",
    [
        _member("demo-1.0/../../evil.py"),
        _member("../evil.py"),
        _member("/etc/evil.py"),
        _member("demo-1.0/link", tarfile.SYMTYPE, "../../outside"),
        _member("demo-1.0/link", tarfile.SYMTYPE, "/etc/passwd"),
        _member("demo-1.0/hard", tarfile.LNKTYPE, "../outside"),
        _member("demo-1.0/tty", tarfile.CHRTYPE),
    ],
    ids=["dotdot-inside", "dotdot", "absolute", "symlink-out", "symlink-abs", "hardlink", "device"],
)
def test_refuses_members_that_escape(tmp_path: Path, member: tarfile.TarInfo) -> None:
    archive = _tar(tmp_path / "demo-1.0.tar.gz", _member("demo-1.0/ok.py"), member)
    out = tmp_path / "deep" / "out"
    out.mkdir(parents=True)
    with pytest.raises(BuildError, match=r"refusing to unpack `demo-1\.0\.tar\.gz`"):
        extract_sdist(archive, out)
    assert not (tmp_path / "evil.py").exists()
    assert not any(out.iterdir()), "nothing is written before every member is checked"


def test_refuses_zip_with_dotdot(tmp_path: Path) -> None:
    archive = tmp_path / "demo-1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("demo-1.0/ok.py", "")
        zf.writestr("demo-1.0/../../evil.py", "")
    with pytest.raises(BuildError, match=r"with `\.\.`"):
        extract_sdist(archive, tmp_path / "out")


def test_zip_sdist_extracts(tmp_path: Path) -> None:
    archive = tmp_path / "demo-1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("demo-1.0/PKG-INFO", "Metadata-Version: 2.2\nName: demo\nVersion: 1.0\n")
    top = extract_sdist(archive, tmp_path / "out")
    assert (top / "PKG-INFO").is_file()


def test_more_than_one_top_level_entry_is_an_error(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "demo-1.0.tar.gz", _member("a/x.py"), _member("b/y.py"))
    with pytest.raises(BuildError, match="not a valid source distribution") as info:
        extract_sdist(archive, tmp_path / "out")
    assert info.value.causes == ("it must hold exactly one top-level folder",)


def test_corrupt_archive_is_a_build_error(tmp_path: Path) -> None:
    archive = tmp_path / "demo-1.0.tar.gz"
    archive.write_bytes(b"not a tarball")
    with pytest.raises(BuildError, match="could not unpack"):
        extract_sdist(archive, tmp_path / "out")


PKG_INFO = "Metadata-Version: {mv}\nName: Demo\nVersion: 1.0\nRequires-Dist: six>=1\n{extra}"


@pytest.mark.parametrize(
    ("mv", "extra", "usable"),
    [
        ("2.2", "", True),
        ("2.4", "Dynamic: Summary\nDynamic: License\n", True),
        ("2.1", "", False),
        ("1.0", "", False),
        ("2.2", "Dynamic: Requires-Dist\n", False),
        ("2.3", "Dynamic: requires-python\n", False),
        ("2.2", "Dynamic: Provides-Extra\n", False),
    ],
)
def test_pkg_info_usable_only_when_static(mv: str, extra: str, usable: bool) -> None:
    metadata = static_metadata(PKG_INFO.format(mv=mv, extra=extra).encode())
    if not usable:
        assert metadata is None
        return
    assert metadata is not None
    assert metadata.name == "demo"
    assert [str(r) for r in metadata.requires_dist] == ["six>=1"]
