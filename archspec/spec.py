"""The spec language as data: pydantic models of the JSON form, and its static checks.

Takes the plain dict from `syntax` (either form); hands out a frozen `Spec`, or a `SpecError`
with every structural and static fault (unknown layers and blocks, unknown or missing
arguments, arity, unknown parameters, recursive blocks), each located in the source.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, Union

from pydantic import BaseModel, Discriminator, Field, Tag, ValidationError, model_serializer, model_validator
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypeAliasType

from .errors import DataPath, Diagnostic, DiagnosticSink, SpecError, describe_validation_error, did_you_mean
from .expr import Expr, Frozen, Name, Op, Ref, expression_tag
from .layers import REGISTRY
from .source import KEYWORDS, Source

MAX_REPEAT = 10_000

class Param(Frozen):
    """A parameter; it is required when the JSON form gives it no `default` key."""

    name: Name
    default: Expr = None
    required: SkipJsonSchema[bool] = Field(default=True, exclude=True)  # derived from the keys, never written

    @model_validator(mode="before")
    @classmethod
    def _required_from_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if "required" in data:
                raise ValueError("`required` is implied: a parameter without `default` is required")
            data = {**data, "required": "default" not in data}
        return data

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> dict:
        dumped = handler(self)
        dumped.pop("required", None)
        if self.required:
            dumped.pop("default", None)
        else:
            dumped["default"] = dumped.get("default")
        return dumped


# ---------------------------------------------------------------------------------------------
# Statements


class Call(Frozen):
    """A layer or a block applied to the current tensor (or to named taps)."""

    call: Name
    inputs: tuple[Name, ...] = ()
    args: tuple[Expr, ...] = ()
    kwargs: dict[Name, Expr] = Field(default_factory=dict)
    as_: Name | None = Field(default=None, alias="as")


class Repeat(Frozen):
    """The body, applied `repeat` times in sequence."""

    repeat: Expr
    body: tuple["Statement", ...]
    as_: Name | None = Field(default=None, alias="as")


class ConcatGroup(Frozen):
    """Parallel branches from the same input, merged by channel concatenation (Inception)."""

    merge: ClassVar[str] = "concat"  # the registry entry that merges the branches

    concat: tuple[tuple["Statement", ...], ...]
    as_: Name | None = Field(default=None, alias="as")


class Residual(Frozen):
    """body(x) + shortcut(x); the shortcut is the identity when absent or when `shortcut_if` is false."""

    merge: ClassVar[str] = "add"  # the registry entry that merges body and shortcut

    residual: tuple["Statement", ...]
    shortcut: tuple["Statement", ...] | None = None
    shortcut_if: Expr = True
    as_: Name | None = Field(default=None, alias="as")


class If(Frozen):
    """Statements chosen by a condition on parameters, at expansion time."""

    if_: Expr = Field(alias="if")
    then: tuple["Statement", ...]
    else_: tuple["Statement", ...] = Field(default=(), alias="else")


class Tap(Frozen):
    """Continue from a named earlier layer or group (`@name`), or from `input`."""

    tap: Name


STATEMENT_KEYS = {"call": "call", "repeat": "repeat", "concat": "concat", "residual": "residual", "if": "if", "tap": "tap"}


def _statement_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return {Call: "call", Repeat: "repeat", ConcatGroup: "concat", Residual: "residual", If: "if", Tap: "tap"}[type(value)]
    if isinstance(value, dict):
        for key in STATEMENT_KEYS:
            if key in value:
                return key
    return None


Statement = TypeAliasType(
    "Statement",
    Annotated[
        Union[
            Annotated[Call, Tag("call")],
            Annotated[Repeat, Tag("repeat")],
            Annotated[ConcatGroup, Tag("concat")],
            Annotated[Residual, Tag("residual")],
            Annotated[If, Tag("if")],
            Annotated[Tap, Tag("tap")],
        ],
        Discriminator(
            _statement_tag,
            custom_error_type="statement",
            custom_error_message="expected a statement: an object with one of the keys call, repeat, concat, residual, if, tap",
        ),
    ],
)


class Block(Frozen):
    """A reusable, parametric group of statements, called like a layer."""

    name: Name
    params: tuple[Param, ...] = ()
    body: tuple[Statement, ...] = ()


class Spec(Frozen):
    """A whole network: its parameters, input shape, blocks and body."""

    network: Name
    params: tuple[Param, ...] = ()
    input: Expr
    blocks: tuple[Block, ...] = ()
    body: tuple[Statement, ...]

    def to_dict(self) -> dict:
        """The canonical JSON form (what `.json` specs hold)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def block(self, name: str) -> Block | None:
        return next((block for block in self.blocks if block.name == name), None)


for _model in (Repeat, ConcatGroup, Residual, If, Block, Spec):
    _model.model_rebuild()


def repeat_count_message(count: Any, limit: int) -> str:
    return f"a repeat count must be an integer from 0 to {limit:,}; received {count}"


def json_schema() -> dict:
    schema = Spec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archspec network spec"
    schema.setdefault("properties", {})["$schema"] = {"type": "string", "description": "ignored: a pointer to this schema for editors"}
    return schema


# ---------------------------------------------------------------------------------------------
# Loading and static checks


def load_spec(source: Source) -> Spec:
    """Validate a parsed source's structure into a `Spec`, or raise `SpecError` with every fault.

    Name-level faults (unknown layers, arguments, parameters) are found by `check_spec`, which
    the graph stage runs, so that they are reported together with the faults found by expansion.
    """
    try:
        return Spec.model_validate(source.data)
    except ValidationError as error:
        raise SpecError(_structure_diagnostics(error, source), {source.file: source.text}) from None
    except RecursionError:
        raise SpecError([Diagnostic("error", "the spec is nested too deeply")], {source.file: source.text}) from None


def check_spec(spec: Spec, source: Source, sink: DiagnosticSink) -> bool:
    """Static checks into `sink`; False when expansion must not run (a recursive block)."""
    checker = StaticChecker(spec, source, sink)
    checker.run()
    return not checker.recursive


def _structure_diagnostics(error: ValidationError, source: Source) -> list[Diagnostic]:
    located = []
    for item in error.errors():
        path = _data_path(source.data, item["loc"])
        located.append((path, item))
    unknown_keys = {(path[:-1], path[-1]) for path, item in located if item["type"] == "extra_forbidden" and path}
    # One message per place: a union's alternatives all fail there, and the telling one is the
    # alternative that matched the value's type but not its rules (not finite, bad characters).
    best: dict[DataPath, dict] = {}
    for path, item in located:
        if path not in best or (best[path]["type"].endswith("_type") and not item["type"].endswith("_type")):
            best[path] = item
    located = [(path, item) for path, item in located if best[path] is item]
    diagnostics = []
    seen_paths: set[DataPath] = set()
    for path, item in located:
        if path in seen_paths:
            continue
        if item["type"] == "missing":
            field_name = str(item["loc"][-1])
            # `bdy` instead of `body` is one mistake: its unknown-key error already names `body`.
            if any(where == path and did_you_mean(str(key), [field_name]) for where, key in unknown_keys):
                continue
        seen_paths.add(path)
        diagnostics.append(_structure_diagnostic(path, item, source))
    return diagnostics


def _structure_diagnostic(path: DataPath, item: dict, source: Source) -> Diagnostic:
    value = _value_at(source.data, path)
    kind = item["type"]
    hint = None
    if kind == "extra_forbidden":
        parent = path[:-1]
        keys = _keys_of(parent, _value_at(source.data, parent))
        message = f"unknown key `{path[-1]}` in {_describe_path(parent)}"
        hint = did_you_mean(str(path[-1]), keys) or (f"expected keys: {', '.join(keys)}" if keys else None)
    elif kind == "missing":
        message = f"{_describe_path(path)} is missing its `{item['loc'][-1]}`"
    elif kind == "statement":
        message = f"{_describe_path(path)}: {item['msg']}"
        if isinstance(value, dict):
            hint = next((did_you_mean(str(key), STATEMENT_KEYS) for key in value if did_you_mean(str(key), STATEMENT_KEYS)), None)
    else:
        described, hint = describe_validation_error(item)
        message = f"{_describe_path(path)}: {described}"
    return source.diagnostic("error", message, path, hint)


def _data_path(data: Any, loc: tuple) -> DataPath:
    """Follow a pydantic `loc` through the data, skipping union tags and other non-keys.

    A tagged union puts its tag in `loc` right after the value's own position; the tag can be
    spelled like a key (`call`), so it is skipped only where it names the value's own tag.
    """
    path: list = []
    current = data
    skip_tag = True
    for part in loc:
        if skip_tag and part in (_statement_tag(current), expression_tag(current)):
            skip_tag = False
            continue
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
            skip_tag = True
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
            skip_tag = True
    return tuple(path)


def _value_at(data: Any, path: DataPath) -> Any:
    for part in path:
        data = data[part]
    return data


STATEMENT_LISTS = ("body", "residual", "shortcut", "then", "else", "concat")


def _model_at(path: DataPath, value: Any) -> type[BaseModel] | None:
    """Which model the dict at `path` is validated as."""
    if not path:
        return Spec
    if len(path) >= 2 and path[-2] == "params":
        return Param
    if len(path) == 2 and path[0] == "blocks":
        return Block
    if isinstance(value, dict):
        tag = _statement_tag(value)
        models = {"call": Call, "repeat": Repeat, "concat": ConcatGroup, "residual": Residual, "if": If, "tap": Tap}
        if tag in models and any(part in STATEMENT_LISTS for part in path[-3:]):
            return models[tag]
        if "ref" in value:
            return Ref
        if "op" in value:
            return Op
    return None


def _keys_of(path: DataPath, value: Any) -> list[str]:
    model = _model_at(path, value)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items() if not (info.exclude)]


def _describe_path(path: DataPath) -> str:
    if not path:
        return "the spec"
    names = {"body": "the body", "blocks": "the blocks", "params": "the parameters", "input": "the input shape"}
    last = path[-1]
    last_key = next((p for p in reversed(path) if isinstance(p, str)), None)
    if isinstance(last, int) and last_key == "args":
        return f"argument {last + 1}"
    if len(path) >= 2 and path[-2] == "kwargs":
        return f"argument `{last}`"
    if isinstance(last, int) and last_key == "params":
        return f"parameter {last + 1}"
    if isinstance(last, int) and path[-2] == "blocks":
        return f"block {last + 1}"
    if isinstance(last, int) and last_key == "concat" and path[-2] == "concat":
        return f"branch {last + 1}"
    if isinstance(last, int):
        return f"statement {last + 1} of {names.get(str(path[-2]), '`' + str(path[-2]) + '`')}"
    return names.get(str(last), f"`{last}`")


class StaticChecker:
    """Checks what needs no evaluation: names of layers, blocks, arguments and parameters."""

    def __init__(self, spec: Spec, source: Source, sink: DiagnosticSink):
        self.spec, self.source, self.sink = spec, source, sink
        self.blocks: dict[str, Block] = {}
        self.calls: dict[str, list[tuple[str, DataPath]]] = {}  # block -> blocks it calls, with where
        self.recursive = False

    def check_name(self, name: str, what: str, path: DataPath) -> None:
        """Keywords cannot name things, and `input` names the network's input tensor."""
        if name in KEYWORDS and name != "input":
            self.error(f"`{name}` is a keyword and cannot name {what}", path, "choose another name")
        elif name == "input" and what != "the network":
            self.error(f"`input` names the network's input and cannot name {what}", path, "choose another name")

    def error(self, message: str, path: DataPath, hint: str | None = None) -> None:
        self.sink.add(self.source.diagnostic("error", message, path, hint))

    def run(self) -> None:
        spec = self.spec
        self.check_name(spec.network, "the network", ("network",))
        network_scope = self.check_params(spec.params, ("params",), set())
        for index, block in enumerate(spec.blocks):
            path = ("blocks", index)
            self.check_name(block.name, "a block", path + ("name",))
            if block.name in self.blocks:
                self.error(f"block `{block.name}` is defined twice", path + ("name",))
            elif block.name in REGISTRY:
                self.error(f"block `{block.name}` has the name of a layer kind", path + ("name",), "rename the block")
            self.blocks.setdefault(block.name, block)
        self.check_expr(spec.input, ("input",), network_scope)
        for index, block in enumerate(spec.blocks):
            path = ("blocks", index)
            scope = self.check_params(block.params, path + ("params",), network_scope)
            self.calls[block.name] = []
            self.check_body(block.body, path + ("body",), scope, block.name)
        self.check_body(spec.body, ("body",), network_scope, None)
        self.check_recursion()

    def check_params(self, params: tuple[Param, ...], path: DataPath, outer: set[str]) -> set[str]:
        scope = set(outer)
        seen: set[str] = set()
        for index, param in enumerate(params):
            self.check_name(param.name, "a parameter", path + (index, "name"))
            if param.name in seen:
                self.error(f"parameter `{param.name}` is declared twice", path + (index, "name"))
            seen.add(param.name)
            if not param.required:
                self.check_expr(param.default, path + (index, "default"), scope)
            scope.add(param.name)
        return scope

    def check_expr(self, expr: Any, path: DataPath, scope: set[str]) -> None:
        if isinstance(expr, Ref) and expr.ref not in scope:
            self.error(f"unknown parameter `{expr.ref}`", path, did_you_mean(expr.ref, scope))
        elif isinstance(expr, Op):
            for index, arg in enumerate(expr.args):
                self.check_expr(arg, path + ("args", index), scope)
        elif isinstance(expr, tuple):
            for index, item in enumerate(expr):
                self.check_expr(item, path + (index,), scope)

    def check_body(self, body: tuple, path: DataPath, scope: set[str], block: str | None) -> None:
        for index, statement in enumerate(body):
            self.check_statement(statement, path + (index,), scope, block)

    def check_statement(self, statement: Any, path: DataPath, scope: set[str], block: str | None) -> None:
        alias = getattr(statement, "as_", None)
        if alias is not None:
            self.check_name(alias, "a layer or group", path + ("as",))
        if isinstance(statement, Call):
            self.check_call(statement, path, scope, block)
        elif isinstance(statement, Repeat):
            self.check_expr(statement.repeat, path + ("repeat",), scope)
            count = statement.repeat
            if isinstance(count, int) and not isinstance(count, bool) and not 0 <= count <= MAX_REPEAT:
                self.error(repeat_count_message(count, MAX_REPEAT), path + ("repeat",))
            self.check_body(statement.body, path + ("body",), scope, block)
        elif isinstance(statement, ConcatGroup):
            for index, branch in enumerate(statement.concat):
                self.check_body(branch, path + ("concat", index), scope, block)
        elif isinstance(statement, Residual):
            if not statement.residual:
                self.error("a residual body is empty: it would add the input to itself", path,
                           "put the layers of F(x) in `residual { ... }`")
            self.check_body(statement.residual, path + ("residual",), scope, block)
            self.check_expr(statement.shortcut_if, path + ("shortcut_if",), scope)
            if statement.shortcut is not None:
                self.check_body(statement.shortcut, path + ("shortcut",), scope, block)
        elif isinstance(statement, If):
            self.check_expr(statement.if_, path + ("if",), scope)
            self.check_body(statement.then, path + ("then",), scope, block)
            self.check_body(statement.else_, path + ("else",), scope, block)

    def check_call(self, call: Call, path: DataPath, scope: set[str], block: str | None) -> None:
        for index, arg in enumerate(call.args):
            self.check_expr(arg, path + ("args", index), scope)
        for key, value in call.kwargs.items():
            self.check_expr(value, path + ("kwargs", key), scope)
        entry = REGISTRY.get(call.call)
        if entry is not None:
            self.check_arguments(call, path, f"{call.call}", entry.positional, entry.argument_names, entry.required)
            if call.inputs and entry.cls.inputs_allowed[1] == 1 and len(call.inputs) > 1:
                self.error(f"{call.call} takes one input; received {len(call.inputs)} taps", path + ("inputs", 1))
            return
        target = self.blocks.get(call.call)
        if target is None:
            choices = list(REGISTRY) + list(self.blocks)
            self.error(f"unknown layer or block `{call.call}`", path + ("call",), did_you_mean(call.call, choices))
            return
        if call.inputs:
            self.error(f"block `{call.call}` takes the current tensor; taps (`@name`) are for layers", path + ("inputs", 0),
                       "switch to the tap first: `@name` on its own, then the block call")
        names = tuple(p.name for p in target.params)
        required = tuple(p.name for p in target.params if p.required)
        self.check_arguments(call, path, f"block `{call.call}`", names, names, required)
        if block is not None:
            self.calls.setdefault(block, []).append((call.call, path))

    def check_arguments(self, call: Call, path: DataPath, what: str, positional: tuple, names: tuple, required: tuple) -> None:
        if len(call.args) > len(positional):
            if positional:
                takes = f"at most {len(positional)} positional argument{'s' if len(positional) != 1 else ''} ({', '.join(positional)})"
            else:
                takes = "no positional arguments"
            extra = call.args[len(positional)]
            hint = None
            entry = REGISTRY.get(call.call)
            if entry is not None and isinstance(extra, str):
                owner = entry.field_accepting(extra)
                hint = f"name it: `{owner}={extra}`" if owner else None
            elif names:
                hint = f"name the argument, e.g. `{names[0]}=...`" if not positional else f"name the arguments after the first {len(positional)}"
            self.error(f"{what} takes {takes}; received {len(call.args)}", path + ("args", len(positional)), hint)
        given = set(positional[: len(call.args)])
        for key in call.kwargs:
            if key not in names:
                hint = did_you_mean(key, names) or (f"{what} takes {', '.join(names)}" if names else f"{what} takes no arguments")
                self.error(f"{what} has no argument `{key}`", path + ("kwargs", key), hint)
            elif key in given:
                self.error(f"{what}: argument `{key}` is given both by position and by name", path + ("kwargs", key))
            given.add(key)
        missing = [name for name in required if name not in given]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            self.error(f"{what} is missing required argument{plural} {', '.join(f'`{m}`' for m in missing)}", path + ("call",),
                       f"e.g. `{call.call}({', '.join(required)})`" if positional[: len(required)] == required else None)

    def check_recursion(self) -> None:
        """A block that calls itself, directly or through others, would expand forever."""
        state: dict[str, int] = {}  # 1 visiting, 2 done
        reported: set[str] = set()

        def visit(name: str, trail: list[str]) -> None:
            state[name] = 1
            for callee, path in self.calls.get(name, []):
                if state.get(callee) == 1:
                    cycle = trail[trail.index(callee):] + [callee] if callee in trail else [name, callee]
                    self.recursive = True
                    if callee not in reported:
                        reported.add(callee)
                        self.error(f"block `{callee}` is recursive: {' -> '.join(cycle)}", path + ("call",),
                                   "blocks expand at compile time; use `repeat` for repetition")
                elif state.get(callee) is None and callee in self.blocks:
                    visit(callee, trail + [callee])
            state[name] = 2

        for name in self.calls:
            if state.get(name) is None:
                visit(name, [name])
