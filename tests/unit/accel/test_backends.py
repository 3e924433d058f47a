from __future__ import annotations

import pytest

from kiln.accel.backends import (
    DEFAULT_TORCH_INDEX_URL,
    KNOWN_BACKENDS,
    TORCH_FAMILY,
    Backend,
    backend_named,
    parse_backend,
    parse_backend_or_auto,
)
from kiln.core.errors import UsageError


def names() -> list[str]:
    return [backend.name for backend in KNOWN_BACKENDS]


def test_known_backends_cover_every_published_variant() -> None:
    got = names()
    assert got[0] == "cpu" and got[-1] == "xpu"
    for name in ("cu117", "cu118", "cu121", "cu124", "cu126", "cu128", "cu129", "cu130", "cu132"):
        assert name in got
    for name in ("rocm5.3", "rocm5.4.2", "rocm6.1", "rocm6.2", "rocm6.2.4", "rocm7.2"):
        assert name in got
    # uv lists cu123/cu125, but no torch 2.x release was published for them.
    assert "cu125" not in got and "cu123" not in got
    assert len(set(got)) == len(got)


def test_backend_versions_and_kinds() -> None:
    assert backend_named("cu126") == Backend("cu126", "cuda", (12, 6))
    assert backend_named("cu132") == Backend("cu132", "cuda", (13, 2))
    assert backend_named("rocm6.2.4") == Backend("rocm6.2.4", "rocm", (6, 2, 4))
    assert backend_named("cpu") == Backend("cpu", "cpu", ())
    assert backend_named("xpu") == Backend("xpu", "xpu", ())
    assert backend_named("CU126") is None
    cuda = [b.version for b in KNOWN_BACKENDS if b.kind == "cuda"]
    assert cuda == sorted(cuda)


def test_index_url() -> None:
    cu126 = parse_backend("cu126")
    assert cu126.index_url(DEFAULT_TORCH_INDEX_URL) == "https://download.pytorch.org/whl/cu126/"
    assert cu126.index_url("https://mirror.example/whl/") == "https://mirror.example/whl/cu126/"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("cu126", "cu126"), ("  CU128 ", "cu128"), ("ROCm6.2.4", "rocm6.2.4"), ("CPU", "cpu")],
)
def test_parse_backend_accepts_known_names(text: str, expected: str) -> None:
    assert parse_backend(text).name == expected


@pytest.mark.parametrize("text", ["cu999", "cuda", "rocm6.2.5", "", "cu12.6"])
def test_parse_backend_rejects_unknown_in_one_line(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_backend(text)
    message = caught.value.render()
    assert "\n" not in message
    assert message.startswith(f"error: unknown torch backend `{text.strip()}`; valid: auto, cpu, ")
    for name in names():
        assert name in message


def test_auto_is_a_choice_not_a_backend() -> None:
    assert parse_backend_or_auto(" Auto ") == "auto"
    assert parse_backend_or_auto("cu118") == backend_named("cu118")
    with pytest.raises(UsageError, match="auto"):
        parse_backend("auto")


def test_torch_family_is_normalized_and_complete() -> None:
    for name in (
        "torch",
        "torchvision",
        "torchaudio",
        "triton",
        "pytorch-triton",
        "pytorch-triton-rocm",
        "pytorch-triton-xpu",
        "torchdata",
        "torchtext",
        "torchrec",
        "fbgemm-gpu",
        "executorch",
    ):
        assert name in TORCH_FAMILY
    assert "numpy" not in TORCH_FAMILY
    assert all(name == name.lower() and "_" not in name for name in TORCH_FAMILY)
