"""Expansion: a validated `Spec` to a flat DAG of layer nodes with checked shapes.

Takes a `Spec` (and its `Source`, for locating faults), parameter overrides and an optional
input shape; evaluates parameter expressions, expands blocks, repeats, conditions, branches and
residuals, names every node (unique, stable, valid Keras names), builds each layer from the
registry and infers its output shape. Hands out a frozen `Graph` in topological order, or a
`SpecError` with every independent fault found. The network's ends (parameters, inputs,
outputs) and its names and taps are the `Endpoints` and `Naming` mixins beside it.
"""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import ValidationError

from ..errors import DataPath, Diagnostic, DiagnosticSink, Span, show_value
from ..expr import RECEIVED, TAP_SHAPES, UNKNOWN, EvalError, evaluate, read_taps, reads_received, referenced_parameters
from ..layers import REGISTRY, Entry, Layer, Shape, ShapeError, format_shape
from ..source import Source
from ..spec import (
    Block,
    Call,
    ConcatGroup,
    If,
    Repeat,
    Residual,
    Spec,
    StatementModel,
    Tap,
    check_spec,
    is_repeat_count,
    repeat_count_message,
)
from .endpoints import Endpoints
from .estimate import refuse_oversized
from .hints import argument_faults, article, call_label, word_hint
from .model import BLOCK_GROUP, INPUT, Env, Graph, Group, Limits, Node, Role, argument_symbols, bind_block, prune_unused, unused_allowed
from .naming import Naming
from .scope import Scope


class _Abort(Exception):
    """Stops expansion after a fault that makes going on pointless (a limit was hit)."""


class Expander(Endpoints, Naming):
    def __init__(self, spec: Spec, source: Source, overrides: Mapping[str, Any], input_shape: Shape | None, limits: Limits):
        self.spec, self.source, self.limits = spec, source, limits
        self.overrides, self.input_override = dict(overrides), input_shape
        self.sink = DiagnosticSink()
        self.nodes: list[Node] = []
        self.shapes: dict[str, Any] = {}
        self.blocks = {block.name: block for block in reversed(spec.blocks)}  # the first of a name, as Spec.block finds
        self.built: dict[str, Layer] = {}  # layers are frozen: equal arguments build one, shared
        # (layer id, input shapes) -> (output shape, bound layer, the layer itself, which keeps its id its own)
        self.outputs_of: dict[tuple, tuple[Shape, Layer, Layer]] = {}
        self.names: dict[str, DataPath] = {INPUT: ()}
        self.taps: dict[str, str] = {INPUT: INPUT}  # tap name -> node name
        self.scope = Scope.root()  # the scope of the statement being expanded
        self.groups: list[Group] = []
        self.block_depth = 0
        self.call_stack: list[tuple[str, Span | None]] = []
        self.structural: set[str] = set()
        self.fixed_input = False  # a layer read the sizes it receives (`in.channels`)
        self.group_names: set[str] = set()

    # -- diagnostics

    def error(self, message: str, path: DataPath, hint: str | None = None) -> None:
        diagnostic = self.source.diagnostic("error", message, path, hint)
        if self.call_stack:  # a fault inside a block body: say which call expanded it
            label, span = self.call_stack[-1]
            where = f" at {span.location()}" if span else ""
            diagnostic = Diagnostic(diagnostic.severity, diagnostic.message, diagnostic.span, diagnostic.hint,
                                    diagnostic.code, diagnostic.json_path, note=f"in `{label}`{where}")
        self.sink.add(diagnostic)

    # -- entry point

    def run(self) -> Graph:
        if not check_spec(self.spec, self.source, self.sink):
            self.sink.raise_if_errors({self.source.file: self.source.text})
        env = self.network_parameters()
        input_shape = self.input_shape(env)
        if input_shape is None:  # nothing downstream can be checked
            self.sink.raise_if_errors({self.source.file: self.source.text})
        self.shapes[INPUT] = input_shape
        extra_inputs = self.named_inputs(env)
        if refuse_oversized(self.spec, env, self.limits, self.error):
            self.sink.raise_if_errors({self.source.file: self.source.text})
        scope = Scope.root()
        try:
            current = self.body(self.spec.body, ("body",), env, scope, INPUT)
        except _Abort:
            current = INPUT
        if not self.nodes and not self.sink.has_errors:
            self.error("the network has no layers", ("body",))
        self.sink.raise_if_errors({self.source.file: self.source.text})
        outputs = self.outputs(current, extra_inputs)
        nodes, warning = prune_unused(self.nodes, outputs, unused_allowed(self.spec.allow, self.groups))
        if warning is not None:
            self.sink.add(warning)
        used = {source for node in nodes for source in node.inputs}
        for index, (name, _) in enumerate(extra_inputs):
            if name not in used:
                self.error(f"input `{name}` is never used", ("inputs", index, "name"),
                           f"read it in the body as a tap: `@{name}` (then layers), or `concat(@{name})`")
        self.sink.raise_if_errors({self.source.file: self.source.text})
        parameters = tuple((p.name, env[p.name]) for p in self.spec.params)
        input_symbol = None if self.input_override is not None else env.substitute(self.spec.input)
        return Graph(self.spec.network, parameters, input_shape, nodes, outputs[0], tuple(self.groups),
                     self.source.file, frozenset(self.structural), input_symbol, self.fixed_input, tuple(self.sink.items),
                     self.spec.input_name or INPUT, extra_inputs, outputs[1:], frozenset(self.spec.allow))

    # -- statements

    def body(self, statements: tuple, path: DataPath, env: dict, scope: Scope, current: str) -> str:
        for index, statement in enumerate(statements):
            current = self.statement(statement, path + (index,), env, scope, current)
        return current

    def statement(self, statement: StatementModel, path: DataPath, env: dict, scope: Scope, current: str) -> str:
        """Expand one statement by its kind's rule, `expand_<key>`; hands out the new current tensor."""
        rule = getattr(self, f"expand_{statement.key}")
        env[RECEIVED] = self.shapes.get(current, UNKNOWN)  # what `in.channels` reads
        outer, self.scope = self.scope, scope  # where `@x.channels` in its expressions resolves x
        try:
            return rule(statement, path, env, scope, current)
        finally:
            self.scope = outer

    def expand_if(self, statement: If, path: DataPath, env: dict, scope: Scope, current: str) -> str:
        condition = self.evaluate(statement.if_, env, path + ("if",))
        self.note_structural(statement.if_, env)
        if condition is UNKNOWN:
            return current
        if not isinstance(condition, bool):
            self.error(f"an `if` condition must be true or false; received {show_value(condition)}", path + ("if",))
            return current
        branch, key = (statement.then, "then") if condition else (statement.else_, "else")
        return self.body(branch, path + (key,), env, scope, current)

    def expand_tap(self, statement: Tap, path: DataPath, env: dict, scope: Scope, current: str) -> str:
        return self.resolve_tap(statement.tap, scope, path + ("tap",)) or current

    def expand_repeat(self, statement: Repeat, path: DataPath, env: dict, scope: Scope, current: str) -> str:
        count = self.evaluate(statement.repeat, env, path + ("repeat",))
        self.note_structural(statement.repeat, env)
        if count is UNKNOWN:
            return current
        if not is_repeat_count(count, self.limits.max_repeat):
            self.error(repeat_count_message(show_value(count), self.limits.max_repeat), path + ("repeat",))
            return current
        inner, group_id = scope, None
        if statement.as_:
            group_id = self.group_id(scope, statement.as_, Repeat.key, path)
            self.add_group(group_id, Repeat.key, f"{Repeat.key} {count}", scope, path)
            inner = scope.child(group_id + "_", scope.groups + (group_id,))
        for iteration in range(count):
            iteration_scope = inner.child(inner.prefix, inner.groups, inner.counters, repeat_index=scope.repeat_index + (iteration + 1,))
            current = self.body(statement.body, path + ("body",), self.with_index(env, statement.index, iteration), iteration_scope, current)
        if group_id is not None:
            self.register_tap(group_id, current)
        return current

    @staticmethod
    def with_index(env: Env, index: str | None, value: int) -> Env:
        """The environment of one copy of a repeat: its index a constant there."""
        if index is None:
            return env
        copy = Env(env, {**env.symbols, index: None})
        copy[index] = value
        return copy

    def group_id(self, scope: Scope, alias: str | None, base: str, path: DataPath) -> str:
        """A group's name: its `as` name (unique, or an error at the alias) or the next free generated one."""
        name = self.unique_name(scope.prefix + scope.aliased(alias), path + ("as",)) if alias else self.fresh_name(scope, base)
        self.group_names.add(name)
        return name

    def expand_concat(self, statement: ConcatGroup, path: DataPath, env: dict, scope: Scope, current: str) -> str:
        group_id = self.group_id(scope, statement.as_, ConcatGroup.key, path)
        self.add_group(group_id, ConcatGroup.key, statement.as_ or ConcatGroup.key, scope, path)
        first = not statement.as_ and group_id == f"{scope.prefix}{ConcatGroup.key}_1"
        prefix = scope.prefix if first else group_id + "_"  # the first group's branches read b1, b2, ...
        outputs = []
        for index, branch in enumerate(statement.concat):
            branch_scope = scope.child(f"{prefix}b{index + 1}_", scope.groups + (group_id,))
            outputs.append(self.body(branch, path + (ConcatGroup.key, index), env, branch_scope, current))
        if len(outputs) < 2:
            self.error(f"concat needs at least two branches; received {len(outputs)}", path,
                       "a single path needs no concat; write its layers directly")
            return self.unknown_output(group_id, path)
        shapes = [self.shapes[o] for o in outputs]
        merge = REGISTRY[ConcatGroup.merge].build({})
        if UNKNOWN not in shapes:
            try:
                merge.output_shape(shapes)
            except ShapeError as error:  # the registry's rule, said in terms of branches
                described = ", ".join(f"branch {index + 1} outputs {format_shape(shape)}" for index, shape in enumerate(shapes))
                self.error(f"concat: the branches cannot be concatenated: {described}; they must agree in everything but the channels",
                           path, error.hint)
                return self.unknown_output(group_id, path)
        merged = self.add_node(group_id, ConcatGroup.merge, merge, tuple(outputs), scope.groups + (group_id,), path, role=scope.role)
        self.register_tap(group_id, merged)
        return merged

    def expand_residual(self, statement: Residual, path: DataPath, env: dict, scope: Scope, current: str) -> str:
        entry = REGISTRY.get(statement.merge)
        if entry is None or not entry.cls.elementwise:  # reported by the static checks
            return self.unknown_output(self.group_id(scope, statement.as_, Residual.key, path), path)
        group_id = self.group_id(scope, statement.as_, Residual.key, path)
        number = int(group_id.rsplit("_", 1)[1]) if not statement.as_ else 1
        self.add_group(group_id, Residual.key, statement.as_ or Residual.key, scope, path)
        inner_prefix = group_id + "_" if statement.as_ else scope.prefix
        groups = scope.groups + (group_id,)
        main_scope = scope.child(inner_prefix, groups, None if statement.as_ else scope.counters)
        main = self.body(statement.residual, path + ("residual",), env, main_scope, current)
        shortcut = current
        use_shortcut = statement.shortcut is not None
        if use_shortcut:
            env[RECEIVED] = self.shapes.get(current, UNKNOWN)  # the body's statements moved it on
            condition = self.evaluate(statement.shortcut_if, env, path + ("shortcut_if",))
            self.note_structural(statement.shortcut_if, env)
            if condition is not UNKNOWN and not isinstance(condition, bool):
                self.error(f"a shortcut condition must be true or false; received {show_value(condition)}", path + ("shortcut_if",))
                condition = UNKNOWN
            if condition is UNKNOWN:  # which shortcut is meant is unknown: so is the sum
                return self.unknown_output(group_id, path)
            use_shortcut = condition
        if use_shortcut:
            label = "shortcut" if number == 1 or statement.as_ else f"shortcut_{number}"
            shortcut_scope = scope.child(f"{inner_prefix}{label}_", groups, role=Role.SHORTCUT)
            shortcut = self.body(statement.shortcut, path + ("shortcut",), env, shortcut_scope, current)
        main_shape, shortcut_shape = self.shapes.get(main), self.shapes.get(shortcut)
        merge = self.residual_merge(statement, path, env)
        if merge is None:
            return self.unknown_output(group_id, path)
        if main_shape is not UNKNOWN and shortcut_shape is not UNKNOWN:
            try:
                merge.output_shape([main_shape, shortcut_shape])
            except ShapeError as error:  # the registry's rule, said in terms of the body and the shortcut
                hint = merge.mismatch_hint([main_shape, shortcut_shape]) or error.hint
                self.error(
                    f"residual: the body's output {format_shape(main_shape)} differs from the shortcut's {format_shape(shortcut_shape)}"
                    f"{' (identity)' if shortcut == current else ''}; {article(statement.merge)} {statement.merge} needs equal shapes "
                    "(or size 1 on an axis, to broadcast)",
                    path, hint,
                )
                return self.unknown_output(group_id, path)
        name = group_id if statement.as_ else self.fresh_name(scope, statement.merge)
        symbol = env.substitute(statement.scale) if "scale" in statement.model_fields_set else None
        merged = self.add_node(name, statement.merge, merge, (main, shortcut), groups, path, role=Role.RESIDUAL_MERGE,
                               symbols=(("scale", symbol),) if symbol is not None else ())
        self.register_tap(group_id, merged)
        return merged

    def residual_merge(self, statement: Residual, path: DataPath, env: dict) -> Layer | None:
        """The merge layer of a residual, with its scale when one is given; None after an error."""
        if "scale" not in statement.model_fields_set:
            return REGISTRY[statement.merge].build({})
        scale = self.evaluate(statement.scale, env, path + ("scale",))
        if scale is UNKNOWN:
            return None
        if "scale" not in REGISTRY[statement.merge].cls.model_fields:
            takers = [name for name, entry in REGISTRY.items() if entry.cls.elementwise and "scale" in entry.cls.model_fields]
            self.error(f"a residual merged by {statement.merge} takes no scale", path + ("scale",),
                       f"a scale multiplies the body before {' or '.join(takers)}: `residual(scale=0.17) {{ ... }}`")
            return None
        try:
            if scale is None:
                raise ValueError("a residual's scale cannot be none")
            return REGISTRY[statement.merge].build({"scale": scale})
        except (ValidationError, ValueError):
            self.error(f"a residual's scale is a number; received {show_value(scale)}", path + ("scale",))
            return None

    def unknown_output(self, group_id: str, path: DataPath) -> str:
        """A group whose output cannot be known after an error: later checks on it are skipped."""
        name = f"{group_id}__unknown"
        self.register(name, path)
        self.shapes[name] = UNKNOWN
        self.register_tap(group_id, name)
        return name

    def expand_call(self, call: Call, path: DataPath, env: dict, scope: Scope, current: str) -> str:
        # Most arguments are numbers or words: taken as they are, without building their paths.
        args = [arg if type(arg) in _CONSTANTS else self.evaluate(arg, env, path + ("args", i)) for i, arg in enumerate(call.args)]
        kwargs = {key: value if type(value) in _CONSTANTS else self.evaluate(value, env, path + ("kwargs", key))
                  for key, value in call.kwargs.items()}
        block = self.blocks.get(call.call)
        if block is not None:
            return self.block_call(call, block, args, kwargs, path, env, scope, current)
        entry = REGISTRY.get(call.call)
        if entry is None:  # reported by the static checks; expansion goes on past it
            return self.poisoned(call, scope, path)
        if UNKNOWN in args or UNKNOWN in kwargs.values():  # `in` tests identity first, and UNKNOWN equals nothing else
            return self.poisoned(call, scope, path)
        inputs = self.call_inputs(call, entry, scope, path, current)
        if inputs is None:
            return self.poisoned(call, scope, path)
        arguments = dict(zip(entry.positional, args)) | {k: v for k, v in kwargs.items() if k in entry.argument_names}
        # repr tells apart what == does not (True from 1, 1.0 from 1), so a shared layer is the one asked for.
        key = f"{call.call}{arguments!r}"
        layer = self.built.get(key)
        if layer is None:
            try:
                layer = self.built[key] = entry.build(arguments)
            except ValidationError as error:
                self.argument_errors(call, entry, error, path, env)
                return self.poisoned(call, scope, path)
        name = self.layer_name(call, scope, path)
        return self.add_node(name, call.call, layer, inputs, scope.groups, path, call, role=scope.role,
                             symbols=argument_symbols(call, entry.positional, entry.argument_names, env))

    def argument_errors(self, call: Call, entry: Entry, error: ValidationError, path: DataPath, env: Mapping[str, Any]) -> None:
        for argument, message, hint in argument_faults(call, entry, error, env, self.overrides):
            self.error(f"{call.call}: argument `{argument}`: {message}", self.argument_path(call, entry.positional, argument, path), hint)

    def call_inputs(self, call: Call, entry: Any, scope: Scope, path: DataPath, current: str) -> tuple[str, ...] | None:
        taps = []
        for index, tap in enumerate(call.inputs):
            resolved = self.resolve_tap(tap, scope, path + ("inputs", index))
            if resolved is None:
                return None
            taps.append(resolved)
        low, high = entry.cls.inputs_allowed
        if high == 1:
            return (taps[0],) if taps else (current,)
        inputs = (current, *taps)
        if len(inputs) < low:
            self.error(
                f"{call.call} merges the current tensor with taps and needs at least {low} inputs; received {len(inputs)}",
                path + ("call",), f"name the other input: `{call.call}(@name)`",
            )
            return None
        return inputs

    def block_call(self, call: Call, block: Block, args: list, kwargs: dict, path: DataPath, env: dict, scope: Scope, current: str) -> str:
        if self.block_depth >= self.limits.max_block_depth:
            self.error(f"blocks are nested more than {self.limits.max_block_depth} calls deep", path + ("call",))
            raise _Abort
        block_path = ("blocks", self.spec.blocks.index(block))
        passed = [self.resolve_tap(tap, scope, path + ("inputs", index)) for index, tap in enumerate(call.inputs)]
        if None in passed or len(passed) != len(block.taps):  # an unknown tap, or a count the static checks refused
            return self.poisoned(call, scope, path)
        given = dict(zip((p.name for p in block.params), args)) | kwargs
        local = bind_block(self.spec, block, call, given, env, self.evaluate)
        group_id = self.group_id(scope, call.as_, call.call, path)
        label = call_label(call, args, kwargs)
        self.add_group(group_id, BLOCK_GROUP, label, scope, path, frozenset(block.allow))
        inner = scope.child(group_id + "_", scope.groups + (group_id,))
        for tap, node in zip(block.taps, passed):  # `@p` in the body is the tensor the call passed
            self.taps[inner.prefix + tap] = node
        self.block_depth += 1
        self.call_stack.append((label, self.source.span(path)))
        try:
            output = self.body(block.body, block_path + ("body",), local, inner, current)
        finally:
            self.block_depth -= 1
            self.call_stack.pop()
        self.register_tap(group_id, output)
        return output

    # -- nodes and names

    def add_group(self, group_id: str, kind: str, label: str, scope: Scope, path: DataPath, allow: frozenset[str] = frozenset()) -> None:
        self.groups.append(Group(group_id, kind, label, scope.groups, self.source.span(path), allow))

    def poisoned(self, call: Call, scope: Scope, path: DataPath) -> str:
        name = self.layer_name(call, scope, path)
        self.register(name, path)
        self.shapes[name] = UNKNOWN
        return name

    def add_node(self, name: str, entry: str, layer: Layer, inputs: tuple[str, ...], groups: tuple[str, ...], path: DataPath,
                 call: Call | None = None, role: Role = Role.PLAIN, symbols: tuple = ()) -> str:
        if len(self.nodes) >= self.limits.max_layers:
            self.error(f"the network expands to more than {self.limits.max_layers:,} layers", path,
                       "reduce repeat counts; the limit guards against runaway expansion")
            raise _Abort
        self.register(name, path)
        input_shapes = [self.shapes[i] for i in inputs]
        if UNKNOWN in input_shapes:
            self.shapes[name] = UNKNOWN
            return name
        key = (id(layer), *map(tuple, input_shapes))
        known = self.outputs_of.get(key)
        if known is None:
            try:
                shape = tuple(layer.output_shape(input_shapes))  # shapes compare and hash as tuples downstream
            except ShapeError as error:
                where = path if call is None or error.argument is None else self.argument_path(call, REGISTRY[call.call].positional, error.argument, path)
                self.error(f"{layer.op} '{name}': {error.message}", where, error.hint)
                self.shapes[name] = UNKNOWN
                return name
            # a rank-generic kind learns its input's rank (Conv1D, Conv2D, Conv3D)
            known = self.outputs_of[key] = (shape, layer.bound(input_shapes), layer)
        shape, layer, _ = known
        self.shapes[name] = shape
        self.nodes.append(Node(name, entry, layer, inputs, shape, groups, self.source.span(path), role, symbols))
        return name

    def argument_path(self, call: Call, positional: tuple[str, ...], argument: str, path: DataPath) -> DataPath:
        if argument in call.kwargs:
            return path + ("kwargs", argument)
        if argument in positional and positional.index(argument) < len(call.args):
            return path + ("args", positional.index(argument))
        return path

    # -- expressions

    def note_structural(self, expr: Any, env: Env) -> None:
        symbol = env.substitute(expr)
        if symbol is not None:
            self.structural |= referenced_parameters(symbol)

    def evaluate(self, expr: Any, env: Mapping[str, Any], path: DataPath) -> Any:
        if type(expr) in _CONSTANTS:  # most arguments: the value itself
            return expr
        if reads_received(expr):  # the value follows the input and every parameter before it
            self.fixed_input = True
            self.structural |= {param.name for param in self.spec.params}
            taps = read_taps(expr)
            if taps:  # `@x.channels`: the shapes of those taps, as this scope resolves them
                shapes = {}
                for tap in taps:
                    node = self.resolve_tap(tap, self.scope, path)
                    shapes[tap] = self.shapes.get(node, UNKNOWN) if node is not None else UNKNOWN
                env = {**env, TAP_SHAPES: shapes}
        try:
            return evaluate(expr, env, path)
        except EvalError as error:
            self.error(error.message, error.path, word_hint(error.operand, env))
            return UNKNOWN


_CONSTANTS = frozenset((int, float, str, bool, type(None)))


def build_graph(spec: Spec, source: Source, overrides: Mapping[str, Any] | None = None,
                input_shape: Shape | None = None, limits: Limits = Limits()) -> Graph:
    """Expand `spec` into a `Graph`, or raise `SpecError` with every fault found."""
    return Expander(spec, source, overrides or {}, input_shape, limits).run()
