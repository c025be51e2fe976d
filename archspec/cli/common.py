"""What the command line's verbs share: the exit codes and the usage error, the readers of
the options several verbs take (network settings, warning policy, table columns, the memory
ledger), and the printing of diagnostics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from ..analysis.memory import TrainingSetup, parse_size
from ..analysis.render import COLUMNS
from ..api import Architecture
from ..codes import WarningPolicy, warnings_summary
from ..errors import Diagnostic, SpecError, did_you_mean, render_all, render_brief
from ..source import DEFAULT_SIZE, SizeLimits
from .values import parse_shape, parse_value, positive_count

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def add_network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="K=V", help="override a network parameter")
    parser.add_argument("--input", metavar="HxWxC", help="override the input shape")
    parser.add_argument("--max-layers", type=positive_count, default=DEFAULT_SIZE.layers, metavar="N",
                        help=f"accept specs that expand to up to N layers, and texts sized to match (default {DEFAULT_SIZE.layers:,})")


def add_warning_options(parser: argparse.ArgumentParser, verbose: bool = False) -> None:
    parser.add_argument("--allow", action="append", default=[], metavar="CODE", help="leave out warnings with this code (repeatable, or a,b)")
    parser.add_argument("--deny", action="append", default=[], metavar="CODE", help="report warnings with this code as errors (exit 1)")
    if verbose:
        parser.add_argument("-v", "--verbose", action="store_true", help="print each warning in full: its source line, figures and hint")


def warning_policy(args: argparse.Namespace) -> WarningPolicy:
    def codes(values: list[str]) -> frozenset[str]:
        return frozenset(code.strip() for value in values for code in value.split(",") if code.strip())

    try:
        return WarningPolicy(codes(args.allow), codes(args.deny))
    except ValueError as error:
        raise UsageError(f"--allow/--deny: {error}") from None


def table_columns(args: argparse.Namespace) -> tuple[str, ...] | None:
    if args.columns is None:
        return None
    if args.format in ("json", "csv"):
        raise UsageError(f"--columns chooses the table's and Markdown's columns; the {args.format} form always has them all")
    chosen = tuple(name.strip() for name in args.columns.split(",") if name.strip())
    for name in chosen:
        if name not in COLUMNS:
            hint = did_you_mean(name, COLUMNS)
            raise UsageError(f"--columns: no column `{name}`; the columns are {', '.join(COLUMNS)}" + (f" ({hint})" if hint else ""))
    if not chosen:
        raise UsageError("--columns: name at least one column")
    return chosen


def training_setup(args: argparse.Namespace) -> TrainingSetup | None:
    """The ledger's setup when any of --batch, --optimizer, --dtype, --memory is given."""
    if (args.batch, args.optimizer, args.dtype, args.memory) == (None, None, None, None):
        return None
    try:
        memory = parse_size(args.memory) if args.memory else None
    except ValueError as error:
        raise UsageError(f"--memory: {error}") from None
    defaults = TrainingSetup()
    return TrainingSetup(args.batch or defaults.batch, args.optimizer or defaults.optimizer, args.dtype or defaults.dtype, memory)


def size_limits(args: argparse.Namespace) -> SizeLimits:
    return SizeLimits(getattr(args, "max_layers", DEFAULT_SIZE.layers))


def read_overrides(args: argparse.Namespace, items: Sequence[str] | None = None, flag: str = "--set") -> dict[str, Any]:
    values = {}
    for item in args.set if items is None else items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} expects KEY=VALUE; received {item!r}")
        try:
            values[key.strip()] = parse_value(raw)
        except ValueError as error:
            raise UsageError(f"{flag} {key}: {error}") from None
    return values


def read_shape(text: str | None, flag: str) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return parse_shape(text)
    except ValueError as error:
        raise UsageError(f"{flag}: {error}") from None


def read_input_shape(args: argparse.Namespace) -> tuple[int, ...] | None:
    return read_shape(args.input, "--input")


def print_errors(error: SpecError) -> None:
    print(render_all(error.diagnostics, error.sources), file=sys.stderr)
    errors = sum(1 for d in error.diagnostics if d.is_error)
    if errors > 1:
        print(f"{errors} errors", file=sys.stderr)


def print_warnings(diagnostics: Sequence[Diagnostic], architecture: Architecture, verbose: bool) -> None:
    """One line per warning and a count by code; in full (source line, figures, hint) when verbose."""
    if verbose:
        text = render_all(diagnostics, {architecture.file: architecture.source.text})
    else:
        text = "\n".join(render_brief(d) for d in diagnostics)
    print(text, file=sys.stderr)
    print(warnings_summary(diagnostics), file=sys.stderr)


def output_stem(spec: str, architecture: Architecture) -> str:
    """What a verb names its outputs after: the spec file's stem, else the network's name."""
    stem = Path(spec).stem if spec != "-" else architecture.name.lower()
    return stem or architecture.name.lower()
