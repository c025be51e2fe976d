"""`archspec diff` (two specs, or one under two settings, layer by layer) and `archspec explain`
(the long explanation of a diagnostic code)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..api import load
from ..codes import CODES, explanation, unknown_code_message
from ..errors import SpecError
from .common import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UsageError, print_errors, read_overrides, read_shape


def add_compare_commands(commands: Any) -> None:
    diff = commands.add_parser("diff", help="compare two specs (or one under two settings) layer by layer; exit 1 if they differ")
    diff.add_argument("spec_a", metavar="A")
    diff.add_argument("spec_b", metavar="B")
    diff.add_argument("--format", choices=("table", "json"), default="table")
    diff.add_argument("--set", action="append", default=[], metavar="K=V", help="override a network parameter of both")
    diff.add_argument("--set-a", action="append", default=[], metavar="K=V", help="override a parameter of A only")
    diff.add_argument("--set-b", action="append", default=[], metavar="K=V", help="override a parameter of B only")
    diff.add_argument("--input-a", metavar="HxWxC", help="A's input shape")
    diff.add_argument("--input-b", metavar="HxWxC", help="B's input shape")
    diff.add_argument("--params", choices=("keras", "torch"), default="keras", help="parameter convention of both reports")
    diff.set_defaults(handler=cmd_diff)

    explain = commands.add_parser("explain", help="what a warning or error code means, and what to do about it")
    explain.add_argument("code", metavar="CODE", nargs="?", help="e.g. rf-misaligned (none: list the codes)")
    explain.set_defaults(handler=cmd_explain)


def cmd_diff(args: argparse.Namespace) -> int:
    shared = read_overrides(args)
    settings_a, settings_b = shared | read_overrides(args, args.set_a, "--set-a"), shared | read_overrides(args, args.set_b, "--set-b")
    shape_a, shape_b = read_shape(args.input_a, "--input-a"), read_shape(args.input_b, "--input-b")
    try:
        difference = load(args.spec_a).diff(load(args.spec_b), settings_a, settings_b, shape_a, shape_b, args.params)
    except SpecError as error:  # exit 1 means "they differ" here: a spec that cannot be compared is 2
        print_errors(error)
        return EXIT_USAGE
    sys.stdout.write(difference.to_json() if args.format == "json" else difference.to_table())
    return EXIT_OK if difference.equal else EXIT_ERRORS


def cmd_explain(args: argparse.Namespace) -> int:
    if args.code is None:
        width = max(map(len, CODES))
        for code in CODES.values():
            print(f"{code.name.ljust(width)}  {code.severity:<7}  {code.title}")
        return EXIT_OK
    try:
        sys.stdout.write(explanation(args.code))
    except KeyError:
        raise UsageError(unknown_code_message(args.code)) from None
    return EXIT_OK
