"""What an environment and a cache hold, byte for byte, to compare a repaired one with a clean one."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from kiln.commands.project.noop import STAMP_NAME

# The lock processes take turns on, and kiln's record of the checks it made there: neither
# says anything about the environment's content.
_IGNORED = {".lock", STAMP_NAME}


def tree_snapshot(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file, `-> target` of every link, `dir` of every folder."""
    out: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if rel in _IGNORED:
                continue
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def record_problems(site: Path) -> list[str]:
    """Every way the dist-infos under ``site`` disagree with the files they list."""
    problems: list[str] = []
    for dist_info in sorted(site.glob("*.dist-info")):
        record = dist_info / "RECORD"
        if not record.is_file():
            problems.append(f"{dist_info.name} has no RECORD")
            continue
        if (dist_info / "KILN_INCOMPLETE").exists():
            problems.append(f"{dist_info.name} is marked incomplete")
        for line in record.read_text().splitlines():
            path, digest, _size = line.rsplit(",", 2)
            target = site / path
            if not digest:
                continue
            if not target.is_file():
                problems.append(f"{dist_info.name} lists missing `{path}`")
                continue
            algo, _, encoded = digest.partition("=")
            got = base64.urlsafe_b64encode(hashlib.new(algo, target.read_bytes()).digest())
            if got.rstrip(b"=").decode() != encoded:
                problems.append(f"{dist_info.name}: `{path}` does not match its RECORD hash")
    return problems


def cache_problems(cache: Path) -> list[str]:
    """Unpacked wheels in the cache whose files do not match the RECORD kiln wrote for them."""
    problems: list[str] = []
    wheels = cache / "wheels-v1"
    if not wheels.is_dir():
        return problems
    for entry in sorted(p for p in wheels.iterdir() if p.is_dir()):
        records = list(entry.glob("*.dist-info/RECORD"))
        if len(records) != 1:
            problems.append(f"cache entry {entry.name} has {len(records)} RECORDs")
            continue
        for line in records[0].read_text().splitlines():
            path, digest, _size = line.rsplit(",", 2)
            if not digest:
                continue
            target = entry / path
            algo, _, encoded = digest.partition("=")
            if not target.is_file():
                problems.append(f"cache entry {entry.name} lacks `{path}`")
                continue
            got = base64.urlsafe_b64encode(hashlib.new(algo, target.read_bytes()).digest())
            if got.rstrip(b"=").decode() != encoded:
                problems.append(f"cache entry {entry.name}: `{path}` is not what RECORD says")
    return problems
