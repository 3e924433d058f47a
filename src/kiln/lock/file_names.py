"""What PEP 751 calls a lock file, by its name alone."""

from __future__ import annotations

from pathlib import Path


def is_lock_file(path: Path) -> bool:
    """PEP 751's names: `pylock.toml` and `pylock.<name>.toml`."""
    name = path.name
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))
