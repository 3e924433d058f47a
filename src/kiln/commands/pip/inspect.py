"""`kiln pip list`, `freeze` and `show`: read what an environment has installed."""

from __future__ import annotations

from collections.abc import Sequence

from packaging.utils import NormalizedName, canonicalize_name

from kiln.commands.context import CommandContext
from kiln.commands.pip.target import target_interpreter
from kiln.core.errors import KilnError
from kiln.core.metadata import CoreMetadata
from kiln.core.records import record
from kiln.install.installed import InstalledDist, installed_distributions
from kiln.python.interpreter import Interpreter


@record
class Inventory:
    """The distributions installed in one environment."""

    interpreter: Interpreter
    dists: tuple[InstalledDist, ...]


def pip_inventory(
    ctx: CommandContext, *, python: str | None, system: bool, exclude_editable: bool = False
) -> Inventory:
    interpreter = target_interpreter(ctx, python, system)
    dists = installed_distributions(interpreter.site_packages())
    if exclude_editable:
        dists = [d for d in dists if not d.editable]
    return Inventory(interpreter, tuple(dists))


@record
class ShownDist:
    """One installed distribution as `kiln pip show` prints it."""

    dist: InstalledDist
    metadata: CoreMetadata
    requires: tuple[str, ...]
    required_by: tuple[str, ...]
    files: tuple[str, ...]


def pip_show(
    ctx: CommandContext, packages: Sequence[str], *, python: str | None, system: bool, files: bool
) -> tuple[Inventory, list[ShownDist], list[str]]:
    inventory = pip_inventory(ctx, python=python, system=system)
    by_name = {d.name: d for d in inventory.dists}
    metadata: dict[NormalizedName, CoreMetadata] = {}
    for d in inventory.dists:
        try:
            metadata[d.name] = d.metadata()
        except (KilnError, OSError):  # a broken neighbour must not break `show`
            continue
    shown: list[ShownDist] = []
    missing: list[str] = []
    for name in packages:
        dist = by_name.get(canonicalize_name(name))
        if dist is None or dist.name not in metadata:
            missing.append(name)
            continue
        meta = metadata[dist.name]
        requires = tuple(
            sorted(
                {
                    r.name
                    for r in meta.requires_dist
                    if r.marker is None or "extra" not in str(r.marker)
                }
            )
        )
        required_by = tuple(
            sorted(
                other.display_name
                for other_name, other in metadata.items()
                if other_name != dist.name
                and any(
                    canonicalize_name(r.name) == dist.name
                    for r in other.requires_dist
                    if r.marker is None or "extra" not in str(r.marker)
                )
            )
        )
        listed: tuple[str, ...] = ()
        if files:
            record = dist.dist_info / "RECORD"
            if record.exists():
                listed = tuple(
                    line.split(",")[0] for line in record.read_text().splitlines() if line
                )
        shown.append(ShownDist(dist, meta, requires, required_by, listed))
    return inventory, shown, missing
