"""A miniature of PyPI and download.pytorch.org with torch 2.5.1 in its real packaging shapes.

What it reproduces: CUDA builds on PyPI for Linux x86_64 with `nvidia-*` dependencies behind
markers, CPU builds on macOS and Windows; local versions (`+cpu`, `+cu124`, `+rocm6.2`) on the
PyTorch indexes, where macOS gets plain-version CPU wheels (the CPU index has `2.5.1` for macOS
beside `2.5.1+cpu` for Linux and Windows, as download.pytorch.org does), compressed manylinux
tag sets; cp310 to cp313 wheels for torch 2.5.1 and 2.6.0 on PyPI; and a newer `jinja2` on the CPU
index that a client must not take when that index is explicit.
"""

from __future__ import annotations

from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg

TORCH = "2.5.1"
TORCHVISION = "0.20.1"
TORCHAUDIO = "2.5.1"
CUDA_RUNTIME = "12.4.127"
CUBLAS = "12.4.5.8"

LINUX_X86 = 'platform_system == "Linux" and platform_machine == "x86_64"'
NVIDIA_DEPS = [
    f"nvidia-cuda-runtime-cu12=={CUDA_RUNTIME}; {LINUX_X86}",
    f"nvidia-cublas-cu12=={CUBLAS}; {LINUX_X86}",
]
TORCH_COMMON_DEPS = [
    "filelock",
    "typing-extensions>=4.8.0",
    "networkx",
    "jinja2",
    "fsspec",
    'sympy==1.13.1; python_version >= "3.9"',
]

PYPI_PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_28_aarch64",
    "macosx_11_0_arm64",
    "win_amd64",
)
NUMPY_PLATFORMS = (
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "macosx_11_0_arm64",
    "win_amd64",
)
CPU_INDEX_PLATFORMS = (
    "linux_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "win_amd64",
)
CUDA_INDEX_PLATFORMS = ("linux_x86_64", "win_amd64")


def cpython_tags(pythons: tuple[str, ...], platforms: tuple[str, ...]) -> list[str]:
    """`cp312-cp312-<platform>` for every pair, as torch, numpy and pillow publish."""
    return [f"cp{py}-cp{py}-{plat}" for py in pythons for plat in platforms]


PY_310_312 = ("310", "311", "312")
PY_310_313 = ("310", "311", "312", "313")


def common_packages() -> list[Pkg]:
    """torch's pure and binary dependencies, as both PyPI and the PyTorch indexes carry them."""
    return [
        Pkg("filelock", "3.16.1", requires_python=">=3.8"),
        Pkg("typing_extensions", "4.12.2", requires_python=">=3.8"),
        Pkg("Jinja2", "3.1.4", requires_dist=["MarkupSafe>=2.0"], requires_python=">=3.7"),
        Pkg("MarkupSafe", "3.0.2", requires_python=">=3.9"),
        Pkg("networkx", "3.4.2", requires_python=">=3.10"),
        Pkg("fsspec", "2024.10.0", requires_python=">=3.8"),
        Pkg("sympy", "1.13.1", requires_dist=["mpmath<1.4,>=1.1.0"], requires_python=">=3.8"),
        Pkg("mpmath", "1.3.0"),
        Pkg(
            "numpy",
            "2.1.3",
            requires_python=">=3.10",
            tags=cpython_tags(PY_310_313, NUMPY_PLATFORMS),
        ),
        Pkg(
            "pillow",
            "11.0.0",
            requires_python=">=3.9",
            tags=cpython_tags(PY_310_313, NUMPY_PLATFORMS),
            files={"PIL/__init__.py": '__version__ = "11.0.0"\n'},
        ),
    ]


def nvidia_packages() -> list[Pkg]:
    return [
        Pkg(
            "nvidia-cuda-runtime-cu12",
            CUDA_RUNTIME,
            requires_python=">=3",
            tags=["py3-none-manylinux2014_x86_64"],
            files={"nvidia/cuda_runtime/__init__.py": ""},
        ),
        Pkg(
            "nvidia-cublas-cu12",
            CUBLAS,
            requires_python=">=3",
            tags=["py3-none-manylinux2014_x86_64"],
            files={"nvidia/cublas/__init__.py": ""},
        ),
    ]


def _torch(version: str, tags: list[str], extra_deps: list[str] | None = None) -> Pkg:
    return Pkg(
        "torch",
        version,
        requires_dist=[*TORCH_COMMON_DEPS, *(extra_deps or [])],
        requires_python=">=3.9.0",
        tags=tags,
        summary="Tensors and Dynamic neural networks in Python with strong GPU acceleration",
    )


def _vision_audio(
    local: str, tags: list[str], torch: str = TORCH, vision: str = TORCHVISION
) -> list[Pkg]:
    torch_pin = f"torch=={torch}{local}"
    return [
        Pkg(
            "torchvision",
            f"{vision}{local}",
            requires_dist=["numpy", torch_pin, "pillow!=8.3.*,>=5.3.0"],
            requires_python=">=3.9",
            tags=tags,
        ),
        Pkg(
            "torchaudio",
            f"{torch}{local}",
            requires_dist=[torch_pin],
            tags=tags,
        ),
    ]


def pypi_packages() -> list[Pkg]:
    pypi_tags_25 = cpython_tags(PY_310_313, PYPI_PLATFORMS)
    return [
        *common_packages(),
        *nvidia_packages(),
        _torch(TORCH, pypi_tags_25, NVIDIA_DEPS),
        _torch("2.6.0", cpython_tags(PY_310_313, PYPI_PLATFORMS), NVIDIA_DEPS),
        *_vision_audio("", pypi_tags_25),
    ]


def cpu_packages() -> list[Pkg]:
    tags = cpython_tags(PY_310_313, CPU_INDEX_PLATFORMS)
    mac = [f"cp{py}-none-macosx_11_0_arm64" for py in PY_310_313]
    return [
        *common_packages(),
        # Newer than PyPI's: proves an explicit index is consulted only for what it sources.
        Pkg("Jinja2", "3.1.99", requires_dist=["MarkupSafe>=2.0"], requires_python=">=3.7"),
        _torch(f"{TORCH}+cpu", tags),
        *_vision_audio("+cpu", tags),
        # macOS builds are CPU builds without a local version, on the CPU index too.
        _torch(TORCH, mac),
        *_vision_audio("", mac),
    ]


def cu124_packages() -> list[Pkg]:
    tags = cpython_tags(PY_310_313, CUDA_INDEX_PLATFORMS)
    return [
        *common_packages(),
        *nvidia_packages(),
        _torch(f"{TORCH}+cu124", tags, NVIDIA_DEPS),
        *_vision_audio("+cu124", tags),
    ]


def rocm_packages() -> list[Pkg]:
    tags = cpython_tags(PY_310_312, ("linux_x86_64",))
    return [
        *common_packages(),
        Pkg(
            "pytorch-triton-rocm",
            "3.1.0",
            tags=tags,
            files={"pytorch_triton_rocm/__init__.py": ""},
        ),
        _torch(f"{TORCH}+rocm6.2", tags, [f"pytorch-triton-rocm==3.1.0; {LINUX_X86}"]),
        *_vision_audio("+rocm6.2", tags),
    ]


# Newer CUDA variants, for choosing by driver and GPU: torch 2.7.0's cu128 build has no
# kernels for compute capability 6.1 or 7.0, its cu126 build has; cu118 serves old drivers.
TORCH_27 = "2.7.0"
TORCHVISION_22 = "0.22.0"


def cuda_variant_packages(variant: str) -> list[Pkg]:
    tags = cpython_tags(PY_310_313, CUDA_INDEX_PLATFORMS)
    local = f"+{variant}"
    torch, vision = (TORCH, TORCHVISION) if variant == "cu118" else (TORCH_27, TORCHVISION_22)
    return [
        *common_packages(),
        *nvidia_packages(),
        _torch(f"{torch}{local}", tags, NVIDIA_DEPS),
        *_vision_audio(local, tags, torch, vision),
    ]


CUDA_VARIANTS = ("cu118", "cu126", "cu128")
TORCH_INDEXES = ("whl/cpu", "whl/cu124", "whl/rocm6.2", *(f"whl/{v}" for v in CUDA_VARIANTS))


def add_torch_world(server: IndexServer) -> None:
    """Register PyPI (`pypi`) and the `whl/…` indexes of `TORCH_INDEXES`."""
    server.add(*pypi_packages(), index="pypi")
    for index in TORCH_INDEXES:
        server.set_layout(index, "pytorch")
    server.add(*cpu_packages(), index="whl/cpu")
    server.add(*cu124_packages(), index="whl/cu124")
    server.add(*rocm_packages(), index="whl/rocm6.2")
    for variant in CUDA_VARIANTS:
        server.add(*cuda_variant_packages(variant), index=f"whl/{variant}")
