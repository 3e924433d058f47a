"""Records behave as the dataclasses they replace, shape by shape, and refuse what would
make them differ."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest

from kiln.core.records import FrozenRecordError, field, fields, is_record, record, replace


def _pair(frozen: bool = True, eq: bool = True) -> tuple[type[Any], type[Any]]:
    """The same class body made once as a record and once as a dataclass."""

    def body(make_field: Any) -> type[Any]:
        class Shape:
            """A shape."""

            limit: ClassVar[int] = 3
            name: str
            size: int = 1
            tags: tuple[str, ...] = ()
            notes: list[str] = make_field(default_factory=list, compare=False)
            hidden: str = make_field(default="h", repr=False)
            loose: int = make_field(default=0, hash=False)

            def area(self) -> int:
                return self.size * self.size

        return Shape

    made = record(frozen=frozen, eq=eq)(body(field))
    return made, dataclasses.dataclass(frozen=frozen, eq=eq)(body(dataclasses.field))


@pytest.mark.parametrize(("frozen", "eq"), [(True, True), (False, True), (True, False)])
def test_a_record_behaves_as_the_dataclass(frozen: bool, eq: bool) -> None:
    rec, dc = _pair(frozen, eq)
    for args, kwargs in [
        (("a",), {}),
        (("a", 2), {"tags": ("x",)}),
        ((), {"name": "b", "notes": ["n"], "hidden": "z", "loose": 5}),
    ]:
        r1, r2, d1, d2 = (
            rec(*args, **kwargs),
            rec(*args, **kwargs),
            dc(*args, **kwargs),
            dc(*args, **kwargs),
        )
        assert vars(r1) == vars(d1)
        assert repr(r1).replace("Shape", "") == repr(d1).replace("Shape", "")
        assert (r1 == r2) == (d1 == d2)
        assert (r1 != r2) == (d1 != d2)
        assert r1.area() == d1.area()
        assert (rec.__hash__ is None) == (dc.__hash__ is None)
        if eq and frozen:
            assert hash(r1) == hash(r2)
    assert [f.name for f in fields(rec)] == [f.name for f in dataclasses.fields(dc)]
    assert rec.__match_args__ == dc.__match_args__
    assert rec.limit == 3 and "limit" not in {f.name for f in fields(rec)}
    assert rec("a").notes is not rec("a").notes  # a new list each time


def test_equality_ignores_uncompared_fields_and_hash_ignores_unhashed_ones() -> None:
    rec, _ = _pair()
    assert rec("a", notes=["x"]) == rec("a", notes=["y"])
    assert rec("a", loose=1) != rec("a", loose=2)
    assert hash(rec("a", loose=1)) == hash(rec("a", loose=2))
    assert rec("a") != rec("b")
    other, _ = _pair()
    assert rec("a") != other("a")  # equality is between instances of the very same class


def test_frozen_refuses_assignment_and_deletion() -> None:
    rec, _ = _pair()
    shape = rec("a")
    with pytest.raises(FrozenRecordError, match="'size'"):
        shape.size = 2
    with pytest.raises(AttributeError):
        del shape.name
    mutable, _ = _pair(frozen=False)
    changing = mutable("a")
    changing.size = 4
    assert changing.area() == 16


def test_a_subclass_that_is_no_record_keeps_attributes_of_its_own() -> None:
    @record
    class Base:
        """A base."""

        value: int

    class Lazy(Base):
        def __init__(self, source: str) -> None:
            self.source = source

    assert Lazy("s").source == "s"
    with pytest.raises(FrozenRecordError):
        Lazy("s").value = 1
    with pytest.raises(FrozenRecordError):
        Base(1).source = "s"  # type: ignore[attr-defined]


def test_fields_of_base_records_come_first_and_post_init_runs() -> None:
    seen: list[str] = []

    @record
    class Base:
        """A base."""

        first: int
        second: int = 2

    @record
    class Child(Base):
        """A child."""

        third: int = 3

        def __post_init__(self) -> None:
            seen.append(f"{self.first}{self.second}{self.third}")

    child = Child(1, third=4)
    assert [f.name for f in fields(child)] == ["first", "second", "third"]
    assert seen == ["124"]
    assert replace(child, second=5) == Child(1, 5, 4)
    assert seen[-1] == "154"
    assert is_record(child) and not is_record(object())


def test_a_field_a_subclass_redefines_keeps_its_place() -> None:
    @record
    class Base:
        """A base."""

        a: int
        b: int = 1

    @record
    class Child(Base):
        """A child with a default for the base's first field."""

        a: int = 5

    assert [f.name for f in fields(Child)] == ["a", "b"]
    assert (Child(9).a, Child(9).b) == (9, 1)
    assert Child() == Child(5, 1)


def test_frozen_and_mutable_records_do_not_inherit_from_each_other() -> None:
    @record
    class Frozen:
        """Frozen."""

        a: int

    @record(frozen=False)
    class Mutable:
        """Mutable."""

        a: int

    with pytest.raises(TypeError, match="is not"):

        @record(frozen=False)
        class Thawed(Frozen):
            """Would be half frozen."""

            b: int = 0

    with pytest.raises(TypeError, match="is not"):

        @record
        class Chilled(Mutable):
            """Would be half frozen."""

            b: int = 0


def test_methods_the_class_defines_are_kept() -> None:
    @record
    class Own:
        """Its own equality and repr."""

        key: str

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Own) and other.key.lower() == self.key.lower()

        def __hash__(self) -> int:
            return hash(self.key.lower())

        def __repr__(self) -> str:
            return f"<{self.key}>"

    assert Own("A") == Own("a") and hash(Own("A")) == hash(Own("a"))
    assert repr(Own("A")) == "<A>"


def test_a_class_body_with_eq_alone_still_gets_a_hash_when_frozen() -> None:
    @record
    class WithEq:
        """Python sets __hash__ to None when a body defines __eq__."""

        key: str

        def __eq__(self, other: object) -> bool:
            return isinstance(other, WithEq) and other.key == self.key

    assert hash(WithEq("a")) == hash(WithEq("a"))


def test_what_a_dataclass_would_refuse_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default follows"):

        @record
        class Order:
            """A default before a field without one."""

            a: int = 1
            b: int  # type: ignore[misc]

    with pytest.raises(ValueError, match="default_factory"):

        @record
        class Shared:
            """A list shared by every instance."""

            items: list[int] = []

    with pytest.raises(TypeError, match="no field 'missing'"):
        replace(_pair()[0]("a"), missing=1)
    with pytest.raises(TypeError, match="not a record"):
        fields(object())


def test_init_is_compiled_on_first_use_and_then_called_directly() -> None:
    @record
    class Point:
        """A point."""

        x: int
        y: int = 0

    class Named(Point):
        """No record: it inherits the record's `__init__`."""

    first = Point.__dict__["__init__"]
    # A subclass made first compiles its base's `__init__`, and puts it on the base.
    assert Named(1).x == 1
    compiled = Point.__dict__["__init__"]
    assert compiled is not first
    assert compiled.__qualname__.endswith("Point.__init__")
    assert Point(2, 3) == Point(x=2, y=3)
    assert Point.__dict__["__init__"] is compiled
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        Point()  # type: ignore[call-arg]


def test_a_first_call_with_bad_arguments_is_refused_as_later_ones() -> None:
    @record
    class Pair:
        """A pair."""

        left: int
        right: int

    with pytest.raises(TypeError, match="unexpected keyword argument 'middle'"):
        Pair(1, 2, middle=3)  # type: ignore[call-arg]
    assert Pair(1, 2).right == 2
