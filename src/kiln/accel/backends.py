"""Torch backends: the variants of the PyTorch index (`cpu`, `cu126`, `rocm6.2.4`, `xpu`).

The list of variants comes from `data/variants.json`; `parse_backend` turns what a user typed
(`--torch-backend cu126`) into one of them, and `TORCH_FAMILY` names the packages that the
PyTorch index serves, which are the only packages a backend choice redirects.
"""

from __future__ import annotations

from typing import Final, Literal

from packaging.utils import NormalizedName, canonicalize_name

from kiln.accel import tables
from kiln.accel.defaults import DEFAULT_TORCH_INDEX_URL as DEFAULT_TORCH_INDEX_URL
from kiln.core.errors import UsageError
from kiln.core.records import record

BackendKind = Literal["cpu", "cuda", "rocm", "xpu"]


AUTO: Final = "auto"


@record
class Backend:
    """One PyTorch build variant and the index folder that serves it."""

    name: str  # the index path segment: "cpu", "cu126", "rocm6.2.4", "xpu"
    kind: BackendKind
    version: tuple[int, ...]  # CUDA (12, 6), ROCm (6, 2, 4); () for cpu and xpu

    def index_url(self, base: str) -> str:
        return f"{base.rstrip('/')}/{self.name}/"

    def __str__(self) -> str:
        return self.name


def _cuda(name: str) -> Backend:
    # "cu126" is CUDA 12.6: the last digit is the minor version (uv reads it the same way).
    digits = name[2:]
    return Backend(name, "cuda", (int(digits[:-1]), int(digits[-1])))


def _rocm(name: str) -> Backend:
    return Backend(name, "rocm", tuple(int(part) for part in name[4:].split(".")))


CPU = Backend("cpu", "cpu", ())
XPU = Backend("xpu", "xpu", ())

KNOWN_BACKENDS: tuple[Backend, ...] = (
    CPU,
    *sorted((_cuda(name) for name in tables.cuda_names()), key=lambda b: b.version),
    *sorted((_rocm(name) for name in tables.rocm_names()), key=lambda b: b.version),
    XPU,
)

_BY_NAME = {backend.name: backend for backend in KNOWN_BACKENDS}

# Packages served from the PyTorch index, as uv's `TorchStrategy::applies_to` lists them for
# that index, plus names earlier uv releases listed and torchdata/executorch, which the index
# also carries; everything else keeps resolving from the user's own indexes.
TORCH_FAMILY: frozenset[NormalizedName] = frozenset(
    canonicalize_name(name)
    for name in (
        "executorch",
        "fbgemm-gpu",
        "fbgemm-gpu-genai",
        "pytorch-triton",
        "pytorch-triton-rocm",
        "pytorch-triton-xpu",
        "torch",
        "torch-model-archiver",
        "torch-tb-profiler",
        "torch-tensorrt",
        "torchao",
        "torcharrow",
        "torchaudio",
        "torchcodec",
        "torchcsprng",
        "torchdata",
        "torchdistx",
        "torchrec",
        "torchserve",
        "torchtext",
        "torchtune",
        "torchvision",
        "triton",
        "triton-rocm",
        "triton-xpu",
        "xformers",
    )
)


def valid_names() -> tuple[str, ...]:
    """What `--torch-backend` accepts, in the order error messages list it."""
    return (AUTO, *(backend.name for backend in KNOWN_BACKENDS))


def parse_backend(text: str) -> Backend:
    """A known backend by name (case and surrounding space ignored).

    `auto` is a valid user choice but not a backend: callers that accept it use
    `parse_backend_or_auto`.
    """
    choice = parse_backend_or_auto(text)
    if isinstance(choice, Backend):
        return choice
    raise UsageError(
        "torch backend `auto` needs this machine's accelerator; name a backend here",
        hint=f"valid: {', '.join(valid_names()[1:])}",
    )


def parse_backend_or_auto(text: str) -> Backend | Literal["auto"]:
    """`auto`, or a known backend; anything else is a usage error listing the valid values."""
    key = text.strip().lower()
    if key == AUTO:
        return AUTO
    backend = _BY_NAME.get(key)
    if backend is None:
        raise UsageError(
            f"unknown torch backend `{text.strip()}`; valid: {', '.join(valid_names())}"
        )
    return backend


def backend_named(name: str) -> Backend | None:
    """The known backend with exactly this index name, or None (for lock and URL readers)."""
    return _BY_NAME.get(name)
