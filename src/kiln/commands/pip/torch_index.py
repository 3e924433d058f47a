"""`--torch-backend` in the pip interface: the torch family from one PyTorch index.

A named backend pins every torch-family package to its index; nothing else moves. With
`auto`, the machine's accelerator is detected and the backends it runs are tried best first:
the first whose index has a torch the requirements accept, with kernels for every GPU found,
serves the family. macOS keeps PyPI's builds, as uv does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from kiln.accel.backends import TORCH_FAMILY, Backend
from kiln.core.environment import Environment
from kiln.core.errors import KilnError
from kiln.core.protocols import Found
from kiln.core.records import record, replace
from kiln.index.index_url import IndexUrl
from kiln.project.torch_backends import index_name
from kiln.settings.index_settings import IndexSettings
from kiln.settings.torch_settings import TorchSettings

if TYPE_CHECKING:
    from kiln.cache.layout import Cache
    from kiln.index.finder import IndexFinder
    from kiln.net.client import HttpClient


@record
class TorchIndexChoice:
    """The PyTorch backend `--torch-backend` chose, and why."""

    backend: Backend | None  # None: the indexes as configured (macOS under `auto`)
    why: str


def _with_indexes(settings: IndexSettings, backends: Sequence[Backend], base: str) -> IndexSettings:
    added = tuple(
        IndexUrl(b.index_url(base).rstrip("/"), name=index_name(b), explicit=True) for b in backends
    )
    ordinary = tuple(i for i in settings.indexes if not i.default)
    default = tuple(i for i in settings.indexes if i.default)
    return replace(settings, indexes=(*ordinary, *added, *default))


def _accepted(
    finder: IndexFinder, backend: Backend, spec: SpecifierSet, env: Environment | None
) -> list[Version]:
    found = finder.find_on(canonicalize_name("torch"), index_name(backend))
    if not isinstance(found, Found):
        return []
    versions: set[Version] = set()
    for file in found.files:
        if not file.is_wheel:
            continue
        try:
            _, version, _, tags = parse_wheel_filename(file.filename)
        except (ValueError, InvalidVersion):
            continue
        if env is not None and env.tag_rank(tags) is None:
            continue
        if spec.contains(version, prereleases=True):
            versions.add(version)
    return sorted(versions, reverse=True)


def torch_finder(
    settings: IndexSettings,
    torch: TorchSettings,
    requirements: Sequence[Requirement],
    env: Environment | None,
    client: HttpClient,
    cache: Cache,
) -> tuple[IndexFinder, TorchIndexChoice | None]:
    """The finder a pip command resolves with, and which backend serves the torch family."""
    choice = torch.choice
    if choice is None:
        return settings.finder(client, cache), None
    if not isinstance(choice.backends, str):
        backend = choice.backends[0]
        return _pinned(settings, backend, torch.index_url, client, cache), TorchIndexChoice(
            backend, f"asked for by {choice.origin}"
        )
    from kiln.accel.choose import fits, runnable
    from kiln.accel.machine import detect

    machine = detect()
    detected = "; ".join(machine.describe()) or "no accelerator"
    if machine.system == "macos":
        return settings.finder(client, cache), TorchIndexChoice(None, "macOS: PyPI's builds")
    candidates = runnable(machine)
    spec = SpecifierSet()
    for r in requirements:
        if canonicalize_name(r.name) == "torch":
            spec &= r.specifier
    probe = _with_indexes(settings, candidates, torch.index_url).finder(client, cache)
    chosen: Backend | None = None
    for backend in candidates:
        versions = _accepted(probe, backend, spec, env)
        if versions and fits(machine, backend, versions[0]).ok:
            chosen = backend
            break
    if chosen is None:
        probe.close()
        wanted = f"`torch{spec}`" if str(spec) else "`torch`"
        raise KilnError(
            f"no PyTorch index offers {wanted} for this machine",
            causes=(
                f"detected: {detected}",
                "looked at " + ", ".join(f"`{b.index_url(torch.index_url)}`" for b in candidates),
            ),
            hint="name a backend with `--torch-backend`, or change the requirement",
        )
    pins = {name: index_name(chosen) for name in TORCH_FAMILY}
    return probe.with_pins(pins), TorchIndexChoice(chosen, detected)


def _pinned(
    settings: IndexSettings, backend: Backend, base: str, client: HttpClient, cache: Cache
) -> IndexFinder:
    pins = {name: index_name(backend) for name in TORCH_FAMILY}
    return _with_indexes(settings, (backend,), base).finder(client, cache, pins=pins)
