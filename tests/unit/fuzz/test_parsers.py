"""Random and damaged input to every parser that reads what users and indexes write: each
answers with a value or one of kiln's own errors (a clear message), never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from packaging.markers import InvalidMarker, Marker

from kiln.core import markers as algebra
from kiln.core.errors import KilnError
from kiln.core.metadata import CoreMetadata
from kiln.index.pages import parse_page
from kiln.lock.pylock_toml import dump_lock, load_lock
from kiln.net.client import Response
from kiln.project.pyproject import load_pyproject, parse_pyproject
from kiln.project.requirements_txt import parse_requirement_text, read_requirements
from tests.unit.fuzz.strategies import damaged, fuzz_settings, toml_values
from tests.unit.lock.s4 import s4_lock

PAGES = Path(__file__).parent.parent / "index" / "pages"
PYPROJECT = """\
[project]
name = "demo"
version = "0.1"
requires-python = ">=3.9"
dependencies = ["numpy>=1.26; python_version >= '3.10'", "torch[opt]==2.5.1", "requests"]

[project.optional-dependencies]
cpu = ["torch"]
cu124 = ["torch"]

[dependency-groups]
dev = ["pytest>=8", { include-group = "lint" }]
lint = ["ruff"]

[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "cu124" }]]
environments = ["sys_platform == 'linux'"]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu124", extra = "cu124", marker = "sys_platform == 'linux'" },
]

[[tool.uv.index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu124"
url = "https://download.pytorch.org/whl/cu124"
explicit = true
"""
PYPROJECT_KEYS = [
    "project", "name", "version", "requires-python", "dependencies", "optional-dependencies",
    "dependency-groups", "include-group", "tool", "uv", "kiln", "sources", "index", "url",
    "explicit", "default", "marker", "extra", "group", "conflicts", "environments",
    "required-environments", "default-groups", "dev-dependencies", "index-strategy",
    "exclude-newer", "torch-backend", "cpu", "dev", "torch", "git", "path", "workspace",
    "editable", "package", "override-dependencies", "constraint-dependencies", "members",
]  # fmt: skip
METADATA = (
    "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Python: >=3.9\n"
    "Requires-Dist: numpy>=1.26; python_version >= '3.10'\nRequires-Dist: rich[jupyter]\n"
    "Provides-Extra: cpu\nRequires-Dist: torch; extra == 'cpu'\nSummary: a demo\n\nBody text\n"
)
MARKER_PARTS = st.sampled_from(
    [
        "python_version", "python_full_version", "sys_platform", "platform_machine",
        "platform_system", "os_name", "implementation_name", "extra", "platform_release",
        "'3.9'", "'3.10.1'", "'linux'", "'win32'", "'x86_64'", "'cpu'", "'1.0.0a1'", "'*'",
        "'3.*'", "'abc'", "''", "==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in",
        "and", "or", "(", ")",
    ]
)  # fmt: skip


def _expect_kiln_error(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except KilnError as exc:
        assert str(exc)  # a message to show


@fuzz_settings
@given(st.one_of(st.text(max_size=80), damaged("torch[cpu,opt]>=2.5,<3; python_version >= '3.10'")))
def test_requirement_strings(text: str) -> None:
    if text.strip().endswith(".whl"):
        return  # a path: looked up on disk, covered by the requirements-file tests
    _expect_kiln_error(parse_requirement_text, text, "fuzz:1")


@fuzz_settings
@given(
    st.one_of(
        st.text(max_size=200),
        damaged("-i https://example.invalid/simple\nnumpy==2.0 --hash=sha256:abc\n-r other.txt\n"),
    )
)
def test_requirements_files(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requirements.txt"
        path.write_text(text.replace("\x00", ""), encoding="utf-8", errors="replace")
        _expect_kiln_error(read_requirements, path)


@fuzz_settings
@given(st.lists(MARKER_PARTS, min_size=1, max_size=12).map(" ".join))
def test_markers_through_the_algebra(text: str) -> None:
    try:
        marker = Marker(text)
    except InvalidMarker:
        return  # packaging refuses it before kiln sees it; kiln reports that as its own error
    env = {"python_version": "3.12", "python_full_version": "3.12.1", "sys_platform": "linux",
           "platform_machine": "x86_64", "platform_system": "Linux", "os_name": "posix",
           "implementation_name": "cpython", "platform_release": "6.0",
           "platform_python_implementation": "CPython", "implementation_version": "3.12.1",
           "platform_version": "", "extra": ""}  # fmt: skip
    for operation in (
        lambda: algebra.simplify(marker),
        lambda: algebra.complement(marker),
        lambda: algebra.intersect(marker, Marker("sys_platform == 'linux'")),
        lambda: algebra.union(marker, Marker("python_version < '3.10'")),
        lambda: algebra.is_empty(marker),
        lambda: algebra.python_floor(marker),
        lambda: algebra.assume_extra(marker, "cpu"),
        lambda: algebra.evaluate(marker, env, extras=frozenset({"cpu"})),
    ):
        _expect_kiln_error(operation)


@fuzz_settings
@given(st.one_of(st.text(max_size=300), damaged(PYPROJECT)))
def test_pyproject_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pyproject.toml"
        path.write_text(text, encoding="utf-8", errors="replace")
        _expect_kiln_error(load_pyproject, path)


@fuzz_settings
@given(toml_values(PYPROJECT_KEYS).filter(lambda v: isinstance(v, dict)))
def test_pyproject_tables_of_the_wrong_types(data: dict[str, Any]) -> None:
    _expect_kiln_error(parse_pyproject, data, Path("pyproject.toml"))


LOCK_TEXT = dump_lock(s4_lock())


@fuzz_settings
@given(st.one_of(st.text(max_size=300), damaged(LOCK_TEXT)))
def test_pylock_toml(text: str) -> None:
    _expect_kiln_error(load_lock, text, "pylock.toml")


JSON_PAGE = (PAGES / "pypi_six.json").read_text()
HTML_PAGES = [(PAGES / "pypi_six.html").read_text(), (PAGES / "pytorch_torch.html").read_text()]
PAGE_URL = "https://pypi.invalid/simple/six/"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@fuzz_settings
@given(st.one_of(st.text(max_size=300), damaged(JSON_PAGE[:3000])))
def test_simple_api_json_pages(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    _expect_kiln_error(
        parse_page, Response(PAGE_URL, 200, {"content-type": JSON_TYPE}, data), "pypi"
    )


@fuzz_settings
@given(
    st.one_of(
        st.text(max_size=300),
        damaged(HTML_PAGES[0][:3000]),
        damaged(HTML_PAGES[1][:3000]),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    ),
    st.sampled_from(["text/html", "text/html; charset=latin-1", "text/html; charset=bogus"]),
)
def test_simple_api_html_pages(text: str, content_type: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    _expect_kiln_error(
        parse_page, Response(PAGE_URL, 200, {"content-type": content_type}, data), "pypi"
    )


@fuzz_settings
@given(
    st.one_of(
        st.binary(max_size=300), damaged(METADATA).map(lambda t: t.encode("utf-8", "surrogatepass"))
    )
)
def test_core_metadata(data: bytes) -> None:
    _expect_kiln_error(CoreMetadata.parse, data)
