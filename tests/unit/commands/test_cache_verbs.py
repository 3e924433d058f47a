"""`kiln cache clean PKG` finds a project's entries in every bucket that names it."""

from __future__ import annotations

import json
from pathlib import Path

from kiln.cache.layout import Cache
from kiln.commands.cache_verbs import CacheCleanRequest, cache_clean
from kiln.commands.context import CommandContext
from kiln.settings.global_settings import GlobalSettings


def _ctx(root: Path) -> CommandContext:
    settings = GlobalSettings(root, no_cache=False, offline=False, quiet=0, verbose=0)
    return CommandContext(settings, Cache(root))


def _page(root: Path, key: str, url: str) -> Path:
    path = root / "http-v1" / key[:2] / f"{key}.page"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(json.dumps({"url": url, "headers": {}, "stored_at": 0}).encode() + b"\n<a>")
    return path


def test_clean_of_a_package_takes_its_pages_metadata_and_wheels_only(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    own_page = _page(root, "aa11", "https://example.org/simple/foo-bar/")
    own_metadata_page = _page(
        root, "bb22", "https://example.org/files/foo_bar-1.0-py3-none-any.whl.metadata"
    )
    other_page = _page(root, "cc33", "https://example.org/simple/foo/")
    metadata = root / "metadata-v1"
    metadata.mkdir(parents=True)
    (metadata / "k1.METADATA").write_text("Metadata-Version: 2.1\nName: Foo.Bar\nVersion: 1\n")
    (metadata / "k2.METADATA").write_text("Metadata-Version: 2.1\nName: foo\nVersion: 1\n")
    own_wheel = root / "wheels-v1" / ("1" * 64) / "foo_bar-1.0.dist-info"
    other_wheel = root / "wheels-v1" / ("2" * 64) / "foo-1.0.dist-info"
    for info in (own_wheel, other_wheel):
        info.mkdir(parents=True)
        (info / "METADATA").write_text("x")

    result = cache_clean(_ctx(root), CacheCleanRequest(packages=("Foo_Bar",)))

    assert not own_page.exists() and not own_metadata_page.exists()
    assert not (metadata / "k1.METADATA").exists() and not own_wheel.parent.exists()
    assert other_page.exists() and (metadata / "k2.METADATA").exists() and other_wheel.exists()
    assert result.removal.files == 4 and result.removal.dirs == 2


def test_clean_waits_for_a_wheel_another_process_is_unpacking(tmp_path: Path) -> None:
    import threading

    from kiln.cache.locks import file_lock

    root = tmp_path / "cache"
    key = "3" * 64
    entry = root / "wheels-v1" / key / "foo-1.0.dist-info"
    entry.mkdir(parents=True)
    unpacking = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with file_lock(root / "wheels-v1" / f"{key}.lock"):
            unpacking.set()
            release.wait(10)
            (entry / "METADATA").write_text("written under the lock")

    thread = threading.Thread(target=writer)
    thread.start()
    unpacking.wait(10)
    cleaner = threading.Thread(target=cache_clean, args=(_ctx(root), CacheCleanRequest()))
    cleaner.start()
    cleaner.join(0.3)
    assert cleaner.is_alive()  # blocked on the writer's lock, the entry still whole
    assert entry.is_dir()
    release.set()
    thread.join(10)
    cleaner.join(10)
    assert not cleaner.is_alive() and not entry.parent.exists()
