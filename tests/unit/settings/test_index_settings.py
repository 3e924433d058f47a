"""The index list as uv orders it: flags, then variables, then the project; the default last."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from kiln.core.errors import UsageError
from kiln.index.index_url import IndexUrl
from kiln.project.uv_tables import IndexEntry, UvTables
from kiln.settings.index_settings import (
    PYPI,
    IndexSettings,
    index_settings,
    parse_index,
    project_indexes,
)


def args(**kw: object) -> SimpleNamespace:
    base: dict[str, object] = {
        "index": [],
        "default_index": None,
        "index_url": None,
        "extra_index_url": [],
        "find_links": [],
        "no_index": False,
        "index_strategy": None,
        "exclude_newer": None,
    }
    base.update(kw)
    return SimpleNamespace(**base)


def urls(settings: IndexSettings) -> list[tuple[str | None, str, bool]]:
    return [(i.name, i.url, i.default) for i in settings.indexes]


def test_pypi_is_the_default_index() -> None:
    s = index_settings(args(), {})
    assert s.ordered() == (PYPI,)
    assert s.indexes == (IndexUrl(PYPI, default=True),)
    assert s.strategy == "first-index"
    assert s.exclude_newer is None


def test_a_variable_stands_in_for_its_flag_only_when_the_flag_is_absent() -> None:
    env = {
        "KILN_INDEX_URL": "https://env.example/simple",
        "KILN_EXTRA_INDEX_URL": "https://e1 https://e2",
    }
    flagged = index_settings(
        args(index_url="https://flag.example/simple/", extra_index_url=["https://x"]), env
    )
    assert flagged.ordered() == ("https://x", "https://flag.example/simple")
    from_env = index_settings(args(), env)
    assert from_env.ordered() == ("https://e1", "https://e2", "https://env.example/simple")


def test_index_flags_come_before_extra_index_urls_and_the_project() -> None:
    project = [
        IndexEntry("https://first.example/simple", name="first"),
        IndexEntry("https://second.example/simple/", name="second"),
    ]
    s = index_settings(
        args(index=["cli=https://cli.example/simple"], extra_index_url=["https://extra.example"]),
        {},
        project_indexes=project,
    )
    assert urls(s) == [
        ("cli", "https://cli.example/simple", False),
        (None, "https://extra.example", False),
        ("first", "https://first.example/simple", False),
        ("second", "https://second.example/simple", False),
        (None, PYPI, True),
    ]


def test_kiln_index_holds_space_separated_named_entries() -> None:
    s = index_settings(
        args(), {"KILN_INDEX": "pytorch=https://download.pytorch.org/whl/cpu https://b.example"}
    )
    assert urls(s)[:2] == [
        ("pytorch", "https://download.pytorch.org/whl/cpu", False),
        (None, "https://b.example", False),
    ]


def test_a_command_line_index_replaces_the_project_index_of_the_same_name() -> None:
    project = [IndexEntry("https://download.pytorch.org/whl/cpu", name="pytorch", explicit=True)]
    s = index_settings(
        args(index=["pytorch=https://mirror.example/whl/cpu"]), {}, project_indexes=project
    )
    assert urls(s) == [("pytorch", "https://mirror.example/whl/cpu", False), (None, PYPI, True)]
    # The replacement takes the command line's settings: not explicit any more.
    assert s.indexes[0].explicit is False


def test_the_first_default_index_wins_and_goes_last() -> None:
    project = [
        IndexEntry("https://corp.example/simple", name="corp", default=True),
        IndexEntry("https://other.example/simple", name="other"),
    ]
    from_project = index_settings(args(), {}, project_indexes=project)
    assert urls(from_project) == [
        ("other", "https://other.example/simple", False),
        ("corp", "https://corp.example/simple", True),
    ]
    from_flag = index_settings(
        args(default_index="https://flag.example/simple"), {}, project_indexes=project
    )
    assert urls(from_flag) == [
        ("other", "https://other.example/simple", False),
        (None, "https://flag.example/simple", True),
    ]
    # --default-index wins over --index-url, as uv lists it first.
    both = index_settings(
        args(default_index="https://d.example", index_url="https://i.example"), {}
    )
    assert both.default_index == "https://d.example"


def test_explicit_and_flat_project_entries_keep_their_rules() -> None:
    project = [
        IndexEntry(
            "https://download.pytorch.org/whl/cpu",
            name="pytorch-cpu",
            explicit=True,
            authenticate="never",
            ignore_error_codes=(401,),
        ),
        IndexEntry("./wheels", name="local", format="flat"),
    ]
    s = index_settings(args(), {}, project_indexes=project)
    pytorch, local, pypi = s.indexes
    assert pytorch.explicit and pytorch.authenticate == "never"
    assert pytorch.ignore_error_codes == frozenset({401})
    assert (local.format, local.url) == ("flat", "./wheels")
    assert pypi.url == PYPI


def test_an_explicit_default_index_still_removes_pypi() -> None:
    project = [IndexEntry("https://corp.example/simple", name="corp", explicit=True, default=True)]
    s = index_settings(args(), {}, project_indexes=project)
    assert urls(s) == [("corp", "https://corp.example/simple", True)]
    assert s.indexes[0].explicit


def test_no_index_leaves_only_find_links() -> None:
    s = index_settings(
        args(no_index=True, find_links=["/wheels"]),
        {},
        project_indexes=[IndexEntry("https://x.example", name="x")],
    )
    assert s.ordered() == ()
    assert s.default_index is None
    assert s.find_links == ("/wheels",)


def test_find_links_come_from_the_flag_or_else_the_variable() -> None:
    assert index_settings(args(), {"KILN_FIND_LINKS": "/a /b"}).find_links == ("/a", "/b")
    flagged = index_settings(args(find_links=["/c"]), {"KILN_FIND_LINKS": "/a"})
    assert flagged.find_links == ("/c",)


def test_requirements_file_options_rank_below_the_command_line() -> None:
    s = IndexSettings.resolve(
        args(extra_index_url=["https://cli.example"]),
        {},
        file_index_url="https://file-default.example",
        file_extra_index_urls=["https://file-extra.example"],
    )
    assert s.ordered() == (
        "https://cli.example",
        "https://file-extra.example",
        "https://file-default.example",
    )
    assert IndexSettings.resolve(args(), {}, file_no_index=True).ordered() == ()


def test_strategy_comes_from_flag_then_variable_then_project() -> None:
    assert (
        index_settings(args(), {}, project_strategy="unsafe-best-match").strategy
        == "unsafe-best-match"
    )
    env = {"KILN_INDEX_STRATEGY": "unsafe-first-match"}
    assert (
        index_settings(args(), env, project_strategy="unsafe-best-match").strategy
        == "unsafe-first-match"
    )
    assert index_settings(args(index_strategy="first-index"), env).strategy == "first-index"


def test_unknown_strategy_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown index strategy"):
        index_settings(args(), {"KILN_INDEX_STRATEGY": "fastest"})


def test_exclude_newer_comes_from_flag_then_variable_then_project() -> None:
    project = datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert index_settings(args(), {}, project_exclude_newer=project).exclude_newer == project
    env = {"KILN_EXCLUDE_NEWER": "2024-03-01T12:00:00Z"}
    from_env = index_settings(args(), env, project_exclude_newer=project)
    assert from_env.exclude_newer == datetime(2024, 3, 1, 12, tzinfo=timezone.utc)
    from_flag = index_settings(args(exclude_newer="2024-06-01"), env)
    # A date means the end of that day, UTC.
    assert from_flag.exclude_newer is not None
    assert from_flag.exclude_newer.date().isoformat() == "2024-06-01"
    assert from_flag.exclude_newer.hour == 23


def test_a_bad_exclude_newer_names_where_it_came_from() -> None:
    with pytest.raises(UsageError) as caught:
        index_settings(args(), {"KILN_EXCLUDE_NEWER": "last tuesday"})
    assert caught.value.message == "KILN_EXCLUDE_NEWER `last tuesday` is not a date or a time"


def test_project_indexes_reads_the_uv_tables() -> None:
    uv = UvTables(
        indexes=(IndexEntry("https://p.example/simple", name="p"),),
        index_strategy="unsafe-best-match",
        exclude_newer=datetime(2021, 1, 1, tzinfo=timezone.utc),
    )
    s = project_indexes(args(), uv, {})
    assert s.ordered() == ("https://p.example/simple", PYPI)
    assert s.strategy == "unsafe-best-match"
    assert s.exclude_newer == datetime(2021, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "name", "url"),
    [
        ("pytorch=https://download.pytorch.org/whl/cpu", "pytorch", "https://download.pytorch.org/whl/cpu"),
        ("https://example.com/simple?token=abc", None, "https://example.com/simple?token=abc"),
        ("https://example.com/simple/", None, "https://example.com/simple"),
        ("my.index_1=/srv/wheels", "my.index_1", "/srv/wheels"),
    ],
)  # fmt: skip
def test_index_arguments_may_carry_a_name(text: str, name: str | None, url: str) -> None:
    parsed = parse_index(text)
    assert (parsed.name, parsed.url) == (name, url)


def test_pip_spelled_flags_take_no_names() -> None:
    s = index_settings(args(extra_index_url=["a=https://x.example"]), {})
    assert s.indexes[0].name is None and s.indexes[0].url == "a=https://x.example"


def test_an_index_argument_without_a_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="has no URL"):
        parse_index("pytorch=")
