from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.tags import parse_tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from kiln.core.dist import DistFile
from kiln.core.environment import Environment
from kiln.core.errors import KilnError
from kiln.core.hashes import Hashes
from kiln.core.metadata import CoreMetadata, InvalidMetadata


def test_hashes_from_fragment_and_strongest() -> None:
    h = Hashes.from_fragment("sha256=ABCDEF")
    assert h.get("sha256") == "abcdef"
    assert h.strongest() == ("sha256", "abcdef")
    assert not Hashes.from_fragment("md4=zz")
    assert not Hashes.from_fragment("egg=foo")
    both = Hashes.of({"md5": "11", "sha512": "22"})
    assert both.strongest() == ("sha512", "22")


@given(
    st.dictionaries(
        st.sampled_from(["sha256", "sha512", "md5"]), st.text("0123456789abcdef", min_size=1)
    )
)
def test_hashes_match_what_they_hold(mapping: dict[str, str]) -> None:
    h = Hashes.of(mapping)
    for algo, digest in mapping.items():
        assert h.matches(algo, digest.upper())
    assert not h.matches("sha384", "00")


def env() -> Environment:
    tags = tuple(parse_tag("cp312-cp312-manylinux_2_28_x86_64")) + tuple(parse_tag("py3-none-any"))
    markers = {
        "python_version": "3.12",
        "python_full_version": "3.12.1",
        "sys_platform": "linux",
        "platform_machine": "x86_64",
        "platform_system": "Linux",
        "implementation_name": "cpython",
        "os_name": "posix",
        "platform_release": "",
        "platform_version": "",
        "platform_python_implementation": "CPython",
        "implementation_version": "3.12.1",
    }
    return Environment(markers, tags)


def test_environment_ranks_tags_best_first_and_rejects_foreign_ones() -> None:
    e = env()
    assert e.wheel_rank("x-1-cp312-cp312-manylinux_2_28_x86_64.whl") == 0
    assert e.wheel_rank("x-1-py3-none-any.whl") == 1
    assert e.wheel_rank("x-1-cp312-cp312-win_amd64.whl") is None
    assert e.description == "CPython 3.12 on linux x86_64"


WHEEL_NAMES = [
    "x-1-cp312-cp312-manylinux_2_28_x86_64.whl",
    "x-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "x-1-py2.py3-none-any.whl",
    "x-1-7build-py3-none-any.whl",  # a build tag
    "x-1-CP312-CP312-MANYLINUX_2_28_X86_64.whl",  # tags compare in lower case
    "x-1-cp311.cp312-abi3.none-win_amd64.linux_x86_64.whl",
    "x-1-cp312-cp312-win_amd64.whl",
]


@pytest.mark.parametrize("filename", WHEEL_NAMES)
def test_a_file_name_ranks_as_its_parsed_tags(filename: str) -> None:
    e = env()
    expected = e.tag_rank(parse_wheel_filename(filename)[3])
    assert e.wheel_rank(filename) == expected
    assert e.wheel_rank(filename) == expected  # again, from what the environment remembers


def test_a_file_name_that_is_no_wheels_is_refused() -> None:
    with pytest.raises(InvalidWheelFilename):
        env().wheel_rank("x-1-py3-none-any-extra-part.whl")


def test_environment_evaluates_extras() -> None:
    e = env()
    m = Marker("extra == 'gpu' and sys_platform == 'linux'")
    assert not e.evaluate(m)
    assert e.evaluate(m, frozenset({"cpu", "gpu"}))
    assert e.evaluate(None)


def test_distfile_parses_local_versions_from_names() -> None:
    f = DistFile("torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl", "https://x/torch.whl")
    assert f.name_version is not None
    name, version = f.name_version
    assert (name, str(version)) == ("torch", "2.5.1+cpu")
    assert DistFile("garbage.whl", "u").name_version is None
    sdist = DistFile("Foo_Bar-1.0.tar.gz", "u")
    assert sdist.name_version is not None and sdist.name_version[0] == "foo-bar"


def test_metadata_parses_and_rejects() -> None:
    meta = CoreMetadata.parse(
        "Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0\nRequires-Python: >=3.9\n"
        "Requires-Dist: idna>=3\nProvides-Extra: Fast\nSummary: a demo\n"
    )
    assert meta.name == "demo-pkg" and meta.display_name == "Demo_Pkg"
    assert [str(r) for r in meta.requires_dist] == ["idna>=3"]
    assert "fast" in meta.provides_extra
    with pytest.raises(InvalidMetadata):
        CoreMetadata.parse("Metadata-Version: 2.1\nName: x\n")
    with pytest.raises(InvalidMetadata, match="invalid requirement"):
        CoreMetadata.parse("Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Dist: ???\n")


def test_errors_render_in_one_message() -> None:
    text = KilnError("thing `x` failed", causes=["because"], hint="do y").render()
    assert text == "error: thing `x` failed\n  caused by: because\nhint: do y"


def test_an_error_names_each_cause_once() -> None:
    error = KilnError(
        "no solution",
        causes=["you asked for `antlr4==4.9.*`", "omegaconf 2.3 requires `antlr4==4.9.*`"] * 4,
    )
    assert error.render().count("antlr4") == 2


def test_the_guaranteed_algorithms_are_hashlibs() -> None:
    import hashlib

    from kiln.core.hashes import GUARANTEED

    assert hashlib.algorithms_guaranteed == GUARANTEED


def test_small_sha256_is_sha256() -> None:
    import hashlib

    from kiln.core.hashes import small_sha256

    for data in (b"", b"kiln\n", bytes(range(256)) * 300):
        assert small_sha256(data) == hashlib.sha256(data).digest()
