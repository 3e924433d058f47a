"""Marker algebra: intersection, union, complement, emptiness and implication of PEP 508 markers.

Our own, not `dep-logic`. Checked against brute-force evaluation over every combination of
platform, Python and extras, `dep-logic` 0.7.2 gave wrong answers:
``python_full_version >= '3.12' and python_version ~= '3.9'`` became
``python_full_version ~= "3.12.0"`` (which drops Python 3.13), and
``python_version in '3.10 3.11'`` raised instead of answering. It treats ``sys_platform`` and
``platform_system`` as unrelated, so ``platform_system != 'Darwin'`` (seed S2's source
marker) overlaps ``sys_platform == 'darwin'`` for it, and a universal lock asks exactly that.
It would also be a runtime dependency beyond those kiln allows.

The model: a marker is a disjunction of clauses; a clause constrains each variable to a set.
``python_version`` and ``python_full_version`` share one set of release versions (3.12 is
``[3.12, 3.13)``), string variables to a finite or co-finite set of values, ``extras`` /
``dependency_groups`` / ``extra`` to names that must be present or absent. Any other
comparison (``'linux' in sys_platform``, ``platform_release >= '5'``, pre-release literals) is
kept verbatim as an opaque atom, related only to its own opposite. Answers hold for real
CPython environments: final Python releases; ``sys_platform``, ``platform_system`` and
``os_name`` in agreement (linux/Linux/posix, darwin/Darwin/posix, win32/Windows/nt, or none of
those). Emptiness is exact inside that model and cautious outside it (an opaque atom can be
true anywhere, `extra` and `extras` are separate variables). `complement` fails only for atoms
without a written opposite (``===``, or ``<`` / ``>`` on a plain string variable).

Results are `packaging.markers.Marker` values; ``None`` means "always". The never-true marker
is `NEVER`. `evaluate` reads ``extras`` and ``dependency_groups`` as sets (PEP 751), and an
``extra == 'x'`` atom as ``'x' in extras``, so a lock's markers evaluate the same way whether
written with the one or the other.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Union

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.errors import KilnError
from kiln.core.records import record, replace

__all__ = [
    "NEVER",
    "MarkerError",
    "assume_extra",
    "complement",
    "disjoint",
    "evaluate",
    "implies",
    "intersect",
    "is_empty",
    "is_universal",
    "python_floor",
    "requires_python_marker",
    "simplify",
    "union",
    "within",
]

NEVER = Marker("python_version < '0'")


class MarkerError(KilnError):
    """A marker the algebra cannot write (only `complement` raises it)."""


# -- sets of values, one kind per variable kind -------------------------------------------------

Release = tuple[int, ...]  # trailing zeros stripped: 3.12.0 -> (3, 12)
# (low, low inclusive, high or None for no bound, high inclusive)
Span = tuple[Release, bool, Union[Release, None], bool]  # noqa: UP007 (a runtime alias)


def _strip(release: Release) -> Release:
    end = len(release)
    while end and release[end - 1] == 0:
        end -= 1
    return release[:end]


def _span_empty(s: Span) -> bool:
    lo, lo_in, hi, hi_in = s
    return hi is not None and (lo > hi or (lo == hi and not (lo_in and hi_in)))


def _normalize(spans: list[Span]) -> tuple[Span, ...]:
    spans = sorted((s for s in spans if not _span_empty(s)), key=lambda s: (s[0], not s[1]))
    out: list[Span] = []
    for s in spans:
        if out:
            lo, lo_in, hi, hi_in = out[-1]
            touches = hi is None or s[0] < hi or (s[0] == hi and (hi_in or s[1]))
            if touches:
                if hi is not None and (s[2] is None or (s[2], s[3]) > (hi, hi_in)):
                    out[-1] = (lo, lo_in, s[2], s[3])
                continue
        out.append(s)
    return tuple(out)


@record
class Versions:
    """Python versions as disjoint spans of releases."""

    spans: tuple[Span, ...]

    def __and__(self, other: Versions) -> Versions:
        out: list[Span] = []
        for a in self.spans:
            for b in other.spans:
                lo = max((a[0], not a[1]), (b[0], not b[1]))
                if a[2] is None or (b[2] is not None and (b[2], b[3]) < (a[2], a[3])):
                    hi: tuple[Release | None, bool] = (b[2], b[3])
                else:
                    hi = (a[2], a[3])
                out.append((lo[0], not lo[1], hi[0], hi[1]))
        return Versions(_normalize(out))

    def __or__(self, other: Versions) -> Versions:
        return Versions(_normalize([*self.spans, *other.spans]))

    def __invert__(self) -> Versions:
        out: list[Span] = []
        lo: Release = ()
        lo_in = True
        for s in self.spans:
            out.append((lo, lo_in, s[0], not s[1]))
            if s[2] is None:
                return Versions(_normalize(out))
            lo, lo_in = s[2], not s[3]
        out.append((lo, lo_in, None, False))
        return Versions(_normalize(out))

    def empty(self) -> bool:
        return not self.spans

    def full(self) -> bool:
        return self.spans == (((), True, None, False),)

    def size(self) -> int:
        return sum((s[0] != () or not s[1]) + (s[2] is not None) for s in self.spans)

    def render(self, _var: str) -> str:
        inverse = (~self).spans
        if len(inverse) == 1 and _bucket(inverse[0]):
            return f"python_full_version != '{_text(inverse[0][0], 2)}.*'"
        if len(inverse) == 1 and inverse[0][0] == inverse[0][2]:
            return f"python_full_version != '{_text(inverse[0][0])}'"
        parts = [_render_span(s) for s in self.spans]
        if len(parts) == 1:
            return parts[0]
        return "(" + " or ".join(f"({p})" if " and " in p else p for p in parts) + ")"


def _text(release: Release, width: int = 1) -> str:
    return ".".join(map(str, release + (0,) * (width - len(release)))) if release else "0"


def _bucket(s: Span) -> bool:
    """Whether ``s`` is exactly one minor version, ``[a.b, a.b+1)``."""
    lo, lo_in, hi, hi_in = s
    if not lo_in or hi is None or hi_in or len(lo) > 2:
        return False
    a, b = (*lo, 0, 0)[:2]
    return hi == _strip((a, b + 1))


def _render_span(s: Span) -> str:
    lo, lo_in, hi, hi_in = s
    # Written as uv writes them: every bound on `python_full_version`, a minor as `3.10.*`.
    if _bucket(s):
        return f"python_full_version == '{_text(lo, 2)}.*'"
    if lo == hi:
        return f"python_full_version == '{_text(lo, 3)}'"
    parts = []
    if lo != () or not lo_in:
        parts.append(f"python_full_version {'>=' if lo_in else '>'} '{_text(lo, 2)}'")
    if hi is not None:
        parts.append(f"python_full_version {'<=' if hi_in else '<'} '{_text(hi, 2)}'")
    return " and ".join(parts)


@record
class Strings:
    """A finite set of values, or (``negated``) everything but them."""

    values: frozenset[str]
    negated: bool

    def __and__(self, other: Strings) -> Strings:
        if self.negated and other.negated:
            return Strings(self.values | other.values, True)
        if self.negated:
            return Strings(other.values - self.values, False)
        if other.negated:
            return Strings(self.values - other.values, False)
        return Strings(self.values & other.values, False)

    def __or__(self, other: Strings) -> Strings:
        return ~(~self & ~other)

    def __invert__(self) -> Strings:
        return Strings(self.values, not self.negated)

    def empty(self) -> bool:
        return not self.values and not self.negated

    def full(self) -> bool:
        return not self.values and self.negated

    def size(self) -> int:
        return len(self.values)

    def allows(self, value: str) -> bool:
        return (value in self.values) != self.negated

    def allows_other_than(self, known: frozenset[str]) -> bool:
        return self.negated or bool(self.values - known)

    def render(self, var: str) -> str:
        op, join = ("!=", " and ") if self.negated else ("==", " or ")
        parts = [f"{var} {op} {_quote(v)}" for v in sorted(self.values)]
        text = join.join(parts)
        return f"({text})" if len(parts) > 1 and not self.negated else text


@record
class Members:
    """Names that must be in (``present``) or out of (``absent``) a set-valued variable."""

    present: frozenset[str]
    absent: frozenset[str]

    def __and__(self, other: Members) -> Members:
        return Members(self.present | other.present, self.absent | other.absent)

    def __or__(self, other: Members) -> Members | None:
        if self.within(other):
            return other
        if other.within(self):
            return self
        flipped = (self.present ^ other.present) | (self.absent ^ other.absent)
        if len(flipped) == 1 and (self.present ^ other.present) == (self.absent ^ other.absent):
            return Members(self.present - flipped, self.absent - flipped)
        return None

    def negations(self) -> list[Members]:
        return [Members(frozenset(), frozenset({n})) for n in sorted(self.present)] + [
            Members(frozenset({n}), frozenset()) for n in sorted(self.absent)
        ]

    def within(self, other: Members) -> bool:
        return other.present <= self.present and other.absent <= self.absent

    def empty(self) -> bool:
        return bool(self.present & self.absent)

    def full(self) -> bool:
        return not self.present and not self.absent

    def size(self) -> int:
        return len(self.present) + len(self.absent)

    def render(self, var: str) -> str:
        if var == "extra":
            parts = [f"extra == {_quote(n)}" for n in sorted(self.present)]
            parts += [f"extra != {_quote(n)}" for n in sorted(self.absent)]
        else:
            parts = [f"{_quote(n)} in {var}" for n in sorted(self.present)]
            parts += [f"{_quote(n)} not in {var}" for n in sorted(self.absent)]
        return " and ".join(parts)


@record
class Opaque:
    """An atom the algebra does not look into: true, false, or either."""

    text: str
    opposite: str | None
    truths: frozenset[bool]

    def __and__(self, other: Opaque) -> Opaque:
        return replace(self, truths=self.truths & other.truths)

    def __or__(self, other: Opaque) -> Opaque:
        return replace(self, truths=self.truths | other.truths)

    def __invert__(self) -> Opaque:
        return replace(self, truths=frozenset({True, False}) - self.truths)

    def empty(self) -> bool:
        return not self.truths

    def full(self) -> bool:
        return len(self.truths) == 2

    def size(self) -> int:
        return 1

    def render(self, _var: str) -> str:
        if True in self.truths:
            return self.text
        if self.opposite is None:
            raise MarkerError(
                f"cannot negate the marker `{self.text}`",
                hint="write the opposite condition out in full",
            )
        return self.opposite


Constraint = Union[Versions, Strings, Members, Opaque]  # noqa: UP007 (a runtime alias)


def _subset(a: Constraint, b: Constraint) -> bool:
    if isinstance(a, Members) and isinstance(b, Members):
        return a.empty() or a.within(b)
    if isinstance(a, Versions) and isinstance(b, Versions):
        return (a & ~b).empty()
    if isinstance(a, Strings) and isinstance(b, Strings):
        return (a & ~b).empty()
    if isinstance(a, Opaque) and isinstance(b, Opaque):
        return a.truths <= b.truths
    return False


def _meet(a: Constraint, b: Constraint) -> Constraint:
    if isinstance(a, Versions) and isinstance(b, Versions):
        return a & b
    if isinstance(a, Strings) and isinstance(b, Strings):
        return a & b
    if isinstance(a, Members) and isinstance(b, Members):
        return a & b
    assert isinstance(a, Opaque) and isinstance(b, Opaque)
    return a & b


def _join(a: Constraint, b: Constraint) -> Constraint | None:
    if isinstance(a, Versions) and isinstance(b, Versions):
        return a | b
    if isinstance(a, Strings) and isinstance(b, Strings):
        return a | b
    if isinstance(a, Members) and isinstance(b, Members):
        return a | b
    assert isinstance(a, Opaque) and isinstance(b, Opaque)
    return a | b


def _negations(c: Constraint) -> list[Constraint]:
    if isinstance(c, Members):
        return list(c.negations())
    return [~c]


# -- clauses and disjunctions -------------------------------------------------------------------

# Rendering order inside a clause: what selects a variant first, then platform, then Python.
_ORDER = (
    "extras",
    "dependency_groups",
    "extra",
    "sys_platform",
    "platform_system",
    "platform_machine",
    "os_name",
    "implementation_name",
    "platform_python_implementation",
    "platform_version",
    "python",
)
_RANK = {key: i for i, key in enumerate(_ORDER)}


@record
class _Clause:
    """A conjunction: one constraint per variable; a variable left out is unconstrained."""

    items: tuple[tuple[str, Constraint], ...]

    @classmethod
    def of(cls, constraints: Mapping[str, Constraint]) -> _Clause:
        kept = [(k, c) for k, c in constraints.items() if not c.full()]
        return cls(tuple(sorted(kept, key=lambda kc: (_RANK.get(kc[0], len(_ORDER)), kc[0]))))

    def as_dict(self) -> dict[str, Constraint]:
        return dict(self.items)


_ALWAYS = _Clause(())
Dnf = tuple[_Clause, ...]

# CPython reports these together; any other platform uses none of these three names.
_PLATFORMS = (
    ("linux", "Linux", "posix"),
    ("darwin", "Darwin", "posix"),
    ("win32", "Windows", "nt"),
)
_KNOWN_SYS = frozenset(p[0] for p in _PLATFORMS)
_KNOWN_SYSTEM = frozenset(p[1] for p in _PLATFORMS)
_SYSTEM_TO_SYS = {p[1]: p[0] for p in _PLATFORMS}
_ANY_STRING = Strings(frozenset(), True)


def _clause_empty(clause: _Clause) -> bool:
    return _constraints_empty(clause.as_dict())


def _constraints_empty(d: Mapping[str, Constraint]) -> bool:
    if any(c.empty() for c in d.values()):
        return True
    keys = ("sys_platform", "platform_system", "os_name")
    if sum(k in d for k in keys) < 2:
        return False
    sys_, system, os_ = (d.get(k, _ANY_STRING) for k in keys)
    assert isinstance(sys_, Strings) and isinstance(system, Strings) and isinstance(os_, Strings)
    if any(sys_.allows(s) and system.allows(p) and os_.allows(o) for s, p, o in _PLATFORMS):
        return False
    return not (sys_.allows_other_than(_KNOWN_SYS) and system.allows_other_than(_KNOWN_SYSTEM))


def _conj(a: _Clause, b: _Clause) -> _Clause:
    merged = a.as_dict()
    for key, c in b.items:
        merged[key] = _meet(merged[key], c) if key in merged else c
    return _Clause.of(merged)


def _conj_empty(a: _Clause, b: _Clause) -> bool:
    """Whether ``a and b`` holds nowhere, without making the clause."""
    merged = a.as_dict()
    for key, c in b.items:
        merged[key] = _meet(merged[key], c) if key in merged else c
    return _constraints_empty(merged)


def _within(a: _Clause, b: _Clause) -> bool:
    da = a.as_dict()
    return all(key in da and _subset(da[key], c) for key, c in b.items)


def _without(clause: _Clause, key: str) -> _Clause:
    return _Clause(tuple(kc for kc in clause.items if kc[0] != key))


def _simplify(clauses: Dnf | list[_Clause]) -> Dnf:
    return _simplified(tuple(clauses))


# A lock asks for the same simplification again and again (541 calls, 177 distinct inputs in
# the seed's S4 lock), through `_and`, `_or` and parsing alike: each is worked out once.
@functools.lru_cache(maxsize=8192)
def _simplified(clauses: tuple[_Clause, ...]) -> Dnf:
    work = list(dict.fromkeys(c for c in clauses if not _clause_empty(c)))
    while True:
        if _ALWAYS in work:
            return (_ALWAYS,)
        step = _drop_subsumed(work) or _merge_pair(work) or _widen(work)
        if step is None:
            return tuple(sorted(work, key=_clause_text))
        work = list(dict.fromkeys(step))


def _drop_subsumed(work: list[_Clause]) -> list[_Clause] | None:
    for i, c in enumerate(work):
        for j, d in enumerate(work):
            if i != j and _within(c, d) and (j < i or not _within(d, c)):
                return work[:i] + work[i + 1 :]
    return None


def _merge_pair(work: list[_Clause]) -> list[_Clause] | None:
    """``(P and x in A) or (P and x in B)`` -> ``P and x in A|B``."""
    for i, c in enumerate(work):
        for j in range(i + 1, len(work)):
            dc, dd = c.as_dict(), work[j].as_dict()
            differ = [k for k in dc.keys() | dd.keys() if dc.get(k) != dd.get(k)]
            if len(differ) != 1 or differ[0] not in dc or differ[0] not in dd:
                continue
            joined = _join(dc[differ[0]], dd[differ[0]])
            if joined is not None:
                dc[differ[0]] = joined
                rest = [w for k, w in enumerate(work) if k not in (i, j)]
                return [*rest, _Clause.of(dc)]
    return None


def _widen(work: list[_Clause]) -> list[_Clause] | None:
    """``(P and x in A) or (Q and x in B)`` with Q within P: the second may take ``x in A|B``,
    since the part it gains is covered by the first (``a or (not a and b)`` -> ``a or b``)."""
    for i, c in enumerate(work):
        dc = c.as_dict()
        for j, d in enumerate(work):
            if i == j:
                continue
            dd = d.as_dict()
            for key, mine in dd.items():
                if key not in dc or not _within(_without(d, key), _without(c, key)):
                    continue
                joined = _join(dc[key], mine)
                if joined is None or joined == mine or joined.size() > mine.size():
                    continue
                dd[key] = joined
                return [*work[:j], _Clause.of(dd), *work[j + 1 :]]
    return None


@functools.lru_cache(maxsize=4096)
def _and(a: Dnf, b: Dnf) -> Dnf:
    return _simplify([_conj(x, y) for x in a for y in b])


def _or(a: Dnf, b: Dnf) -> Dnf:
    return _simplify([*a, *b])


@functools.lru_cache(maxsize=4096)
def _meets(a: Dnf, b: Dnf) -> bool:
    """Whether ``a and b`` holds somewhere: `_and` without the simplification that only a
    result that is kept needs. Simplifying drops empty clauses and never empties what is
    left, so the two agree; most of what the universal resolver asks is this question."""
    return any(not _conj_empty(x, y) for x in a for y in b)


@functools.lru_cache(maxsize=1024)
def _not(a: Dnf) -> Dnf:
    result: Dnf = (_ALWAYS,)
    for clause in a:
        alternatives = [
            _Clause.of({key: negated}) for key, c in clause.items for negated in _negations(c)
        ]
        result = _and(result, _simplify(alternatives))
        if not result:
            break
    return result


# -- from and to marker text --------------------------------------------------------------------

_STRING_VARS = frozenset(
    {
        "sys_platform",
        "platform_system",
        "platform_machine",
        "os_name",
        "implementation_name",
        "platform_python_implementation",
        "platform_version",
    }
)
_SET_VARS = frozenset({"extras", "dependency_groups"})
_VERSION_VARS = frozenset(
    {"python_version", "python_full_version", "implementation_version", "platform_release"}
)
_OPPOSITE = {"==": "!=", "!=": "==", "in": "not in", "not in": "in"}
_ORDERED_OPPOSITE = {"<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_POSITIVE = frozenset({"==", "in", "<", ">"})


def _quote(value: str) -> str:
    return f'"{value}"' if "'" in value else f"'{value}'"


def _bump(release: Release) -> Release:
    return (*release[:-1], release[-1] + 1)


def _python(var: str, op: str, value: str) -> Versions | None:
    """The releases an atom on ``python_version`` / ``python_full_version`` admits, or None
    when the atom is outside the model (pre-release literals, ``===``, reversed operands)."""
    wildcard = value.endswith(".*")
    if wildcard and op not in ("==", "!="):
        return None
    try:
        version = Version(value[:-2] if wildcard else value)
    except InvalidVersion:
        return None
    if version.pre or version.dev is not None:
        # A lock serves final Pythons: `<= '3.11.0a6'` (coverage's marker for tomli) holds
        # on 3.11.0 exactly as uv reads it, by the release alone.
        version = Version(version.base_version)
    if version.epoch or version.post is not None:
        return None
    if version.local is not None:
        return None
    r = version.release
    s = _strip(r)
    spans: list[Span]
    if op in ("==", "!="):
        spans = [(s, True, _strip(_bump(r)), False)] if wildcard else [(s, True, s, True)]
    elif op == "~=" and len(r) >= 2:
        spans = [(s, True, _strip(_bump(r[:-1])), False)]
    elif op in ("<", "<="):
        spans = [((), True, s, op == "<=")]
    elif op in (">", ">="):
        spans = [(s, op == ">=", None, False)]
    else:
        return None
    versions = Versions(_normalize(spans))
    if op == "!=":
        versions = ~versions
    if var == "python_version":
        # python_version is "major.minor": an atom holds for whole minor versions at a time.
        versions = Versions(
            _normalize(
                [
                    (
                        _minor_ceiling(lo, lo_in),
                        True,
                        None if hi is None else _minor_ceiling(hi, not hi_in),
                        False,
                    )
                    for lo, lo_in, hi, hi_in in versions.spans
                ]
            )
        )
    return versions


def _minor_ceiling(release: Release, inclusive: bool) -> Release:
    """The lowest ``a.b`` at or above (``inclusive``) or strictly above ``release``."""
    a, b, *rest = (*release, 0, 0)
    return _strip((a, b)) if inclusive and not any(rest) else _strip((a, b + 1))


def _atom(lhs: object, op: str, rhs: object) -> tuple[str, Constraint]:
    left_var = type(lhs).__name__ == "Variable"
    right_var = type(rhs).__name__ == "Variable"
    left, right = str(lhs), str(rhs)
    if left_var != right_var:
        var, value = (left, right) if left_var else (right, left)
        if var in _SET_VARS and right_var and op in ("in", "not in"):
            name = frozenset({canonicalize_name(value)})
            return var, Members(name, frozenset()) if op == "in" else Members(frozenset(), name)
        if var == "extra" and op in ("==", "!="):
            name = frozenset({canonicalize_name(value)})
            return var, Members(name, frozenset()) if op == "==" else Members(frozenset(), name)
        if var == "platform_system" and value in _SYSTEM_TO_SYS and op in ("==", "!="):
            # The same fact, written as uv writes it in a lock.
            return "sys_platform", Strings(frozenset({_SYSTEM_TO_SYS[value]}), op == "!=")
        if var in _STRING_VARS and op in ("==", "!="):
            return var, Strings(frozenset({value}), op == "!=")
        if var in ("python_version", "python_full_version") and left_var:
            versions = _python(var, op, value)
            if versions is not None:
                return "python", versions
    return _opaque(left, op, right, left_var, right_var)


def _opaque(left: str, op: str, right: str, left_var: bool, right_var: bool) -> tuple[str, Opaque]:
    def text(operator: str) -> str:
        a = left if left_var else _quote(left)
        b = right if right_var else _quote(right)
        return f"{a} {operator} {b}"

    var = left if left_var else right
    opposite = _OPPOSITE.get(op)
    if opposite is None and var in _VERSION_VARS:
        opposite = _ORDERED_OPPOSITE.get(op)
    if opposite is not None and op not in _POSITIVE:
        op, opposite = opposite, op
        atom = Opaque(text(op), text(opposite), frozenset({False}))
    else:
        opposite_text = text(opposite) if opposite is not None else None
        atom = Opaque(text(op), opposite_text, frozenset({True}))
    return "?" + atom.text, atom


def _from_tree(items: Sequence[object]) -> Dnf:
    alternatives: list[_Clause] = []
    current: Dnf = (_ALWAYS,)
    for item in items:
        if item == "or":
            alternatives.extend(current)
            current = (_ALWAYS,)
        elif isinstance(item, list):
            current = _and(current, _from_tree(item))
        elif isinstance(item, tuple):
            lhs, op, rhs = item
            key, constraint = _atom(lhs, str(op), rhs)
            current = _and(current, (_Clause.of({key: constraint}),))
    alternatives.extend(current)
    return _simplify(alternatives)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Dnf:
    return _from_tree(marker_of(text)._markers)


def _dnf(marker: Marker | None) -> Dnf:
    if marker is None:
        return (_ALWAYS,)
    rendered = _RENDERED.get(id(marker))
    if rendered is not None and rendered[0] is marker:
        return rendered[1]
    return _parse(str(marker))


# The clauses each marker `_render` made stands for, by the marker's identity (the marker is
# held, so its id is not reused): most markers the algebra meets are its own results, and
# reading one back parsed its text again. Rendering loses nothing that parsing restores.
_RENDERED: dict[int, tuple[Marker, Dnf]] = {}


def _clause_parts(clause: _Clause) -> list[str]:
    return [c.render(key) for key, c in clause.items]


def _clause_text(clause: _Clause) -> str:
    return " and ".join(_clause_parts(clause))


def _unwrap(part: str) -> str:
    return part[1:-1] if part.startswith("(") else part


@functools.lru_cache(maxsize=4096)
def _render(clauses: Dnf) -> Marker | None:
    if not clauses:
        return NEVER
    if _ALWAYS in clauses:
        return None
    texts = []
    for clause in clauses:
        parts = _clause_parts(clause)
        # A lone "(a or b)" needs no parentheses of its own in a disjunction, nor alone.
        texts.append(_unwrap(parts[0]) if len(parts) == 1 else " and ".join(parts))
    if len(texts) == 1:
        marker = marker_of(texts[0])
    else:
        marker = marker_of(" or ".join(f"({t})" if " and " in t else t for t in sorted(texts)))
    if len(_RENDERED) >= 16384:
        _RENDERED.clear()
    _RENDERED.setdefault(id(marker), (marker, clauses))
    return marker


@functools.lru_cache(maxsize=4096)
def marker_of(text: str) -> Marker:
    """``Marker(text)``, parsed once per text."""
    # A lock's regions and dependency conditions render to the same few hundred texts
    # over and over; parsing each once halves the marker algebra's time. Markers are
    # never changed after they are made, so one object can serve every caller.
    return Marker(text)


# -- the public algebra -------------------------------------------------------------------------


def intersect(a: Marker | None, b: Marker | None) -> Marker | None:
    """Where both hold; `NEVER` when nowhere, None when everywhere."""
    return _render(_and(_dnf(a), _dnf(b)))


def union(a: Marker | None, b: Marker | None) -> Marker | None:
    return _render(_or(_dnf(a), _dnf(b)))


def union_all(markers: Iterable[Marker | None]) -> Marker | None:
    """Where any of ``markers`` holds (`NEVER` for none): `union` of them all, rendered
    once instead of once per step."""
    clauses: Dnf = ()
    for m in markers:
        clauses = _or(clauses, _dnf(m))
    return _render(clauses)


def complement(a: Marker | None) -> Marker | None:
    """Where ``a`` does not hold. Raises `MarkerError` for an opaque atom with no opposite."""
    return _render(_not(_dnf(a)))


def simplify(m: Marker | None) -> Marker | None:
    return _render(_dnf(m))


def is_empty(m: Marker | None) -> bool:
    """True when no environment satisfies ``m``."""
    return m is not None and not _dnf(m)


def is_universal(m: Marker | None) -> bool:
    return m is None or not _not(_dnf(m))


def implies(a: Marker | None, b: Marker | None) -> bool:
    """Every environment where ``a`` holds also satisfies ``b``."""
    return b is None or not _meets(_dnf(a), _not(_dnf(b)))


def disjoint(a: Marker | None, b: Marker | None) -> bool:
    return not _meets(_dnf(a), _dnf(b))


def requires_python_marker(spec: SpecifierSet) -> Marker | None:
    """``>=3.12`` -> ``python_version >= '3.12'``; None for an empty specifier set."""
    clauses: Dnf = (_ALWAYS,)
    for s in sorted(spec, key=str):
        clauses = _and(clauses, _parse(f"python_full_version {s.operator} {_quote(s.version)}"))
    return _render(clauses)


def evaluate(
    m: Marker | None,
    env: Mapping[str, str],
    *,
    extras: frozenset[str] = frozenset(),
    groups: frozenset[str] = frozenset(),
) -> bool:
    """Whether ``m`` holds in ``env`` with these extras and dependency groups selected."""
    if m is None:
        return True
    values: dict[str, str | frozenset[str]] = dict(env)
    values["extras"] = frozenset(canonicalize_name(e) for e in extras)
    values["dependency_groups"] = frozenset(canonicalize_name(g) for g in groups)
    values.setdefault("extra", "")
    try:
        return _as_lock_marker(str(m)).evaluate(values, "lock_file")
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise MarkerError(
            f"cannot evaluate the marker `{m}`",
            causes=(str(exc),),
            hint="check the marker against PEP 508",
        ) from None


@functools.lru_cache(maxsize=4096)
def _as_lock_marker(text: str) -> Marker:
    """``extra == 'x'`` read as ``'x' in extras``: the one set of extras a lock is used with."""
    marker = Marker(text)
    if "extra" not in text:
        return marker
    return Marker(_tree_text(marker._markers))


def _tree_text(items: Sequence[object]) -> str:
    parts: list[str] = []
    for item in items:
        if isinstance(item, list):
            parts.append(f"({_tree_text(item)})")
        elif isinstance(item, tuple):
            lhs, op, rhs = item
            sides = {type(lhs).__name__: str(lhs), type(rhs).__name__: str(rhs)}
            if sides.get("Variable") == "extra" and str(op) in ("==", "!=") and "Value" in sides:
                name = _quote(canonicalize_name(sides["Value"]))
                parts.append(f"{name} {'in' if str(op) == '==' else 'not in'} extras")
            else:
                parts.append(" ".join(_side(x) for x in (lhs, op, rhs)))
        else:
            parts.append(str(item))
    return " ".join(parts)


def _side(node: object) -> str:
    return _quote(str(node)) if type(node).__name__ == "Value" else str(node)


# -- questions the universal resolver asks of a region -----------------------------------------


def python_floor(m: Marker | None) -> Version | None:
    """The lowest Python release where ``m`` can hold (``0`` when unbounded below), or None
    when ``m`` holds nowhere."""
    clauses = _dnf(m)
    if not clauses:
        return None
    lows: list[Release] = []
    for clause in clauses:
        versions = clause.as_dict().get("python")
        if isinstance(versions, Versions) and versions.spans:
            lows.append(versions.spans[0][0])
        else:
            lows.append(())
    low = min(lows)
    return Version(_text(low, 2))


def assume_extra(m: Marker | None, extra: str | None) -> Marker | None:
    """``m`` as a dependency of a package installed with ``extra`` (None: the package itself),
    its ``extra`` atoms decided the way installers decide them: ``extra == 'x'`` holds only for
    ``x``. What is left speaks of the environment alone."""
    if m is None or "extra" not in str(m):
        return m
    name = canonicalize_name(extra) if extra else None
    kept: list[_Clause] = []
    for clause in _dnf(m):
        constraint = clause.as_dict().get("extra")
        if isinstance(constraint, Members):
            if not constraint.present <= ({name} if name else set()):
                continue
            if name is not None and name in constraint.absent:
                continue
            clause = _without(clause, "extra")
        kept.append(clause)
    return _render(_simplify(kept))


def within(m: Marker | None, context: Marker | None) -> Marker | None:
    """A marker that agrees with ``m`` everywhere in ``context``, with what ``context`` already
    says left out: a lock for ``requires-python >= 3.9`` writes no ``python >= 3.9`` of its own."""
    clauses = _dnf(m)
    if not clauses:
        return NEVER
    ctx = _dnf(context)
    target = _and(clauses, ctx)
    if not _meets(ctx, _not(target)):
        return None
    outside = ~_python_hull(ctx)
    out: list[_Clause] = []
    for clause in clauses:
        for key, constraint in clause.items:
            tries = [_without(clause, key)]
            if isinstance(constraint, Members):
                # One name at a time: `'a' in extras and 'b' not in extras` may need only `a`.
                for name in sorted(constraint.present | constraint.absent):
                    fewer = Members(constraint.present - {name}, constraint.absent - {name})
                    tries.append(_Clause.of({**clause.as_dict(), key: fewer}))
            if isinstance(constraint, Versions):
                # Python bounds the context already sets: widen past them, where that
                # makes the bound simpler (`>= 3.9, < 3.11` within `>= 3.9` is `< 3.11`).
                wider = constraint | outside
                if wider.size() < constraint.size():
                    tries.append(_Clause.of({**clause.as_dict(), key: wider}))
            for loose in tries:
                if not _meets(_and((loose,), ctx), _not(target)):
                    clause = loose
                    break
        out.append(clause)
    if len(out) > 1:
        # Whole clauses the others already cover within the context.
        for i in range(len(out) - 1, -1, -1):
            rest = tuple(out[:i] + out[i + 1 :])
            if not _meets(_and(target, ctx), _not(_simplify(list(rest)))):
                del out[i]
    return _render(_simplify(out))


def _python_hull(clauses: Dnf) -> Versions:
    hull = Versions(())
    for clause in clauses:
        versions = clause.as_dict().get("python", Versions((((), True, None, False),)))
        assert isinstance(versions, Versions)
        hull = hull | versions
    return hull
