"""`name @ URL` requirements read as the `[tool.uv.sources]` entry they stand for."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from kiln.project.references import DirectReferenceError, reference_source
from kiln.project.uv_tables import Source

WHERE = Path("pyproject.toml")


@pytest.mark.parametrize(
    ("text", "source"),
    [
        (
            "six @ https://example.invalid/six-1.0-py3-none-any.whl",
            Source(url="https://example.invalid/six-1.0-py3-none-any.whl"),
        ),
        (
            "pkg @ git+https://example.invalid/repo.git@v1.2#subdirectory=sub",
            Source(git="git+https://example.invalid/repo.git", rev="v1.2", subdirectory="sub"),
        ),
        (
            "pkg @ git+ssh://git@example.invalid/repo.git",
            Source(git="git+ssh://git@example.invalid/repo.git"),
        ),
        ("lib @ file:///srv/lib", Source(path="/srv/lib")),
    ],
)
def test_each_url_kind_is_its_source(text: str, source: Source) -> None:
    assert reference_source(Requirement(text), WHERE) == source


def test_a_scheme_kiln_cannot_fetch_is_an_error() -> None:
    with pytest.raises(DirectReferenceError) as info:
        reference_source(Requirement("x @ svn+https://example.invalid/x"), WHERE)
    assert "svn+https" in info.value.message
