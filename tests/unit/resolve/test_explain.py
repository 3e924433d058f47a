"""Which project a failed resolution's message is about, when several took part."""

from __future__ import annotations

from packaging.requirements import Requirement
from resolvelib.structs import RequirementInformation

from kiln.core.errors import KilnError
from kiln.resolve.explain import explain_impossible
from kiln.resolve.provider import KilnProvider, requirement_to_req

from .fake_finder import FakeFinder
from .test_resolver import linux_env


def test_the_project_without_any_installable_version_is_the_one_explained() -> None:
    f = FakeFinder()
    f.add("plain", "1.0")
    f.add("plain", "2.0")
    # Only Windows wheels: nothing of it installs on the Linux target.
    f.add("winonly", "1.0", tags=["cp312-cp312-win_amd64"])
    env = linux_env()
    provider = KilnProvider(f, env)
    causes = [
        RequirementInformation(requirement_to_req(Requirement("plain>=3")), None),
        RequirementInformation(requirement_to_req(Requirement("winonly")), None),
    ]
    error = explain_impossible(causes, provider, env)
    assert isinstance(error, KilnError)
    text = error.render()
    assert "winonly" in text.splitlines()[0]
    assert "has no wheel for" in text


def test_with_every_project_installable_the_first_is_explained() -> None:
    f = FakeFinder()
    f.add("plain", "1.0")
    f.add("other", "1.0")
    env = linux_env()
    provider = KilnProvider(f, env)
    causes = [
        RequirementInformation(requirement_to_req(Requirement("plain>=3")), None),
        RequirementInformation(requirement_to_req(Requirement("other>=3")), None),
    ]
    error = explain_impossible(causes, provider, env)
    assert isinstance(error, KilnError)
    text = error.render()
    assert "no version of `plain` matches `plain>=3`" in text
