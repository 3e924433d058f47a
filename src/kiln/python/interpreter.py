"""The facts of one Python interpreter: version, marker values, wheel tags, install paths.

They are learnt by running the interpreter once with a stdlib-only probe (`_probe.py`) and kept
in the cache, keyed by the executable and the stamp of the file it resolves to, so that a later
kiln start reads them without spawning anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import packaging

from kiln.cache import atomic
from kiln.cache.layout import Cache
from kiln.core.environment import Environment
from kiln.core.errors import InterpreterError
from kiln.core.records import field, record
from kiln.python.tags import TagFacts, parse_tags, supported_tags

MINIMUM_VERSION = (3, 8)
_PROBE_TIMEOUT_S = 60
_NAMES = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


@record
class Scheme:
    """Install paths of an environment, as sysconfig gives them."""

    purelib: Path
    platlib: Path
    scripts: Path
    data: Path
    include: Path

    def under(self, root: Path) -> Scheme:
        """Relative paths joined to ``root``; absolute ones (a base's include) kept."""
        return Scheme(*(root / p for p in self._paths()))

    def _paths(self) -> tuple[Path, ...]:
        return (self.purelib, self.platlib, self.scripts, self.data, self.include)


@record
class Interpreter:
    """One Python interpreter: its version, marker values, wheel tags and install paths."""

    executable: Path  # as found: a venv's bin/python, not resolved through symlinks
    base_executable: Path  # the real binary behind it, resolved
    prefix: Path
    base_prefix: Path
    version: tuple[int, int, int]
    implementation: str
    markers: Mapping[str, str] = field(hash=False)
    tags: tuple[str, ...]
    scheme: Scheme
    is_virtualenv: bool
    # Where a virtual environment made from this interpreter installs, relative to its root.
    venv_scheme: Scheme | None = field(default=None, compare=False, repr=False)

    @property
    def version_str(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def description(self) -> str:
        name = _NAMES.get(self.implementation, self.implementation)
        return f"{name} {self.version_str} at {self.executable}"

    def environment(self) -> Environment:
        """Marker values and supported tags, as the resolver and installer read them."""
        return self._environment

    @cached_property
    def _environment(self) -> Environment:
        return Environment(markers=dict(self.markers), tags=parse_tags(self.tags))

    def site_packages(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys((self.scheme.purelib, self.scheme.platlib)))


def inspect_interpreter(executable: Path, cache: Cache | None = None) -> Interpreter:
    """Facts of the python at ``executable``, from the cache when its file has not changed."""
    path = Path(os.path.abspath(os.path.expanduser(executable)))
    stamp = _stamp(path)
    record: dict[str, Any] | None = None
    entry = _entry(cache, path) if cache is not None else None
    if entry is not None:
        record = _read_record(entry, stamp)
    if record is None:
        record = _probe(path)
        if entry is not None:
            # Only saves the next probe: a cache that cannot be written costs nothing else.
            with contextlib.suppress(OSError):
                atomic.write_text(entry, json.dumps({"stamp": stamp, "record": record}))
    return _from_record(path, record)


def remember(interpreter: Interpreter, cache: Cache) -> None:
    """Store facts known without a probe (a venv kiln just made) as if probed."""
    path = interpreter.executable
    record = _to_record(interpreter)
    atomic.write_text(_entry(cache, path), json.dumps({"stamp": _stamp(path), "record": record}))


def _stamp(path: Path) -> dict[str, Any]:
    try:
        resolved = path.resolve(strict=True)
        stat = resolved.stat()
    except (OSError, RuntimeError):
        raise InterpreterError(
            f"no python at `{path}`",
            hint="check the path, or pass a version such as `--python 3.12`",
        ) from None
    if resolved.is_dir():
        raise InterpreterError(
            f"`{path}` is a directory, not a python executable",
            hint="pass the environment's folder to `--python`, or its bin/python",
        )
    # A venv recreated over the same base keeps the binary but not its configuration.
    cfg = pyvenv_cfg(path)
    return {
        "executable": str(path),
        "resolved": str(resolved),
        "mtime_ns": stat.st_mtime_ns,
        "size": stat.st_size,
        "pyvenv_cfg": cfg.stat().st_mtime_ns if cfg is not None else None,
        "probe": _probe_digest(),
        # Tags are ordered here by `packaging`; a new release may order them differently.
        "packaging": packaging.__version__,
    }


def pyvenv_cfg(executable: Path) -> Path | None:
    """The ``pyvenv.cfg`` that makes ``executable`` a virtual environment's python, if any."""
    for folder in (executable.parent, executable.parent.parent):
        cfg = folder / "pyvenv.cfg"
        if cfg.is_file():
            return cfg
    return None


def _entry(cache: Cache, path: Path) -> Path:
    digest = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()
    return cache.interpreters / f"{digest[:32]}.json"


def _read_record(entry: Path, stamp: dict[str, Any]) -> dict[str, Any] | None:
    try:
        data = json.loads(entry.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("stamp") != stamp:
        return None
    record = data.get("record")
    return record if isinstance(record, dict) else None


@cache
def _probe_source() -> str:
    return resources.files("kiln.python").joinpath("_probe.py").read_text("utf-8")


@cache
def _probe_digest() -> str:
    return hashlib.sha256(_probe_source().encode("utf-8")).hexdigest()[:16]


def _probe_command() -> str:
    # Kept to syntax that Python 2 parses, so that an old interpreter still says its version.
    return (
        "import sys, json, platform\n"
        "if sys.version_info < (3, 8):\n"
        "    sys.stdout.write('\\n' + json.dumps({'version': list(sys.version_info[:3]),"
        " 'implementation': platform.python_implementation().lower()}) + '\\n')\n"
        "else:\n"
        f"    exec(compile({_probe_source()!r}, '<kiln-probe>', 'exec'))\n"
    )


def _probe(path: Path) -> dict[str, Any]:
    def broken(*causes: str) -> InterpreterError:
        return InterpreterError(
            f"`{path}` is not a working python interpreter",
            causes=[c for c in causes if c],
            hint="pass `--python` a python executable, a virtual environment or a version",
        )

    def run(*isolation: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [str(path), *isolation, "-c", _probe_command()],
                capture_output=True,
                text=True,
                timeout=_PROBE_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise broken(f"it did not answer within {_PROBE_TIMEOUT_S} seconds") from None
        except OSError as exc:
            raise broken(exc.strerror or str(exc)) from None

    proc = run("-I")
    if proc.returncode != 0 and "-I" in proc.stderr:
        # Python 2 has no isolated mode; ask it for its version all the same.
        proc = run("-E", "-s")
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise broken(f"it exited with status {proc.returncode}", *tail)
    if not lines:
        raise broken("it printed nothing")
    try:
        facts = json.loads(lines[-1])
        if not isinstance(facts, dict):
            raise ValueError(facts)
        return _record_from_facts(facts)
    except (ValueError, KeyError, TypeError, IndexError):
        raise broken("it printed something other than the facts kiln asked for") from None


def _record_from_facts(facts: dict[str, Any]) -> dict[str, Any]:
    version = [int(part) for part in facts["version"]]
    implementation = str(facts["implementation"])
    if tuple(version[:2]) < MINIMUM_VERSION:
        return {"version": version, "implementation": implementation}
    root = str(facts["venv_root"])
    venv_scheme = {
        key: os.path.relpath(value, root) if value.startswith(root) else value
        for key, value in facts["venv_scheme"].items()
    }
    tag_facts = TagFacts(
        interpreter=str(facts["interpreter"]),
        interpreter_version=str(facts["interpreter_version"]),
        python_version=(version[0], version[1]),
        abis=tuple(facts["abis"]),
        platforms=tuple(facts["platforms"]),
    )
    return {
        "version": version,
        "implementation": implementation,
        "base_executable": facts["base_executable"],
        "prefix": facts["prefix"],
        "base_prefix": facts["base_prefix"],
        "markers": {str(k): str(v) for k, v in facts["markers"].items()},
        "tags": list(supported_tags(tag_facts)),
        "scheme": {key: str(facts["scheme"][key]) for key in _SCHEME_KEYS},
        "venv_scheme": {key: venv_scheme[key] for key in _SCHEME_KEYS},
    }


_SCHEME_KEYS = ("purelib", "platlib", "scripts", "data", "include")


def _scheme(paths: Mapping[str, str]) -> Scheme:
    return Scheme(*(Path(paths[key]) for key in _SCHEME_KEYS))


def _from_record(path: Path, record: dict[str, Any]) -> Interpreter:
    version = tuple(record["version"])
    if version[:2] < MINIMUM_VERSION:
        name = _NAMES.get(record["implementation"], record["implementation"])
        raise InterpreterError(
            f"{name} {'.'.join(map(str, version))} at `{path}` is too old",
            hint="kiln supports Python 3.8 and newer; pass `--python` a newer interpreter",
        )
    prefix, base_prefix = Path(record["prefix"]), Path(record["base_prefix"])
    return Interpreter(
        executable=path,
        base_executable=Path(record["base_executable"]),
        prefix=prefix,
        base_prefix=base_prefix,
        version=(version[0], version[1], version[2]),
        implementation=record["implementation"],
        markers=record["markers"],
        tags=tuple(record["tags"]),
        scheme=_scheme(record["scheme"]),
        is_virtualenv=prefix != base_prefix,
        venv_scheme=_scheme(record["venv_scheme"]),
    )


def _to_record(interpreter: Interpreter) -> dict[str, Any]:
    def paths(scheme: Scheme) -> dict[str, str]:
        return {key: str(getattr(scheme, key)) for key in _SCHEME_KEYS}

    return {
        "version": list(interpreter.version),
        "implementation": interpreter.implementation,
        "base_executable": str(interpreter.base_executable),
        "prefix": str(interpreter.prefix),
        "base_prefix": str(interpreter.base_prefix),
        "markers": dict(interpreter.markers),
        "tags": list(interpreter.tags),
        "scheme": paths(interpreter.scheme),
        "venv_scheme": paths(interpreter.venv_scheme or interpreter.scheme),
    }
