"""What accelerators this machine has: the input to choosing a torch backend.

`detect()` reads the machine through a `Probe` (the real one by default) and never imports
torch or any GPU library. Nothing present is the common case and costs a few file reads;
a missing file or command means "not present", never an error.

Environment overrides, read through the probe so tests can present any machine:

- `KILN_ACCELERATOR=none`: use no accelerator whatever is present (`auto` or unset: detect).
- `KILN_CUDA_DRIVER_VERSION=550.144.03`: the NVIDIA driver, instead of reading it.
- `KILN_GPU_COMPUTE_CAPABILITY=8.6` or `6.1,8.6`: each NVIDIA GPU's compute capability.
- `KILN_AMD_GPU_ARCHITECTURE=gfx90a` or `gfx90a,gfx1100`: each AMD GPU's gfx target.
- `KILN_ACCEL_SYSTEM=linux|windows|macos` and `KILN_ACCEL_MACHINE=x86_64|aarch64|AMD64|...`:
  the OS and CPU architecture to decide for, instead of this machine's.

A malformed value is an `AcceleratorSettingError` naming the variable and the expected form.
"""

from __future__ import annotations

from typing import Literal

from packaging.version import Version

from kiln.accel import amd, intel, nvidia, tables
from kiln.accel.errors import AcceleratorSettingError
from kiln.accel.probe import Probe, SystemProbe
from kiln.core.records import record

System = Literal["linux", "windows", "macos", "other"]

ACCELERATOR_ENV = "KILN_ACCELERATOR"
SYSTEM_ENV = "KILN_ACCEL_SYSTEM"
MACHINE_ENV = "KILN_ACCEL_MACHINE"

_SYSTEMS: dict[str, System] = {
    "linux": "linux",
    "windows": "windows",
    "darwin": "macos",
    "macos": "macos",
}


@record
class Machine:
    """What kiln knows of this machine's operating system and accelerators."""

    system: System
    machine: str  # as the OS names it: "x86_64", "aarch64", "arm64", "AMD64"
    nvidia_driver: Version | None = None
    compute_capabilities: tuple[tuple[int, int], ...] = ()  # one per NVIDIA GPU
    amd_gfx: tuple[str, ...] = ()  # one per AMD GPU
    intel_xpu: bool = False
    gpu_names: tuple[str, ...] = ()
    forced_none: bool = False  # KILN_ACCELERATOR=none

    @property
    def arch(self) -> Literal["x86_64", "aarch64", "other"]:
        """The CPU architecture under one spelling, as wheel tables key it."""
        lowered = self.machine.lower()
        if lowered in ("x86_64", "amd64", "x64"):
            return "x86_64"
        if lowered in ("aarch64", "arm64"):
            return "aarch64"
        return "other"

    def describe(self) -> list[str]:
        """Human lines for `kiln doctor`: what was found and what it means for torch."""
        lines = [f"system: {self.system} {self.machine}"]
        if self.forced_none:
            lines.append(f"accelerators: ignored ({ACCELERATOR_ENV}=none)")
        if self.nvidia_driver is not None:
            lines.append(f"NVIDIA driver: {nvidia.driver_text(self.nvidia_driver)}")
        for index, cc in enumerate(self.compute_capabilities):
            name = self.gpu_names[index] if index < len(self.gpu_names) else "NVIDIA GPU"
            lines.append(f"GPU {index}: {name} (compute capability {cc[0]}.{cc[1]})")
        for name in self.gpu_names[len(self.compute_capabilities) :]:
            lines.append(f"GPU: {name} (compute capability unknown)")
        for gfx in self.amd_gfx:
            label = tables.gfx_label(gfx)
            lines.append(f"AMD GPU: ROCm arch {gfx}" + (f" ({label})" if label else ""))
        if self.intel_xpu:
            lines.append("Intel GPU: present (xpu)")
        if len(lines) == 1 or (len(lines) == 2 and self.forced_none):
            lines.append("no GPU detected")
        return lines


def detect(probe: Probe | None = None) -> Machine:
    """This machine's accelerators (or those the environment overrides describe)."""
    probe = probe or SystemProbe()
    forced_none = _forced_none(probe)
    system = _system(probe)
    machine = (probe.env(MACHINE_ENV) or "").strip() or probe.machine()
    if system in ("macos", "other"):
        # macOS torch wheels come from PyPI; no other OS has accelerated torch wheels.
        return Machine(system, machine, forced_none=forced_none)

    driver = nvidia.driver_from_env(probe)
    if driver is None:
        driver = nvidia.detect_driver(probe, system)
    ccs = nvidia.compute_capabilities_from_env(probe)
    names: tuple[str, ...] = ()
    if ccs is None:
        ccs = ()
        if driver is not None:
            gpus = nvidia.detect_gpus(probe, system)
            ccs, names = gpus.compute_capabilities, gpus.names

    gfx = amd.gfx_from_env(probe)
    if gfx is None:
        gfx = amd.detect_gfx(probe) if system == "linux" else ()

    return Machine(
        system=system,
        machine=machine,
        nvidia_driver=driver,
        compute_capabilities=ccs,
        amd_gfx=gfx,
        intel_xpu=intel.detect_intel_gpu(probe, system),
        gpu_names=names,
        forced_none=forced_none,
    )


def _forced_none(probe: Probe) -> bool:
    raw = probe.env(ACCELERATOR_ENV)
    value = (raw or "").strip().lower()
    if value in ("", "auto"):
        return False
    if value == "none":
        return True
    raise AcceleratorSettingError(ACCELERATOR_ENV, raw or "", "`none` or `auto`")


def _system(probe: Probe) -> System:
    raw = probe.env(SYSTEM_ENV)
    if raw is not None and raw.strip():
        system = _SYSTEMS.get(raw.strip().lower())
        if system is None:
            raise AcceleratorSettingError(SYSTEM_ENV, raw, "`linux`, `windows` or `macos`")
        return system
    return _SYSTEMS.get(probe.system().lower(), "other")
