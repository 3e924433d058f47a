"""Settings every command shares: cache, network, verbosity — from flags, then KILN_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiln.cache.layout import DEFAULT_WHEEL_SIZE_LIMIT
from kiln.core.errors import UsageError
from kiln.core.records import record

# What uv takes for a boolean variable (clap's "boolish" values).
_TRUE = {"1", "true", "yes", "on", "t", "y"}
_FALSE = {"0", "false", "no", "off", "f", "n"}


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """``KILN_X``, else uv's ``UV_X``: a uv user's environment reaches kiln unchanged."""
    value = env.get(name) or (env.get("UV_" + name[5:]) if name.startswith("KILN_") else None)
    return value or None


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """A boolean variable (``KILN_X``, else ``UV_X``); unset or empty is false, and a value
    that is neither true nor false is an error naming it, as in uv."""
    raw = env_value(env, name)
    value = (raw or "").strip().lower()
    if not value or value in _FALSE:
        return False
    if value in _TRUE:
        return True
    shown = name if env.get(name) else "UV_" + name[5:]
    raise UsageError(
        f"`{shown}` is `{raw}`, not a boolean",
        hint=f"set `{shown}` to 1, true, yes or on (or 0, false, no, off), or unset it",
    )


@record
class GlobalSettings:
    """The settings every verb takes: cache, network, output."""

    cache_dir: Path | None
    no_cache: bool
    offline: bool
    quiet: int
    verbose: int
    # KILN_MAX_WHEEL_UNPACKED_SIZE: the most bytes one wheel may unpack to; 0 for no limit.
    wheel_size_limit: int = DEFAULT_WHEEL_SIZE_LIMIT

    @classmethod
    def resolve(cls, args: Any, env: Mapping[str, str] | None = None) -> GlobalSettings:
        # Imported here: the files' module reads variables with this module's helpers.
        from kiln.settings.config_files import ConfigLayer, config_of

        env = os.environ if env is None else env
        config = config_of(args)
        files = config.for_global() if config is not None else ConfigLayer()

        def switch(attr: str, var: str, file_value: bool | None) -> bool:
            # A variable set to false overrides a file's true, as a flag would.
            if getattr(args, attr, False):
                return True
            return env_flag(env, var) if env_value(env, var) else bool(file_value)

        cache_dir = getattr(args, "cache_dir", None) or env_value(env, "KILN_CACHE_DIR")
        return cls(
            cache_dir=Path(cache_dir) if cache_dir else files.cache_dir,
            no_cache=switch("no_cache", "KILN_NO_CACHE", files.no_cache),
            offline=switch("offline", "KILN_OFFLINE", files.offline),
            quiet=int(getattr(args, "quiet", 0) or 0),
            verbose=int(getattr(args, "verbose", 0) or 0),
            wheel_size_limit=parse_size_limit(env.get("KILN_MAX_WHEEL_UNPACKED_SIZE")),
        )


_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size_limit(value: str | None) -> int:
    """``KILN_MAX_WHEEL_UNPACKED_SIZE``: bytes, or a number with K, M, G or T (powers of 1024)."""
    if value is None or not value.strip():
        return DEFAULT_WHEEL_SIZE_LIMIT
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (text[:-1], text[-1]) if text[-1:] in _SIZE_UNITS else (text, "")
    if not number.isdigit():
        raise UsageError(
            f"`KILN_MAX_WHEEL_UNPACKED_SIZE={value}` is not a size",
            hint="give bytes, or a number with K, M, G or T (powers of 1024), e.g. `64G`; "
            "0 for no limit",
        )
    return int(number) * _SIZE_UNITS[unit]
