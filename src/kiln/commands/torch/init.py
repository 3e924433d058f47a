"""`kiln torch init`: write the guide's PyTorch indexes and sources into `pyproject.toml`."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from kiln.accel.backends import Backend, parse_backend
from kiln.cache.atomic import write_text
from kiln.core.errors import KilnError, UsageError
from kiln.core.records import record
from kiln.project.pyproject import find_project
from kiln.project.torch_tables import Mode, TorchTables, write_torch_tables


@record
class TorchInitRequest:
    """The backends `kiln torch init` writes tables for, and how."""

    backends: tuple[str, ...]
    mode: Mode = "platform"
    force: bool = False
    # `--torch-index-url`, else `KILN_TORCH_INDEX_URL`; `[tool.kiln]` and the default follow.
    index_url: str | None = None
    project: Path | None = None


@record
class TorchInitResult:
    """The tables `kiln torch init` wrote to `pyproject.toml`."""

    path: Path
    backends: tuple[Backend, ...]
    tables: TorchTables
    changed: bool


def parse_backends(names: Sequence[str]) -> tuple[Backend, ...]:
    """Each named backend once, in the order given; an unknown name is the accel error."""
    backends: dict[str, Backend] = {}
    for name in names:
        backend = parse_backend(name)
        backends.setdefault(backend.name, backend)
    if not backends:
        raise UsageError("no torch backend given", hint="pass e.g. `--backends cpu,cu124`")
    return tuple(backends.values())


def torch_init(request: TorchInitRequest) -> TorchInitResult:
    backends = parse_backends(request.backends)
    start = (request.project or Path.cwd()).resolve()
    path = find_project(start)
    if path is None:
        raise KilnError(
            f"no `pyproject.toml` found in `{start}` or any parent folder",
            hint="run `kiln init` to create a project, or pass `--project DIR`",
        )
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KilnError(f"`{path}` cannot be read", causes=[str(exc)]) from None
    tables = write_torch_tables(
        text, backends, mode=request.mode, base_url=request.index_url, force=request.force
    )
    changed = tables.text != text
    if changed:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        write_text(path, tables.text)
        # The atomic write makes a new file; it should keep the permissions of the one it replaces.
        os.chmod(path, mode)
    return TorchInitResult(path, backends, tables, changed)
