from __future__ import annotations

from packaging.markers import Marker

from kiln.core.markers import evaluate
from kiln.core.records import replace
from kiln.lock.coverage import fails_everywhere, uncovered

from .s4 import PYPI, package, s4_lock


def test_a_selection_missing_wheels_is_reported_where_and_for_which_pythons() -> None:
    lock = replace(
        s4_lock(),
        packages=(
            package("pure", "1.0", None, PYPI, ["py3-none-any"]),
            # Linux x86_64 on 3.12 and 3.13 only, for the `cpu` extra alone.
            package(
                "native",
                "2.0",
                Marker("'cpu' in extras"),
                PYPI,
                ["cp312-cp312-manylinux_2_17_x86_64", "cp313-cp313-manylinux_2_28_x86_64"],
            ),
        ),
    )
    ((where, reason),) = uncovered(lock)
    assert reason.startswith("no wheel of `native` 2.0 fits Linux x86_64 (CPython 3.14, 3.15)")
    assert "Linux aarch64 (CPython 3.12, 3.13, 3.14, 3.15)" in reason
    assert reason.endswith("with extra `cpu`")
    linux = {"sys_platform": "linux", "platform_machine": "x86_64"}
    cpu = frozenset({"cpu"})
    assert not evaluate(where, {**linux, "python_full_version": "3.13.1"}, extras=cpu)
    assert evaluate(where, {**linux, "python_full_version": "3.14.0"}, extras=cpu)
    assert not evaluate(where, {**linux, "python_full_version": "3.14.0"})
    assert not fails_everywhere(lock, uncovered(lock))


def test_a_lock_with_wheels_everywhere_is_covered() -> None:
    lock = replace(s4_lock(), packages=(package("pure", "1.0", None, PYPI, ["py3-none-any"]),))
    assert uncovered(lock) == ()


def test_an_abi3_wheel_serves_every_later_python() -> None:
    lock = replace(
        s4_lock(),
        packages=(package("stable", "1.0", None, PYPI, ["cp312-abi3-manylinux_2_17_x86_64"]),),
    )
    ((_, reason),) = uncovered(lock)
    assert "Linux x86_64" not in reason
    assert "Linux aarch64 (CPython 3.12, 3.13, 3.14, 3.15)" in reason
