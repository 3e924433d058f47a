"""Which PyTorch builds a command serves: `--torch-backend`, `KILN_TORCH_BACKEND` (then
`UV_TORCH_BACKEND`), and in a project `[tool.kiln] torch-backend`; the base of PyTorch's
indexes from `KILN_TORCH_INDEX_URL` or `[tool.kiln] torch-index-url`.

A project keeps two answers apart: the backends its lock carries (``lock``) and the one
``sync`` installs here (``install``). `auto` in the lock means every backend a machine could
be given; `auto` at install time means the one this machine's accelerator runs best.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from kiln.core.records import record
from kiln.project.uv_tables import KilnTables

if TYPE_CHECKING:
    from kiln.accel.backends import Backend

Auto = Literal["auto"]


@record
class TorchChoice:
    """`auto`, or backends named by the user, in their order."""

    backends: tuple[Backend, ...] | Auto
    origin: str  # the flag, variable or key it came from, for messages

    @property
    def auto(self) -> bool:
        return self.backends == "auto"

    def names(self) -> tuple[str, ...]:
        return ("auto",) if self.backends == "auto" else tuple(b.name for b in self.backends)


@record
class TorchSettings:
    """What a pip command does with the torch family: ``choice`` None leaves it to the indexes."""

    choice: TorchChoice | None
    index_url: str


@record
class ProjectTorch:
    """A project's backends: what `[tool.kiln]` configures and what the command line asks."""

    configured: TorchChoice | None  # `tool.kiln.torch-backend`; part of the lock's fingerprint
    asked: TorchChoice | None  # `--torch-backend` / `KILN_TORCH_BACKEND`
    index_url: str
    verb: Literal["lock", "install"] = "install"

    def lock_request(self, previous: TorchChoice | None) -> TorchChoice | None:
        """What the lock carries. ``previous`` is the request an up-to-date lock was made
        with: the verbs that install keep it, so `kiln lock --torch-backend cpu` is not
        undone by the next `sync`; `kiln lock` itself starts from the project's setting."""
        if self.verb == "lock":
            return self.asked or self.configured
        base = previous or self.configured
        asked = self.asked
        if asked is not None and not isinstance(asked.backends, str) and len(asked.backends) > 1:
            raise_many(asked)
        return _widened(base, self.asked)

    def install(self, request: TorchChoice | None) -> TorchChoice | None:
        """What to install, given what the lock carries: the asked backend, else the lock's."""
        return self.asked or request


def parse_choice(text: str, origin: str) -> TorchChoice:
    """``auto``, one backend, or (for a lock) a comma-separated list of backends."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if [n.lower() for n in names] == ["auto"]:
        return TorchChoice("auto", origin)
    # Imported here: reading settings must not load the backend tables on a no-op run.
    from kiln.accel.backends import parse_backend

    backends = tuple(dict.fromkeys(parse_backend(name) for name in names))
    if not backends:
        # An empty value names nothing: read as the unknown backend it is.
        parse_backend(text)
    return TorchChoice(backends, origin)


def _from_flag(flag: str | None, env: Mapping[str, str]) -> TorchChoice | None:
    if flag:
        return parse_choice(flag, "--torch-backend")
    for var in ("KILN_TORCH_BACKEND", "UV_TORCH_BACKEND"):
        value = env.get(var, "").strip()
        if value:
            return parse_choice(value, var)
    return None


def _index_url(env: Mapping[str, str], kiln: KilnTables | None) -> str:
    from kiln.accel.defaults import DEFAULT_TORCH_INDEX_URL

    value = env.get("KILN_TORCH_INDEX_URL", "").strip() or (
        kiln.torch_index_url if kiln is not None else None
    )
    return (value or DEFAULT_TORCH_INDEX_URL).rstrip("/")


def pip_torch_settings(flag: str | None, env: Mapping[str, str] | None = None) -> TorchSettings:
    env = os.environ if env is None else env
    choice = _from_flag(flag, env)
    if choice is not None and not choice.auto and len(choice.backends) > 1:
        raise_many(choice)
    return TorchSettings(choice, _index_url(env, None))


def raise_many(choice: TorchChoice) -> None:
    from kiln.core.errors import UsageError

    raise UsageError(
        f"{choice.origin} names {len(choice.names())} backends ({', '.join(choice.names())}); "
        "an environment holds one",
        hint="name one backend, or `auto`",
    )


def project_torch(
    kiln: KilnTables,
    flag: str | None,
    env: Mapping[str, str] | None = None,
    *,
    verb: Literal["lock", "install"] = "install",
) -> ProjectTorch:
    """On `lock` the flag says what the lock carries; on `sync`, `run` and `add` it says what
    to install, and the lock carries it too (beside what it already carries)."""
    env = os.environ if env is None else env
    configured = kiln.torch_backend
    project: TorchChoice | None = None
    if configured is not None:
        text = configured if isinstance(configured, str) else ",".join(configured)
        project = parse_choice(text, "`tool.kiln.torch-backend`")
    return ProjectTorch(project, _from_flag(flag, env), _index_url(env, kiln), verb)


def _widened(project: TorchChoice | None, asked: TorchChoice | None) -> TorchChoice | None:
    if asked is None:
        return project
    if project is None:
        return asked
    if project.auto or asked.auto:
        # `auto` at install time picks among what the project locks.
        return project
    assert not isinstance(project.backends, str) and not isinstance(asked.backends, str)
    extra = tuple(b for b in asked.backends if b not in project.backends)
    return project if not extra else TorchChoice((*project.backends, *extra), project.origin)
