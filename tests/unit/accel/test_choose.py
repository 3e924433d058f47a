from __future__ import annotations

from dataclasses import dataclass

import pytest
from packaging.version import Version

from kiln.accel.backends import Backend, parse_backend
from kiln.accel.choose import choose, fits, runnable
from kiln.accel.machine import Machine, System

V = Version
CPU = parse_backend("cpu")


def b(name: str) -> Backend:
    return parse_backend(name)


def nvidia(
    driver: str, *ccs: tuple[int, int], system: System = "linux", arch: str = "x86_64"
) -> Machine:
    return Machine(system, arch, nvidia_driver=V(driver), compute_capabilities=ccs)


def amd(*gfx: str) -> Machine:
    return Machine("linux", "x86_64", amd_gfx=gfx)


@dataclass(frozen=True)
class Case:
    name: str
    machine: Machine
    offers: tuple[tuple[str, str | None], ...]
    expected: str | None


def offers(*pairs: tuple[str, str | None]) -> tuple[tuple[str, str | None], ...]:
    return pairs


TORCH_27 = offers(("cu128", "2.7.0"), ("cu126", "2.7.0"), ("cpu", "2.7.0"))
TORCH_29 = offers(("cu130", "2.9.0"), ("cu129", None), ("cu128", "2.9.0"), ("cpu", None))

CASES = [
    Case(
        "GTX 1080 has no sm_61/sm_60 in 2.7 cu128", nvidia("575.51.03", (6, 1)), TORCH_27, "cu126"
    ),
    Case("V100 lost sm_70 in 2.7 cu128", nvidia("575.51.03", (7, 0)), TORCH_27, "cu126"),
    Case("RTX 5090 needs cu128", nvidia("575.51.03", (12, 0)), TORCH_27, "cu128"),
    Case(
        "RTX 5090 has no kernels in cu126",
        nvidia("575.51.03", (12, 0)),
        offers(("cu126", "2.7.0"), ("cpu", None)),
        "cpu",
    ),
    Case("A100 takes the newest", nvidia("575.51.03", (8, 0)), TORCH_27, "cu128"),
    Case("one old GPU of two decides", nvidia("575.51.03", (8, 6), (7, 0)), TORCH_27, "cu126"),
    Case("driver 418 runs no CUDA build", nvidia("418.39", (7, 5)), TORCH_27, "cpu"),
    Case(
        "driver 470 runs CUDA 11",
        nvidia("470.82.01", (7, 5)),
        offers(("cu126", "2.7.0"), ("cu118", "2.7.0"), ("cpu", None)),
        "cu118",
    ),
    Case(
        "driver 470 without a cu11 offer",
        nvidia("470.82.01", (7, 5)),
        TORCH_27,
        "cpu",
    ),
    Case("driver 525 stops below cu130", nvidia("525.60.13", (8, 6)), TORCH_29, "cu129"),
    Case("driver 580 runs cu130", nvidia("580.65.06", (8, 6)), TORCH_29, "cu130"),
    Case(
        "2.8 cu128 carries sm_70 again",
        nvidia("575.51.03", (7, 0)),
        offers(("cu129", "2.8.0"), ("cu128", "2.8.0"), ("cpu", None)),
        "cu129",
    ),
    Case(
        "unknown release: driver only",
        nvidia("575.51.03", (6, 1)),
        offers(("cu128", "3.0.0"), ("cu126", "3.0.0"), ("cpu", None)),
        "cu128",
    ),
    Case(
        "no torch version: driver only",
        nvidia("575.51.03", (6, 1)),
        offers(("cu128", None), ("cpu", None)),
        "cu128",
    ),
    Case(
        "nothing fits and no cpu offer",
        nvidia("418.39", (7, 5)),
        offers(
            ("cu126", "2.7.0"),
        ),
        None,
    ),
    Case("ROCm gfx90a", amd("gfx90a"), offers(("rocm6.3", "2.7.0"), ("cpu", None)), "rocm6.3"),
    Case(
        "ROCm newest first",
        amd("gfx90a"),
        offers(("rocm6.3", "2.8.0"), ("rocm6.4", "2.8.0"), ("cpu", None)),
        "rocm6.4",
    ),
    Case(
        "ROCm gfx803 is unsupported",
        amd("gfx803"),
        offers(("rocm6.3", "2.7.0"), ("rocm6.2.4", "2.7.0"), ("cpu", None)),
        "cpu",
    ),
    Case(
        "ROCm: every GPU must be served",
        amd("gfx90a", "gfx1200"),
        offers(("rocm6.1", "2.6.0"), ("cpu", None)),
        "cpu",
    ),
    Case("ROCm on a CUDA offer list", amd("gfx90a"), TORCH_27, "cpu"),
    Case("macOS arm64", Machine("macos", "arm64"), TORCH_27, "cpu"),
    Case(
        "macOS ignores a driver",
        nvidia("575.51.03", (8, 6), system="macos", arch="arm64"),
        TORCH_27,
        "cpu",
    ),
    Case(
        "KILN_ACCELERATOR=none",
        Machine(
            "linux",
            "x86_64",
            nvidia_driver=V("575.51.03"),
            compute_capabilities=((8, 6),),
            forced_none=True,
        ),
        TORCH_27,
        "cpu",
    ),
    Case(
        "Intel XPU on Linux",
        Machine("linux", "x86_64", intel_xpu=True),
        offers(("cu126", "2.7.0"), ("xpu", "2.7.0"), ("cpu", None)),
        "xpu",
    ),
    Case(
        "Intel XPU on Windows",
        Machine("windows", "AMD64", intel_xpu=True),
        offers(("xpu", "2.7.0"), ("cpu", None)),
        "xpu",
    ),
    Case(
        "NVIDIA beats an Intel iGPU",
        Machine(
            "linux",
            "x86_64",
            nvidia_driver=V("575.51.03"),
            compute_capabilities=((8, 9),),
            intel_xpu=True,
        ),
        offers(("xpu", "2.7.0"), ("cu126", "2.7.0"), ("cpu", None)),
        "cu126",
    ),
    # Windows drivers have their own floors: 528.33 for CUDA 12, 452.39 for CUDA 11.
    Case(
        "Windows 527 is below the CUDA 12 floor",
        nvidia("527.56", (8, 6), system="windows", arch="AMD64"),
        offers(("cu126", "2.7.0"), ("cu118", "2.7.0"), ("cpu", None)),
        "cu118",
    ),
    Case(
        "Windows 528.33 runs CUDA 12",
        nvidia("528.33", (8, 6), system="windows", arch="AMD64"),
        offers(("cu126", "2.7.0"), ("cu118", "2.7.0"), ("cpu", None)),
        "cu126",
    ),
    Case(
        "Linux 526 runs CUDA 12",
        nvidia("526.00", (8, 6)),
        offers(("cu126", "2.7.0"), ("cu118", "2.7.0"), ("cpu", None)),
        "cu126",
    ),
    Case(
        "Windows 451 runs no CUDA",
        nvidia("451.82", (7, 5), system="windows", arch="AMD64"),
        offers(("cu118", "2.7.0"), ("cpu", None)),
        "cpu",
    ),
    # Windows 2.8 cu128 is built without sm_70, unlike Linux's.
    Case(
        "Windows V100 on 2.8",
        nvidia("576.02", (7, 0), system="windows", arch="AMD64"),
        offers(("cu128", "2.8.0"), ("cu126", "2.8.0"), ("cpu", None)),
        "cu126",
    ),
    Case(
        "Linux V100 on 2.8",
        nvidia("575.51.03", (7, 0)),
        offers(("cu128", "2.8.0"), ("cu126", "2.8.0"), ("cpu", None)),
        "cu128",
    ),
    # Linux aarch64 (sbsa) wheels are narrower: 2.9 cu126 has only 8.0 and 9.0.
    Case(
        "aarch64 T4 on 2.9 cu126",
        nvidia("575.51.03", (7, 5), arch="aarch64"),
        offers(("cu126", "2.9.0"), ("cpu", None)),
        "cpu",
    ),
    Case(
        "aarch64 GH200 on 2.9 cu126",
        nvidia("575.51.03", (9, 0), arch="aarch64"),
        offers(("cu126", "2.9.0"), ("cpu", None)),
        "cu126",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_choose(case: Case) -> None:
    given = [(b(name), None if version is None else V(version)) for name, version in case.offers]
    chosen = choose(case.machine, given)
    assert (chosen.name if chosen else None) == case.expected


def names(backends: tuple[Backend, ...]) -> list[str]:
    return [backend.name for backend in backends]


def test_runnable_cuda_newest_first_then_cpu() -> None:
    assert names(runnable(nvidia("525.60.13"))) == [
        "cu129",
        "cu128",
        "cu126",
        "cu124",
        "cu121",
        "cu118",
        "cu117",
        "cpu",
    ]
    assert names(runnable(nvidia("580.65.06")))[:3] == ["cu132", "cu130", "cu129"]
    assert names(runnable(nvidia("470.82.01"))) == ["cu118", "cu117", "cpu"]
    assert names(runnable(nvidia("418.39"))) == ["cpu"]
    assert names(runnable(nvidia("527.56", system="windows"))) == ["cu118", "cu117", "cpu"]


def test_runnable_other_families() -> None:
    rocm = names(runnable(amd("gfx90a")))
    assert rocm[0] == "rocm7.2" and rocm[-1] == "cpu"
    assert rocm == [*sorted(rocm[:-1], key=lambda n: b(n).version, reverse=True), "cpu"]
    # gfx1151 (Strix Halo) is served only from ROCm 7.2 in uv's table.
    assert names(runnable(amd("gfx1151"))) == ["rocm7.2", "cpu"]
    assert names(runnable(amd("gfx803"))) == ["cpu"]
    assert names(runnable(Machine("windows", "AMD64", amd_gfx=("gfx1100",)))) == ["cpu"]
    assert names(runnable(Machine("linux", "x86_64", intel_xpu=True))) == ["xpu", "cpu"]
    assert names(runnable(Machine("macos", "arm64", intel_xpu=True))) == ["cpu"]
    assert names(runnable(Machine("linux", "x86_64"))) == ["cpu"]


@pytest.mark.parametrize(
    ("machine", "backend", "version", "reason"),
    [
        (
            Machine(
                "linux",
                "x86_64",
                nvidia_driver=V("575.51.03"),
                compute_capabilities=((6, 1),),
                gpu_names=("NVIDIA GeForce GTX 1080",),
            ),
            "cu128",
            "2.7.0",
            "torch 2.7.0+cu128 has no kernels for compute capability 6.1 (GTX 1080); "
            "it is built for 7.5, 8.0, 8.6, 9.0, 10.0, 12.0",
        ),
        (
            nvidia("575.51.03", (7, 0)),
            "cu128",
            "2.7.0+cu128",
            "torch 2.7.0+cu128 has no kernels for compute capability 7.0; "
            "it is built for 7.5, 8.0, 8.6, 9.0, 10.0, 12.0",
        ),
        (
            nvidia("470.82.01", (7, 5)),
            "cu126",
            None,
            "driver 470.82.01 runs CUDA up to 11.x; cu126 needs ≥ 525.60.13",
        ),
        (
            nvidia("575.51.03", (8, 6)),
            "cu130",
            None,
            "driver 575.51.03 runs CUDA up to 12.x; cu130 needs ≥ 580",
        ),
        (
            nvidia("418.39"),
            "cu118",
            None,
            "driver 418.39 runs no CUDA build of torch; cu118 needs ≥ 450.80.02",
        ),
        (Machine("linux", "x86_64"), "cu126", None, "no NVIDIA GPU detected"),
        (Machine("linux", "x86_64"), "rocm6.3", None, "no AMD GPU detected"),
        (Machine("linux", "x86_64"), "xpu", None, "no Intel GPU detected"),
        (
            Machine("macos", "arm64"),
            "cu126",
            None,
            "CUDA builds of torch exist only for Linux and Windows",
        ),
        (
            Machine("windows", "AMD64", amd_gfx=("gfx1100",)),
            "rocm6.3",
            None,
            "ROCm builds of torch exist only for Linux",
        ),
        (
            amd("gfx803"),
            "rocm6.3",
            "2.7.0",
            "torch 2.7.0+rocm6.3 has no kernels for gfx803; it is built for gfx900, gfx906, "
            "gfx908, gfx90a, gfx942, gfx1030, gfx1100, gfx1101, gfx1102, gfx1200, gfx1201",
        ),
        (
            amd("gfx1151"),
            "rocm7.1",
            None,
            "rocm7.1 has no kernels for gfx1151; it is built for "
            "gfx900, gfx906, gfx908, gfx90a, gfx942, gfx950, gfx1030, gfx1100, gfx1101, gfx1102, "
            "gfx1200, gfx1201",
        ),
        (
            Machine("linux", "x86_64", nvidia_driver=V("575.51.03"), forced_none=True),
            "cu126",
            None,
            "accelerators are turned off (KILN_ACCELERATOR=none)",
        ),
    ],
)
def test_reasons(machine: Machine, backend: str, version: str | None, reason: str) -> None:
    fit = fits(machine, b(backend), None if version is None else V(version))
    assert not fit.ok
    assert fit.reason == reason


def test_fit_ok_has_no_reason() -> None:
    fit = fits(nvidia("575.51.03", (8, 6)), b("cu128"), V("2.7.0"))
    assert fit.ok and fit.reason == ""
    assert fits(Machine("macos", "arm64"), CPU, V("2.7.0")).ok


def test_ptx_only_needs_the_toolkits_own_driver() -> None:
    # 2.6 cu126 (Linux) has SASS up to 9.0 plus 9.0 PTX: a 12.0 GPU runs only the PTX,
    # which a driver older than CUDA 12.6's own (560.28.03) cannot compile.
    old = fits(nvidia("555.42.02", (12, 0)), b("cu126"), V("2.6.0"))
    assert not old.ok
    assert old.reason == (
        "torch 2.6.0+cu126 runs on compute capability 12.0 only by compiling its PTX, "
        "which needs driver ≥ 560.28.03; this one is 555.42.02"
    )
    assert fits(nvidia("570.86.15", (12, 0)), b("cu126"), V("2.6.0")).ok
    # 2.7 cu126 carries no PTX at all.
    assert not fits(nvidia("570.86.15", (12, 0)), b("cu126"), V("2.7.0")).ok
