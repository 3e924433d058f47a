"""Install one unpacked wheel from the cache into an environment.

The source is a folder `unpack_wheel` made; the destination (`Destination`) links its files
into the scheme's folders. The `.dist-info` folder appears first, marked incomplete with the
list of every path the install will write (see `interrupted`); RECORD is written last, in
one rename, and only then is the mark removed. A process killed midway leaves a
distribution the next run knows to be incomplete, and which it can remove exactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from kiln.cache.atomic import write_bytes
from kiln.core.errors import InstallError
from kiln.core.headers import first_header
from kiln.core.kill_points import reached
from kiln.core.records import record
from kiln.install.destination import Destination
from kiln.install.installed import InstalledDist, read_installed
from kiln.install.interrupted import begin_install, finish
from kiln.install.record import (
    RecordEntry,
    entry_for_bytes,
    entry_for_file,
    format_record,
    read_record,
)
from kiln.install.scheme import InstallScheme, headers_dir
from kiln.install.scripts import EntryPoint, launcher, parse_entry_points, rewrite_shebang

# dist-info files the installer owns: never taken from a wheel, always written fresh.
_GENERATED = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
_DATA_KEYS = ("purelib", "platlib", "scripts", "headers", "data")


@record
class InstallOptions:
    """How wheels are installed: the interpreter, the installer's name, links or copies."""

    python_executable: Path  # the environment's python, absolute: script shebangs point here
    installer: str = "kiln"
    link_mode: Literal["hardlink", "copy"] = "hardlink"
    # uv does not compile by default either: imports compile lazily, installs stay fast.
    compile_bytecode: bool = False


def install_wheel(
    unpacked: Path,
    scheme: InstallScheme,
    options: InstallOptions,
    *,
    requested: bool = True,
    direct_url: Mapping[str, object] | None = None,
    tally: list[int] | None = None,
) -> InstalledDist:
    """Install the wheel unpacked at ``unpacked``; an older install must be removed first.

    When ``tally`` is given, the number of files and folders created is appended to it.
    """
    dist_info = _dist_info_name(unpacked)
    stem = dist_info[: -len(".dist-info")]
    data_dir = f"{stem}.data"
    lib_dir = scheme.purelib if _root_is_purelib(unpacked / dist_info) else scheme.platlib
    lib = str(lib_dir)
    dest = Destination(options.link_mode, label=stem)
    python = options.python_executable
    roots: dict[str, str] = {
        "purelib": str(scheme.purelib),
        "platlib": str(scheme.platlib),
        "scripts": str(scheme.scripts),
        "headers": str(headers_dir(scheme, stem.partition("-")[0])),
        "data": str(scheme.data),
    }
    # RECORD paths are relative to the folder holding the .dist-info: "../../../bin/tool".
    record_prefix = {key: _relative_prefix(root, lib) for key, root in roots.items()}
    source_dir = str(unpacked)
    written: list[RecordEntry] = []
    modules: list[str] = []  # .py files in the lib folders, for compile_bytecode
    compile_all = options.compile_bytecode
    entries = read_record(unpacked / dist_info / "RECORD")
    entry_points = _entry_points(unpacked / dist_info)
    meta_dir = lib_dir / dist_info
    planned = [
        *(_record_path(e.path, dist_info, data_dir, record_prefix) for e in entries),
        *(record_prefix["scripts"] + ep.name for ep in entry_points),
        *(f"{dist_info}/{name}" for name in sorted(_GENERATED)),
    ]
    begin_install(meta_dir, planned)
    reached("install-begun")

    for entry in entries:
        reached("install-link")
        top, _, rest = entry.path.partition("/")
        source = f"{source_dir}/{entry.path}"
        if top == dist_info and rest in _GENERATED:
            continue
        if top != data_dir:
            target = dest.path(lib, entry.path)
            dest.link(source, target)
            written.append(entry)
            if compile_all and target.endswith(".py"):
                modules.append(target)
            continue
        key, _, inner = rest.partition("/")
        if key not in roots or not inner:
            raise InstallError(
                f"`{stem}` has `{entry.path}`, outside the known `.data` folders",
                causes=[f"a wheel's `{data_dir}` may hold {', '.join(_DATA_KEYS)}"],
                hint="the wheel is malformed; report this to the package's maintainers",
            )
        target = dest.path(roots[key], inner)
        rel = record_prefix[key] + inner
        if key == "scripts":
            with open(source, "rb") as f:
                rewritten = rewrite_shebang(f.read(), python)
            if rewritten is not None:
                dest.write(target, rewritten, executable=True)
                written.append(entry_for_bytes(rel, rewritten))
                continue
        dest.link(source, target)
        written.append(RecordEntry(rel, entry.hash, entry.size))
        if key in ("purelib", "platlib") and target.endswith(".py"):
            modules.append(target)

    for ep in entry_points:
        target = dest.path(roots["scripts"], ep.name)
        content = launcher(ep, python)
        dest.write(target, content, executable=True)
        written.append(entry_for_bytes(record_prefix["scripts"] + ep.name, content))

    generated: dict[str, bytes] = {"INSTALLER": f"{options.installer}\n".encode()}
    if requested:
        generated["REQUESTED"] = b""
    if direct_url is not None:
        generated["direct_url.json"] = json.dumps(dict(direct_url), sort_keys=True).encode()
    for name, content in generated.items():
        dest.write(dest.path(lib, f"{dist_info}/{name}"), content)
        written.append(entry_for_bytes(f"{dist_info}/{name}", content))
    for stale in _GENERATED - generated.keys() - {"RECORD"}:
        (meta_dir / stale).unlink(missing_ok=True)  # left by an earlier install

    if options.compile_bytecode:
        for pyc in compile_bytecode(python, [Path(m) for m in modules]):
            rel = os.path.relpath(pyc, lib).replace(os.sep, "/")
            written.append(entry_for_file(rel, pyc))

    written.append(RecordEntry(f"{dist_info}/RECORD"))
    reached("install-record")
    write_bytes(Path(dest.path(lib, f"{dist_info}/RECORD")), format_record(written))
    reached("install-recorded")
    finish(meta_dir)
    if tally is not None:
        tally.append(dest.made)

    installed = read_installed(meta_dir)
    if installed is None:
        raise InstallError(
            f"`{stem}` was installed but its METADATA has no valid name or version",
            hint="the wheel is malformed; report this to the package's maintainers",
        )
    return installed


def _entry_points(dist_info: Path) -> list[EntryPoint]:
    path = dist_info / "entry_points.txt"
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    return parse_entry_points(text, f"{dist_info.name}/entry_points.txt")


def _record_path(path: str, dist_info: str, data_dir: str, prefix: Mapping[str, str]) -> str:
    """Where RECORD will list the wheel's ``path`` once installed (relative to the lib)."""
    top, _, rest = path.partition("/")
    if top != data_dir:
        return path
    key, _, inner = rest.partition("/")
    return prefix.get(key, "") + inner


def _relative_prefix(root: str, lib: str) -> str:
    rel = os.path.relpath(root, lib).replace(os.sep, "/")
    return "" if rel == "." else rel + "/"


def compile_bytecode(python: Path, sources: list[Path]) -> list[Path]:
    """Compile ``sources`` with the environment's own interpreter; return the .pyc written.

    A file that does not compile (e.g. a Python 2 leftover in a wheel) is skipped, as pip
    does: it would fail the same way on import.
    """
    if not sources:
        return []
    script = (
        "import sys, py_compile, importlib.util\n"
        "for line in sys.stdin:\n"
        "    path = line.rstrip('\\n')\n"
        "    try:\n"
        "        py_compile.compile(path, doraise=True)\n"
        "    except Exception:\n"
        "        continue\n"
        "    print(importlib.util.cache_from_source(path))\n"
    )
    import subprocess  # only installs that compile bytecode spawn anything

    try:
        done = subprocess.run(
            [str(python), "-I", "-c", script],
            input="".join(f"{os.path.abspath(s)}\n" for s in sources),
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
    except OSError as exc:
        raise InstallError(f"cannot run `{python}` to compile bytecode", causes=[str(exc)]) from exc
    if done.returncode != 0:
        raise InstallError(
            f"compiling bytecode with `{python}` failed",
            causes=done.stderr.strip().splitlines()[-3:],
            hint="install without `--compile-bytecode`",
        )
    return [Path(line) for line in done.stdout.splitlines() if line]


def check_unpacked(unpacked: Path, name: str, label: str) -> None:
    """Fail before anything is removed when the cache's copy of a wheel is not whole: its
    `.dist-info` must hold a RECORD that lists something, METADATA and WHEEL. Cheap (a listing
    and three stats): a damaged copy would otherwise be found halfway through a sync."""
    try:
        dist_info = unpacked / _dist_info_name(unpacked)
        whole = (dist_info / "RECORD").stat().st_size > 0
        whole = whole and (dist_info / "METADATA").is_file() and (dist_info / "WHEEL").is_file()
    except (InstallError, OSError):
        whole = False
    if not whole:
        raise InstallError(
            f"the cached copy of `{label}` is damaged",
            causes=[f"`{unpacked}` lacks a whole `.dist-info` (RECORD, METADATA, WHEEL)"],
            hint=f"run `kiln cache clean {name}`, then run the command again; nothing was "
            "changed in the environment",
        )


def _dist_info_name(unpacked: Path) -> str:
    try:
        names = [n for n in os.listdir(unpacked) if n.endswith(".dist-info")]
    except OSError as exc:
        raise InstallError(f"the unpacked wheel at `{unpacked}` cannot be read") from exc
    if len(names) != 1:
        raise InstallError(
            f"`{unpacked}` is not an unpacked wheel (it has {len(names)} `.dist-info` folders)",
            hint=f"delete `{unpacked}` from the cache and retry",
        )
    return names[0]


def _root_is_purelib(dist_info: Path) -> bool:
    try:
        text = (dist_info / "WHEEL").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"`{dist_info.name}/WHEEL` cannot be read") from exc
    value = first_header(text, "Root-Is-Purelib") or ""
    return value.strip().lower() == "true"
