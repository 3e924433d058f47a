from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from kiln.project.edit import (
    PyprojectEditError,
    add_dependency,
    add_index,
    add_source,
    listed_requirements,
    remove_dependency,
    with_lower_bound,
)
from kiln.project.init_template import pyproject_text
from kiln.project.pyproject import Pyproject, parse_pyproject
from tests.support import seed

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

CPU = "https://download.pytorch.org/whl/cpu"
CU124 = "https://download.pytorch.org/whl/cu124"
NOT_MAC = "platform_system != 'Darwin'"

# What a user keeps in a pyproject: comments everywhere, their own spacing and indentation.
HANDMADE = """\
# Build me with care.
[project]
name    =   "demo"   # the name on PyPI
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
  "requests>=2",    # http
  # numerics below
  "numpy",
]

[project.optional-dependencies]
plot = ['matplotlib']   # single quotes, one line

[tool.ruff]
line-length   = 99  # wide
"""

SEED_S2 = seed.S2

SEED_S3_SOURCES = """
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", marker = "platform_system == 'Windows'" },
  { index = "pytorch-cu124", marker = "platform_system == 'Linux'" },
]
"""

SEED_S4_SOURCES = """
[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu", marker = "platform_system != 'Darwin'" },
  { index = "pytorch-cu124", extra = "cu124" },
]
"""

INDEXES = f"""
[[tool.uv.index]]
name = "pytorch-cpu"
url = "{CPU}"
explicit = true

[[tool.uv.index]]
name = "pytorch-cu124"
url = "{CU124}"
explicit = true
"""


def parsed(text: str) -> Pyproject:
    """Every edit must leave a pyproject that kiln reads without a single error."""
    return parse_pyproject(tomllib.loads(text), Path("pyproject.toml"))


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    removed = [line[2:] for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ")]
    return removed, added


def new_project() -> str:
    return pyproject_text(canonicalize_name("project"), (3, 12), "app", readme=True)


# --- layout -------------------------------------------------------------------------------------


def test_adding_to_a_multiline_array_adds_one_line_and_keeps_every_comment() -> None:
    after = add_dependency(HANDMADE, "Torch>=2.5")
    removed, added = changed_lines(HANDMADE, after)
    assert removed == []
    assert added == ['  "torch>=2.5",']  # the array's own two-space indent, normalized name
    assert after.index('"numpy"') < after.index('"torch>=2.5"')
    parsed(after)


def test_replacing_a_requirement_changes_only_its_line_and_keeps_its_comment() -> None:
    after = add_dependency(HANDMADE, "requests>=2.32")
    removed, added = changed_lines(HANDMADE, after)
    assert removed == ['  "requests>=2",    # http']
    assert added == ['  "requests>=2.32",    # http']


def test_a_new_extra_is_added_without_touching_other_lines() -> None:
    after = add_dependency(HANDMADE, "torch", extra="GPU")
    removed, added = changed_lines(HANDMADE, after)
    assert removed == []
    assert added == ["gpu = [", '    "torch",', "]"]
    assert parsed(after).optional_dependencies[canonicalize_name("gpu")] == (Requirement("torch"),)


def test_a_one_line_array_becomes_one_entry_per_line_as_uv_writes_it() -> None:
    after = add_dependency(HANDMADE, "seaborn", extra="plot")
    assert "plot = [\n    'matplotlib',\n    \"seaborn\",\n]   # single quotes, one line\n" in after
    removed, _ = changed_lines(HANDMADE, after)
    assert removed == ["plot = ['matplotlib']   # single quotes, one line"]


def test_an_empty_dependencies_array_gets_its_first_entry_on_a_line_of_its_own() -> None:
    after = add_dependency(new_project(), "torch>=2.5.1")
    assert 'dependencies = [\n    "torch>=2.5.1",\n]\n' in after


def test_a_sorted_list_stays_sorted_and_an_unsorted_one_grows_at_its_end() -> None:
    text = '[project]\nname = "p"\ndependencies = ["anyio", "flask"]\n'
    assert parsed(add_dependency(text, "django")).dependencies == tuple(
        map(Requirement, ["anyio", "django", "flask"])
    )
    unsorted = '[project]\nname = "p"\ndependencies = ["flask", "anyio"]\n'
    assert parsed(add_dependency(unsorted, "django")).dependencies == tuple(
        map(Requirement, ["flask", "anyio", "django"])
    )


def test_include_group_items_stay_below_new_requirements() -> None:
    text = '[dependency-groups]\nlint = ["ruff", { include-group = "typing" }]\ntyping = ["mypy"]\n'
    after = add_dependency(text, "black", group="lint")
    assert tomllib.loads(after)["dependency-groups"]["lint"] == [
        "black",
        "ruff",
        {"include-group": "typing"},
    ]


def test_markers_are_written_as_uv_writes_them() -> None:
    after = add_dependency(new_project(), 'Torch>=2.5; platform_system != "Darwin"')
    assert "\"torch>=2.5 ; platform_system != 'Darwin'\"" in after


def test_raw_writes_the_requirement_exactly_as_given() -> None:
    after = add_dependency(new_project(), "Torch >= 2.5", raw=True)
    assert '"Torch >= 2.5"' in after


def test_an_edit_that_changes_nothing_returns_the_text_unchanged() -> None:
    once = add_dependency(new_project(), "torch>=2.5.1")
    assert add_dependency(once, "torch>=2.5.1") == once
    assert add_dependency(once, "torch") == once  # no new specifier: the old one stays


# --- replacing ----------------------------------------------------------------------------------


def test_an_existing_requirement_is_updated_in_place_like_uv() -> None:
    text = '[project]\nname = "p"\ndependencies = [\n    "anyio",\n    "torch[a]>=2.0",\n    "zlib",\n]\n'
    after = add_dependency(text, "torch[b]>=2.5")
    assert tomllib.loads(after)["project"]["dependencies"] == ["anyio", "torch[a,b]>=2.5", "zlib"]


def test_a_requirement_under_another_marker_is_a_separate_entry() -> None:
    text = add_dependency(new_project(), "numpy>=2 ; python_version >= '3.10'")
    text = add_dependency(text, "numpy<2 ; python_version < '3.10'")
    assert len(parsed(text).dependencies) == 2
    assert listed_requirements(text, "NumPy") == (  # sorted by specifier, as uv sorts
        "numpy<2 ; python_version < '3.10'",
        "numpy>=2 ; python_version >= '3.10'",
    )


def test_duplicate_entries_make_an_update_ambiguous() -> None:
    text = '[project]\nname = "p"\ndependencies = ["torch", "torch>=2"]\n'
    with pytest.raises(PyprojectEditError, match="more than once"):
        add_dependency(text, "torch>=2.5")


# --- extras and groups --------------------------------------------------------------------------


def test_extras_and_groups_are_created_with_their_tables() -> None:
    text = add_dependency(new_project(), "torch", extra="cpu")
    text = add_dependency(text, "pytest", group="dev")
    text = add_dependency(text, "ruff", group="Lint")
    project = parsed(text)
    assert project.optional_dependencies == {"cpu": (Requirement("torch"),)}
    assert project.dependency_groups == {
        "dev": (Requirement("pytest"),),
        "lint": (Requirement("ruff"),),
    }
    assert "[project.optional-dependencies]\ncpu = [" in text
    assert "[dependency-groups]\ndev = [" in text


def test_an_existing_group_is_found_by_its_normalized_name() -> None:
    text = '[project]\nname = "p"\n\n[dependency-groups]\nMy_Group = ["a"]\n'
    after = add_dependency(text, "b", group="my-group")
    assert tomllib.loads(after)["dependency-groups"] == {"My_Group": ["a", "b"]}


def test_dev_goes_to_legacy_dev_dependencies_where_the_project_uses_them() -> None:
    text = '[project]\nname = "p"\n\n[tool.uv]\ndev-dependencies = ["pytest"]\n'
    after = add_dependency(text, "hypothesis", group="dev")
    assert tomllib.loads(after)["tool"]["uv"]["dev-dependencies"] == ["hypothesis", "pytest"]
    assert "dependency-groups" not in after


def test_out_of_order_tables_are_edited_where_they_are() -> None:
    text = (
        '[project]\nname = "p"\ndependencies = []\n\n[tool.uv]\npackage = false\n\n'
        '[project.optional-dependencies]\ncpu = ["torch"]\n'
    )
    after = add_dependency(text, "torchvision", extra="cpu")
    assert after.startswith(text[: text.index("cpu")])
    assert parsed(after).optional_dependencies[canonicalize_name("cpu")] == tuple(
        map(Requirement, ["torch", "torchvision"])
    )


def test_an_invalid_extra_name_is_refused() -> None:
    with pytest.raises(PyprojectEditError, match="not a valid extra name"):
        add_dependency(new_project(), "torch", extra="-cpu")


# --- removal ------------------------------------------------------------------------------------


def test_removal_takes_every_entry_on_the_package_and_keeps_the_rest() -> None:
    text = add_dependency(HANDMADE, "numpy<2 ; python_version < '3.10'")
    after, removed = remove_dependency(text, "NumPy")
    assert removed
    assert [str(r) for r in parsed(after).dependencies] == ["requests>=2"]
    assert "# numerics below" in after
    assert "# http" in after


def test_removing_what_is_not_listed_returns_the_text_byte_for_byte() -> None:
    assert remove_dependency(HANDMADE, "torch") == (HANDMADE, False)
    assert remove_dependency(HANDMADE, "numpy", extra="plot") == (HANDMADE, False)
    assert remove_dependency(HANDMADE, "numpy", group="dev") == (HANDMADE, False)


def test_a_removed_package_loses_its_source_once_no_table_names_it() -> None:
    text = add_dependency(new_project(), "torch>=2.5.1")
    text = add_dependency(text, "torch>=2.5.1", extra="cpu")
    text = add_index(text, "pytorch-cpu", CPU)
    text = add_source(text, "torch", index="pytorch-cpu", marker=NOT_MAC)
    text, _ = remove_dependency(text, "torch")
    assert "torch" in parsed(text).uv.sources  # still named by extra `cpu`
    text, _ = remove_dependency(text, "torch", extra="cpu")
    project = parsed(text)
    assert project.uv.sources == {}
    assert "[tool.uv.sources]" not in text
    assert [i.name for i in project.uv.indexes] == ["pytorch-cpu"]  # indexes are the user's


def test_removing_dev_removes_from_the_group_and_the_legacy_table() -> None:
    text = (
        '[project]\nname = "p"\n\n[dependency-groups]\ndev = ["pytest", "ruff"]\n\n'
        '[tool.uv]\ndev-dependencies = ["pytest"]\n'
    )
    after, removed = remove_dependency(text, "pytest", group="dev")
    assert removed
    assert parsed(after).dependency_groups == {"dev": (Requirement("ruff"),)}


def test_an_emptied_array_becomes_empty_brackets() -> None:
    text = add_dependency(new_project(), "torch")
    after, _ = remove_dependency(text, "torch")
    assert after == new_project()


# --- indexes and sources ------------------------------------------------------------------------


def test_index_and_sources_reproduce_the_seed_s2_tables() -> None:
    text = new_project()
    for requirement in ("torch>=2.5.1", "torchvision>=0.20.1"):
        text = add_dependency(text, requirement)
    text = add_index(text, "pytorch-cpu", CPU)
    for package in ("torch", "torchvision"):
        text = add_source(text, package, index="pytorch-cpu", marker='platform_system != "Darwin"')
    got, seed = parsed(text), parsed(SEED_S2)
    assert got.uv.indexes == seed.uv.indexes
    assert got.uv.sources == seed.uv.sources
    assert got.dependencies == seed.dependencies
    assert 'torch = { index = "pytorch-cpu", marker = "platform_system != \'Darwin\'" }' in text


def test_sources_under_different_markers_become_the_seed_s3_list() -> None:
    text = add_dependency(new_project() + INDEXES, "torch>=2.5.1")
    text = add_source(text, "torch", index="pytorch-cpu", marker="platform_system == 'Windows'")
    text = add_source(text, "torch", index="pytorch-cu124", marker="platform_system == 'Linux'")
    seed = parsed(new_project() + INDEXES + SEED_S3_SOURCES)
    assert parsed(text).uv.sources == seed.uv.sources
    assert 'torch = [\n    { index = "pytorch-cpu"' in text


def test_sources_per_extra_reproduce_the_seed_s4_list() -> None:
    text = new_project() + INDEXES
    for extra in ("cpu", "cu124"):
        text = add_dependency(text, "torch>=2.5.1", extra=extra)
    text = add_source(text, "torch", index="pytorch-cpu", extra="cpu", marker=NOT_MAC)
    text = add_source(text, "torch", index="pytorch-cu124", extra="cu124")
    seed = parsed(text.split("[tool.uv.sources]")[0] + SEED_S4_SOURCES)
    assert parsed(text).uv.sources == seed.uv.sources


def test_a_source_under_the_same_conditions_is_replaced_in_place() -> None:
    text = add_dependency(new_project() + INDEXES + SEED_S3_SOURCES, "torch")
    after = add_source(text, "torch", index="pytorch-cpu", marker="platform_system == 'Linux'")
    removed, added = changed_lines(text, after)
    assert removed == ['  { index = "pytorch-cu124", marker = "platform_system == \'Linux\'" },']
    assert added == ['  { index = "pytorch-cpu", marker = "platform_system == \'Linux\'" },']


def test_an_unconditional_source_replaces_all_others() -> None:
    text = add_dependency(new_project() + INDEXES + SEED_S3_SOURCES, "torch")
    after = add_source(text, "torch", index="pytorch-cu124")
    assert [(s.index, s.marker) for s in parsed(after).uv.sources[canonicalize_name("torch")]] == [
        ("pytorch-cu124", None)
    ]


def test_a_source_naming_an_unknown_index_or_extra_is_refused() -> None:
    text = add_dependency(new_project(), "torch")
    with pytest.raises(PyprojectEditError, match="index `pytorch-cpu`") as exc:
        add_source(text, "torch", index="pytorch-cpu")
    assert exc.value.hint and "--index" in exc.value.hint
    text = add_index(text, "pytorch-cpu", CPU)
    with pytest.raises(PyprojectEditError, match="extra `cpu`"):
        add_source(text, "torch", index="pytorch-cpu", extra="cpu")


def test_an_index_of_the_same_name_gets_the_new_url_and_a_new_one_goes_first() -> None:
    text = add_index(new_project(), "pytorch-cpu", "https://old.example/cpu")
    text = add_index(text, "pytorch-cpu", CPU)
    assert parsed(text).uv.indexes[0].url == CPU
    assert text.count("[[tool.uv.index]]") == 1
    text = add_index(text, "pytorch-cu124", CU124, explicit=False)
    assert [(i.name, i.explicit) for i in parsed(text).uv.indexes] == [
        ("pytorch-cu124", False),
        ("pytorch-cpu", True),
    ]


def test_an_index_name_with_odd_characters_is_refused() -> None:
    with pytest.raises(PyprojectEditError, match="may hold only"):
        add_index(new_project(), "pytorch cpu", CPU)


# --- bounds and errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirement", "version", "expected"),
    [
        ("torch", "2.5.1+cpu", "torch>=2.5.1"),
        ("Torch[Extra]", "2.5.1", "torch[extra]>=2.5.1"),
        ("torch; sys_platform == 'linux'", "2.5.1+cu124", "torch>=2.5.1 ; sys_platform == 'linux'"),
        ("torch==2.4", "2.5.1", "torch==2.4"),
        ("torch @ https://example.com/torch.whl", "2.5.1", "torch @ https://example.com/torch.whl"),
        ("numpy", "2.0.0rc1", "numpy>=2.0.0rc1"),
    ],
)
def test_lower_bound_is_the_public_version_unless_the_user_chose_one(
    requirement: str, version: str, expected: str
) -> None:
    assert with_lower_bound(requirement, version) == expected


def test_user_errors_are_kiln_errors_with_a_hint() -> None:
    with pytest.raises(PyprojectEditError, match="not a valid requirement") as exc:
        add_dependency(new_project(), "torch>>2")
    assert exc.value.hint
    with pytest.raises(PyprojectEditError, match="not valid TOML"):
        add_dependency("[project\n", "torch")
    with pytest.raises(PyprojectEditError, match=r"`project\.dependencies`") as exc:
        add_dependency('[project]\nname = "p"\ndependencies = "torch"\n', "numpy")
    assert exc.value.hint


# --- every result is a pyproject kiln reads -----------------------------------------------------

_PACKAGES = st.sampled_from(["torch", "torchvision", "Jinja2", "numpy", "my_pkg"])
_SPECS = st.sampled_from(["", ">=2", "==1.0", "[extra]", " ; sys_platform == 'linux'"])
_PLACES = st.sampled_from([{}, {"extra": "cpu"}, {"extra": "cu124"}, {"group": "dev"}])
_STEPS = st.one_of(
    st.tuples(st.just("add"), _PACKAGES, _SPECS, _PLACES),
    st.tuples(st.just("remove"), _PACKAGES, st.just(""), _PLACES),
    st.tuples(st.just("source"), _PACKAGES, st.sampled_from(["", NOT_MAC]), _PLACES),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_STEPS, max_size=8), st.sampled_from([HANDMADE, SEED_S2, new_project()]))
def test_every_result_parses_with_parse_pyproject(
    steps: list[tuple[str, str, str, dict[str, str]]], start: str
) -> None:
    text = add_index(start, "pytorch-cpu", CPU)
    parsed(text)
    for action, package, detail, place in steps:
        extra, group = place.get("extra"), place.get("group")
        if action == "add":
            text = add_dependency(text, package + detail, extra=extra, group=group)
        elif action == "remove":
            text, _ = remove_dependency(text, package, extra=extra, group=group)
        elif group is None and (
            extra is None
            or extra in tomllib.loads(text)["project"].get("optional-dependencies", {})
        ):
            text = add_source(
                text, package, index="pytorch-cpu", marker=detail or None, extra=extra
            )
        parsed(text)
    assert "# the name on PyPI" in text or start is not HANDMADE


def test_adding_the_same_source_again_changes_nothing() -> None:
    text = add_dependency(new_project() + INDEXES, "torch")
    once = add_source(text, "torch", index="pytorch-cpu", marker=NOT_MAC)
    assert add_source(once, "torch", index="pytorch-cpu", marker=NOT_MAC) == once
    listed = add_source(once, "torch", index="pytorch-cu124", marker="platform_system == 'Darwin'")
    assert (
        add_source(listed, "torch", index="pytorch-cu124", marker="platform_system == 'Darwin'")
        == listed
    )


def test_a_second_source_keeps_the_first_as_the_user_wrote_it() -> None:
    text = add_dependency(new_project() + INDEXES, "torch")
    text += (
        "\n[tool.uv.sources]\ntorch = {index='pytorch-cpu',marker=\"sys_platform == 'win32'\"}\n"
    )
    after = add_source(text, "torch", index="pytorch-cu124", marker="sys_platform == 'linux'")
    assert (
        "torch = [\n"
        "    {index='pytorch-cpu',marker=\"sys_platform == 'win32'\"},\n"
        '    { index = "pytorch-cu124", marker = "sys_platform == \'linux\'" },\n'
        "]\n"
    ) in after
    assert len(parsed(after).uv.sources[canonicalize_name("torch")]) == 2
