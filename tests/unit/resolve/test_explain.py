"""Which project a failed resolution's message is about, when several took part."""

from __future__ import annotations

from packaging.requirements import Requirement
from resolvelib.structs import RequirementInformation

from kiln.core.errors import KilnError
from kiln.resolve.explain import explain_impossible
from kiln.resolve.provider import KilnProvider, requirement_to_req

from .fake_finder import FakeFinder
from .test_resolver import linux_env


def explained(finder: FakeFinder, *wanted: str) -> str:
    """The message of a resolution that failed on ``wanted``, each asked for by the user."""
    env = linux_env()
    causes = [RequirementInformation(requirement_to_req(Requirement(w)), None) for w in wanted]
    error = explain_impossible(causes, KilnProvider(finder, env), env)
    assert isinstance(error, KilnError)
    return error.render()


def test_the_project_without_any_installable_version_is_the_one_explained() -> None:
    f = FakeFinder()
    f.add("plain", "1.0")
    f.add("plain", "2.0")
    # Only Windows wheels: nothing of it installs on the Linux target.
    f.add("winonly", "1.0", tags=["cp312-cp312-win_amd64"])
    text = explained(f, "plain>=3", "winonly")
    assert "winonly" in text.splitlines()[0]
    assert "has no wheel for" in text


def test_with_every_project_installable_the_first_is_explained() -> None:
    f = FakeFinder()
    f.add("plain", "1.0")
    f.add("other", "1.0")
    text = explained(f, "plain>=3", "other>=3")
    assert "no version of `plain` matches `plain>=3`" in text
