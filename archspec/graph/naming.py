"""Names and taps, for the expander: generated and `as` names, kept unique, and how a tap
(`@name`) resolves from a scope outwards.

A mixin of `Expander` (graph/expand.py): it reads and writes the expander's `names`, `taps`
and `group_names`, and reports through its `error`.
"""

from __future__ import annotations

import re

from ..errors import DataPath, did_you_mean
from ..spec import Call
from .scope import Scope


class Naming:
    """Layer and group names, and tap resolution."""

    def layer_name(self, call: Call, scope: Scope, path: DataPath) -> str:
        if call.as_:
            return self.unique_name(scope.prefix + scope.aliased(call.as_), path + ("as",))
        return self.fresh_name(scope, call.call)

    def taken(self, name: str) -> bool:
        return name in self.names or name in self.taps or name in self.group_names

    def fresh_name(self, scope: Scope, base: str) -> str:
        """The next generated name, skipping any that an `as` name already took."""
        name = scope.next_name(base)
        while self.taken(name):
            name = scope.next_name(base)
        return name

    def unique_name(self, name: str, path: DataPath) -> str:
        """An `as` name; a clash with an earlier layer or group is an error at the alias."""
        if self.taken(name):
            self.error(f"the name `{name}` is already used by an earlier layer or group", path,
                       "names given with `as` must be unique in their block")
            suffix = 2
            while self.taken(f"{name}_{suffix}"):
                suffix += 1
            name = f"{name}_{suffix}"
        return name

    def register(self, name: str, path: DataPath) -> None:
        self.names[name] = path
        self.taps.setdefault(name, name)

    def register_tap(self, tap: str, node: str) -> None:
        self.taps.setdefault(tap, node)

    def resolve_tap(self, tap: str, scope: Scope, path: DataPath) -> str | None:
        """A tap names a layer or group of this scope, else of the enclosing ones, outwards."""
        candidates = [scope.prefix + scope.aliased(tap)] if scope.repeat_index else []  # `as r` in this repeat copy
        candidates += [prefix + tap for prefix in (scope.prefix, *reversed(scope.outer))]
        for candidate in candidates:
            if candidate in self.taps:
                return self.taps[candidate]
        copies = sorted(name for name in self.taps if re.fullmatch(re.escape(scope.prefix + tap) + r"(_\d+)+", name))
        if copies:
            hint = f"`as {tap}` inside a repeat names each copy: {', '.join(copies[:4])}{', ...' if len(copies) > 4 else ''}"
        else:
            hint = did_you_mean(tap, self.taps) or did_you_mean(scope.prefix + tap, self.taps)
        self.error(f"unknown tap `@{tap}`: no earlier layer or group has that name", path, hint)
        return None
