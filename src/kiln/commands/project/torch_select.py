"""Which of the lock's PyTorch backends `sync` installs on this machine.

A backend named on the command line (or the project's single backend) is installed as
asked. With `auto` (or a list), the machine's accelerator is detected and the lock's
backends are offered to `accel.choose`, each with the torch version its slice installs
here, so a GPU the newest build has no kernels for gets an older build that has them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.version import Version

from kiln.core.environment import Environment
from kiln.core.errors import KilnError
from kiln.core.markers import evaluate
from kiln.core.records import record
from kiln.lock.model import Lock, torch_backend_group
from kiln.settings.torch_settings import TorchChoice, parse_choice

if TYPE_CHECKING:
    from kiln.accel.backends import Backend


@record
class BackendChoice:
    """The PyTorch backend a project sync installs, and why."""

    backend: str | None  # None: the lock's default builds (no backend group)
    why: str  # for the user: what was detected, or that it was asked for


def _slice_torch(lock: Lock, env: Environment, backend: str) -> Version | None:
    groups = frozenset({torch_backend_group(backend)})
    for package in lock.packages:
        if package.name == "torch" and evaluate(package.marker, env.markers, groups=groups):
            return package.version
    return None


def _supported(lock: Lock, env: Environment, backend: str, extras: frozenset[str]) -> bool:
    groups = frozenset({torch_backend_group(backend)})
    return not any(
        evaluate(marker, env.markers, extras=extras, groups=groups)
        for marker, _ in lock.unsupported
    )


def lock_request(lock: Lock) -> TorchChoice | None:
    """What ``lock`` was asked to carry, as a choice (`auto`, or the backends named)."""
    if lock.torch_backend_request is None:
        return None
    return parse_choice(lock.torch_backend_request, "the lock's `torch-backend-request`")


def choose_backend(
    lock: Lock, env: Environment, asked: TorchChoice | None, extras: frozenset[str]
) -> BackendChoice:
    """``asked`` is the backend to install (`--torch-backend`, else what the lock was asked
    to carry); `auto`, several backends or None mean: detect, and choose among the lock's."""
    if not lock.torch_backends:
        if asked is not None and not asked.auto:
            raise KilnError(
                "the lock carries no PyTorch backends",
                causes=(f"{asked.origin} asks for `{','.join(asked.names())}`",),
                hint="run `kiln sync` without `--frozen` to lock it, or set "
                "`tool.kiln.torch-backend` in `pyproject.toml`",
            )
        return BackendChoice(None, "")
    from kiln.accel.backends import backend_named

    locked = [b for name in lock.torch_backends if (b := backend_named(name)) is not None]
    if asked is not None and not isinstance(asked.backends, str) and len(asked.backends) == 1:
        wanted = asked.backends[0]
        if wanted.name not in lock.torch_backends:
            raise KilnError(
                f"the lock carries no `{wanted.name}` PyTorch build",
                causes=(f"it carries {', '.join(f'`{n}`' for n in lock.torch_backends)}",),
                hint=f"run `kiln sync --torch-backend {wanted.name}` without `--frozen` to add "
                "it to the lock; if the lock already asks for it, its index has no torch the "
                "project accepts",
            )
        return BackendChoice(wanted.name, f"asked for by {asked.origin}")
    from kiln.accel.choose import choose
    from kiln.accel.machine import detect

    machine = detect()
    offers: list[tuple[Backend, Version | None]] = [
        (b, _slice_torch(lock, env, b.name))
        for b in locked
        if _supported(lock, env, b.name, extras)
    ]
    chosen = choose(machine, offers)
    detected = "; ".join(machine.describe()) or "no accelerator"
    if chosen is None:
        return BackendChoice(None, f"no locked backend fits this machine ({detected})")
    return BackendChoice(chosen.name, detected)
