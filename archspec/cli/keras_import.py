"""`archspec import SOURCE`: a Keras model as a readable spec. The only verb that imports
TensorFlow before reading its input, since its input is a Keras model.

SOURCE is a `.keras` file (or a legacy `.h5` that Keras 3 loads), a dotted callable such as
`keras.applications.ResNet50` (called with `weights=None` where it takes weights, and `--arg`
values), or `path/to/file.py:function` returning a `keras.Model`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path
from typing import Any

from ..backend import load_keras
from ..errors import Diagnostic, SpecError, quoted
from ..files import atomic_target, write_atomic
from .values import add_verbose_flag, parse_value


def add_import_command(commands: Any) -> None:
    command = commands.add_parser("import", help="turn a Keras model (.keras file, keras.applications name, file.py:function) into a spec")
    command.add_argument("source", metavar="SOURCE", help="a .keras/.h5 file, a dotted callable, or path/to/file.py:function")
    command.add_argument("-o", "--output", metavar="FILE", help="write the spec here (.arch or .json) instead of stdout")
    command.add_argument("--to", choices=("arch", "json"), help="the form to write (default: the output's extension, else arch)")
    command.add_argument("--name", metavar="NAME", help="the network's name (default: the model's)")
    command.add_argument("--weights", metavar="DIR", help="also write the model's weights to DIR/NAME.weights.npz, for `archspec build --weights`")
    command.add_argument("--keep-names", action="store_true", help="keep every layer's Keras name (`as`); no blocks are made")
    command.add_argument("--arg", action="append", default=[], metavar="K=V", help="an argument for a callable SOURCE, e.g. input_shape=[96,96,3]")
    add_verbose_flag(command)
    command.set_defaults(handler=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from ..api import import_keras

    form = args.to or ("json" if args.output and args.output.endswith(".json") else "arch")
    arguments = dict(_argument(text) for text in args.arg)
    if args.weights and Path(args.weights).exists() and not Path(args.weights).is_dir():
        raise SpecError([Diagnostic("error", f"--weights {quoted(args.weights)}: not a folder")])
    model = load_model(args.source, arguments)
    architecture, weights = import_keras(model, args.name, keep_names=args.keep_names)
    text = architecture.to_json() if form == "json" else architecture.to_arch()
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    if args.weights:
        from ..emit.keras import WEIGHTS_SUFFIX, save_weights

        Path(args.weights).mkdir(parents=True, exist_ok=True)
        target = Path(args.weights) / f"{architecture.name}{WEIGHTS_SUFFIX}"
        with atomic_target(target) as temporary:  # an interrupted write leaves no partial file
            save_weights(weights, str(temporary))
        print(f"archspec: wrote the weights of {len(weights)} layers to {target}", file=sys.stderr)
    report = architecture.default_report
    keras_params = int(model.count_params())
    print(f"archspec: imported {len(report.layers)} layers, {report.totals.params:,} params "
          f"(Keras counts {keras_params:,}){'' if keras_params == report.totals.params else ' -- they differ'}", file=sys.stderr)
    return 0


def _argument(text: str) -> tuple[str, Any]:
    from .common import UsageError  # the command line's own error

    key, separator, value = text.partition("=")
    if not separator or not key.isidentifier():
        raise UsageError(f"--arg: expected K=V with K a Python name; received {text!r}")
    return key, _python_value(parse_value(value))


def _python_value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value  # Keras' shapes are tuples


def load_model(source: str, arguments: dict[str, Any]) -> Any:
    """The keras.Model SOURCE names, or SpecError saying why there is none."""
    if source.endswith((".keras", ".h5")):
        return _load_file(source)
    if ":" in source and source.split(":", 1)[0].endswith(".py"):
        path, function = source.rsplit(":", 1)
        return _checked(_call(_function_in_file(path, function), arguments, source), source)
    if "." in source and not os.path.exists(source):
        return _checked(_call(_dotted(source), arguments, source), source)
    raise SpecError([Diagnostic("error", f"cannot tell what {quoted(source)} is",
                                hint="give a .keras file, a dotted callable (keras.applications.ResNet50) or file.py:function")])


def _load_file(path: str) -> Any:
    keras = load_keras()

    if not Path(path).is_file():
        raise SpecError([Diagnostic("error", f"no model file {quoted(path)}")])
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:
        raise SpecError([Diagnostic("error", f"Keras cannot load {quoted(path)}: {str(error).splitlines()[0][:300]}")]) from None


def _function_in_file(path: str, name: str) -> Any:
    if not Path(path).is_file():
        raise SpecError([Diagnostic("error", f"no Python file {quoted(path)}")])
    spec = importlib.util.spec_from_file_location(f"archspec_import_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as error:
        raise SpecError([Diagnostic("error", f"running {quoted(path)} failed: {type(error).__name__}: {error}")]) from None
    if not callable(getattr(module, name, None)):
        raise SpecError([Diagnostic("error", f"{quoted(path)} defines no function `{name}`")])
    return getattr(module, name)


def _dotted(source: str) -> Any:
    module_name, _, attribute = source.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SpecError([Diagnostic("error", f"cannot import `{module_name}`: {error}")]) from None
    if not callable(getattr(module, attribute, None)):
        raise SpecError([Diagnostic("error", f"`{module_name}` has no callable `{attribute}`")])
    return getattr(module, attribute)


def _call(function: Any, arguments: dict[str, Any], source: str) -> Any:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        parameters = {}
    if "weights" in parameters and "weights" not in arguments:
        arguments = {**arguments, "weights": None}  # never download weights
    try:
        return function(**arguments)
    except Exception as error:
        raise SpecError([Diagnostic("error", f"calling {source} failed: {type(error).__name__}: {str(error).splitlines()[0][:300]}")]) from None


def _checked(model: Any, source: str) -> Any:
    keras = load_keras()

    if not isinstance(model, keras.Model):
        raise SpecError([Diagnostic("error", f"{source} returned {type(model).__name__}, not a keras.Model")])
    return model
