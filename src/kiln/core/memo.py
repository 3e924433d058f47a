"""A cached property without a lock.

`functools.cached_property` on Python 3.10 and 3.11 takes one lock per property, shared by
every instance of the class: threads reading `wheel_tags` of different files wait for one
another (in a warm install's profile, a quarter of the main thread's time). The values
cached here are pure functions of frozen fields, so two threads computing one at once is
harmless: both store the same value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

T = TypeVar("T")

if TYPE_CHECKING:
    from functools import cached_property as memoized
else:
    # Lower case: used as a decorator, like cached_property.
    class memoized(Generic[T]):
        __slots__ = ("__doc__", "func", "name")

        def __init__(self, func: Callable[[Any], T]) -> None:
            self.func = func
            self.name = func.__name__
            self.__doc__ = func.__doc__

        def __set_name__(self, owner: type, name: str) -> None:
            self.name = name

        @overload
        def __get__(self, instance: None, owner: type | None = None) -> memoized[T]: ...
        @overload
        def __get__(self, instance: object, owner: type | None = None) -> T: ...
        def __get__(self, instance: object, owner: type | None = None) -> Any:
            if instance is None:
                return self
            value = self.func(instance)
            # A non-data descriptor: once the instance's own dict has the name, it wins.
            instance.__dict__[self.name] = value
            return value


__all__ = ["memoized"]
