"""The Python API: load a spec (path, bundled name or text) and ask for its graph and report.

Takes a path, a bundled spec's name or spec text; hands out an `Architecture`, whose methods
run the later stages: `graph()`, `analyze()`, `to_json()`, `to_arch()`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import cached_property, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

from .analysis import Budget, Report, analyze, check_budget
from .analysis.memory import TrainingSetup, memory_ledger
from .codes import WarningPolicy
from .errors import Diagnostic, SpecError, did_you_mean
from .graph import Graph, Limits, build_graph
from .source import DEFAULT_SIZE, SizeLimits, Source
from .spec import Spec, load_spec
from .startup import CollectorPaused
from .syntax import parse_text, read_source

if TYPE_CHECKING:  # imported where used: analyze and check need neither
    from .analysis.diff import Diff


def bundled_dir() -> Path:
    """Where the bundled specs are: inside the installed package, or the source tree's specs/."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "specs", package.parent / "specs"):
        if candidate.is_dir():
            return candidate
    return package / "specs"


def bundled_names() -> list[str]:
    folder = bundled_dir()
    return sorted(path.stem for path in folder.glob("*.arch")) if folder.is_dir() else []


def resolve(spec: str | os.PathLike) -> tuple[Path | str, str]:
    """(where to read, name to show) for a path or a bundled spec's name."""
    text = os.fspath(spec)
    path = Path(text)
    if text == "-" or path.exists():
        return (text if text == "-" else path), text
    if path.suffix == "" and os.sep not in text and "/" not in text:
        bundled = bundled_dir() / f"{text.lower()}.arch"
        if bundled.is_file():
            return bundled, _display_path(bundled)
    hint = did_you_mean(text.lower(), bundled_names())
    if hint is None and not path.suffix:
        hint = f"bundled specs: {', '.join(bundled_names())}"
    raise SpecError([Diagnostic("error", f"no spec file or bundled spec named '{text}'", hint=hint)])


def _display_path(path: Path) -> str:
    """A bundled spec's path as diagnostics show it: relative to the working folder if inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return f"{path.parent.name}/{path.name}"


_Stage = TypeVar("_Stage", bound=Callable[..., Any])


def _without_cycle_collection(stage: _Stage) -> _Stage:
    """Runs a stage with Python's cyclic garbage collector paused. The stages build many small
    acyclic objects (a 100,000-layer spec: millions); the collector would walk them again and
    again, a third of the time, and find nothing to free. Reference counting frees as usual."""

    @wraps(stage)
    def paused(*args: Any, **kwargs: Any) -> Any:
        with CollectorPaused():
            return stage(*args, **kwargs)

    return paused  # type: ignore[return-value]


@dataclass(frozen=True)
class Architecture:
    """A loaded, validated spec. Later stages run on demand and raise `SpecError` on faults."""

    source: Source
    spec: Spec

    @property
    def name(self) -> str:
        return self.spec.network

    @property
    def file(self) -> str:
        return self.source.file

    @_without_cycle_collection
    def graph(self, set: Mapping[str, Any] | None = None, input_shape: tuple[int, ...] | None = None,
              limits: Limits | None = None) -> Graph:
        """The expanded layer graph; `set` overrides network parameters. The layer limit is the
        one the spec was loaded under unless `limits` says otherwise."""
        limits = limits if limits is not None else Limits(max_layers=self.source.size.layers)
        return build_graph(self.spec, self.source, set, input_shape, limits)

    @_without_cycle_collection
    def analyze(self, set: Mapping[str, Any] | None = None, input_shape: tuple[int, ...] | None = None,
                params: str = "keras", policy: WarningPolicy = WarningPolicy(), training: TrainingSetup | None = None,
                *, batch: int | None = None, optimizer: str | None = None, dtype: str | None = None) -> Report:
        """The analysis report (shapes, params, MACs, FLOPs, receptive fields, memory). `policy`
        leaves out the warnings it allows and raises SpecError for those it denies. With
        `training` (or `batch`, `optimizer`, `dtype`), the report carries the training-memory
        ledger (`report.memory`)."""
        report = self.checked(set, input_shape, params, policy)[1]
        if training is None and (batch, optimizer, dtype) != (None, None, None):
            defaults = TrainingSetup()
            training = TrainingSetup(defaults.batch if batch is None else batch, optimizer or defaults.optimizer, dtype or defaults.dtype)
        if training is None:
            return report
        # Keras holds BN's moving statistics whatever convention the table counts in
        keras_counted = report if params == "keras" else self.checked(set, input_shape, "keras", policy)[1]
        return report._replace(memory=memory_ledger(keras_counted, training))

    @_without_cycle_collection
    def checked(self, set: Mapping[str, Any] | None = None, input_shape: tuple[int, ...] | None = None,
                params: str = "keras", policy: WarningPolicy = WarningPolicy()) -> tuple[Graph, Report]:
        """The graph and its report, the report's warnings under `policy` (SpecError for a denied one)."""
        graph = self.graph(set, input_shape)
        report = analyze(graph, params)
        diagnostics = policy.apply(report.diagnostics)
        if any(d.is_error for d in diagnostics):
            raise SpecError(diagnostics, {self.file: self.source.text})
        return graph, report._replace(diagnostics=diagnostics)

    def to_keras(self, set: Mapping[str, Any] | None = None, input_shape: tuple[int, ...] | None = None,
                 budget: Budget = Budget()) -> Any:
        """A `keras.Model` (functional API) of exactly the analyzed network; imports Keras.
        Refuses (SpecError) a network over `budget` before Keras allocates anything."""
        from .emit.keras import to_keras

        graph, _ = self.within_budget(set, input_shape, budget)
        return to_keras(graph)

    @_without_cycle_collection
    def within_budget(self, set: Mapping[str, Any] | None = None, input_shape: tuple[int, ...] | None = None,
                      budget: Budget = Budget(), policy: WarningPolicy = WarningPolicy()) -> tuple[Graph, Report]:
        """The graph and report of a network `build` may allocate, or SpecError saying why not."""
        graph, report = self.checked(set, input_shape, policy=policy)
        problems = check_budget(report, budget)
        if problems:
            raise SpecError(problems, {self.file: self.source.text})
        return graph, report

    def to_python(self, set: Mapping[str, Any] | None = None, input_shape: tuple[int, ...] | None = None) -> str:
        """Standalone source that imports only `keras` and defines `build_model(...)`."""
        from .emit.python import to_python

        graph = self.graph(set, input_shape)
        return to_python(graph, self.file, summary_line(analyze(graph)))

    def to_dot(self, set: Mapping[str, Any] | None = None, input_shape: tuple[int, ...] | None = None,
               depth: int | None = None) -> str:
        """Graphviz DOT text of the network (render it with `dot -Tsvg` or `archspec diagram`)."""
        from .emit.dot import to_dot

        graph = self.graph(set, input_shape)
        return to_dot(graph, analyze(graph), depth)

    def diff(self, other: "Architecture", set: Mapping[str, Any] | None = None, other_set: Mapping[str, Any] | None = None,
             input_shape: tuple[int, ...] | None = None, other_input_shape: tuple[int, ...] | None = None,
             params: str = "keras") -> Diff:
        """This network against `other` (or against itself under other settings), layer by layer."""
        from .analysis.diff import diff_reports

        return diff_reports(self.analyze(set, input_shape, params), other.analyze(other_set, other_input_shape, params))

    @cached_property
    def default_report(self) -> Report:
        return self.analyze()

    def to_dict(self) -> dict:
        return self.spec.to_dict()

    def to_json(self) -> str:
        """The JSON form; a JSON source's `$schema` pointer is kept first."""
        from .emit.arch import to_json

        pointer = self.source.schema_pointer
        return to_json({"$schema": pointer, **self.to_dict()} if pointer else self.to_dict())

    def to_arch(self) -> str:
        """Canonical `.arch` text (keeps comments and line grouping when read from `.arch`)."""
        from .emit.arch import to_arch

        return to_arch(self.to_dict(), self.source)


def summary_line(report: Report) -> str:
    totals = report.totals
    return (f"{totals.params:,} params ({totals.trainable_params:,} trainable), {totals.macs:,} MACs "
            f"for one {'x'.join(map(str, report.input_shape))} input.")


def _architecture(source: Source) -> Architecture:
    spec = load_spec(source)
    return Architecture(replace(source, data={}), spec)  # the plain dict has become the Spec: let it go


@_without_cycle_collection
def load(spec: str | os.PathLike, size: SizeLimits = DEFAULT_SIZE) -> Architecture:
    """Load a spec from a path (`.arch` or `.json`) or a bundled spec's name (`resnet18`)."""
    where, shown = resolve(spec)
    return _architecture(read_source(where, shown, size))


def from_keras(model: Any, name: str | None = None, size: SizeLimits = DEFAULT_SIZE, keep_names: bool = False) -> Architecture:
    """The spec of a built `keras.Model`, every layer mapped back to its kind and proved to emit
    the same Keras layer (see `syntax.keras_model`); imports Keras. The spec is printed as .arch
    and read back, so its diagnostics and spans point into a text a person can read."""
    return import_keras(model, name, size, keep_names)[0]


def import_keras(model: Any, name: str | None = None, size: SizeLimits = DEFAULT_SIZE,
                 keep_names: bool = False) -> tuple[Architecture, dict[str, list[Any]]]:
    """`from_keras`, and the model's weights by the name of the spec's layer that holds them."""
    from .emit.arch import to_arch
    from .syntax.keras_model import from_keras_model

    data, notes, layers = from_keras_model(model, name, keep_names)
    header = "".join(f"# {note}\n" for note in [f"imported from the Keras model `{model.name}`", *notes])
    architecture = parse(header + to_arch(data), f"<{model.name}>", size)
    nodes = architecture.graph().nodes
    if len(nodes) != len(layers):  # the expansion is the import's own statements: a bug if not
        raise SpecError([Diagnostic("error", f"the imported spec expands to {len(nodes)} layers, the model has {len(layers)}",
                                    hint="this is a bug in archspec: please report it with the model")])
    # Keras operations (`x + y`) hold no weights, and have no `weights` to ask
    return architecture, {node.name: layer.get_weights() for node, layer in zip(nodes, layers) if getattr(layer, "weights", None)}


@_without_cycle_collection
def parse(text: str, file: str = "<text>", size: SizeLimits = DEFAULT_SIZE) -> Architecture:
    """Load a spec from text in either form."""
    return _architecture(parse_text(text, file, size))
