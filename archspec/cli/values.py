"""Values from the command line: `--set K=V` values, `--input` shapes and the counts options take.

`attach_negative_shapes` takes the raw argument list and hands it back with `--input -1x3` joined
as `--input=-1x3`. `parse_value` takes the text after `=`; hands out a Python value of the kinds a spec's expressions hold (a
number, true/false/none, a shape or list as a tuple, a word), or raises ValueError saying why not.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any, Sequence

from ..expr import checked_value, integer_literal
from ..layers import MAX_DIMENSION


def parse_value(text: str) -> Any:
    """A command-line value (`--set K=V`): a number, true/false/none, a shape, a list or a word,
    held to the rules a spec file's values follow (finite numbers, printable strings)."""
    return checked_value(_read_value(text))


def _read_value(text: str) -> Any:
    stripped = text.strip()
    lowered = {"true": True, "false": False, "none": None, "null": None}
    if stripped in lowered:
        return lowered[stripped]
    if re.fullmatch(r"-?[0-9][0-9_]*", stripped):
        return integer_literal(stripped)
    if re.fullmatch(r"[0-9]+(x[0-9]+)+", stripped):
        shape = tuple(integer_literal(part) for part in stripped.split("x"))
        if 0 in shape:  # `0x10` is not hexadecimal here, and no shape has a size 0
            raise ValueError(f"{stripped!r} is not a shape: sizes start at 1 (for a list write [{', '.join(map(str, shape))}])")
        return shape
    try:
        value = float(stripped)
    except ValueError:
        pass
    else:
        if value == value and abs(value) != float("inf"):
            return value
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped, parse_int=integer_literal)
        except json.JSONDecodeError:
            raise ValueError(f"cannot read {text!r} as a list") from None
        return _tuples(parsed)
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
        return stripped[1:-1]
    return stripped


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def parse_shape(text: str) -> tuple[int, ...]:
    """`N`, `LxC`, `HxWxC` or `DxHxWxC` from the command line."""
    if not re.fullmatch(r"[0-9]+(x[0-9]+)*", text.strip()):
        raise ValueError(f"expected a shape like 32x32x3; received {text!r}")
    shape = tuple(integer_literal(part) for part in text.strip().split("x"))
    if not 1 <= len(shape) <= 4 or not all(1 <= n <= MAX_DIMENSION for n in shape):
        raise ValueError(f"expected a length, LxC, HxWxC or DxHxWxC with sizes from 1 to {MAX_DIMENSION}; received {text!r}")
    return shape


_NEGATIVE_SHAPE = re.compile(r"-\d[\dx+-]*")


def attach_negative_shapes(argv: Sequence[str]) -> list[str]:
    """`--input -1x3`: argparse takes a value that starts with a dash for an option and answers
    "expected one argument"; attached as `--input=-1x3` it reaches the shape check, which says
    what is wrong with the size. After `--` every argument is a spec path, kept as written."""
    attached: list[str] = []
    options_ended = False
    for argument in argv:
        if not options_ended and attached and attached[-1] == "--input" and _NEGATIVE_SHAPE.fullmatch(argument):
            attached[-1] = f"--input={argument}"
        else:
            attached.append(argument)
        options_ended = options_ended or argument == "--"
    return attached


def positive_integer(text: str) -> int:
    """An argparse type: `--depth N`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; received {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; received {value}")
    return value


def positive_count(text: str) -> int:
    """An argparse type for counts that may be written 1e6, 1_000_000 or 1,000,000."""
    try:
        value = int(float(text)) if "e" in text.lower() else int(text.replace("_", "").replace(",", ""))
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"expected a positive number; received {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number; received {text!r}")
    return value


def add_verbose_flag(parser: argparse.ArgumentParser) -> None:
    """`--verbose` on the verbs that load TensorFlow: show its own start-up and log lines."""
    parser.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's own log lines (hidden by default)")
