from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.pylock import Pylock
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.core.errors import KilnError
from kiln.core.records import replace
from kiln.lock.model import Lock, LockedDependency, LockedFile, LockedPackage
from kiln.lock.pylock_toml import dump_lock, fingerprint, load_lock

from .s4 import PYPI, s4_lock

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

MARKERS = [
    None,
    Marker("sys_platform == 'linux'"),
    Marker("'cpu' in extras"),
    Marker("'cu124' in extras and sys_platform == 'linux' and platform_machine == 'x86_64'"),
    Marker("python_version >= '3.12' or 'dev' in dependency_groups"),
    Marker('platform_release == "it\'s"'),
]
NAMES = ["torch", "numpy", "nvidia-cublas-cu12", "zope-interface", "a"]

moments = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(None)
    ),
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30))]),
    ),
)
hashes = st.dictionaries(
    st.sampled_from(["sha256", "sha512", "blake2b"]),
    st.text("0123456789abcdef", min_size=8, max_size=64),
    min_size=1,
)
odd_text = st.text(st.characters(codec="utf-8"), max_size=12)


@st.composite
def packages(draw: st.DrawFn) -> LockedPackage:
    name = canonicalize_name(draw(st.sampled_from(NAMES)))
    version = draw(st.sampled_from(["1.0", "2.5.1+cpu", "0.1.dev3", "12.4.5.8"]))
    stem = f"{name.replace('-', '_')}-{version}"
    suffixes = draw(
        st.lists(
            st.sampled_from(["py3-none-any", "cp312-cp312-win_amd64", "cp313-cp313-linux_x86_64"]),
            unique=True,
            max_size=3,
        )
    )

    def file(filename: str) -> LockedFile:
        return LockedFile(
            name=filename,
            url=f"https://files.example/{draw(odd_text).replace(' ', '%20')}/{filename}",
            size=draw(st.none() | st.integers(0, 2**40)),
            upload_time=draw(moments),
            hashes=draw(hashes),
        )

    wheels = tuple(file(f"{stem}-{s}.whl") for s in suffixes)
    has_sdist = draw(st.booleans()) or not wheels
    return LockedPackage(
        name=name,
        version=Version(version),
        marker=draw(st.sampled_from(MARKERS)),
        index=draw(st.none() | st.just(PYPI)),
        requires_python=draw(st.sampled_from([None, SpecifierSet(">=3.9,<4")])),
        wheels=wheels,
        sdist=file(f"{stem}.tar.gz") if has_sdist else None,
        dependencies=tuple(
            LockedDependency(canonicalize_name(n), draw(st.sampled_from(MARKERS)))
            for n in draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=3))
        ),
    )


names = st.lists(st.sampled_from(["cpu", "cu124", "dev", "docs"]), unique=True)
locks = st.builds(
    Lock,
    requires_python=st.sampled_from([None, SpecifierSet(">=3.12"), SpecifierSet(">=3.9,!=3.11.*")]),
    environments=st.lists(st.sampled_from(MARKERS[1:]), unique=True).map(tuple),
    extras=names.map(tuple),
    dependency_groups=names.map(tuple),
    default_groups=names.map(tuple),
    packages=st.lists(packages(), max_size=5).map(tuple),
    fingerprint=st.text("0123456789abcdef", min_size=64, max_size=64),
    created_by=st.sampled_from(["kiln", "kiln 0.1.0"]),
    unsupported=st.lists(st.tuples(st.sampled_from(MARKERS[1:]), odd_text)).map(tuple),
    resolution_markers=st.lists(st.sampled_from(MARKERS[1:]), unique=True).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(locks)
def test_a_lock_reads_back_as_written(lock: Lock) -> None:
    text = dump_lock(lock)
    assert load_lock(text, "pylock.toml") == lock
    assert dump_lock(load_lock(text, "pylock.toml")) == text


@settings(max_examples=200, deadline=None)
@given(locks)
def test_packaging_accepts_what_kiln_writes(lock: Lock) -> None:
    parsed = Pylock.from_dict(tomllib.loads(dump_lock(lock)))
    assert [p.name for p in parsed.packages] == [p.name for p in lock.packages]
    assert parsed.tool is not None
    kiln = parsed.tool["kiln"]
    assert kiln["input-fingerprint"] == lock.fingerprint
    assert [r["reason"] for r in kiln.get("unsupported", [])] == [r for _, r in lock.unsupported]


def test_the_same_lock_in_any_order_writes_the_same_bytes() -> None:
    lock = s4_lock()
    shuffled = replace(
        lock,
        packages=tuple(
            replace(p, wheels=tuple(reversed(p.wheels)), dependencies=p.dependencies[::-1])
            for p in reversed(lock.packages)
        ),
        extras=tuple(reversed(lock.extras)),
    )
    assert shuffled == lock
    assert dump_lock(shuffled) == dump_lock(lock)
    assert dump_lock(lock).count("[[packages]]") == len(lock.packages)


def test_layout_is_one_table_per_package_and_wheel() -> None:
    lock = Lock(
        requires_python=SpecifierSet(">=3.12"),
        environments=(),
        extras=("cpu",),
        dependency_groups=(),
        default_groups=(),
        packages=(
            LockedPackage(
                name=canonicalize_name("torch"),
                version=Version("2.5.1+cpu"),
                marker=Marker("'cpu' in extras"),
                index="https://download.pytorch.org/whl/cpu",
                requires_python=None,
                wheels=(
                    LockedFile(
                        name="torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl",
                        url="https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp312-cp312-linux_x86_64.whl",
                        size=12,
                        upload_time=datetime(2024, 10, 29, 17, tzinfo=timezone.utc),
                        hashes={"sha256": "ab" * 32},
                    ),
                ),
                sdist=None,
                dependencies=(LockedDependency(canonicalize_name("filelock")),),
            ),
        ),
        fingerprint="f" * 64,
    )
    assert dump_lock(lock) == (
        'lock-version = "1.0"\n'
        'created-by = "kiln"\n'
        'requires-python = ">=3.12"\n'
        'extras = ["cpu"]\n'
        "dependency-groups = []\n"
        "default-groups = []\n"
        "\n"
        "[[packages]]\n"
        'name = "torch"\n'
        'version = "2.5.1+cpu"\n'
        "marker = \"'cpu' in extras\"\n"
        "dependencies = [\n"
        '    { name = "filelock" },\n'
        "]\n"
        'index = "https://download.pytorch.org/whl/cpu"\n'
        "\n"
        "[[packages.wheels]]\n"
        'name = "torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl"\n'
        'url = "https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp312-cp312-linux_x86_64.whl"\n'
        "size = 12\n"
        "upload-time = 2024-10-29T17:00:00Z\n"
        f'hashes = {{ sha256 = "{"ab" * 32}" }}\n'
        "\n"
        "[tool.kiln]\n"
        f'input-fingerprint = "{"f" * 64}"\n'
    )


def test_credentials_never_reach_the_file() -> None:
    lock = s4_lock()
    torch = lock.packages[-1]
    secret = replace(
        torch,
        index="https://user:token123@private.example/simple",
        wheels=tuple(
            replace(w, url=w.url.replace("https://", "https://__token__:pypi-abc@"))
            for w in torch.wheels
        ),
    )
    text = dump_lock(replace(lock, packages=(*lock.packages[:-1], secret)))
    assert "token123" not in text and "pypi-abc" not in text and "@" not in text
    assert "https://private.example/simple" in text


def _broken(text: str, match: str) -> None:
    with pytest.raises(KilnError, match=match) as info:
        load_lock(text, "/p/pylock.toml")
    assert "/p/pylock.toml" in info.value.message
    assert info.value.hint == "run `kiln lock` to regenerate it"


def test_a_damaged_file_names_itself_and_the_key() -> None:
    good = dump_lock(s4_lock())
    _broken(good.replace("[[packages]]", "[[packages]", 1), "not valid TOML")
    _broken(good.replace("size = 1032", 'size = "big"', 1), "wheels")
    _broken(good.replace('version = "3.16.1"', 'version = "three"', 1), "version")
    _broken(good.replace('lock-version = "1.0"', 'lock-version = "2.0"'), "lock file")
    _broken(good.replace('input-fingerprint = "' + "0" * 64 + '"', ""), "input-fingerprint")
    _broken(good.replace("marker = \"'dev'", "marker = \"'dev' ===", 1), "marker")
    _broken(good.replace('requires-python = ">=3.12"', 'requires-python = "3.12+"'), "requires")
    _broken(good.replace('name = "filelock"\n', "", 1), "name")


def test_a_missing_version_is_named_by_key() -> None:
    good = dump_lock(s4_lock())
    with pytest.raises(KilnError, match=r"`packages\[0\]\.version` is missing"):
        load_lock(good.replace('version = "3.16.1"\n', "", 1), "pylock.toml")


def test_fingerprint_ignores_order_and_carrier_types() -> None:
    a = {
        "requires-python": SpecifierSet(">=3.12"),
        "environments": [Marker("sys_platform == 'linux'")],
        "extras": {"cu124", "cpu"},
        "indexes": {"pytorch-cpu": "https://download.pytorch.org/whl/cpu", "pypi": PYPI},
    }
    b = {
        "indexes": {"pypi": PYPI, "pytorch-cpu": "https://download.pytorch.org/whl/cpu"},
        "extras": frozenset({"cpu", "cu124"}),
        "environments": ('sys_platform == "linux"',),
        "requires-python": ">=3.12",
    }
    assert fingerprint(a) == fingerprint(b)
    assert len(fingerprint(a)) == 64
    assert fingerprint(a) != fingerprint({**a, "extras": {"cpu"}})
    assert fingerprint({"exclude-newer": None}) != fingerprint({"exclude-newer": ""})
    with pytest.raises(TypeError):
        fingerprint({"x": object()})


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8")))
def test_any_string_reads_back_from_toml(value: str) -> None:
    from kiln.lock.pylock_toml import _string

    assert tomllib.loads(f"k = {_string(value)}")["k"] == value
