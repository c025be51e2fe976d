"""`archspec fmt`, `convert` and `schema`: the verbs that write a spec, or the JSON form's
schema, as text (canonical layout, the other form, JSON Schema)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..api import Architecture, bundled_names, load, resolve
from ..errors import Diagnostic, SpecError, quoted
from ..files import write_atomic
from ..source import JSON
from ..spec import json_schema, load_spec
from ..syntax import read_source
from .common import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UsageError, print_errors, size_limits


def add_text_commands(commands: Any) -> None:
    fmt = commands.add_parser("fmt", help="rewrite specs in canonical layout")
    fmt.add_argument("specs", nargs="+", metavar="SPEC", help="spec files ('-' reads stdin, writes stdout)")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is not formatted")
    fmt.set_defaults(handler=cmd_fmt)

    convert = commands.add_parser("convert", help="convert between .arch and .json, losslessly")
    convert.add_argument("spec", metavar="SPEC", help="a path, a bundled name, or '-' for stdin")
    convert.add_argument("--to", choices=("json", "arch"), required=True)
    convert.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    convert.set_defaults(handler=cmd_convert)

    schema = commands.add_parser("schema", help="print the JSON Schema of the JSON form")
    schema.add_argument("-o", "--output", metavar="FILE")
    schema.set_defaults(handler=cmd_schema)


def cmd_fmt(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for name in args.specs:
        if name != "-" and not os.path.exists(name):
            if name.lower() in bundled_names():
                raise UsageError(f"fmt works on files; {quoted(name)} names a bundled spec, and bundled specs are read-only")
            print_errors(SpecError([Diagnostic("error", f"no spec file {quoted(name)}")]))
            status = EXIT_USAGE  # as documented: fmt on a file that does not exist is a usage error
            continue
        try:
            source = read_source(name)
            architecture = Architecture(source, load_spec(source))
        except SpecError as error:
            print_errors(error)
            status = EXIT_ERRORS
            continue
        formatted = architecture.to_json() if source.format == JSON else architecture.to_arch()
        if name == "-":
            if args.check:
                status = max(status, EXIT_ERRORS if formatted != source.text else EXIT_OK)
            else:
                sys.stdout.write(formatted)
            continue
        if formatted == source.text:
            continue
        if args.check:
            print(f"{name}: would reformat", file=sys.stderr)
            status = EXIT_ERRORS
        else:
            write_atomic(name, formatted)
            print(f"{name}: reformatted", file=sys.stderr)
    return status


def cmd_convert(args: argparse.Namespace) -> int:
    architecture = load(args.spec, size_limits(args))
    # to_arch keeps an .arch source's layout and comments; a JSON source gets the canonical layout.
    text = architecture.to_json() if args.to == "json" else architecture.to_arch()
    if args.output:
        where, _ = resolve(args.spec) if args.spec != "-" else ("-", "-")
        protect = (where,) if where != "-" else ()
        write_atomic(args.output, text, protect=protect)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK
