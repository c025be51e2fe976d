"""The expanded network: a frozen `Graph` of layer `Node`s in topological order, the `Group`s
(block instances, named and structural groups) they sit in, and the `Env` of parameter values
that expansion evaluates in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from ..errors import Diagnostic, Span
from ..expr import RECEIVED, UNKNOWN, substitute
from ..layers import Layer, Shape
from ..spec import INPUT_NAME, MAX_REPEAT, Block, Call, Spec

# How a binding evaluates a default: (expression, scope, where it is written) -> value.
Evaluator = Callable[[Any, Mapping[str, Any], tuple], Any]

INPUT = INPUT_NAME  # the first input's node: its tap is `@input`, and its own name if the spec gives one
BLOCK_GROUP = "block"  # the group kind of a block call; other groups are named by their statement key


class Limits(NamedTuple):
    """Bounds that keep hostile or mistaken specs from exhausting time or memory."""

    max_layers: int = 10_000  # ten times the largest keras.applications model (NASNetLarge, 1,041)
    max_block_depth: int = 64
    max_repeat: int = MAX_REPEAT


class Role(str, Enum):
    """What a node does in its construct, for diagrams (a shortcut's edges are dashed)."""

    PLAIN = ""
    SHORTCUT = "shortcut"  # on a residual's shortcut path
    RESIDUAL_MERGE = "residual-merge"  # the add that ends a residual: its second input is the shortcut


class Group(NamedTuple):
    """A block instance or a named/structural group of layers, for `--depth` and diagrams."""

    id: str
    kind: str  # BLOCK_GROUP, or the key of the statement that made it (`residual`, `concat`, `repeat`)
    label: str  # what the user wrote: `basic(128, stride=2, project=true)`
    parents: tuple[str, ...]
    span: Span | None = None
    allow: frozenset[str] = frozenset()  # warning codes a block's `allow` lets its layers raise unreported


class Node(NamedTuple):
    name: str
    entry: str  # the language name the user wrote (`relu`, `conv`)
    layer: Layer
    inputs: tuple[str, ...]
    output_shape: Shape
    groups: tuple[str, ...]  # enclosing group ids, outermost first
    span: Span | None = None
    role: Role = Role.PLAIN
    # Arguments whose values come from network parameters: (field, expression over them).
    symbols: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Graph:
    network: str
    parameters: tuple[tuple[str, Any], ...]
    input_shape: Shape
    nodes: tuple[Node, ...]
    output: str
    groups: tuple[Group, ...]
    file: str = ""
    structural: frozenset[str] = frozenset()  # network parameters that change the layer structure
    input_symbol: Any = None  # the input shape as an expression over network parameters, if it is one
    fixed_input: bool = False  # some layer reads the sizes it receives: the structure holds for this input only
    warnings: tuple[Diagnostic, ...] = ()
    input_name: str = INPUT  # the first input's name in Keras (its node is INPUT whatever the name)
    extra_inputs: tuple[tuple[str, Shape], ...] = ()  # further named inputs: (name, shape); each is its own node
    extra_outputs: tuple[str, ...] = ()  # node names of the outputs after the first (`output`)
    allow: frozenset[str] = frozenset()  # warning codes the spec's `allow` lets the network raise unreported

    def allows(self, code: str | None, groups: tuple[str, ...]) -> bool:
        """Whether the spec, or a block a layer in `groups` sits in, allows warnings of `code`."""
        allowing = self.__dict__.get("_allowing")
        if allowing is None:
            allowing = block_allowances(self.groups)
            object.__setattr__(self, "_allowing", allowing)
        return allowed_by(code, groups, self.allow, allowing)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output, *self.extra_outputs)

    @property
    def inputs(self) -> tuple[tuple[str, Shape], ...]:
        """(node, shape) of every input, the first first."""
        return ((INPUT, self.input_shape), *self.extra_inputs)

    def is_input(self, name: str) -> bool:
        return name == INPUT or any(name == extra for extra, _ in self.extra_inputs)

    def node(self, name: str) -> Node:
        return self._index[name]

    @property
    def _index(self) -> dict[str, Node]:
        index = self.__dict__.get("_cached_index")
        if index is None:
            index = {node.name: node for node in self.nodes}
            object.__setattr__(self, "_cached_index", index)
        return index

    def shape_of(self, name: str) -> Shape:
        return self.shapes[name]

    @property
    def shapes(self) -> dict[str, Shape]:
        """The output shape of every input and node, by node name (built once, when first asked)."""
        shapes = self.__dict__.get("_cached_shapes")
        if shapes is None:
            shapes = {name: tuple(shape) for name, shape in self.inputs} | {node.name: node.output_shape for node in self.nodes}
            object.__setattr__(self, "_cached_shapes", shapes)
        return shapes

    def group(self, group_id: str) -> Group:
        return next(group for group in self.groups if group.id == group_id)


class Env(dict):
    """Parameter values in scope, and for each the expression over network parameters it
    stands for (None for a constant); the emitter uses those to keep parameters symbolic."""

    def __init__(self, values: Mapping[str, Any] = (), symbols: Mapping[str, Any] | None = None):
        super().__init__(values)
        self.symbols: dict[str, Any] = dict(symbols or {})

    def substitute(self, expr: Any) -> Any:
        """`expr` over network parameters (see `expr.substitute`), or None for a constant."""
        if not self.symbols:  # no network parameter in scope: every expression is a constant
            return None
        return substitute(expr, self.symbols, self)


def argument_symbols(call: Call, positional: tuple[str, ...], names: tuple[str, ...], env: Env) -> tuple[tuple[str, Any], ...]:
    """A layer call's arguments that stand for expressions over network parameters, by field
    name (`positional` names the call's positional arguments, `names` the fields it may set)."""
    if not env.symbols:  # no network parameter in scope: every argument is a constant
        return ()
    sources = list(zip(positional, call.args)) + [(k, v) for k, v in call.kwargs.items() if k in names]
    return tuple((field_name, symbol) for field_name, expr in sources if (symbol := env.substitute(expr)) is not None)


def bind_block(spec: Spec, block: Block, call: Call, given: Mapping[str, Any], env: Mapping[str, Any], evaluate: Evaluator) -> Env:
    """A block call's scope: the network's parameters, then the block's own, as the call gave
    them or as their defaults say (defaults see the earlier parameters)."""
    network = {p.name for p in spec.params}
    symbols = getattr(env, "symbols", {})
    local = Env({n: v for n, v in env.items() if n in network}, {n: v for n, v in symbols.items() if n in network})
    if RECEIVED in env:  # the block receives what its call receives
        local[RECEIVED] = env[RECEIVED]
    exprs = dict(zip((p.name for p in block.params), call.args)) | dict(call.kwargs)
    block_path = ("blocks", spec.blocks.index(block))
    for index, param in enumerate(block.params):
        if param.name in given:
            local[param.name] = given[param.name]
            local.symbols[param.name] = env.substitute(exprs[param.name]) if isinstance(env, Env) else None
        elif not param.required:
            local[param.name] = evaluate(param.default, local, block_path + ("params", index, "default"))
            local.symbols[param.name] = local.substitute(param.default)
        else:
            local[param.name] = UNKNOWN  # reported by the static checks
    return local


UNUSED_LAYERS = "unused-layers"


def block_allowances(groups: Iterable[Group]) -> dict[str, frozenset[str]]:
    """The warning codes each allowing block call (by group id) lets its layers raise unreported."""
    return {group.id: group.allow for group in groups if group.allow}


def allowed_by(code: str | None, groups: tuple[str, ...], spec_allow: frozenset[str], allowing: Mapping[str, frozenset[str]]) -> bool:
    return code in spec_allow or any(code in allowing.get(group, ()) for group in groups)


def unused_allowed(spec_allow: Iterable[str], groups: Iterable[Group]) -> Callable[[Node], bool]:
    """Whether the spec, or a block a node sits in, allows its being left unused."""
    allowing, spec_allow = block_allowances(groups), frozenset(spec_allow)
    return lambda node: allowed_by(UNUSED_LAYERS, node.groups, spec_allow, allowing)


def prune_unused(nodes: list[Node], outputs: tuple[str, ...],
                 allowed: Callable[[Node], bool] = lambda node: False) -> tuple[tuple[Node, ...], Diagnostic | None]:
    """Drop layers whose result never reaches an output (left behind by a tap), with a
    warning naming those that `allowed` does not excuse: the Keras model cannot hold them, so
    the report must not count them."""
    needed, stack = set(), list(outputs)
    index = {node.name: node for node in nodes}
    while stack:
        name = stack.pop()
        if name in needed or name not in index:
            continue
        needed.add(name)
        stack.extend(index[name].inputs)
    unused = [node for node in nodes if node.name not in needed and not allowed(node)]
    warning = None
    if unused:
        names = ", ".join(f"'{node.name}'" for node in unused[:4]) + (f" and {len(unused) - 4} more" if len(unused) > 4 else "")
        verbs = "never reach the output and are" if len(unused) > 1 else "never reaches the output and is"
        warning = Diagnostic("warning", f"{len(unused)} layer{'s' if len(unused) > 1 else ''} {verbs} "
                             f"left out of the network: {names}", unused[0].span,
                             "a tap (`@name`) switched away from them; merge them back with add(@...) or concat(@...), or delete them",
                             code=UNUSED_LAYERS)
    return tuple(node for node in nodes if node.name in needed), warning

