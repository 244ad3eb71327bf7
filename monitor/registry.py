"""A registry from a config `type` to the builder of that kind of source or sink.

Built-ins are named up front and imported on first use; plugins may `register` more. No
if-chain per integration anywhere: the wiring asks the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

B = TypeVar("B", bound=Callable[..., object])


class Registry(Generic[B]):
    def __init__(self, what: str, builtins: Mapping[str, B]) -> None:
        self.what = what
        self.builtins = dict(builtins)
        self.added: dict[str, B] = {}

    def register(self, kind: str) -> Callable[[B], B]:
        def add(builder: B) -> B:
            self.added[kind] = builder
            return builder

        return add

    def get(self, kind: str) -> B:
        builder = self.added.get(kind) or self.builtins.get(kind)
        if builder is None:
            raise ValueError(f"no {self.what} type {kind!r}")
        return builder
