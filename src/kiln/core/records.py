"""Value classes that cost little to define: the part of `dataclasses` kiln uses.

`dataclasses.dataclass` compiles five or six methods for each class while its module is
imported: 0.45-0.7 ms a class on the development machine, 32-38 ms of the imports of a
`kiln sync`, which defines 72 of them. `record` compiles `__init__`, `__eq__` and
`__hash__` when each is first called (a class never made or compared compiles nothing), and
makes `repr` and frozenness from closures: the same 72 cost 9-12 ms when `__init__` was still
compiled with the class, and importing the modules of `sync`, `lock` and `pip install` took
76 against 84 ms once it was not. Instances are made faster than a dataclass's (0.26 against
0.38-0.46 µs), and read and compared as fast.

The semantics are the dataclass ones for what kiln uses: fields from annotations in order,
base records' fields first; defaults and `field(default_factory=...)`; `__post_init__`;
`repr`, `compare` and `hash` per field; `__match_args__`; frozen instances raise on
assignment (a subclass that is no record may set attributes of its own); equality between
instances of the very same class; hashable when frozen and compared, unhashable when
mutable and compared; methods the class defines itself are kept. Type checkers see a
dataclass (`dataclass_transform`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        return lambda decorated: decorated


T = TypeVar("T")

_MISSING: Any = object()  # no default given
_FIELDS = "__record_fields__"
_FROZEN = "__record_frozen__"


class FrozenRecordError(AttributeError):
    """An assignment to (or deletion of) a field of a frozen record."""


class Field:
    """One field: its name, default or factory, and whether repr, equality and hash use it."""

    __slots__ = ("compare", "default", "default_factory", "hash", "name", "repr")

    def __init__(
        self,
        default: Any = _MISSING,
        default_factory: Any = _MISSING,
        repr: bool = True,
        compare: bool = True,
        hash: bool | None = None,
    ) -> None:
        if default is not _MISSING and default_factory is not _MISSING:
            raise ValueError("a field takes a default or a default_factory, not both")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare
        self.hash = hash

    @property
    def hashed(self) -> bool:
        return self.compare if self.hash is None else self.hash


@overload
def field(*, default: T, repr: bool = ..., compare: bool = ..., hash: bool | None = ...) -> T: ...
@overload
def field(
    *,
    default_factory: Callable[[], T],
    repr: bool = ...,
    compare: bool = ...,
    hash: bool | None = ...,
) -> T: ...
@overload
def field(*, repr: bool = ..., compare: bool = ..., hash: bool | None = ...) -> Any: ...
def field(**options: Any) -> Any:
    """A field with more than a plain default, as `dataclasses.field` (the overloads above
    say what it takes)."""
    return Field(**options)


@overload
@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, frozen: bool = True, eq: bool = True) -> Callable[[type[T]], type[T]]: ...
def record(
    cls: type[T] | None = None, /, *, frozen: bool = True, eq: bool = True
) -> type[T] | Callable[[type[T]], type[T]]:
    """Make ``cls`` a record: ``@record`` (frozen), ``@record(frozen=False)``, ``@record(eq=False)``."""

    def make(target: type[T]) -> type[T]:
        _make(target, frozen=frozen, eq=eq)
        return target

    return make if cls is None else make(cls)


def fields(value: object) -> tuple[Field, ...]:
    """The fields of a record (class or instance), in `__init__`'s order."""
    found: tuple[Field, ...] | None = getattr(value, _FIELDS, None)
    if found is None:
        raise TypeError(f"{value!r} is not a record")
    return found


def is_record(value: object) -> bool:
    return hasattr(value, _FIELDS)


def replace(value: T, /, **changes: Any) -> T:
    """A copy of the record ``value`` with ``changes``, made through its `__init__`."""
    current = {f.name: getattr(value, f.name) for f in fields(value)}
    unknown = changes.keys() - current.keys()
    if unknown:
        raise TypeError(f"{type(value).__name__} has no field {sorted(unknown)[0]!r}")
    current.update(changes)
    return type(value)(**current)


def _annotations(cls: type) -> dict[str, Any]:
    # A class's own annotations alone since 3.10; strings, under the future import.
    return dict(getattr(cls, "__annotations__", None) or {})


def _is_class_var(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _make(cls: type, *, frozen: bool, eq: bool) -> None:
    collected: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        if _FIELDS not in base.__dict__:
            continue
        if base.__dict__[_FROZEN] != frozen:
            # As dataclasses refuse it: instances would be frozen by halves.
            raise TypeError(
                f"{cls.__qualname__} cannot be {'frozen' if frozen else 'mutable'}: "
                f"its base {base.__qualname__} is not"
            )
        for inherited in base.__dict__[_FIELDS]:
            collected[inherited.name] = inherited
    for name, annotation in _annotations(cls).items():
        if _is_class_var(annotation):
            continue
        if isinstance(annotation, str) and annotation.startswith(("InitVar", "KW_ONLY")):
            raise TypeError(f"{cls.__qualname__}.{name}: {annotation} is not supported")
        value = cls.__dict__.get(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name = name
        if spec.default is not _MISSING and type(spec.default).__hash__ is None:
            raise ValueError(
                f"{cls.__qualname__}.{name}: a mutable default is shared by every instance; "
                "use field(default_factory=...)"
            )
        if spec.default is _MISSING:
            if value is not _MISSING:
                delattr(cls, name)
        else:
            setattr(cls, name, spec.default)
        collected[name] = spec  # a field redefined keeps its base's place, as in dataclasses
    specs = tuple(collected.values())
    setattr(cls, _FIELDS, specs)
    setattr(cls, _FROZEN, frozen)

    own = cls.__dict__
    # A class body that defines __eq__ gets __hash__ = None from Python: no hash of its own.
    own_hash = own.get("__hash__", _MISSING)
    explicit_hash = not (own_hash is _MISSING or (own_hash is None and "__eq__" in own))
    made: dict[str, object] = {}
    if "__init__" not in own:
        made["__init__"] = _init(cls, specs, frozen=frozen)
    if "__match_args__" not in own:
        made["__match_args__"] = tuple(f.name for f in specs)
    if "__repr__" not in own:
        made["__repr__"] = _repr(tuple(f.name for f in specs if f.repr))
    if eq and "__eq__" not in own:
        made["__eq__"] = _eq(cls, tuple(f.name for f in specs if f.compare))
    if eq and not explicit_hash:
        made["__hash__"] = _hash(cls, tuple(f.name for f in specs if f.hashed)) if frozen else None
    if frozen:
        for name in ("__setattr__", "__delattr__"):
            if name in own:
                raise TypeError(f"{cls.__qualname__} is frozen and cannot define {name}")
        made.update(_frozen(cls, frozenset(f.name for f in specs)))
    for name, method in made.items():
        setattr(cls, name, method)


def _init(cls: type, specs: tuple[Field, ...], *, frozen: bool) -> Callable[..., None]:
    params: list[str] = []
    body: list[str] = []
    # object.__setattr__, not writes to self.__dict__: those make the instance's dict a
    # real one, and every attribute read of it then cost 2.7 times as much.
    namespace: dict[str, Any] = {
        "__record_factory__": _MISSING,
        "__record_set__": object.__setattr__,
    }
    seen_default = False
    for spec in specs:
        name = spec.name
        if name == "self" or name.startswith("__record_"):
            raise TypeError(f"{cls.__qualname__}: a field cannot be named {name!r}")
        if spec.default_factory is not _MISSING:
            namespace[f"__record_factory_{name}__"] = spec.default_factory
            params.append(f"{name}=__record_factory__")
            value = f"__record_factory_{name}__() if {name} is __record_factory__ else {name}"
            seen_default = True
        elif spec.default is not _MISSING:
            namespace[f"__record_default_{name}__"] = spec.default
            params.append(f"{name}=__record_default_{name}__")
            value = name
            seen_default = True
        else:
            if seen_default:
                raise TypeError(
                    f"{cls.__qualname__}: field {name!r} without a default follows one with"
                )
            params.append(name)
            value = name
        body.append(
            f"  __record_set__(self, {name!r}, {value})" if frozen else f"  self.{name} = {value}"
        )
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    signature = ", ".join(["self", *params])
    source = f"def __init__({signature}):\n" + ("\n".join(body) or "  pass") + "\n"

    def first_init(self: object, *args: Any, **kwargs: Any) -> None:
        # Compiled when the class is first instantiated: most of the records a command's
        # modules define are never made in that run, and compiling each `__init__` at
        # import was a third of what defining them cost.
        exec(compile(source, f"<record {cls.__qualname__}>", "exec"), namespace)
        init: Callable[..., None] = namespace["__init__"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        init.__module__ = cls.__module__
        if cls.__dict__.get("__init__") is first_init:
            type.__setattr__(cls, "__init__", init)
        init(self, *args, **kwargs)

    first_init.__name__ = "__init__"
    first_init.__qualname__ = f"{cls.__qualname__}.__init__"
    first_init.__module__ = cls.__module__
    return first_init


def _repr(names: tuple[str, ...]) -> Callable[[object], str]:
    def __repr__(self: object) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({shown})"

    return __repr__


def _tuple(owner: str, names: tuple[str, ...]) -> str:
    """``(self.a,self.b,)``: the source of a tuple of ``owner``'s fields."""
    return "(" + "".join(f"{owner}.{name}," for name in names) + ")"


def _eq(cls: type, names: tuple[str, ...]) -> Callable[[object, object], Any]:
    return _on_first_call(
        cls,
        "__eq__",
        "def __eq__(self, other):\n"
        "  if other.__class__ is self.__class__:\n"
        f"    return {_tuple('self', names)} == {_tuple('other', names)}\n"
        "  return NotImplemented\n",
    )


def _hash(cls: type, names: tuple[str, ...]) -> Callable[[object], Any]:
    source = f"def __hash__(self):\n  return hash({_tuple('self', names)})\n"
    return _on_first_call(cls, "__hash__", source)


def _on_first_call(cls: type, name: str, source: str) -> Callable[..., Any]:
    """A method that compiles ``source`` when first called and puts the result on ``cls``
    in its own place: compiled, equality and hashing run as fast as a dataclass's (they run
    on every set and dict lookup), and classes never compared never compile them."""

    def first_call(self: object, *args: object) -> Any:
        namespace: dict[str, Any] = {}
        exec(compile(source, f"<record {cls.__qualname__}.{name}>", "exec"), namespace)
        method = namespace[name]
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)
        return method(self, *args)

    first_call.__name__ = name
    first_call.__qualname__ = f"{cls.__qualname__}.{name}"
    return first_call


def _frozen(cls: type[Any], names: frozenset[str]) -> dict[str, object]:
    # As dataclasses: a subclass that is no record itself may set attributes of its own.
    def __setattr__(self: Any, name: str, value: object) -> None:
        if type(self) is cls or name in names:
            raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {cls.__name__}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {cls.__name__}")
        super(cls, self).__delattr__(name)

    return {"__setattr__": __setattr__, "__delattr__": __delattr__}
