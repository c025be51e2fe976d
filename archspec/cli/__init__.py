"""The command line: argument wiring over the API; no compiler logic lives here.

Exit codes: 0 success, 1 the spec has errors (diagnostics on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from ..analysis import Budget
from ..analysis.memory import COMPUTE_BYTES, OPTIMIZER_SLOTS
from ..analysis.render import COLUMNS
from ..api import bundled_dir, bundled_names, load, resolve, summary_line
from ..backend import BackendUnavailable, set_verbose
from ..emit.dot import RANKDIRS, RASTER_FORMATS, RENDER_FORMATS, render, to_dot
from ..errors import Diagnostic, SpecError, quoted
from ..files import bytes_writer, check_target, write_all_atomic, write_atomic
from ..version import __version__
from .common import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_network_options,
    add_warning_options,
    output_stem,
    print_errors,
    print_warnings,
    read_input_shape,
    read_overrides,
    size_limits,
    table_columns,
    training_setup,
    warning_policy,
)
from .compare import add_compare_commands
from .keras_import import add_import_command
from .text_forms import add_text_commands
from .training import add_training_commands
from .values import add_verbose_flag, attach_negative_shapes, positive_count, positive_integer

DIAGRAM_FORMATS = (*RENDER_FORMATS, "dot", "html")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 with usage, as we want, but say it our way
        self.print_usage(sys.stderr)
        print(f"archspec: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


class _UnusedParser:
    """Stands for the parser of a command this run does not run: it takes the options the
    command's set-up adds and keeps none."""

    def add_argument(self, *args: object, **kwargs: object) -> None:
        pass

    def set_defaults(self, **kwargs: object) -> None:
        pass


class _OneCommand:
    """The commands as a run of one of them sees them: that command's parser is built, every
    other one's `add_parser` gets an `_UnusedParser` (building all thirteen parsers is 2.5 ms of
    a 0.15 s `analyze`)."""

    def __init__(self, commands: argparse._SubParsersAction, name: str):
        self.commands, self.name, self.found = commands, name, False

    def add_parser(self, name: str, **kwargs: object) -> argparse.ArgumentParser | _UnusedParser:
        if name != self.name:
            return _UnusedParser()
        self.found = True
        return self.commands.add_parser(name, **kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with `command`, one that knows only that command (what a run
    of it needs), else every command's (for help, a misspelt command and the docs). A `command`
    that is not one gets the whole parser, so that argparse names the choices."""
    parser = _Parser(prog="archspec", description="A compiler for neural-network architecture specs.")
    parser.add_argument("--version", action="version", version=f"archspec {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    if command is None:
        _add_commands(subparsers)
        return parser
    only = _OneCommand(subparsers, command)
    _add_commands(only)
    return parser if only.found else build_parser()


def _add_commands(commands: argparse._SubParsersAction | _OneCommand) -> None:
    check = commands.add_parser("check", help="parse, validate and shape-check specs")
    check.add_argument("specs", nargs="+", metavar="SPEC", help="a .arch/.json path or a bundled spec's name")
    check.add_argument("-q", "--quiet", action="store_true", help="print nothing for clean specs")
    add_network_options(check)
    add_warning_options(check, verbose=True)
    check.set_defaults(handler=cmd_check)

    analyze = commands.add_parser("analyze", help="per-layer shapes, params, MACs, FLOPs and receptive fields")
    analyze.add_argument("spec", metavar="SPEC")
    analyze.add_argument("--format", choices=("table", "json", "markdown", "csv"), default="table")
    analyze.add_argument("--depth", type=positive_integer, default=None, metavar="N", help="collapse blocks nested N deep into one row")
    analyze.add_argument("--params", choices=("keras", "torch"), default="keras",
                         help="parameter convention: keras counts BN's moving statistics, torch does not")
    analyze.add_argument("--columns", metavar="A,B", help=f"the table's columns after Layer and Kind, of: {', '.join(COLUMNS)}")
    analyze.add_argument("--batch", type=positive_integer, metavar="N", help="add the training-memory ledger for batches of N")
    analyze.add_argument("--optimizer", choices=tuple(OPTIMIZER_SLOTS), help="the ledger's optimizer (default adam)")
    analyze.add_argument("--dtype", choices=tuple(COMPUTE_BYTES), help="the ledger's dtype policy (default float32)")
    analyze.add_argument("--memory", metavar="SIZE", help="the largest batch that fits SIZE (8GiB, 512MiB, 16GB)")
    add_network_options(analyze)
    add_warning_options(analyze, verbose=True)
    analyze.set_defaults(handler=cmd_analyze)

    build = commands.add_parser("build", help="write the Keras model (.keras), its Python source (.py) and diagram (.dot, .svg)")
    build.add_argument("spec", metavar="SPEC")
    build.add_argument("-o", "--output", metavar="DIR", default=".", help="output folder (created if missing; default: .)")
    budget = Budget()
    build.add_argument("--max-params", type=positive_count, default=budget.max_params, metavar="N",
                       help=f"refuse networks with more parameters (default {budget.max_params:,})")
    build.add_argument("--max-memory", type=positive_count, default=budget.max_memory_bytes >> 20, metavar="MIB",
                       help=f"refuse networks needing more float32 memory for parameters and one sample's activations (default {budget.max_memory_bytes >> 20:,} MiB)")
    build.add_argument("--weights", metavar="FILE", help="load these weights (from `archspec import --weights`) into the model")
    add_network_options(build)
    add_warning_options(build)
    add_verbose_flag(build)
    build.set_defaults(handler=cmd_build)

    diagram = commands.add_parser("diagram", help="draw the network with Graphviz")
    diagram.add_argument("spec", metavar="SPEC")
    diagram.add_argument("-o", "--output", metavar="FILE", help="output file (default: NAME.FORMAT; '-' for stdout)")
    diagram.add_argument("--format", choices=DIAGRAM_FORMATS,
                         help="default: from -o's extension, else svg; html is an interactive page (blocks fold, search, details)")
    diagram.add_argument("--depth", type=positive_integer, default=None, metavar="N", help="collapse blocks nested N deep into one node")
    diagram.add_argument("--rankdir", choices=RANKDIRS, default="TB", help="TB draws top to bottom (default), LR left to right")
    diagram.add_argument("--dpi", type=positive_integer, default=None, metavar="N", help="the resolution of png and jpg (Graphviz's default 96)")
    add_network_options(diagram)
    add_warning_options(diagram)
    diagram.set_defaults(handler=cmd_diagram)

    add_training_commands(commands)
    add_text_commands(commands)
    add_import_command(commands)

    add_compare_commands(commands)

    listing = commands.add_parser("list", help="list the bundled specs")
    listing.set_defaults(handler=cmd_list)


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_check(args: argparse.Namespace) -> int:
    status = EXIT_OK
    overrides, shape, policy = read_overrides(args), read_input_shape(args), warning_policy(args)
    for name in args.specs:
        try:
            architecture = load(name, size_limits(args))
            report = architecture.analyze(overrides, shape, policy=policy)
        except SpecError as error:
            print_errors(error)
            status = EXIT_ERRORS
            continue
        if report.diagnostics:
            print_warnings(report.diagnostics, architecture, args.verbose)
        if not args.quiet:
            totals = report.totals
            warnings = f", {len(report.diagnostics)} warning{'s' if len(report.diagnostics) != 1 else ''}" if report.diagnostics else ""
            layers = f"{len(report.layers)} layer{'s' if len(report.layers) != 1 else ''}"
            print(f"{name}: ok ({architecture.name}: {layers}, {totals.params:,} params{warnings})")
    return status


def cmd_analyze(args: argparse.Namespace) -> int:
    if args.depth is not None and args.format == "json":
        raise UsageError("--depth collapses rows of the table, markdown and csv formats; the JSON report always lists every layer")
    architecture = load(args.spec, size_limits(args))
    report = architecture.analyze(read_overrides(args), read_input_shape(args), args.params, warning_policy(args), training_setup(args))
    columns = table_columns(args)
    render: dict[str, Callable[[], str]] = {
        "table": lambda: report.to_table(args.depth, columns),
        "json": report.to_json,
        "markdown": lambda: report.to_markdown(args.depth, columns),
        "csv": lambda: report.to_csv(args.depth),
    }
    sys.stdout.write(render[args.format]())
    if (args.format != "table" or args.verbose) and report.diagnostics:
        print_warnings(report.diagnostics, architecture, args.verbose)
    return EXIT_OK


BUILD_SUFFIXES = (".py", ".keras", ".dot", ".svg", ".html")


def cmd_build(args: argparse.Namespace) -> int:
    architecture = load(args.spec, size_limits(args))
    overrides, shape = read_overrides(args), read_input_shape(args)
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {args.output}: not a folder (build writes several files into a folder)")
    graph, report = architecture.within_budget(overrides, shape, Budget(args.max_params, args.max_memory << 20), warning_policy(args))
    stem = output_stem(args.spec, architecture)
    where, _ = resolve(args.spec)
    protect = (where,) if where != "-" else ()
    for suffix in BUILD_SUFFIXES:  # every target checked before Keras' seconds of import
        check_target(folder / f"{stem}{suffix}", protect)
    from ..emit.html_view import to_html  # the drawing verbs' own (not on check's and analyze's start-up)
    from ..emit.python import to_python

    source = to_python(graph, architecture.file, summary_line(report))
    dot_text = to_dot(graph, report)
    drawing = []
    try:
        svg = render(dot_text, "svg")
        drawing.append((folder / f"{stem}.svg", bytes_writer(svg), ".tmp"))
        drawing.append((folder / f"{stem}.html", bytes_writer(to_html(report, architecture.source, svg).encode("utf-8")), ".tmp"))
    except SpecError as error:  # no Graphviz: the model and sources are still written
        print_errors(error)
        print(f"archspec: skipped {folder / stem}.svg", file=sys.stderr)
    if args.weights and not Path(args.weights).is_file():
        raise SpecError([Diagnostic("error", f"no weights file {quoted(args.weights)}")])
    from ..emit.keras import load_weights, to_keras  # imports Keras: only `build` pays for it

    model = to_keras(graph)
    if args.weights:
        print(f"loaded the weights of {load_weights(model, args.weights)} layers from {args.weights}")
    targets = [(folder / f"{stem}.py", bytes_writer(source), ".tmp"), (folder / f"{stem}.keras", model.save, ".keras"),
               (folder / f"{stem}.dot", bytes_writer(dot_text), ".tmp"), *drawing]
    sizes = write_all_atomic(targets, protect=protect)  # all of them, or (on an error) none
    for (path, _, _), size in zip(targets, sizes):
        print(f"wrote {path} ({_size(size)})")
    totals = report.totals
    print(f"{architecture.name}: {len(report.layers)} layers, {totals.params:,} params, {totals.macs:,} MACs, "
          f"input {'x'.join(map(str, report.input_shape))} -> output {'x'.join(map(str, report.output_shape))}")
    return EXIT_OK


def cmd_diagram(args: argparse.Namespace) -> int:
    architecture = load(args.spec, size_limits(args))
    graph, report = architecture.checked(read_overrides(args), read_input_shape(args), policy=warning_policy(args))
    output_format = _diagram_format(args)
    if args.dpi is not None and output_format not in RASTER_FORMATS:
        raise UsageError(f"--dpi sets the resolution of {' and '.join(RASTER_FORMATS)}; {output_format} has none")
    text = to_dot(graph, report, args.depth, args.rankdir)
    if output_format == "html":
        from ..emit.html_view import to_html

        data: str | bytes = to_html(report, architecture.source, render(text, "svg"))
    else:
        data = text if output_format == "dot" else render(text, output_format, args.dpi)
    target = args.output or f"{output_stem(args.spec, architecture)}.{output_format}"
    if target == "-":
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return EXIT_OK
    where, _ = resolve(args.spec)
    size = write_atomic(target, data, protect=(where,) if where != "-" else ())
    print(f"wrote {target} ({_size(size)})")
    return EXIT_OK


def _diagram_format(args: argparse.Namespace) -> str:
    """The format --format names, else the output file's extension, else SVG; an extension
    Graphviz is not asked for here, or one that contradicts --format, is a usage error."""
    formats = DIAGRAM_FORMATS
    suffix = Path(args.output).suffix.lstrip(".").lower() if args.output and args.output != "-" else ""
    if suffix in formats and args.format and suffix != args.format:
        raise UsageError(f"--format {args.format} contradicts the output file {quoted(args.output)}")
    if suffix and suffix not in formats and not args.format:
        raise UsageError(f"cannot tell the diagram format from {quoted(args.output)}: its extension is not one of "
                         f"{', '.join(formats)}; name the file so, or give --format")
    return args.format or suffix or "svg"


def _size(count: int) -> str:
    return f"{count:,} bytes" if count < 10_000 else f"{count / 1024:,.0f} KiB" if count < 10 << 20 else f"{count / (1 << 20):,.1f} MiB"


def cmd_list(args: argparse.Namespace) -> int:
    rows = []
    for name in bundled_names():
        path = bundled_dir() / f"{name}.arch"
        try:
            architecture = load(str(path), size_limits(args))
            params = f"{architecture.default_report.totals.params:,}"
            network = architecture.name
        except SpecError:
            params, network = "(has errors)", "?"
        rows.append((name, network, params, _summary_line(path)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)] if rows else [0, 0, 0]
    for name, network, params, summary in rows:
        print(f"{name.ljust(widths[0])}  {network.ljust(widths[1])}  {params.rjust(widths[2])} params  {summary}")
    return EXIT_OK


def _summary_line(path: os.PathLike) -> str:
    """The first line of a spec's header comment."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            stripped = line.strip()
            if stripped.startswith("#"):
                return stripped.lstrip("#").strip()
            if stripped:
                break
    return ""


# ---------------------------------------------------------------------------------------------
# Output of diagnostics


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on `argv` (by default the process's arguments); returns the exit code."""
    # pydantic looks for plugins by reading every installed distribution's entry points the
    # first time it builds a validator (30 ms of a 0.2 s `analyze` beside TensorFlow's hundreds
    # of packages); the command line uses none. Python callers of the API keep theirs.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    return _run(attach_negative_shapes(sys.argv[1:] if argv is None else argv))


def program() -> None:
    """The `archspec` program (the console script, `python -m archspec`): `main()` on the
    process's arguments, then the process ends with its exit code. A host process calls
    `main()`, which returns."""
    # What the imports built lives as long as the process: the cycle collector's full passes
    # (between the files of a `check`) need not walk it again each time.
    gc.freeze()
    code = main()
    _exit_without_teardown(code)
    raise SystemExit(code)


def _exit_without_teardown(code: int) -> None:
    """End the program once its output is out and the exit handlers have run, skipping the
    interpreter's teardown: freeing every object the imports made is 4 ms of a 0.15 s `analyze`
    and nothing of ours needs it (mypy ends its runs so). Returns, for the usual exit, where
    TensorFlow was imported (it stops its own threads at exit), where another thread still
    runs, where a profiler or tracer waits for the end (cProfile, trace, coverage), or where the
    output cannot be flushed (the usual exit reports that)."""
    threads = sys.modules.get("threading")
    if ("tensorflow" in sys.modules or (threads is not None and threads.active_count() > 1)
            or sys.getprofile() is not None or sys.gettrace() is not None):
        return
    atexit._run_exitfuncs()  # what the usual exit would run (the handlers are then unregistered)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None where the process was started with the stream closed
                stream.flush()
    except (OSError, ValueError):  # a closed pipe or stream
        return
    os._exit(code)


def _run(arguments: list[str]) -> int:
    parser = build_parser(arguments[0] if arguments else None)
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    set_verbose(getattr(args, "verbose", False))
    try:
        return args.handler(args)
    except BackendUnavailable as error:
        print(f"archspec: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except SpecError as error:
        print_errors(error)
        return EXIT_ERRORS
    except UsageError as error:
        print(f"archspec: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("archspec: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`archspec analyze x | head`): not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except RecursionError:
        print("archspec: error: the spec is nested too deeply to process", file=sys.stderr)
        return EXIT_ERRORS
    except MemoryError:
        print("archspec: error: out of memory while processing the spec", file=sys.stderr)
        return EXIT_ERRORS


if __name__ == "__main__":
    program()
