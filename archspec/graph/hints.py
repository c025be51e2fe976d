"""Words for the user: hints for faulty layer arguments (one message per argument, since a
union type fails once per alternative, and the likely cause: a value from `--set`, a quoted
parameter, a word that a parameter shadows), and the labels of block calls.

Takes the pydantic error of building a layer, the call and the scope's parameter values.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from pydantic import ValidationError

from ..errors import describe_validation_error, did_you_mean, show_value
from ..expr import Op, Ref, referenced_parameters
from ..layers import Entry
from ..spec import Call
from .model import Env


def argument_faults(call: Call, entry: Entry, error: ValidationError, env: Mapping[str, Any],
                    overrides: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(argument, message, hint) for each faulty argument of a layer call."""
    by_argument: dict[str, list[dict]] = {}
    for item in error.errors():
        if item["type"] == "missing" and len(item["loc"]) == 1:
            continue  # a missing argument: reported by the static checks
        by_argument.setdefault(str(item["loc"][0]) if item["loc"] else "", []).append(item)
    for argument, items in by_argument.items():
        message, hint = describe_validation_error(items[0]) if len(items) == 1 else _union_message(items)
        value = items[0].get("input") if len(items) == 1 else _argument_value(call, entry, argument)
        expr = _argument_value(call, entry, argument)
        hint = (_override_hint(expr, env, overrides) or word_hint(value, env) or _fraction_hint(value, expr, message)
                or _shadow_hint(expr, env, entry) or hint)
        yield argument, message, hint


def _override_hint(expr: Any, env: Mapping[str, Any], overrides: Mapping[str, Any]) -> str | None:
    """A bad value that came from the command line is the command line's fault."""
    symbol = env.substitute(expr) if isinstance(env, Env) and expr is not None else None
    names = referenced_parameters(symbol) & set(overrides) if symbol is not None else set()
    if not names:
        return None
    shown = ", ".join(f"--set {name}={show_value(overrides[name])}" for name in sorted(names))
    return f"the value comes from {shown}"


UNION_PHRASES = {
    "int_type": "an integer", "float_type": "a number", "bool_type": "true or false", "string_type": "a word",
    "literal_error": "one of the listed words", "none_required": "none",
}


def word_hint(value: Any, env: Mapping[str, Any]) -> str | None:
    """A word where a number was wanted is often a misspelt or quoted parameter."""
    if not isinstance(value, str):
        return None
    if value in env:
        return f"\"{value}\" is quoted, so it is a word, not the parameter `{value}`; write it without quotes"
    suggestion = did_you_mean(value, env)
    return f"`{value}` is not a parameter here; {suggestion}" if suggestion else None


def _fraction_hint(value: Any, expr: Any, message: str) -> str | None:
    """A number with a fraction where an integer was wanted: nearly always a `/` that meant `//`."""
    if not isinstance(value, float) or "integer" not in message:
        return None
    if _divides(expr):
        return f"`/` always gives a number with a fraction ({show_value(value)}); divide with `//`, or round with int(...)"
    if isinstance(expr, Ref):
        return (f"`{expr.ref}` is {show_value(value)} here, a number with a fraction: where it is computed, divide with `//` "
                "(`/` always gives a fraction) or round with int(...)")
    return "write a whole number"


def _divides(expr: Any) -> bool:
    if isinstance(expr, Op):
        return expr.op == "/" or any(_divides(arg) for arg in expr.args)
    return isinstance(expr, tuple) and any(_divides(item) for item in expr)


def _shadow_hint(expr: Any, env: Mapping[str, Any], entry: Entry) -> str | None:
    """`padding=same` where `same` is also a parameter passes the parameter's value (said only
    where the word itself would be an accepted value of some argument)."""
    if isinstance(expr, Ref) and expr.ref in env and entry.field_accepting(expr.ref) is not None:
        return (f"`{expr.ref}` is a parameter here, so this passes its value {show_value(env[expr.ref])}; "
                f"write the word in quotes: \"{expr.ref}\"")
    return None


def _union_message(items: list[dict]) -> tuple[str, str | None]:
    """`expected an integer or a pair [h, w]; received [3]` for an argument of a union type."""
    phrases: list[str] = []
    for item in items:
        nested = len(item["loc"]) > 1 and not isinstance(item["loc"][1], str) or item["type"] in ("tuple_type", "too_short", "too_long")
        phrase = "a pair [h, w]" if nested or "tuple" in str(item["loc"]) else UNION_PHRASES.get(item["type"])
        if phrase is None:
            return describe_validation_error(item)
        if phrase not in phrases:
            phrases.append(phrase)
    if "a number" in phrases and "an integer" in phrases:
        phrases.remove("an integer")
    top_level = [item for item in items if not any(isinstance(part, int) for part in item["loc"])]
    received = show_value(top_level[0].get("input")) if top_level else None
    return f"expected {' or '.join(phrases)}" + (f"; received {received}" if received is not None else ""), None


def _argument_value(call: Call, entry: Any, argument: str) -> Any:
    if argument in call.kwargs:
        return call.kwargs[argument]
    positional = entry.positional
    if argument in positional and positional.index(argument) < len(call.args):
        return call.args[positional.index(argument)]
    return None


def call_label(call: Call, args: list, kwargs: dict) -> str:
    """What the user wrote, with values: `basic(128, stride=2)`, for groups and notes."""
    parts = [show_value(a) for a in args] + [f"{k}={show_value(v)}" for k, v in kwargs.items()]
    return f"{call.call}({', '.join(parts)})" if parts else call.call


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
