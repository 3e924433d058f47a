"""The build frontend that resolve and install call, through `kiln.core.build.Builder`."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from kiln.build.backend import read_build_system
from kiln.build.envs import BuildEnvs
from kiln.build.frontend import HookSession, Kind
from kiln.build.sdist import extract_sdist, read_pkg_info, static_metadata
from kiln.build.wheel_cache import BuiltWheels, build_key, source_digest
from kiln.cache.layout import Cache
from kiln.cache.locks import file_lock
from kiln.core.build import BuildEnvironmentInstaller, BuildError, BuildRequest
from kiln.core.metadata import CoreMetadata
from kiln.python.interpreter import inspect_interpreter


class Frontend:
    """Builds sdists and project folders with their PEP 517 backends, caching what it built."""

    def __init__(self, cache: Cache, installer: BuildEnvironmentInstaller) -> None:
        self._cache = cache
        self._envs = BuildEnvs(cache, installer)
        self._root = cache.bucket("builds")
        self._built = BuiltWheels(self._root, cache.tmpdir())

    def metadata(self, request: BuildRequest) -> CoreMetadata:
        """The metadata a wheel of ``request`` has: from PKG-INFO, the hook, or a built wheel."""
        target = inspect_interpreter(request.python, self._cache)
        key = build_key(request, target, source_digest(request))
        origin = f"metadata of {_describe(request)}"
        cached = self._built.metadata(key)
        if cached is not None:
            return CoreMetadata.parse(cached, origin=origin)
        with self._source_tree(request) as tree:
            data = self._sdist_metadata(tree) if request.is_sdist else None
            if data is None:
                session = self._session(tree, request, "wheel")
                with self._scratch() as scratch:
                    dist_info = session.prepare_metadata(scratch)
                    if dist_info is not None:
                        data = _read(dist_info / "METADATA", session)
                    else:
                        data = _wheel_metadata(self._build_cached(session, key, "wheel"))
        parsed = CoreMetadata.parse(data, origin=origin)
        self._built.store_metadata(key, data)
        return parsed

    def wheel(self, request: BuildRequest, *, editable: bool = False) -> Path:
        if editable and request.is_sdist:
            raise BuildError(
                f"cannot build an editable wheel of {_describe(request)}",
                causes=["editable installs need a project folder, not a source distribution"],
            )
        target = inspect_interpreter(request.python, self._cache)
        key = build_key(request, target, source_digest(request), editable=editable)
        cached = self._built.wheel(key)
        if cached is not None:
            return cached
        kind: Kind = "editable" if editable else "wheel"
        with file_lock(self._root / "wheels" / f"{key}.lock"):
            cached = self._built.wheel(key)
            if cached is not None:
                return cached  # another kiln process built it while we waited
            with self._source_tree(request) as tree:
                return self._build_cached(self._session(tree, request, kind), key, kind)

    def build_to(self, request: BuildRequest, kind: Kind, out_dir: Path) -> Path:
        """Build ``kind`` into ``out_dir``, bypassing the cache (what `kiln build` wants)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        with self._source_tree(request) as tree:
            session = self._session(tree, request, kind)
            # Built beside the destination, then renamed: a failed build leaves no half file.
            with tempfile.TemporaryDirectory(dir=out_dir, prefix=".kiln-build-") as scratch:
                built = session.build(kind, Path(scratch))
                if kind != "sdist":
                    _check_wheel(built, session)
                final = out_dir / built.name
                built.replace(final)
        return final

    def _sdist_metadata(self, tree: Path) -> bytes | None:
        pkg_info = read_pkg_info(tree)
        if pkg_info is None or static_metadata(pkg_info) is None:
            return None
        return pkg_info

    def _session(self, tree: Path, request: BuildRequest, kind: Kind) -> HookSession:
        system = read_build_system(tree)
        what = _describe(request)
        config = request.config_settings
        if not request.isolation:
            # --no-build-isolation: the target environment is used as it is; nothing installed.
            env = self._envs.get(request.python, (), isolation=False)
            return HookSession(tree, system, env, what=what, config_settings=config)
        requires = [*system.requires, *request.extra_build_requirements]
        env = self._envs.get(request.python, requires)
        session = HookSession(tree, system, env, what=what, config_settings=config)
        dynamic = session.get_requires(kind)
        if set(dynamic) - set(env.requires):
            # The shared environment for `requires` stays as it is keyed; the larger set gets
            # an environment of its own, reused in turn by every build that asks the same.
            env = self._envs.get(request.python, [*requires, *dynamic])
            session = HookSession(tree, system, env, what=what, config_settings=config)
        return session

    def _build_cached(self, session: HookSession, key: str, kind: Kind) -> Path:
        with self._scratch() as scratch:
            built = session.build(kind, scratch)
            _check_wheel(built, session)
            return self._built.store_wheel(key, built)

    @contextmanager
    def _source_tree(self, request: BuildRequest) -> Iterator[Path]:
        if not request.is_sdist:
            if not request.source.is_dir():
                raise BuildError(f"cannot build {_describe(request)}: no such folder or sdist")
            yield request.source.resolve()
            return
        with self._scratch() as scratch:
            yield extract_sdist(request.source, scratch)

    @contextmanager
    def _scratch(self) -> Iterator[Path]:
        # On the cache's file system, so moving a finished wheel into its entry is a rename.
        path = Path(tempfile.mkdtemp(dir=self._cache.tmpdir(), prefix="build."))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


def _describe(request: BuildRequest) -> str:
    if request.label:
        return f"`{request.label}` (from `{request.source}`)"
    return f"`{request.source}`"


def _check_wheel(wheel: Path, session: HookSession) -> None:
    try:
        parse_wheel_filename(wheel.name)
    except InvalidWheelFilename:
        raise BuildError(
            f"failed to build {session.what}: backend `{session.system.backend}` "
            f"produced `{wheel.name}`, which is not a valid wheel file name"
        ) from None


def _read(path: Path, session: HookSession) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise BuildError(
            f"failed to build {session.what}: `prepare_metadata_for_build_wheel` "
            f"wrote no `{path.parent.name}/METADATA`"
        ) from None


def _wheel_metadata(wheel: Path) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = [
                n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(names) != 1:
                raise BuildError(f"built wheel `{wheel.name}` has no single `.dist-info/METADATA`")
            return zf.read(names[0])
    except zipfile.BadZipFile as exc:
        raise BuildError(
            f"built wheel `{wheel.name}` is not a zip file", causes=[str(exc)]
        ) from None
