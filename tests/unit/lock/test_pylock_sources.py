"""Entries from their own source written in their PEP 751 forms and read back unchanged."""

from __future__ import annotations

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.lock.model import (
    Lock,
    LockedArchive,
    LockedDependency,
    LockedDirectory,
    LockedPackage,
    LockedVcs,
)
from kiln.lock.pylock_toml import LockFileError, dump_lock, load_lock

SHA = "ab" * 32
COMMIT = "c" * 40


def package(name: str, **kw: object) -> LockedPackage:
    return LockedPackage(
        name=canonicalize_name(name),
        version=Version("1.0"),
        marker=None,
        index=None,
        requires_python=None,
        wheels=(),
        sdist=None,
        dependencies=(LockedDependency(canonicalize_name("six")),),
        **kw,  # type: ignore[arg-type]
    )


def a_lock() -> Lock:
    return Lock(
        requires_python=None,
        environments=(),
        extras=(),
        dependency_groups=(),
        default_groups=(),
        packages=(
            package(
                "fromurl",
                archive=LockedArchive(
                    url="https://example.invalid/fromurl-1.0-py3-none-any.whl",
                    path=None,
                    hashes={"sha256": SHA},
                    size=12,
                ),
            ),
            package(
                "fromfile",
                archive=LockedArchive(
                    url=None, path="../files/fromfile-1.0.tar.gz", hashes={"sha256": SHA}
                ),
            ),
            package(
                "fromgit",
                vcs=LockedVcs(
                    url="https://example.invalid/repo.git",
                    commit_id=COMMIT,
                    requested_revision="v1",
                    subdirectory="pkg",
                ),
            ),
        ),
        fingerprint="f",
        directories=(
            LockedDirectory(
                canonicalize_name("lib"),
                "../lib",
                editable=False,
                marker=Marker("sys_platform == 'linux'"),
                dependencies=(LockedDependency(canonicalize_name("six")),),
            ),
            LockedDirectory(canonicalize_name("app"), ".", editable=True),
        ),
    )


def test_every_source_form_round_trips() -> None:
    lock = a_lock()
    text = dump_lock(lock)
    assert "[packages.vcs]" in text and f'commit-id = "{COMMIT}"' in text
    assert 'path = "../files/fromfile-1.0.tar.gz"' in text
    assert 'directory = { path = "../lib", editable = false }' in text
    again = load_lock(text, "pylock.toml")
    assert again == lock
    assert dump_lock(again) == text
    assert again.project_directory == LockedDirectory(canonicalize_name("app"), ".", editable=True)
    assert again.packages[0].archive is not None
    assert again.packages[0].archive.filename == "fromfile-1.0.tar.gz"


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('vcs = { type = "hg", url = "https://x", commit-id = "c" }', "kiln installs only `git`"),
        ('vcs = { type = "git", url = "https://x" }', "packages[0].vcs.commit-id"),
        ('archive = { hashes = { sha256 = "ab" } }', "packages[0].archive"),
    ],
)
def test_a_source_entry_kiln_cannot_use_is_an_error_naming_the_key(table: str, words: str) -> None:
    text = f'lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "p"\nversion = "1"\n{table}\n'
    with pytest.raises(LockFileError) as info:
        load_lock(text, "pylock.toml")
    assert words in info.value.message
