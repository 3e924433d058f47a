from __future__ import annotations

from typing import TypeVar

import pytest
from packaging.version import Version

from kiln.accel import tables
from kiln.accel.backends import KNOWN_BACKENDS

STATUSES = {"verified-from-source", "inferred"}

T = TypeVar("T")


def must(found: tables.Sourced[T] | None) -> tables.Sourced[T]:
    assert found is not None
    return found


def test_every_cuda_backend_has_driver_floors_for_both_oses() -> None:
    for backend in KNOWN_BACKENDS:
        if backend.kind != "cuda":
            continue
        for system in ("linux", "windows"):
            floor = tables.cuda_min_driver(backend.name, system)
            assert floor is not None, backend.name
            assert floor.status in STATUSES and floor.source
    cu126 = tables.cuda_min_driver("cu126", "linux")
    assert cu126 is not None and cu126.value == Version("525.60.13") and cu126.verified
    assert must(tables.cuda_min_driver("cu118", "windows")).value == Version("452.39")
    assert must(tables.cuda_min_driver("cu130", "linux")).value == Version("580")
    assert tables.cuda_min_driver("cu126", "macos") is None


def test_every_rocm_backend_has_gfx_targets() -> None:
    for backend in KNOWN_BACKENDS:
        if backend.kind == "rocm":
            gfx = tables.rocm_gfx(backend.name)
            assert gfx is not None and gfx.value, backend.name
            assert all(name.startswith("gfx") for name in gfx.value)
    # gfx942 (MI300) came with ROCm 6.0; the 5.7 index predates it.
    assert "gfx942" not in must(tables.rocm_gfx("rocm5.7")).value
    assert "gfx942" in must(tables.rocm_gfx("rocm6.0")).value
    assert tables.rocm_gfx("rocm9.9") is None


def test_arch_lists_are_per_release_and_keep_their_status() -> None:
    cu128 = tables.release_cuda_archs(Version("2.7.1"), "cu128", "linux_x86_64")
    assert cu128 is not None and cu128.verified
    assert cu128.value == ("7.5", "8.0", "8.6", "9.0", "10.0", "12.0+PTX")
    # The local label and patch level do not change the release.
    assert tables.release_cuda_archs(Version("2.7.0+cu128"), "cu128", "linux_x86_64") == cu128
    # 2.8 put sm_70 back into cu128.
    assert "7.0" in must(tables.release_cuda_archs(Version("2.8.0"), "cu128", "linux_x86_64")).value
    windows = tables.release_cuda_archs(Version("2.3.0"), "cu121", "windows")
    assert windows is not None and "6.1" in windows.value
    assert (
        must(tables.release_cuda_archs(Version("2.6.0"), "cu126", "linux_x86_64")).status
        == "inferred"
    )
    assert tables.release_cuda_archs(Version("2.7.0"), "cu121", "linux_x86_64") is None
    assert tables.release_cuda_archs(Version("3.0.0"), "cu126", "linux_x86_64") is None
    assert tables.release_cuda_archs(Version("2.7.0"), "cu128", "linux_aarch64") is None


def test_every_release_variant_has_linux_and_windows_arch_lists() -> None:
    data = tables._releases()
    assert "2.0" in data and "2.13" in data
    for release, entry in data.items():
        for variant in entry["cuda_variants"]:
            for platform in ("linux_x86_64", "windows"):
                listed = tables.release_cuda_archs(Version(release), variant, platform)
                assert listed is not None, (release, variant, platform)
                assert listed.status in STATUSES


def test_release_rocm_targets() -> None:
    rocm57 = tables.release_rocm_gfx(Version("2.3.0"), "rocm5.7")
    assert rocm57 is not None and "gfx942" not in rocm57.value
    assert "gfx942" in must(tables.release_rocm_gfx(Version("2.3.0"), "rocm6.0")).value
    assert tables.release_rocm_gfx(Version("2.13.0"), "rocm7.2") is None


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        ("NVIDIA GeForce GTX 1080", (6, 1)),
        ("NVIDIA GeForce GTX 1080 Ti", (6, 1)),
        ("Tesla V100-SXM2-16GB", (7, 0)),
        ("Tesla T4", (7, 5)),
        ("NVIDIA A100-SXM4-80GB", (8, 0)),
        ("NVIDIA A10", (8, 6)),
        ("NVIDIA A10G", (8, 6)),
        ("NVIDIA GeForce RTX 3090", (8, 6)),
        ("NVIDIA L4", (8, 9)),
        ("NVIDIA L40S", (8, 9)),
        ("NVIDIA H100 80GB HBM3", (9, 0)),
        ("NVIDIA H200", (9, 0)),
        ("NVIDIA GeForce RTX 5090", (12, 0)),
        ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", (12, 0)),
        ("NVIDIA GeForce GTX TITAN X", (5, 2)),
        ("NVIDIA TITAN Xp", (6, 1)),
        ("Quadro RTX 6000", (7, 5)),
        ("NVIDIA RTX 6000 Ada Generation", (8, 9)),
    ],
)
def test_gpu_names_map_to_compute_capability(name: str, cc: tuple[int, int]) -> None:
    found = tables.gpu_name_cc(name)
    assert found is not None, name
    assert found.value == cc


def test_gpu_name_table_marks_what_was_confirmed() -> None:
    assert must(tables.gpu_name_cc("NVIDIA GeForce GTX 1080 Ti")).verified
    assert not must(tables.gpu_name_cc("NVIDIA A100-SXM4-40GB")).verified
    assert tables.gpu_name_cc("Tesla K80") is None
    assert tables.gpu_name_cc("Some Other GPU") is None


def test_parse_cc() -> None:
    assert tables.parse_cc(" 8.6") == (8, 6)
    assert tables.parse_cc("10.0") == (10, 0)
    for bad in ("8", "8.x", "", "sm_86"):
        with pytest.raises(ValueError):
            tables.parse_cc(bad)
