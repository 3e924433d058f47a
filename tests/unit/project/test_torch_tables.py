from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from kiln.accel.backends import parse_backend
from kiln.project.pyproject import parse_pyproject
from kiln.project.toml_layout import PyprojectEditError
from kiln.project.torch_tables import (
    TorchSource,
    platform_sources,
    write_torch_tables,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

BASE = "https://download.pytorch.org/whl"
NOT_MAC = "sys_platform != 'darwin'"
LINUX = "sys_platform == 'linux'"
WINDOWS = "sys_platform == 'win32'"

PROJECT = """\
# The demo project.
[project]
name = "demo"   # on PyPI
version = "0.1.0"
requires-python = ">=3.12"
dependencies = [
    "numpy>=2",  # arrays
    "torch>=2.5.1",
    "torchvision>=0.20.1",
]

# Settings for uv.
[tool.uv]
dev-dependencies = []
"""


def write(text: str, backends: str, mode: str = "platform", **kw: Any) -> str:
    parsed = [parse_backend(b) for b in backends.split(",")]
    return write_torch_tables(text, parsed, mode=mode, base_url=BASE, **kw).text  # type: ignore[arg-type]


def load(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def sources(text: str, package: str = "torch") -> list[dict[str, str]]:
    return load(text)["tool"]["uv"]["sources"][package]  # type: ignore[no-any-return]


def indexes(text: str) -> list[dict[str, Any]]:
    return load(text)["tool"]["uv"]["index"]  # type: ignore[no-any-return]


def test_one_cpu_backend_serves_every_platform_but_macos() -> None:
    text = write(PROJECT, "cpu")
    assert indexes(text) == [
        {"name": "pytorch-cpu", "url": f"{BASE}/cpu", "explicit": True},
    ]
    for package in ("torch", "torchvision"):
        assert sources(text, package) == [{"index": "pytorch-cpu", "marker": NOT_MAC}]


def test_one_cuda_backend_is_the_guides_s2_shape() -> None:
    text = write(PROJECT, "cu124")
    assert sources(text) == [{"index": "pytorch-cu124", "marker": NOT_MAC}]
    assert indexes(text)[0]["url"] == f"{BASE}/cu124"


def test_rocm_alone_serves_linux_only() -> None:
    assert sources(write(PROJECT, "rocm6.2")) == [{"index": "pytorch-rocm6.2", "marker": LINUX}]


def test_cpu_and_cuda_split_windows_and_linux_as_the_guides_s3() -> None:
    text = write(PROJECT, "cpu,cu124")
    expected = [
        {"index": "pytorch-cpu", "marker": WINDOWS},
        {"index": "pytorch-cu124", "marker": LINUX},
    ]
    assert sources(text, "torch") == expected
    assert sources(text, "torchvision") == expected
    assert [i["name"] for i in indexes(text)] == ["pytorch-cpu", "pytorch-cu124"]
    # numpy keeps resolving from the default index: it gets no source.
    assert "numpy" not in load(text)["tool"]["uv"]["sources"]
    assert load(text)["project"]["dependencies"] == [
        "numpy>=2",
        "torch>=2.5.1",
        "torchvision>=0.20.1",
    ]


def test_the_written_file_reads_as_a_valid_project() -> None:
    for backends, mode in (("cpu,cu124", "platform"), ("cpu,cu124,rocm6.2", "extras")):
        text = write(PROJECT, backends, mode)
        project = parse_pyproject(load(text), Path("pyproject.toml"))
        assert project.uv.sources["torch"][0].index == "pytorch-cpu"
        assert not project.warnings


def test_two_accelerators_cannot_share_linux_by_platform() -> None:
    with pytest.raises(PyprojectEditError) as caught:
        write(PROJECT, "cu124,rocm6.2")
    assert "`cu124` and `rocm6.2` both build for Linux" in caught.value.message
    assert caught.value.hint is not None and "--mode extras" in caught.value.hint


def test_platform_markers_are_disjoint() -> None:
    markers = [s.marker for s in platform_sources([parse_backend("cpu"), parse_backend("xpu")])]
    assert markers == [WINDOWS, LINUX]


def test_extras_mode_is_the_guides_s4_shape() -> None:
    text = write(PROJECT, "cpu,cu124", "extras")
    data = load(text)
    assert data["project"]["dependencies"] == ["numpy>=2"]
    assert data["project"]["optional-dependencies"] == {
        "cpu": ["torch>=2.5.1", "torchvision>=0.20.1"],
        "cu124": ["torch>=2.5.1", "torchvision>=0.20.1"],
    }
    assert data["tool"]["uv"]["conflicts"] == [[{"extra": "cpu"}, {"extra": "cu124"}]]
    assert sources(text) == [
        {"index": "pytorch-cpu", "extra": "cpu", "marker": NOT_MAC},
        {"index": "pytorch-cu124", "extra": "cu124", "marker": NOT_MAC},
    ]
    assert data["tool"]["uv"]["dev-dependencies"] == []


def test_extras_mode_lets_accelerators_of_one_platform_live_side_by_side() -> None:
    text = write(PROJECT, "cu124,rocm6.2", "extras")
    assert sources(text) == [
        {"index": "pytorch-cu124", "extra": "cu124", "marker": NOT_MAC},
        {"index": "pytorch-rocm6.2", "extra": "rocm6.2", "marker": LINUX},
    ]


def test_layout_and_comments_are_kept() -> None:
    for backends, mode in (("cpu,cu124", "platform"), ("cpu,cu124", "extras")):
        text = write(PROJECT, backends, mode)
        for kept in (
            "# The demo project.\n",
            'name = "demo"   # on PyPI\n',
            '    "numpy>=2",  # arrays\n',
            "# Settings for uv.\n[tool.uv]\ndev-dependencies = []\n",
        ):
            assert kept in text, (mode, kept)
    platform = write(PROJECT, "cpu,cu124")
    assert platform.startswith(PROJECT + "\n[[tool.uv.index]]\n")


def test_extras_go_below_the_project_table_and_its_trailing_comment_stays_with_tool_uv() -> None:
    text = write(PROJECT, "cpu,cu124", "extras")
    assert "]\n\n[project.optional-dependencies]\ncpu = [\n" in text
    assert text.index("[project.optional-dependencies]") < text.index("# Settings for uv.")


def test_existing_sources_are_not_replaced_without_force() -> None:
    first = write(PROJECT, "cpu")
    with pytest.raises(PyprojectEditError) as caught:
        write(first, "cpu,cu124")
    message = caught.value.message
    assert "index `pytorch-cpu`" in message
    assert "`tool.uv.sources.torch`" in message and "`tool.uv.sources.torchvision`" in message
    assert caught.value.hint == "pass `--force` to replace them"


def test_force_replaces_sources_and_indexes_in_place() -> None:
    first = write(PROJECT, "cpu")
    result = write_torch_tables(
        first,
        [parse_backend("cpu"), parse_backend("cu124")],
        mode="platform",
        base_url="http://mirror/whl/",
        force=True,
    )
    assert sources(result.text) == [
        {"index": "pytorch-cpu", "marker": WINDOWS},
        {"index": "pytorch-cu124", "marker": LINUX},
    ]
    assert [(i["name"], i["url"]) for i in indexes(result.text)] == [
        ("pytorch-cpu", "http://mirror/whl/cpu"),
        ("pytorch-cu124", "http://mirror/whl/cu124"),
    ]
    assert result.replaced == (
        "index `pytorch-cpu`",
        "`tool.uv.sources.torch`",
        "`tool.uv.sources.torchvision`",
    )


def test_existing_extras_are_refused_then_replaced_with_force() -> None:
    first = write(PROJECT, "cpu,cu124", "extras")
    with pytest.raises(PyprojectEditError) as caught:
        write(first, "cpu,cu124", "extras")
    assert "extra `cpu`" in caught.value.message
    again = write(first, "cpu,cu124,rocm6.2", "extras", force=True)
    data = load(again)
    # The family requirements are found again in the extras the first run wrote.
    assert data["project"]["optional-dependencies"]["rocm6.2"] == [
        "torch>=2.5.1",
        "torchvision>=0.20.1",
    ]
    assert data["tool"]["uv"]["conflicts"] == [
        [{"extra": "cpu"}, {"extra": "cu124"}, {"extra": "rocm6.2"}]
    ]


def test_other_sources_and_indexes_are_left_alone() -> None:
    text = PROJECT + (
        '\n[tool.uv.sources]\nnumpy = { index = "mine" }\n\n'
        '[[tool.uv.index]]\nname = "mine"\nurl = "http://mine/simple"\n'
    )
    out = write(text, "cu124")
    assert load(out)["tool"]["uv"]["sources"]["numpy"] == {"index": "mine"}
    assert [i["name"] for i in indexes(out)] == ["mine", "pytorch-cu124"]


def test_a_project_without_torch_is_refused() -> None:
    text = '[project]\nname = "p"\nversion = "0"\ndependencies = ["numpy"]\n'
    with pytest.raises(PyprojectEditError) as caught:
        write(text, "cpu")
    assert caught.value.hint is not None and "kiln add torch" in caught.value.hint


def test_the_index_base_comes_from_the_caller_then_tool_kiln_then_the_default() -> None:
    cpu = [parse_backend("cpu")]
    configured = PROJECT + '\n[tool.kiln]\ntorch-index-url = "http://mirror/whl"\n'
    assert write_torch_tables(configured, cpu, mode="platform").indexes == (
        ("pytorch-cpu", "http://mirror/whl/cpu"),
    )
    given = write_torch_tables(configured, cpu, mode="platform", base_url="http://given/")
    assert given.indexes == (("pytorch-cpu", "http://given/cpu"),)
    assert write_torch_tables(PROJECT, cpu, mode="platform").base_url == BASE


def test_source_entries_keep_uvs_key_order() -> None:
    entry = TorchSource("pytorch-cpu", NOT_MAC, "cpu").as_dict()
    assert list(entry) == ["index", "extra", "marker"]


def test_new_entries_are_parted_from_an_existing_index_by_a_blank_line() -> None:
    text = (
        '[project]\nname = "p"\nversion = "0"\ndependencies = ["torch>=2.5.1"]\n\n'
        '[[tool.uv.index]]\nname = "pypi"\nurl = "http://pypi/simple"\ndefault = true\n'
    )
    assert write(text, "cpu,cu124", "extras") == (
        '[project]\nname = "p"\nversion = "0"\ndependencies = []\n\n'
        "[project.optional-dependencies]\n"
        'cpu = [\n  "torch>=2.5.1",\n]\n'
        'cu124 = [\n  "torch>=2.5.1",\n]\n\n'
        "[tool.uv]\n"
        'conflicts = [\n  [\n    { extra = "cpu" },\n    { extra = "cu124" },\n  ],\n]\n\n'
        '[[tool.uv.index]]\nname = "pypi"\nurl = "http://pypi/simple"\ndefault = true\n\n'
        f'[[tool.uv.index]]\nname = "pytorch-cpu"\nurl = "{BASE}/cpu"\nexplicit = true\n\n'
        f'[[tool.uv.index]]\nname = "pytorch-cu124"\nurl = "{BASE}/cu124"\nexplicit = true\n\n'
        "[tool.uv.sources]\n"
        "torch = [\n"
        f'    {{ index = "pytorch-cpu", extra = "cpu", marker = "{NOT_MAC}" }},\n'
        f'    {{ index = "pytorch-cu124", extra = "cu124", marker = "{NOT_MAC}" }},\n'
        "]\n"
    )
