"""The rule that turns a `Machine` into a torch backend.

Two questions, asked in this order: does the machine's driver (or GPU family) run the
backend at all (`runnable`), and does the torch release that backend would install carry
kernels for every GPU present (`fits`)? The second needs the release's compiled arch list,
which the tables hold for known releases; for any other release only the first is asked.
"""

from __future__ import annotations

from collections.abc import Sequence

from packaging.version import Version

from kiln.accel import tables
from kiln.accel.backends import CPU, KNOWN_BACKENDS, XPU, Backend
from kiln.accel.kernels import ArchList, coverage
from kiln.accel.machine import ACCELERATOR_ENV, Machine
from kiln.accel.nvidia import driver_text
from kiln.core.records import record


@record
class Fit:
    """Whether a build can run on this machine, and why not."""

    ok: bool
    reason: str = ""  # why not, for the user; empty when ok


_OK = Fit(True)

_CUDA_NEWEST_FIRST = tuple(
    sorted((b for b in KNOWN_BACKENDS if b.kind == "cuda"), key=lambda b: b.version, reverse=True)
)
_ROCM_NEWEST_FIRST = tuple(
    sorted((b for b in KNOWN_BACKENDS if b.kind == "rocm"), key=lambda b: b.version, reverse=True)
)


def runnable(machine: Machine) -> tuple[Backend, ...]:
    """The backends this machine can run, best first, before any torch version is known."""
    if machine.forced_none or machine.system not in ("linux", "windows"):
        return (CPU,)
    # One GPU vendor decides, in uv's order: NVIDIA, then AMD, then Intel.
    if machine.nvidia_driver is not None:
        family: tuple[Backend, ...] = _CUDA_NEWEST_FIRST
    elif machine.amd_gfx:
        family = _ROCM_NEWEST_FIRST
    elif machine.intel_xpu:
        family = (XPU,)
    else:
        family = ()
    return (*(b for b in family if fits(machine, b, None).ok), CPU)


def fits(machine: Machine, backend: Backend, torch_version: Version | None) -> Fit:
    """Whether `backend` (installing `torch_version`, when known) runs on `machine`."""
    if backend.kind == "cpu":
        return _OK
    if machine.forced_none:
        return Fit(False, f"accelerators are turned off ({ACCELERATOR_ENV}=none)")
    if backend.kind == "cuda":
        return _fits_cuda(machine, backend, torch_version)
    if backend.kind == "rocm":
        return _fits_rocm(machine, backend, torch_version)
    if machine.system not in ("linux", "windows"):
        return Fit(False, "Intel XPU builds of torch exist only for Linux and Windows")
    if not machine.intel_xpu:
        return Fit(False, "no Intel GPU detected")
    return _OK


def choose(machine: Machine, offers: Sequence[tuple[Backend, Version | None]]) -> Backend | None:
    """The best offered backend that fits; the cpu offer when none does; None without one.

    `offers` are the backends a lock or index provides, each with the torch version it
    would install (None when unknown).
    """
    for backend in runnable(machine):
        for offered, torch_version in offers:
            if offered == backend and fits(machine, offered, torch_version).ok:
                return offered
    return next((offered for offered, _ in offers if offered.kind == "cpu"), None)


def _fits_cuda(machine: Machine, backend: Backend, torch_version: Version | None) -> Fit:
    if machine.system not in ("linux", "windows"):
        return Fit(False, "CUDA builds of torch exist only for Linux and Windows")
    driver = machine.nvidia_driver
    if driver is None:
        return Fit(False, "no NVIDIA GPU detected")
    floor = tables.cuda_min_driver(backend.name, machine.system)
    if floor is None:
        return Fit(False, f"kiln does not know which driver {backend.name} needs")
    if driver < floor.value:
        return Fit(
            False,
            f"{_driver_reach(driver, machine.system)}; {backend.name} needs ≥ "
            f"{driver_text(floor.value)}",
        )
    if torch_version is None:
        return _OK
    platform = _arch_platform(machine)
    listed = (
        None
        if platform is None
        else tables.release_cuda_archs(torch_version, backend.name, platform)
    )
    if listed is None:
        return _OK
    archs = ArchList.parse(listed.value)
    build = _build_words(torch_version, backend)
    for index, cc in enumerate(machine.compute_capabilities):
        gpu = f"compute capability {cc[0]}.{cc[1]}{_gpu_label(machine, index)}"
        how = coverage(archs, cc)
        if how is None:
            return Fit(False, f"{build} has no kernels for {gpu}; it is built for {archs.words()}")
        ga = tables.cuda_ga_driver(backend.name, machine.system)
        if how == "ptx" and ga is not None and driver < ga.value:
            # Below the toolkit's own driver, NVIDIA's compatibility mode cannot JIT its PTX.
            return Fit(
                False,
                f"{build} runs on {gpu} only by compiling its PTX, which needs "
                f"driver ≥ {driver_text(ga.value)}; this one is {driver_text(driver)}",
            )
    return _OK


def _fits_rocm(machine: Machine, backend: Backend, torch_version: Version | None) -> Fit:
    if machine.system != "linux":
        return Fit(False, "ROCm builds of torch exist only for Linux")
    if not machine.amd_gfx:
        return Fit(False, "no AMD GPU detected")
    listed = tables.release_rocm_gfx(torch_version, backend.name) if torch_version else None
    if listed is None:
        listed = tables.rocm_gfx(backend.name)
    if listed is None:
        return _OK
    build = _build_words(torch_version, backend) if torch_version else backend.name
    for gfx in machine.amd_gfx:
        if gfx not in listed.value:
            return Fit(
                False,
                f"{build} has no kernels for {gfx}; it is built for {', '.join(listed.value)}",
            )
    return _OK


def _driver_reach(driver: Version, system: str) -> str:
    """`driver 470.82.01 runs CUDA up to 11.x`: the newest CUDA major this driver meets."""
    reachable = [
        b.version[0]
        for b in _CUDA_NEWEST_FIRST
        if (floor := tables.cuda_min_driver(b.name, system)) is not None and driver >= floor.value
    ]
    if not reachable:
        return f"driver {driver_text(driver)} runs no CUDA build of torch"
    return f"driver {driver_text(driver)} runs CUDA up to {max(reachable)}.x"


def _arch_platform(machine: Machine) -> tables.ArchPlatform | None:
    if machine.system == "windows":
        return "windows"
    if machine.system == "linux" and machine.arch != "other":
        return "linux_x86_64" if machine.arch == "x86_64" else "linux_aarch64"
    return None


def _build_words(torch_version: Version, backend: Backend) -> str:
    local = "" if torch_version.local else f"+{backend.name}"
    return f"torch {torch_version}{local}"


def _gpu_label(machine: Machine, index: int) -> str:
    if index >= len(machine.gpu_names):
        return ""
    name = machine.gpu_names[index]
    for prefix in ("NVIDIA ", "GeForce "):
        name = name.removeprefix(prefix)
    return f" ({name})" if name else ""
