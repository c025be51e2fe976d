"""Structure recovery on the plain dict of a flat spec (what `archspec import` reads off a Keras
graph): repeated units become one parametric `block` and its calls, and runs of equal
statements become `repeat`s.

Takes and hands out the JSON form's statement lists; pure functions. A unit is a residual
statement with the statements that follow it up to the next residual, as deep as every unit
agrees (a ResNet's `residual { ... } shortcut { ... }` and its `relu`). Units of one skeleton
(the same calls and constructs, whatever their numbers) are anti-unified: what varies between
them becomes the block's parameters, values that are a whole multiple of a parameter become
`k * parameter`, and a shortcut present in some units only becomes `shortcut if project`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..layers import REGISTRY

MIN_UNITS = 3  # fewer uses do not make a block worth reading
MAX_PARAMETERS = 4
_MAX_UNIT = 8  # the longest run of statements looked for as a repeated unit
ABSENT = "<absent>"  # a slot's value in a unit that lacks the part (no shortcut there)


def recover_blocks(body: list[dict], name: str = "unit") -> tuple[list[dict], list[dict]]:
    """(blocks, body): the units of `body` as calls of one block, where there are enough of them."""
    starts = [index for index, statement in enumerate(body) if "residual" in statement]
    if len(starts) < MIN_UNITS:
        return [], body
    tails = [body[start + 1:end] for start, end in zip(starts, [*starts[1:], len(body)])]
    tail = _common_prefix([[_skeleton(s) for s in t] for t in tails])
    units = [body[start:start + 1 + tail] for start in starts]
    skeletons = [[_skeleton(s) for s in unit] for unit in units]
    shape = Counter(map(repr, skeletons)).most_common(1)[0][0]
    chosen = [index for index, skeleton in enumerate(skeletons) if repr(skeleton) == shape]
    if len(chosen) < MIN_UNITS:
        return [], body
    template = _Template([units[index] for index in chosen])
    if template.parameter_count() > MAX_PARAMETERS:
        return [], body
    block = {"name": name, "params": template.params(), "body": template.body()}
    calls = template.calls(name)
    result: list[dict] = []
    position = 0
    for index, call in zip(chosen, calls):
        result.extend(body[position:starts[index]])
        result.append(call)
        position = starts[index] + 1 + tail
    result.extend(body[position:])
    return [block], result


def _common_prefix(lists: list[list]) -> int:
    """How many leading items every list but the last agrees on (the last may run on: the head)."""
    leading = lists[:-1] or lists
    length = min(len(items) for items in leading)
    for position in range(length):
        if any(items[position] != leading[0][position] for items in leading):
            return position
    return length if len(lists[-1]) >= length and lists[-1][:length] == leading[0][:length] else 0


def _skeleton(statement: Any) -> Any:
    """A statement with its numbers and words taken out, and shortcuts marked but not compared."""
    if isinstance(statement, list):
        return [_skeleton(item) for item in statement]
    if not isinstance(statement, dict):
        return None
    if "call" in statement:
        return ("call", statement["call"])
    parts = []
    for key, value in statement.items():
        if key == "shortcut":
            continue
        parts.append((key, _skeleton(value) if key in ("residual", "body", "concat", "then", "else") else None))
    return tuple(parts)


class _Template:
    """The anti-unification of equal-skeleton units: slots (a call's argument at a place) whose
    values differ become parameters."""

    def __init__(self, units: list[list[dict]]):
        self.units = units
        self.slots: dict[tuple, list[Any]] = {}  # (place, argument) -> the value in each unit
        for index, unit in enumerate(units):
            self.collect(unit, (), index)
        self.shortcut_varies = len({"shortcut" in unit[0] for unit in units}) > 1
        self.names: dict[tuple, Any] = {}  # slot -> a parameter name, or (factor, name)
        self.parameters: list[tuple[str, list[Any]]] = []
        self.assign()

    def collect(self, statements: list[dict], place: tuple, unit: int) -> None:
        for position, statement in enumerate(statements):
            where = (*place, position)
            if "call" in statement:
                for argument, value in _arguments(statement).items():
                    self.slots.setdefault((where, argument), [ABSENT] * len(self.units))[unit] = value
            for key in ("residual", "shortcut"):
                if key in statement:
                    self.collect(statement[key], (*where, key), unit)
            if "scale" in statement:
                self.slots.setdefault((where, "scale"), [ABSENT] * len(self.units))[unit] = statement["scale"]

    def assign(self) -> None:
        for slot, values in self.slots.items():
            known = [value for value in values if value != ABSENT]
            if len(set(map(repr, known))) <= 1:
                continue
            self.names[slot] = self.parameter_for(slot[1], values)
        if self.shortcut_varies:
            self.parameters.append(("project", ["shortcut" in unit[0] for unit in self.units]))
        # required parameters first, as a signature must have them
        self.parameters.sort(key=lambda parameter: _default(parameter[1]) is not None)

    def parameter_for(self, argument: str, values: list[Any]) -> Any:
        for name, existing in self.parameters:
            if _agree(existing, values):
                return name
        for name, existing in self.parameters:
            factor = _factor(existing, values)
            if factor is not None:
                return (factor, name)
        taken = {name for name, _ in self.parameters}
        name = argument if argument not in taken else f"{argument}_{len(taken) + 1}"
        self.parameters.append((name, list(values)))
        return name

    def parameter_count(self) -> int:
        return len(self.parameters)

    def params(self) -> list[dict]:
        result = []
        for name, values in self.parameters:
            default = _default(values)
            result.append({"name": name} if default is None and name != "project" else {"name": name, "default": default})
        return result

    def body(self) -> list[dict]:
        return self.rebuild(self.units[self.exemplar()], ())

    def exemplar(self) -> int:
        """A unit with a shortcut where some have one: its shortcut becomes the conditional one."""
        return next((index for index, unit in enumerate(self.units) if "shortcut" in unit[0]), 0)

    def rebuild(self, statements: list[dict], place: tuple) -> list[dict]:
        result = []
        for position, statement in enumerate(statements):
            where = (*place, position)
            copy = dict(statement)
            if "call" in statement:
                copy = self.call(statement, where)
            for key in ("residual", "shortcut"):
                if key in statement:
                    copy[key] = self.rebuild(statement[key], (*where, key))
            if "scale" in statement and (where, "scale") in self.names:
                copy["scale"] = self.reference(self.names[(where, "scale")])
            if self.shortcut_varies and "shortcut" in statement and place == ():
                copy = {key: value for key, value in copy.items() if key != "shortcut"}
                copy["shortcut_if"] = {"ref": "project"}
                copy["shortcut"] = self.rebuild(statement["shortcut"], (*where, "shortcut"))
            result.append(copy)
        return result

    def call(self, statement: dict, where: tuple) -> dict:
        entry = REGISTRY.get(statement["call"])
        arguments = _arguments(statement)
        for (place, argument), name in self.names.items():
            if place == where:
                arguments[argument] = self.reference(name)
        defaults = _defaults(statement["call"])
        positional = list(entry.positional) if entry else []
        args, kwargs = [], {}
        ordered = [name for name in positional if name in arguments] + [name for name in arguments if name not in positional]
        for argument in ordered:
            value = arguments[argument]
            if argument in defaults and defaults[argument] == value:
                continue
            if argument in positional and positional.index(argument) == len(args):
                args.append(value)
            else:
                kwargs[argument] = value
        result: dict[str, Any] = {"call": statement["call"]}
        if args:
            result["args"] = args
        if kwargs:
            result["kwargs"] = kwargs
        return result

    @staticmethod
    def reference(name: Any) -> Any:
        if isinstance(name, tuple):
            factor, base = name
            return {"op": "*", "args": [factor, {"ref": base}]}
        return {"ref": name}

    def calls(self, block: str) -> list[dict]:
        calls = []
        for unit in range(len(self.units)):
            args, kwargs = [], {}
            for position, (name, values) in enumerate(self.parameters):
                default = _default(values)
                if values[unit] == ABSENT or (default is not None and values[unit] == default):
                    continue
                if position == len(args) and default is None:
                    args.append(values[unit])
                else:
                    kwargs[name] = values[unit]
            call: dict[str, Any] = {"call": block}
            if args:
                call["args"] = args
            if kwargs:
                call["kwargs"] = kwargs
            calls.append(call)
        return calls


def _arguments(statement: dict) -> dict[str, Any]:
    """A call's arguments by name, defaults filled in where the kind has them."""
    entry = REGISTRY.get(statement["call"])
    named = dict(_defaults(statement["call"]))
    if entry is not None:
        named.update(zip(entry.positional, statement.get("args", [])))
    named.update(statement.get("kwargs", {}))
    return named


def _defaults(kind: str) -> dict[str, Any]:
    entry = REGISTRY.get(kind)
    if entry is None:
        return {}
    return {name: default for name, default in entry.cls.argument_defaults().items() if name not in entry.presets}


def _agree(first: list[Any], second: list[Any]) -> bool:
    return all(a == ABSENT or b == ABSENT or a == b for a, b in zip(first, second))


def _factor(base: list[Any], values: list[Any]) -> int | None:
    """k where every value is k times the base's (whole numbers, k > 1)."""
    pairs = [(a, b) for a, b in zip(base, values) if a != ABSENT and b != ABSENT]
    if not pairs or not all(isinstance(a, int) and not isinstance(a, bool) and isinstance(b, int) and a > 0 for a, b in pairs):
        return None
    factor, remainder = divmod(pairs[0][1], pairs[0][0])
    if remainder or factor < 2 or any(b != factor * a for a, b in pairs):
        return None
    return factor


def _default(values: list[Any]) -> Any:
    """The value most units use, where most use one (else None: the parameter is required)."""
    known = [value for value in values if value != ABSENT]
    if not known:
        return None
    counts = Counter(map(repr, known))
    text, count = counts.most_common(1)[0]
    if count * 2 <= len(known) and not isinstance(known[0], bool):
        return None
    return next(value for value in known if repr(value) == text)


def compress_repeats(body: list[dict]) -> list[dict]:
    """Runs of equal statements (or equal units of up to 8 statements) become one `repeat`."""
    result: list[dict] = []
    index = 0
    while index < len(body):
        best_length, best_count = 1, 1
        for length in range(1, _MAX_UNIT + 1):
            unit = body[index:index + length]
            if len(unit) < length or any("as" in s or "tap" in s for s in unit):
                break
            count = 1
            while body[index + count * length:index + (count + 1) * length] == unit:
                count += 1
            if count > 1 and count * length > best_count * best_length:
                best_length, best_count = length, count
        if best_count > 1:
            result.append({"repeat": best_count, "body": body[index:index + best_length]})
        else:
            result.append(body[index])
        index += best_length * best_count
    return result
