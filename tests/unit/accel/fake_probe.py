"""A probe that presents a made-up machine: files, directories and command outputs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from kiln.accel.nvml import NvmlGpu
from kiln.accel.probe import COMMAND_TIMEOUT_S


@dataclass
class FakeProbe:
    files: dict[str, str] = field(default_factory=dict)
    dirs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # argv joined by spaces -> stdout; a missing key is a command that is not installed,
    # a None value one that exits non-zero.
    commands: dict[str, str | None] = field(default_factory=dict)
    os_name: str = "Linux"
    arch: str = "x86_64"
    nvml: tuple[NvmlGpu, ...] = ()
    adapters: tuple[str, ...] = ()
    ran: list[str] = field(default_factory=list)
    nvml_asked: int = 0

    def env(self, name: str) -> str | None:
        # The environment itself, so tests set overrides with monkeypatch.
        return os.environ.get(name)

    def read_text(self, path: str) -> str | None:
        return self.files.get(path)

    def list_dir(self, path: str) -> tuple[str, ...]:
        return self.dirs.get(path, ())

    def run(self, argv: Sequence[str], timeout: float = COMMAND_TIMEOUT_S) -> str | None:
        assert timeout <= COMMAND_TIMEOUT_S
        key = " ".join(argv)
        self.ran.append(key)
        return self.commands.get(key)

    def system(self) -> str:
        return self.os_name

    def machine(self) -> str:
        return self.arch

    def nvml_gpus(self, system: str) -> tuple[NvmlGpu, ...]:
        self.nvml_asked += 1
        return self.nvml

    def windows_display_adapters(self) -> tuple[str, ...]:
        return self.adapters
