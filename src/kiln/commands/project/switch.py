"""`kiln sync` back to a selection it has synced before: `--extra cu124`, then `--extra cpu`
again.

Which wheels a sync wants is a function of what it reads apart from what is installed: the
project, the lock, the config files, the variables, the interpreter and the command line
(`noop.NoopCheck.inputs`). A full sync that installed only wheels from the lock records them
beside those inputs. A later sync with the same options and the same inputs wants the same
wheels, whatever is installed now; it plans against what is installed with the full path's
planner and carries the plan out with its executor, under the same lock, without reading the
lock file or importing the resolver, index or settings code (two thirds of a switching sync's
time went to those imports). What the record cannot answer goes the full way: a wheel gone
from the cache, inputs changed while waiting for the lock, a record that does not parse.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from packaging.version import InvalidVersion, Version

from kiln.cache.layout import Cache
from kiln.commands.project.noop import NoopCheck
from kiln.core.dist import Candidate, DistFile
from kiln.core.hashes import Hashes
from kiln.core.names import canonical_name
from kiln.core.records import record
from kiln.install.executor import InstallReport, execute
from kiln.install.installed import installed_distributions
from kiln.install.installer import InstallOptions
from kiln.install.plan import DEFAULT_KEEP, InstallPlan, plan_install
from kiln.install.scheme import InstallScheme
from kiln.python.venv_lock import venv_lock

__all__ = ["SwitchResult", "replay_switch", "target_facts"]

_SCHEME_KEYS = ("purelib", "platlib", "scripts", "data", "include")


@record
class _Scheme:
    purelib: Path
    platlib: Path
    scripts: Path
    data: Path
    include: Path


@record
class SwitchResult:
    """What the replayed sync planned, and what it installed and removed."""

    plan: InstallPlan
    report: InstallReport | None  # None: nothing to change

    @property
    def audited(self) -> int:
        return len(self.plan.unchanged)


def target_facts(
    wanted: Sequence[Candidate],
    *,
    cache: Cache,
    scheme: InstallScheme,
    python: Path,
    exact: bool,
) -> dict[str, object] | None:
    """What a full sync wanted, as `NoopCheck.record_target` keeps it; None when it wanted
    something a replay could not install from the cache alone (a file without a sha256)."""
    if cache.temporary:
        return None
    files: list[dict[str, object]] = []
    for candidate in wanted:
        sha256 = candidate.file.hashes.get("sha256")
        if not sha256 or not candidate.file.is_wheel:
            return None
        files.append(
            {
                "name": str(candidate.name),
                "version": str(candidate.version),
                "filename": candidate.file.filename,
                "url": candidate.file.url,
                "sha256": sha256,
                "size": candidate.file.size,
            }
        )
    return {
        "wanted": files,
        "cache": str(cache.root),
        "scheme": {key: str(getattr(scheme, key)) for key in _SCHEME_KEYS},
        "python": str(python),
        "exact": exact,
    }


def replay_switch(check: NoopCheck) -> SwitchResult | None:
    """The sync the record of an earlier full one answers, carried out; None when there is
    no such record or it cannot answer (then nothing was changed)."""
    entry = check.recorded_target()
    if entry is None:
        return None
    parsed = _parse(entry)
    if parsed is None:
        return None
    wanted, cache, scheme, python, exact = parsed
    with venv_lock(Path(check.venv)):
        # Another sync may have held the lock and changed the project meanwhile.
        if not check.inputs_unchanged():
            return None
        site = tuple(dict.fromkeys((scheme.purelib, scheme.platlib)))
        installed = installed_distributions(site)
        plan = plan_install(wanted, installed, cache, exact=exact, keep=DEFAULT_KEEP)
        if plan.remote:
            return None  # a wheel gone from the cache: the full path fetches it again
        if plan.is_empty:
            return SwitchResult(plan, None)
        unpacked = {p.candidate.name: p.cached for p in plan.cached if p.cached is not None}
        report = execute(
            plan,
            unpacked,
            scheme,
            InstallOptions(python_executable=python),
            requested=frozenset(c.name for c in wanted),
        )
    return SwitchResult(plan, report)


def _parse(
    entry: dict[str, object],
) -> tuple[list[Candidate], Cache, _Scheme, Path, bool] | None:
    files, paths = entry.get("wanted"), entry.get("scheme")
    cache, python, exact = entry.get("cache"), entry.get("python"), entry.get("exact")
    if not (isinstance(files, list) and isinstance(paths, dict) and isinstance(exact, bool)):
        return None
    if not (isinstance(cache, str) and isinstance(python, str)):
        return None
    if not (os.path.isabs(cache) and os.path.isabs(python)):
        return None
    if not all(isinstance(paths.get(key), str) for key in _SCHEME_KEYS):
        return None
    wanted = [_candidate(f) for f in files]
    if None in wanted:
        return None
    scheme = _Scheme(*(Path(paths[key]) for key in _SCHEME_KEYS))
    return [c for c in wanted if c is not None], Cache(Path(cache)), scheme, Path(python), exact


def _candidate(data: object) -> Candidate | None:
    if not isinstance(data, dict):
        return None
    texts = [data.get(k) for k in ("name", "version", "filename", "url", "sha256")]
    size = data.get("size")
    if not all(isinstance(t, str) for t in texts) or not isinstance(size, (int, type(None))):
        return None
    name, version, filename, url, sha256 = (str(t) for t in texts)
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    file = DistFile(filename=filename, url=url, hashes=Hashes.of({"sha256": sha256}), size=size)
    return Candidate(canonical_name(name), parsed, file)
