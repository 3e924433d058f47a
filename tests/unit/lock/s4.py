"""A lock shaped like seed S4 (torch per extra: `cpu` or `cu124`), and machines to select for.

Built by hand so the selection tests pin exact builds without a resolver: the environments
are what CPython 3.12 (or 3.13) reports on each platform, with tags from `packaging.tags`.
"""

from __future__ import annotations

from datetime import datetime, timezone

from packaging import tags
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.core.environment import Environment
from kiln.lock.model import Lock, LockedDependency, LockedFile, LockedPackage

PYPI = "https://pypi.org/simple"
CPU = "https://download.pytorch.org/whl/cpu"
CU124 = "https://download.pytorch.org/whl/cu124"
UPLOADED = datetime(2024, 10, 29, 17, 0, 0, 123000, tzinfo=timezone.utc)

TORCH_PYPI = Marker("'cpu' not in extras and ('cu124' not in extras or sys_platform != 'linux')")
TORCH_CPU = Marker("'cpu' in extras")
TORCH_CU124 = Marker("'cu124' in extras and sys_platform == 'linux'")
NVIDIA = Marker("'cu124' in extras and sys_platform == 'linux' and platform_machine == 'x86_64'")


def file(filename: str, index: str, digit: str = "a") -> LockedFile:
    host = "https://files.pythonhosted.org/packages" if index == PYPI else index
    return LockedFile(
        name=filename,
        url=f"{host}/{filename.replace('+', '%2B')}",
        size=1000 + len(filename),
        upload_time=UPLOADED,
        hashes={"sha256": digit * 64},
    )


def package(
    name: str,
    version: str,
    marker: Marker | None,
    index: str,
    wheel_tags: list[str],
    *,
    deps: tuple[LockedDependency, ...] = (),
    sdist: bool = False,
) -> LockedPackage:
    stem = f"{name.replace('-', '_')}-{version}"
    return LockedPackage(
        name=canonicalize_name(name),
        version=Version(version),
        marker=marker,
        index=index,
        requires_python=SpecifierSet(">=3.9"),
        wheels=tuple(file(f"{stem}-{t}.whl", index) for t in wheel_tags),
        sdist=file(f"{stem}.tar.gz", index, "b") if sdist else None,
        dependencies=deps,
    )


def torch_wheels(platforms: list[str], *, abi: bool = True) -> list[str]:
    return [f"cp{v}-{f'cp{v}' if abi else 'none'}-{p}" for v in ("312", "313") for p in platforms]


def s4_lock() -> Lock:
    filelock = LockedDependency(canonicalize_name("filelock"))
    cuda_deps = (
        filelock,
        LockedDependency(canonicalize_name("nvidia-cublas-cu12"), NVIDIA),
        LockedDependency(canonicalize_name("nvidia-cudnn-cu12"), NVIDIA),
    )
    packages = (
        package("filelock", "3.16.1", None, PYPI, ["py3-none-any"], sdist=True),
        package(
            "torch",
            "2.5.1",
            TORCH_PYPI,
            PYPI,
            [
                *torch_wheels(["manylinux1_x86_64", "manylinux2014_aarch64", "win_amd64"]),
                *torch_wheels(["macosx_11_0_arm64"], abi=False),
            ],
            deps=(filelock,),
        ),
        package(
            "torch",
            "2.5.1+cpu",
            TORCH_CPU,
            CPU,
            torch_wheels(["linux_x86_64", "win_amd64"]),
            deps=(filelock,),
        ),
        package(
            "torch",
            "2.5.1+cu124",
            TORCH_CU124,
            CU124,
            torch_wheels(["linux_x86_64"]),
            deps=cuda_deps,
        ),
        package(
            "nvidia-cublas-cu12",
            "12.4.5.8",
            NVIDIA,
            PYPI,
            ["py3-none-manylinux2014_x86_64", "py3-none-win_amd64"],
        ),
        package("nvidia-cudnn-cu12", "9.1.0.70", NVIDIA, PYPI, ["py3-none-manylinux2014_x86_64"]),
        package("pytest", "8.3.3", Marker("'dev' in dependency_groups"), PYPI, ["py3-none-any"]),
    )
    return Lock(
        requires_python=SpecifierSet(">=3.12"),
        environments=(
            Marker("sys_platform == 'linux'"),
            Marker("sys_platform == 'darwin'"),
            Marker("sys_platform == 'win32'"),
        ),
        extras=("cpu", "cu124"),
        dependency_groups=("dev",),
        default_groups=("dev",),
        packages=packages,
        fingerprint="0" * 64,
    )


def machine(
    sys_platform: str,
    system: str,
    machine: str,
    os_name: str,
    platforms: list[str],
    python: tuple[int, int] = (3, 12),
) -> Environment:
    version = f"{python[0]}.{python[1]}"
    markers = {
        "implementation_name": "cpython",
        "implementation_version": f"{version}.4",
        "os_name": os_name,
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": system,
        "platform_version": "",
        "python_full_version": f"{version}.4",
        "python_version": version,
        "sys_platform": sys_platform,
    }
    interpreter = f"cp{python[0]}{python[1]}"
    found = [
        *tags.cpython_tags(python, [interpreter], platforms),
        *tags.compatible_tags(python, interpreter, platforms),
    ]
    return Environment(markers, tuple(dict.fromkeys(found)))


def _manylinux(arch: str) -> list[str]:
    out = []
    for minor in range(28, 4, -1):
        out.append(f"manylinux_2_{minor}_{arch}")
        if minor == 17:
            out.append(f"manylinux2014_{arch}")
        if minor == 5:
            out.append(f"manylinux1_{arch}")
    return [*out, f"linux_{arch}"]


def linux_x86_64(python: tuple[int, int] = (3, 12)) -> Environment:
    return machine("linux", "Linux", "x86_64", "posix", _manylinux("x86_64"), python)


def linux_aarch64(python: tuple[int, int] = (3, 12)) -> Environment:
    return machine("linux", "Linux", "aarch64", "posix", _manylinux("aarch64"), python)


def macos_arm64(python: tuple[int, int] = (3, 12)) -> Environment:
    platforms = list(tags.mac_platforms((14, 0), "arm64"))
    return machine("darwin", "Darwin", "arm64", "posix", platforms, python)


def windows_amd64(python: tuple[int, int] = (3, 12)) -> Environment:
    return machine("win32", "Windows", "AMD64", "nt", ["win_amd64"], python)
