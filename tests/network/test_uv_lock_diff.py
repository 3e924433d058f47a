"""kiln's universal lock against uv's on real PyPI, one case per project in lock_projects/.

Each project is pinned with `exclude-newer`, so both tools see the same PyPI on any day. For
every selection (default, each extra, each group) and every target (4 platforms x CPython
3.10-3.14), the set of (name, version) that kiln's lock installs must be the one uv's export
installs. Set KILN_UV_DIFF_REPORT=FILE to also get the differences as Markdown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.network.uv_lock_diff import (
    PROJECTS_DIR,
    ProjectInfo,
    Tools,
    find_interpreters,
    lock_and_compare,
    render,
    uv_command,
    write_report,
)
from tests.support.index_server import IndexServer
from tests.support.torch_world import cpu_packages, cu124_packages

pytestmark = pytest.mark.network

PYTORCH = "https://download.pytorch.org"
PROJECTS = sorted(p.name for p in PROJECTS_DIR.iterdir() if (p / "pyproject.toml").is_file())


@pytest.fixture(scope="session")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Tools:
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not installed (`pip install -e '.[dev]'` brings it)")
    interpreters = find_interpreters()
    if not interpreters:
        pytest.skip("no CPython interpreter found for uv to lock with")
    # One cache per session for each tool: the projects share most of their metadata.
    caches = tmp_path_factory.mktemp("lock-diff-caches")
    return Tools(uv, interpreters, caches / "uv", caches / "kiln")


@pytest.fixture(scope="session")
def torch_indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """Only the PyTorch indexes: the projects' default index stays the real PyPI."""
    server = IndexServer(tmp_path_factory.mktemp("torch-indexes"))
    for index, packages in (("whl/cpu", cpu_packages()), ("whl/cu124", cu124_packages())):
        server.set_layout(index, "pytorch")
        server.add(*packages, index=index)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("name", PROJECTS)
def test_kiln_lock_installs_what_uv_lock_installs(
    name: str, tools: Tools, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    text = (PROJECTS_DIR / name / "pyproject.toml").read_text()
    if PYTORCH in text:
        server: IndexServer = request.getfixturevalue("torch_indexes")
        text = text.replace(PYTORCH, server.url)
    info = ProjectInfo.read(text)
    if info.requires_python is not None and not any(
        info.requires_python.contains(version) for version, _ in tools.interpreters.values()
    ):
        pytest.skip(f"uv needs a CPython for requires-python {info.requires_python}")

    result = lock_and_compare(text, tmp_path, tools)
    write_report(result)

    assert result.ok, render(result)
