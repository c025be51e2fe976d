"""Naming scopes of expansion: the prefix and counters that make every node name unique and
stable, the groups a node sits in, its role, and the repeat copy it belongs to."""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from .model import Role


class Scope(NamedTuple):
    prefix: str
    groups: tuple[str, ...]
    counters: Counter  # shared by the scopes that number their names together
    role: Role = Role.PLAIN
    repeat_index: tuple[int, ...] = ()  # iteration numbers of the enclosing repeats, outermost first
    outer: tuple[str, ...] = ()  # prefixes of the enclosing scopes, outermost first (for taps)

    @classmethod
    def root(cls) -> "Scope":
        """The scope of the network's body: no prefix, no group, names numbered from 1."""
        return cls("", (), Counter())

    def child(self, prefix: str, groups: tuple[str, ...], counters: Counter | None = None, role: Role | None = None,
              repeat_index: tuple[int, ...] | None = None) -> "Scope":
        outer = self.outer if prefix == self.prefix else self.outer + (self.prefix,)
        return Scope(prefix, groups, Counter() if counters is None else counters, self.role if role is None else role,
                      self.repeat_index if repeat_index is None else repeat_index, outer)

    def aliased(self, alias: str) -> str:
        """An `as` name inside repeats gets the iteration numbers, so each copy is unique."""
        return "_".join([alias, *map(str, self.repeat_index)])

    def next_name(self, base: str) -> str:
        self.counters[base] += 1
        return f"{self.prefix}{base}_{self.counters[base]}"
