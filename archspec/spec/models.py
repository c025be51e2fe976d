"""The models of the JSON form: parameters, the statement kinds (each describing its own parts,
its static faults and its size bound), blocks and the whole `Spec`, and the JSON Schema."""


import json
from functools import cache
from typing import Annotated, Any, ClassVar, Iterator, Literal, Protocol, Union

from pydantic import Discriminator, Field, Tag, model_serializer, model_validator
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypeAliasType

from ..codes import WARNING_CODES
from ..errors import DataPath, did_you_mean
from ..expr import UNKNOWN, Expr, Frozen, Name, reads_received
from ..layers import REGISTRY

MAX_REPEAT = 10_000
WarningCode = Literal[WARNING_CODES]  # type: ignore[valid-type]


def repeat_count_message(count: Any, limit: int) -> str:
    return f"a repeat count must be an integer from 0 to {limit:,}; received {count}"


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
# Statements: each kind is one model that describes its own parts, so the checker, the size
# estimate, the expander and the printer walk every kind the same way.

BODY = "body"  # a tuple of statements
BRANCHES = "branches"  # a tuple of statement tuples (concat's branches)
EXPRESSION = "expression"  # one parameter expression
EXPRESSIONS = "expressions"  # a tuple of expressions (a call's positional arguments)
NAMED_EXPRESSIONS = "named expressions"  # a mapping of names to expressions (a call's keyword arguments)
# What a statement's fault or part is located by: a path relative to the statement.
Fault = tuple[str, DataPath, Union[str, None]]  # (message, relative path, hint)


class StatementModel(Frozen):
    """A statement kind. `key` is the JSON key that marks it (the grammar's rule is `<key>_stmt`,
    the expander's rule `expand_<key>`, the printer's `print_<key>` or `inline_<key>`); `parts`
    are its fields in source order, each a JSON key and what it holds."""

    key: ClassVar[str]
    parts: ClassVar[tuple[tuple[str, str], ...]] = ()

    @classmethod
    @cache
    def attribute(cls, key: str) -> str:
        """The model's attribute for a JSON key (`else` is `else_`)."""
        return next(name for name, info in cls.model_fields.items() if (info.alias or name) == key)

    def part(self, key: str) -> Any:
        return getattr(self, self.attribute(key))

    @classmethod
    @cache
    def body_parts(cls) -> tuple[tuple[str, str], ...]:
        """Its parts that hold statements (none for a call, the most common kind)."""
        return tuple((key, holds) for key, holds in cls.parts if holds in (BODY, BRANCHES))

    def bodies(self) -> Iterator[tuple[DataPath, tuple]]:
        """Each statement list inside it, with its path relative to the statement."""
        for key, holds in self.body_parts():
            value = self.part(key)
            if holds == BODY and value is not None:
                yield (key,), value
            elif holds == BRANCHES:
                for index, branch in enumerate(value):
                    yield (key, index), branch

    def walk(self) -> Iterator[tuple[DataPath, str, Any]]:
        """Every part in source order, expression lists taken apart: (path, what, value)."""
        for key, holds in self.parts:
            value = self.part(key)
            if holds == EXPRESSIONS:
                yield from (((key, index), EXPRESSION, item) for index, item in enumerate(value))
            elif holds == NAMED_EXPRESSIONS:
                yield from (((key, name), EXPRESSION, item) for name, item in value.items())
            elif holds == BRANCHES:
                yield from (((key, index), BODY, branch) for index, branch in enumerate(value))
            elif value is not None or holds != BODY:
                yield (key,), holds, value

    def body_scope(self, scope: set[str]) -> set[str]:
        """The names its bodies see: those of the enclosing scope (a repeat adds its index)."""
        return scope

    def static_faults(self) -> Iterator[Fault]:
        """Faults seen without evaluating anything (names are the checker's)."""
        return iter(())

    def expansion_steps(self, walk: "SizeWalk") -> int:
        """An upper bound on the steps expanding it takes: one for the statement itself, plus
        its bodies (kinds that repeat or choose say otherwise)."""
        return 1 + sum(walk.size(body) for _, body in self.bodies())


class SizeWalk(Protocol):
    """What `expansion_steps` may ask of the size estimate."""

    def size(self, body: tuple) -> int: ...
    def value(self, expr: Any) -> Any: ...  # UNKNOWN when it cannot be evaluated


class Call(StatementModel):
    """A layer or a block applied to the current tensor (or to named taps)."""

    key: ClassVar[str] = "call"
    parts: ClassVar[tuple[tuple[str, str], ...]] = (("args", EXPRESSIONS), ("kwargs", NAMED_EXPRESSIONS))

    call: Name
    inputs: tuple[Name, ...] = ()
    args: tuple[Expr, ...] = ()
    kwargs: dict[Name, Expr] = Field(default_factory=dict)
    as_: Name | None = Field(default=None, alias="as")


def is_repeat_count(count: Any, limit: int = MAX_REPEAT) -> bool:
    return isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= limit


class Repeat(StatementModel):
    """The body, applied `repeat` times in sequence."""

    key: ClassVar[str] = "repeat"
    parts: ClassVar[tuple[tuple[str, str], ...]] = (("repeat", EXPRESSION), ("body", BODY))

    repeat: Expr
    index: Name | None = None  # `repeat n with i`: the copy's number, 0 to n - 1, a value in the body
    body: tuple["Statement", ...]
    as_: Name | None = Field(default=None, alias="as")

    def body_scope(self, scope: set[str]) -> set[str]:
        return scope | {self.index} if self.index else scope

    def static_faults(self) -> Iterator[Fault]:
        count = self.repeat
        if isinstance(count, int) and not isinstance(count, bool) and not is_repeat_count(count):
            yield repeat_count_message(count, MAX_REPEAT), ("repeat",), None

    def expansion_steps(self, walk: SizeWalk) -> int:
        count = walk.value(self.repeat)
        if count is UNKNOWN and reads_received(self.repeat):
            count = MAX_REPEAT  # sizes are not tracked here: assume the worst a count may be
        count = count if is_repeat_count(count) else 0  # an invalid count is reported on its own
        return count * max(1, walk.size(self.body))  # an empty body costs a step per copy too


class ConcatGroup(StatementModel):
    """Parallel branches from the same input, merged by channel concatenation (Inception)."""

    key: ClassVar[str] = "concat"
    parts: ClassVar[tuple[tuple[str, str], ...]] = (("concat", BRANCHES),)
    merge: ClassVar[str] = "concat"  # the registry entry that merges the branches

    concat: tuple[tuple["Statement", ...], ...]
    as_: Name | None = Field(default=None, alias="as")


class Residual(StatementModel):
    """body(x) + shortcut(x), or scale·body(x) + shortcut(x); the shortcut is the identity when
    absent or when `shortcut_if` is false."""

    key: ClassVar[str] = "residual"
    parts: ClassVar[tuple[tuple[str, str], ...]] = (
        ("residual", BODY), ("shortcut_if", EXPRESSION), ("shortcut", BODY), ("scale", EXPRESSION))

    residual: tuple["Statement", ...]
    shortcut: tuple["Statement", ...] | None = None
    shortcut_if: Expr = True
    merge: Name = "add"  # the element-wise merge kind that joins body and shortcut
    scale: Expr = 1  # the body's factor before the merge: x + scale·F(x) (a merge kind with a `scale`)
    as_: Name | None = Field(default=None, alias="as")

    def static_faults(self) -> Iterator[Fault]:
        if not self.residual:
            yield "a residual body is empty: it would add the input to itself", (), "put the layers of F(x) in `residual { ... }`"
        merges = [name for name, entry in REGISTRY.items() if entry.cls.elementwise]
        if self.merge not in merges:
            yield (f"a residual merges with an element-wise merge kind; received `{self.merge}`", ("merge",),
                   did_you_mean(self.merge, merges) or next((f"did you mean `{name}`?" for name in merges if name.startswith(self.merge)), None)
                   or f"one of {', '.join(merges)}")


class If(StatementModel):
    """Statements chosen by a condition on parameters, at expansion time."""

    key: ClassVar[str] = "if"
    parts: ClassVar[tuple[tuple[str, str], ...]] = (("if", EXPRESSION), ("then", BODY), ("else", BODY))

    if_: Expr = Field(alias="if")
    then: tuple["Statement", ...]
    else_: tuple["Statement", ...] = Field(default=(), alias="else")

    def expansion_steps(self, walk: SizeWalk) -> int:
        condition = walk.value(self.if_)
        chosen = (self.then,) if condition is True else (self.else_,) if condition is False else (self.then, self.else_)
        return max(1, max(walk.size(body) for body in chosen))


class Tap(StatementModel):
    """Continue from a named earlier layer or group (`@name`), or from `input`."""

    key: ClassVar[str] = "tap"

    tap: Name


STATEMENT_MODELS: tuple[type[StatementModel], ...] = (Call, Repeat, ConcatGroup, Residual, If, Tap)
STATEMENT_KEYS: dict[str, type[StatementModel]] = {model.key: model for model in STATEMENT_MODELS}
# The JSON keys whose values are statement lists (or lists of them), for locating faults.
STATEMENT_LISTS = frozenset({"body"} | {key for model in STATEMENT_MODELS for key, holds in model.parts if holds in (BODY, BRANCHES)})


def statement_tag(value: Any) -> str | None:
    """The statement key of a model or of its JSON dict (the first statement key it has)."""
    if isinstance(value, StatementModel):
        return value.key
    if isinstance(value, dict):
        for key in STATEMENT_KEYS:
            if key in value:
                return key
    return None


Statement = TypeAliasType(
    "Statement",
    Annotated[
        Union[tuple(Annotated[model, Tag(model.key)] for model in STATEMENT_MODELS)],  # type: ignore[valid-type]
        Discriminator(
            statement_tag,
            custom_error_type="statement",
            custom_error_message=f"expected a statement: an object with one of the keys {', '.join(STATEMENT_KEYS)}",
        ),
    ],
)


class Block(Frozen):
    """A reusable, parametric group of statements, called like a layer."""

    name: Name
    params: tuple[Param, ...] = ()
    taps: tuple[Name, ...] = ()  # `block cell(filters, @p)`: tensors a call passes (`cell(44, @prev)`), read as `@p`
    allow: tuple[WarningCode, ...] = ()  # `allow rf-misaligned`: warnings its layers may raise unreported
    body: tuple[Statement, ...] = ()


INPUT_NAME = "input"  # the first input's name (and tap, `@input`) when the spec gives it none


class NamedInput(Frozen):
    """A further input of the network: its name (a tap the body reads, `@meta`) and its shape."""

    name: Name
    shape: Expr


class Spec(Frozen):
    """A whole network: its parameters, input shape (and name, and further named inputs),
    blocks, body and, where it is not the last tensor, its named outputs."""

    network: Name
    params: tuple[Param, ...] = ()
    allow: tuple[WarningCode, ...] = ()  # `allow rf-misaligned`: warnings the network may raise unreported
    input: Expr
    input_name: Name | None = None  # `input 224x224x3 as image`: the first input's name (else `input`)
    inputs: tuple[NamedInput, ...] = ()  # `input 10 as meta`: further inputs
    blocks: tuple[Block, ...] = ()
    body: tuple[Statement, ...]
    outputs: tuple[Name, ...] = ()  # `output @logits, @boxes`: taps; none: the last tensor

    def to_dict(self) -> dict:
        """The canonical JSON form (what `.json` specs hold)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def block(self, name: str) -> Block | None:
        return next((block for block in self.blocks if block.name == name), None)




def json_schema() -> dict:
    schema = Spec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archspec network spec"
    schema.setdefault("properties", {})["$schema"] = {"type": "string", "description": "ignored: a pointer to this schema for editors"}
    # Name every layer kind where a call names one, so an editor can offer them.
    callee = schema["$defs"]["Call"]["properties"]["call"]
    callee["description"] = "a block of the spec, or a layer kind: " + ", ".join(sorted(REGISTRY))
    callee["examples"] = sorted(REGISTRY)
    return schema
