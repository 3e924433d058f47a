"""Which PyTorch backends a project's lock carries: the ones asked for, or with `auto` every
backend whose index offers a torch the project accepts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from kiln.accel.backends import KNOWN_BACKENDS, Backend
from kiln.core.errors import KilnError
from kiln.core.protocols import Found
from kiln.project.pyproject import Pyproject
from kiln.project.torch_backends import family_requirements, index_name
from kiln.settings.torch_settings import TorchChoice

if TYPE_CHECKING:
    from kiln.index.finder import IndexFinder

_PROBES = 8


def candidate_backends(choice: TorchChoice) -> tuple[Backend, ...]:
    return KNOWN_BACKENDS if isinstance(choice.backends, str) else choice.backends


def _probe_target(project: Pyproject) -> tuple[NormalizedName, SpecifierSet]:
    """The family package to look for on each index, and what the project accepts of it:
    torch when the project names it, else the first family package it names."""
    wanted = family_requirements(project)
    named = [r for r in wanted if canonicalize_name(r.name) == "torch"] or wanted[:1]
    if not named:
        return canonicalize_name("torch"), SpecifierSet()
    name = canonicalize_name(named[0].name)
    spec = SpecifierSet()
    for r in wanted:
        if canonicalize_name(r.name) == name:
            spec &= r.specifier
    return name, spec


def _versions(found: Found) -> set[Version]:
    out: set[Version] = set()
    for file in found.files:
        if not file.is_wheel:
            continue
        try:
            out.add(parse_wheel_filename(file.filename)[1])
        except (ValueError, InvalidVersion):
            continue
    return out


def lockable_backends(
    choice: TorchChoice, project: Pyproject, finder: IndexFinder
) -> tuple[Backend, ...]:
    """The backends to lock, in ``candidate_backends`` order. With `auto`, an index without
    an acceptable torch is left out; a backend named by the user must have one."""
    name, spec = _probe_target(project)
    candidates = candidate_backends(choice)

    def offers(backend: Backend) -> bool:
        found = finder.find_on(name, index_name(backend))
        if not isinstance(found, Found):
            return False
        return any(spec.contains(v, prereleases=True) for v in _versions(found))

    with ThreadPoolExecutor(max_workers=_PROBES) as pool:
        offered = list(pool.map(offers, candidates))
    kept = tuple(b for b, ok in zip(candidates, offered, strict=True) if ok)
    missing = [b for b, ok in zip(candidates, offered, strict=True) if not ok]
    wanted = f"`{name}{spec}`" if str(spec) else f"`{name}`"
    if not choice.auto and missing:
        raise KilnError(
            f"the `{missing[0].name}` PyTorch index has no {wanted}",
            causes=tuple(f"looked at `{_url(finder, b)}`" for b in missing),
            hint="choose another backend in `torch-backend`, or change the requirement",
        )
    if not kept:
        raise KilnError(
            f"no PyTorch index offers {wanted}",
            causes=(f"{choice.origin} is `auto`; {len(candidates)} backends were looked at",),
            hint="check `KILN_TORCH_INDEX_URL` / `tool.kiln.torch-index-url`, or the requirement",
        )
    return kept


def _url(finder: IndexFinder, backend: Backend) -> str:
    return next((i.url for i in finder.indexes if i.name == index_name(backend)), backend.name)
