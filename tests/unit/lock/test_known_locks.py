from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import kiln.lock.known_locks as known_locks
from kiln.cache.layout import Cache
from kiln.core.errors import KilnError
from kiln.lock.model import Lock
from kiln.lock.pylock_toml import dump_lock, load_lock

from .s4 import s4_lock
from .test_pylock_toml import locks


def _entries(cache: Cache) -> list[Path]:
    return sorted(cache.bucket("locks").iterdir())


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(text: str, path: object) -> object:
        raise AssertionError("the lock was parsed again")

    monkeypatch.setattr(known_locks, "parse_lock", parse)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(locks)
def test_a_lock_read_again_from_the_cache_is_the_same_lock(tmp_path: Path, lock: Lock) -> None:
    cache = Cache(tmp_path / "cache")
    path = tmp_path / "pylock.toml"
    text = dump_lock(lock)
    first = known_locks.load_known_lock(text, path, cache)
    with pytest.MonkeyPatch.context() as mp:
        _no_parsing(mp)
        again = known_locks.load_known_lock(text, path, cache)
    # Upload times (datetimes with and without offsets) come back as they were.
    assert first == again == load_lock(text, path)
    assert dump_lock(again) == text


def test_changed_bytes_are_read_in_full_and_replace_the_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = Cache(tmp_path / "cache")
    path = tmp_path / "pylock.toml"
    text = dump_lock(s4_lock())
    known_locks.load_known_lock(text, path, cache)
    changed = text.replace('requires-python = ">=3.12"', 'requires-python = ">=3.13"', 1)
    assert changed != text
    lock = known_locks.load_known_lock(changed, path, cache)
    assert str(lock.requires_python) == ">=3.13"
    assert len(_entries(cache)) == 1  # one entry per lock file, not one per text
    _no_parsing(monkeypatch)
    assert known_locks.load_known_lock(changed, path, cache) == lock
    with pytest.raises(AssertionError, match="parsed again"):
        known_locks.load_known_lock(text, path, cache)


@pytest.mark.parametrize("damage", [b"", b"\x00garbage", b"\xe9\x03\x00\x00"])
def test_a_damaged_entry_is_read_past_and_stored_anew(tmp_path: Path, damage: bytes) -> None:
    cache = Cache(tmp_path / "cache")
    path = tmp_path / "pylock.toml"
    text = dump_lock(s4_lock())
    known_locks.load_known_lock(text, path, cache)
    (entry,) = _entries(cache)
    good = entry.read_bytes()
    entry.write_bytes(damage)
    assert known_locks.load_known_lock(text, path, cache) == s4_lock()
    assert entry.read_bytes() == good


def test_a_lock_that_fails_its_checks_is_never_remembered(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    path = tmp_path / "pylock.toml"
    text = dump_lock(s4_lock()).replace('lock-version = "1.0"', 'lock-version = "9.0"')
    for _ in range(2):
        with pytest.raises(KilnError, match="not a valid PEP 751 lock file"):
            known_locks.load_known_lock(text, path, cache)
    assert _entries(cache) == []


def test_without_a_cache_every_read_is_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = dump_lock(s4_lock())
    assert known_locks.load_known_lock(text, tmp_path / "pylock.toml", None) == s4_lock()
    _no_parsing(monkeypatch)
    with pytest.raises(AssertionError, match="parsed again"):
        known_locks.load_known_lock(text, tmp_path / "pylock.toml", None)
