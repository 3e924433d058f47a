"""What kiln gets wrong in packse's scenarios today, each with a diagnosis.

Two tables feed the strict xfails of `test_packse.py`: `MISSING_FLAGS` (an option a scenario
needs that kiln's command does not accept; every scenario needing it is expected to fail) and
`KNOWN_WRONG` (kiln runs the scenario and answers differently from uv). Strictness makes an
entry that starts passing fail the suite, and `test_packse.py` checks the flags against kiln's
parser and these tables against README.md, so neither can go stale.

`python -m tests.scenarios.known_failures` prints the README's tables from these.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from tests.scenarios.packse import DISABLED_REASON, MODES, VERBS, Scenario

Outcome = Literal["pass", "skip", "xfail"]

GROUPS: Mapping[str, str] = {
    "prerelease": "pre-release rules",
    "strategy": "resolution strategy",
    "build": "binary/build options",
    "target": "python-version/platform targets",
    "lock": "lock-mode (universal resolution)",
}


@dataclass(frozen=True)
class MissingFlag:
    group: str
    why: str


@dataclass(frozen=True)
class Wrong:
    """One scenario kiln answers wrongly: what it does, what uv/packse expect, and why."""

    group: str
    kiln: str
    expected: str
    why: str

    def reason(self) -> str:
        return f"kiln: {self.kiln}; expected: {self.expected}; why: {self.why}"


# flag -> why kiln lacks it. Keyed by the name `--help` lists; the scenario's own value goes
# on the command line, so the run fails on the usage error until the flag exists.
MISSING_FLAGS: Mapping[str, MissingFlag] = {}


def _lock(kiln: str, expected: str, why: str) -> Wrong:
    return Wrong("lock", kiln, expected, why)


# scenario id -> diagnosis. Lock-mode entries quote kiln's pylock.toml (`name version ;
# marker`, quoted as kiln's pylock.toml writes them) against uv's lock for the scenario.
KNOWN_WRONG: Mapping[str, Wrong] = {
    # -- lock mode (universal resolution) ---------------------------------------------------
    "fork/preferences-dependent-forking-conflicting": _lock(
        "`bar 1.0.0 ; sys_platform != 'linux'`, `bar 2.0.0 ; sys_platform == 'linux'`, "
        "`cleaver 1.0.0`, `foo 1.0.0 ; sys_platform == 'linux'`, "
        "`foo 2.0.0 ; sys_platform != 'linux'`",
        "no lock (packse); uv 0.13.9 locks the same 5 packages as kiln",
        "packse describes a resolver that does not fork here; kiln and uv fork on cleaver 1's "
        "markers and find this solution, so only packse disagrees",
    ),
}


# -- what the suite expects of each scenario ------------------------------------------------


def missing_flags(scenario: Scenario) -> list[str]:
    return [f.name for f in scenario.flags() if f.name in MISSING_FLAGS]


def _verb(scenario: Scenario) -> str:
    return "kiln " + " ".join(VERBS[scenario.mode])


def outcome(scenario: Scenario) -> tuple[Outcome, str | None]:
    """What the suite expects of a scenario on this machine, and why.

    A missing interpreter outranks a known failure: what cannot run cannot fail.
    """
    if scenario.disabled:
        return "skip", DISABLED_REASON
    absent = scenario.missing_interpreter()
    if absent is not None:
        return "skip", f"needs CPython {absent}, which is not installed"
    missing = missing_flags(scenario)
    if missing:
        needed = " ".join(a for f in scenario.flags() if f.name in missing for a in f.args)
        whys = "; ".join(MISSING_FLAGS[name].why for name in missing)
        return (
            "xfail",
            f"`{_verb(scenario)}` has no {', '.join(missing)} (needs `{needed}`): {whys}",
        )
    if scenario.id in KNOWN_WRONG:
        return "xfail", KNOWN_WRONG[scenario.id].reason()
    return "pass", None


def planned_xfail(scenario: Scenario) -> bool:
    """Whether the scenario is an expected failure wherever it can run."""
    return not scenario.disabled and (bool(missing_flags(scenario)) or scenario.id in KNOWN_WRONG)


# -- README tables ---------------------------------------------------------------------------


def _expected_words(scenario: Scenario) -> str:
    if not scenario.expected.satisfiable:
        return "no resolution (an error)"
    if not scenario.expected.packages:
        return "a resolution"
    return ", ".join(f"{n} {v}" for n, v in sorted(scenario.expected_set().items()))


def _row(*cells: str) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def render_failures(scenarios: Iterable[Scenario]) -> str:
    """The README's known-failure tables, one per group, in `GROUPS` order."""
    rows: dict[str, list[str]] = {group: [] for group in GROUPS}
    for scenario in scenarios:
        if not planned_xfail(scenario):
            continue
        missing = missing_flags(scenario)
        if missing:
            needed = " ".join(a for f in scenario.flags() if f.name in missing for a in f.args)
            group = MISSING_FLAGS[missing[0]].group
            cells = (
                f"rejects `{needed}` (usage error)",
                _expected_words(scenario),
                "; ".join(MISSING_FLAGS[name].why for name in missing),
            )
        else:
            wrong = KNOWN_WRONG[scenario.id]
            group = wrong.group
            cells = (wrong.kiln, wrong.expected, wrong.why)
        rows[group].append(_row(f"`{scenario.id}`", scenario.mode, *cells))
    parts = []
    for group, title in GROUPS.items():
        parts.append(f"### {title} ({len(rows[group])})\n")
        if rows[group]:
            parts.append(_row("scenario", "mode", "kiln does", "expected", "why"))
            parts.append("|---|---|---|---|---|")
            parts += rows[group]
        else:
            parts.append("None.")
        parts.append("")
    return "\n".join(parts)


def render_counts(scenarios: Iterable[Scenario]) -> str:
    """The README's counts table: per category and mode, then per mode, then in all."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for scenario in scenarios:
        kind, _ = outcome(scenario)
        for key in (
            (scenario.category, scenario.mode),
            (f"**{scenario.mode}**", ""),
            ("**all**", ""),
        ):
            counts[(*key, kind)] += 1
    keys = sorted({(c, m) for c, m, _ in counts if not c.startswith("**")})
    keys += [(f"**{mode}**", "") for mode in MODES] + [("**all**", "")]
    lines = [
        "| category | mode | total | pass | skip | xfail |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for category, mode in keys:
        got = [counts[(category, mode, kind)] for kind in ("pass", "skip", "xfail")]
        lines.append(_row(category, mode, str(sum(got)), *map(str, got)))
    return "\n".join(lines)


if __name__ == "__main__":
    from tests.scenarios.packse import SCENARIOS_DIR, load_scenarios

    found = load_scenarios(SCENARIOS_DIR)
    print(render_counts(found))
    print()
    print(render_failures(found))
