"""The expression language: its models, operators and precedence, evaluation, substitution and
rendering, in one place.

Expressions are the values a spec writes: constants (numbers, words, true/false/none), lists,
references to parameters (`Ref`) and operators applied to expressions (`Op`). The front end
builds their plain-dict form, `spec` validates them into these models, expansion evaluates them
(`evaluate`) and rewrites them over network parameters (`substitute`), and the `.arch` printer
and the Python emitter write them back through one precedence-aware `render`.
"""


import math
from typing import Annotated, Any, Callable, Literal, Mapping, Sequence, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    model_validator,
)
from typing_extensions import TypeAliasType

from .errors import DataPath, show_value

MAX_INTEGER = 2**53  # results of arithmetic beyond this are refused (floats lose integers past it)
MAX_STRING = 200

UNARY_OPERATORS = ("neg", "not")
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
# Functions with Python's semantics, each with its (fewest, most) arguments: EfficientNet's
# round_filters/round_repeats are writable with them.
FUNCTIONS: dict[str, tuple[int, int]] = {"min": (2, 8), "max": (2, 8), "ceil": (1, 1), "floor": (1, 1), "round": (1, 1), "int": (1, 1)}
OPERATORS = ("+", "-", "*", "/", "//", "%", *UNARY_OPERATORS, "and", "or", *COMPARISONS, *FUNCTIONS)
# Binding strength of each operator (higher binds tighter), shared by both renderers.
PRECEDENCE = {
    "or": 1, "and": 2, "not": 3, **dict.fromkeys(COMPARISONS, 4),
    "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6, "neg": 7, **dict.fromkeys(FUNCTIONS, 8),
}
COMPARISON_PRECEDENCE = PRECEDENCE["=="]


class Frozen(BaseModel):
    """Base of the spec's models: immutable, no unknown keys, no infinities."""

    # Schemas are built at first use, once, by the model that needs them (the spec's validator
    # holds every model it reaches): nothing is built while importing.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False, defer_build=True)


Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=80)]


# ---------------------------------------------------------------------------------------------
# Models


class Ref(Frozen):
    """A parameter of the network or of the enclosing block."""

    ref: Name


class Op(Frozen):
    """An operator applied to expressions: arithmetic, comparison or logic."""

    op: Literal[OPERATORS]  # type: ignore[valid-type]
    args: tuple["Expr", ...] = Field(min_length=1, max_length=max(most for _, most in FUNCTIONS.values()))

    @model_validator(mode="after")
    def _arity(self) -> "Op":
        if self.op in FUNCTIONS:
            fewest, most = FUNCTIONS[self.op]
            if not fewest <= len(self.args) <= most:
                takes = f"{fewest}" if fewest == most else f"{fewest} to {most}"
                raise ValueError(f"`{self.op}` takes {takes} argument{'s' if most > 1 else ''}; received {len(self.args)}")
            return self
        expected = 1 if self.op in UNARY_OPERATORS else 2
        if len(self.args) != expected:
            raise ValueError(f"operator `{self.op}` takes {expected} argument{'s' if expected > 1 else ''}; received {len(self.args)}")
        return self


MAX_INTEGER_DIGITS = 18  # an integer literal's digits, in every form (.arch, JSON, --set, --input)


def integer_literal(text: str) -> int:
    """The integer a literal spells, or ValueError past 18 digits: checked before converting, as
    Python refuses (with its own message) to convert over 4,300 digits and is slow near that."""
    digits = text.strip().lstrip("+-").replace("_", "").lstrip("0")
    if len(digits) > MAX_INTEGER_DIGITS:
        raise ValueError(f"integers have at most {MAX_INTEGER_DIGITS} digits; this one has {len(digits):,}")
    return int(text)


RECEIVED = "<in>"  # where an environment holds the received shape: a key no parameter name can spell
TAP_SHAPES = "<taps>"  # where it holds the shapes of the taps an expression reads (`@x.channels`)
SIZE_NAMES = ("channels", "height", "width", "length", "depth")
# Where each spatial size sits, by the number of spatial axes: a sequence LxC, an image HxWxC, a volume DxHxWxC.
SPATIAL_SIZES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


class ReceivedSize(Frozen):
    """A size of the tensor the statement receives, known at expansion: `in.channels` (the last
    axis, or the length of a flat tensor), `in.height`, `in.width` (an image or a volume),
    `in.length` (a sequence), `in.depth` (a volume)."""

    in_: Literal[SIZE_NAMES] = Field(alias="in")  # type: ignore[valid-type]
    tap: Name | None = None  # `@x.channels`: a size of tap x instead ({"in": "channels", "tap": "x"})

    def text(self) -> str:
        return f"@{self.tap}.{self.in_}" if self.tap else f"in.{self.in_}"


def expression_tag(value: Any) -> str | None:
    """Which alternative of `Expr` a value (a model or its plain-dict form) is."""
    if isinstance(value, (Ref, Op, ReceivedSize)):
        return "ref" if isinstance(value, Ref) else "op" if isinstance(value, Op) else "in"
    if isinstance(value, dict):
        return "ref" if "ref" in value else "op" if "op" in value else "in" if "in" in value else None  # "in" (+ "tap")
    if isinstance(value, (list, tuple)):
        return "list"
    return "const"


def _printable_word(value: str) -> str:
    """A string must survive both forms: .arch strings have no escapes and one kind of quote."""
    if len(value) > MAX_STRING:
        raise ValueError(f"a string may have at most {MAX_STRING} characters; received {len(value)}")
    if any(ord(char) < 32 or ord(char) == 127 or 0xD800 <= ord(char) <= 0xDFFF or char == "\\" for char in value):
        raise ValueError("a string cannot hold control characters, backslashes or lone surrogates")
    if '"' in value and "'" in value:
        raise ValueError("a string cannot hold both kinds of quote")
    return value


Word = Annotated[StrictStr, AfterValidator(_printable_word)]


def checked_value(value: Any) -> Any:
    """A value from outside a spec file (`--set`) held to the rules a spec's constants follow:
    printable strings, finite numbers, lists of those; ValueError says which rule it breaks."""
    if isinstance(value, str):
        return _printable_word(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"numbers must be finite; received {value}")
    if isinstance(value, (tuple, list)):
        return tuple(checked_value(item) for item in value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise ValueError(f"expected a number, a string, true/false/none or a list; received {type(value).__name__}")
Constant = Union[StrictBool, StrictInt, Annotated[StrictFloat, Field(allow_inf_nan=False)], Word, None]
Expr = TypeAliasType(
    "Expr",
    Annotated[
        Union[
            Annotated[Constant, Tag("const")],
            Annotated[Ref, Tag("ref")],
            Annotated[Op, Tag("op")],
            Annotated[ReceivedSize, Tag("in")],
            Annotated[tuple["Expr", ...], Tag("list")],
        ],
        Discriminator(
            expression_tag,
            custom_error_type="expression",
            custom_error_message=('expected a value: a number, a string, true/false/null, a list, {"ref": NAME}, '
                                  '{"op": OP, "args": [...]}, {"in": SIZE} or {"in": SIZE, "tap": NAME}'),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# Evaluation


class _Unknown:
    """A value that cannot be known (it depends on an error reported elsewhere): whatever is
    computed from it is unknown too, and checks on it are skipped."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


class EvalError(Exception):
    """An expression that cannot be evaluated; `path` locates the faulty operation, `operand`
    is the value that was of the wrong kind (for hints)."""

    def __init__(self, message: str, path: DataPath, operand: Any = None):
        super().__init__(message)
        self.message, self.path, self.operand = message, path, operand


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def evaluate(expr: Any, env: Mapping[str, Any], path: DataPath = ()) -> Any:
    """The value of `expr` with parameters from `env` (a missing one is UNKNOWN); raises
    `EvalError` for a type fault, a division by zero or a result out of range."""
    if isinstance(expr, Ref):
        return env.get(expr.ref, UNKNOWN)
    if isinstance(expr, ReceivedSize):
        return received_size(expr, env, path)
    if isinstance(expr, tuple):
        items = tuple(evaluate(item, env, path + (index,)) for index, item in enumerate(expr))
        return UNKNOWN if any(item is UNKNOWN for item in items) else items
    if not isinstance(expr, Op):
        return expr
    values = [evaluate(arg, env, path + ("args", index)) for index, arg in enumerate(expr.args)]
    if any(value is UNKNOWN for value in values):
        return UNKNOWN
    return apply(expr.op, values, path)


def received_size(size: "ReceivedSize", env: Mapping[str, Any], path: DataPath) -> Any:
    """`in.NAME`: a size of the shape the environment says the statement receives; `@x.NAME`:
    of tap x's shape (the environment's TAP_SHAPES, which the expander fills for the expression)."""
    name = size.in_
    if size.tap is not None:
        shape = env.get(TAP_SHAPES, {}).get(size.tap, UNKNOWN)  # an unknown tap is reported where it is resolved
    elif RECEIVED not in env:
        raise EvalError(f"`in.{name}` is the tensor a statement receives, and there is none here", path)
    else:
        shape = env[RECEIVED]
    if shape is UNKNOWN:
        return UNKNOWN
    if name == "channels":
        return shape[-1]
    names = SPATIAL_SIZES.get(len(shape) - 1, ())
    if name not in names:
        holders = {1: "a sequence (LxC)", 2: "an image (HxWxC)", 3: "a volume (DxHxWxC)"}
        wanted = " or ".join(holders[rank] for rank, sizes in SPATIAL_SIZES.items() if name in sizes)
        what = f"tap `{size.tap}` is" if size.tap else "the statement receives"
        raise EvalError(f"`{size.text()}` needs {wanted}; {what} {'x'.join(map(str, shape))}", path)
    return shape[names.index(name)]


def read_taps(expr: Any) -> set[str]:
    """The taps whose sizes an expression reads (`@x.channels` reads x)."""
    if isinstance(expr, ReceivedSize):
        return {expr.tap} if expr.tap else set()
    if isinstance(expr, (Op, tuple)):
        return set().union(*(read_taps(part) for part in (expr.args if isinstance(expr, Op) else expr)))
    return set()


def reads_received(expr: Any) -> bool:
    """Whether an expression reads the received tensor's sizes (`in.channels`)."""
    if isinstance(expr, ReceivedSize):
        return True
    if isinstance(expr, (Op, tuple)):
        return any(reads_received(part) for part in (expr.args if isinstance(expr, Op) else expr))
    return False


def evaluate_quietly(expr: Any, env: Mapping[str, Any]) -> Any:
    """The value of `expr`, or UNKNOWN where evaluating it is a fault (reported elsewhere)."""
    try:
        return evaluate(expr, env)
    except EvalError:
        return UNKNOWN


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min, "max": max, "ceil": math.ceil, "floor": math.floor, "round": round, "int": int,
}


def _checked_range(result: Any, text: str, path: DataPath) -> Any:
    if is_number(result) and (abs(result) > MAX_INTEGER or (isinstance(result, float) and not math.isfinite(result))):
        raise EvalError(f"`{text}` is out of range", path)
    return result


_LOGIC: dict[str, Callable[..., bool]] = {"and": lambda a, b: a and b, "or": lambda a, b: a or b, "not": lambda a: not a}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def apply(op: str, values: Sequence[Any], path: DataPath = ()) -> Any:
    """One operator on evaluated operands, with the language's typing rules: logic takes
    booleans, equality compares values of a kind (1 == 1.0), arithmetic takes numbers."""
    if op in _LOGIC:
        for value in values:
            if not isinstance(value, bool):
                raise EvalError(f"`{op}` takes true or false; received {show_value(value)}", path, value)
        return _LOGIC[op](*values)
    if op in ("==", "!="):
        left, right = values
        equal = (left == right and type(left) is type(right)) or (is_number(left) and is_number(right) and left == right)
        return equal if op == "==" else not equal
    for value in values:
        if not is_number(value):
            raise EvalError(f"`{op}` takes numbers; received {show_value(value)}", path, value)
    if op == "neg":
        return -values[0]
    if op in FUNCTIONS:
        return _checked_range(_FUNCTIONS[op](*values), f"{op}({', '.join(map(show_value, values))})", path)
    left, right = values
    if op in ("/", "//", "%") and right == 0:
        raise EvalError(f"division by zero in `{show_value(left)} {op} {show_value(right)}`", path)
    return _checked_range(_ARITHMETIC[op](left, right), f"{show_value(left)} {op} {show_value(right)}", path)


# ---------------------------------------------------------------------------------------------
# Substitution: expressions over network parameters


def substitute(expr: Any, symbols: Mapping[str, Any], env: Mapping[str, Any]) -> Any:
    """`expr` rewritten over network parameters, or None when it depends on none of them.

    `symbols` maps each parameter in scope to the expression over network parameters it stands
    for (None for a constant); parts that depend on none are folded to their values in `env`.
    """
    if isinstance(expr, Ref):
        return symbols.get(expr.ref)
    if isinstance(expr, tuple):
        items = [substitute(item, symbols, env) for item in expr]
        if all(item is None for item in items):
            return None
        folded = tuple(item if item is not None else _folded(part, env) for item, part in zip(items, expr))
        return None if any(part is UNKNOWN for part in folded) else folded
    if isinstance(expr, Op):
        args = [substitute(arg, symbols, env) for arg in expr.args]
        if all(arg is None for arg in args):
            return None
        folded = tuple(arg if arg is not None else _folded(part, env) for arg, part in zip(args, expr.args))
        # a part unknown after an earlier error (in.channels of a failed layer): nothing to write
        return None if any(part is UNKNOWN for part in folded) else Op(op=expr.op, args=folded)
    return None


def _folded(expr: Any, env: Mapping[str, Any]) -> Any:
    try:
        return evaluate(expr, env)
    except EvalError:
        return None


def referenced_parameters(expr: Any) -> set[str]:
    """The names of the parameters an expression refers to."""
    if isinstance(expr, Ref):
        return {expr.ref}
    if isinstance(expr, (Op, tuple)):
        parts = expr.args if isinstance(expr, Op) else expr
        return set().union(*(referenced_parameters(part) for part in parts))
    return set()


# ---------------------------------------------------------------------------------------------
# Rendering


def operation_parts(value: Any) -> tuple[str, Sequence[Any]] | None:
    """(operator, operands) of an operation in either form (model or plain dict), else None."""
    if isinstance(value, Op):
        return value.op, value.args
    if isinstance(value, dict) and "op" in value:
        return value["op"], value["args"]
    return None


Leaf = Callable[[Any, int], str]  # renders a value that is not an operation, in a context


Spelling = Mapping[str, Callable[[list[str]], str]]  # a function's text from its arguments' texts


def render(value: Any, leaf: Leaf, context: int = 0, spelling: Spelling | None = None) -> str:
    """Text of an expression with the fewest parentheses: `leaf` writes constants, references
    and lists; operators are written here, in the syntax both `.arch` and Python share, and
    functions as calls (`spelling` may write a function another way). `context` is the
    precedence the surrounding text demands."""
    parts = operation_parts(value)
    if parts is None:
        return leaf(value, context)
    operator, args = parts
    precedence = PRECEDENCE[operator]
    if operator in FUNCTIONS:
        texts = [render(arg, leaf, 0, spelling) for arg in args]
        custom = (spelling or {}).get(operator)
        return custom(texts) if custom else f"{operator}({', '.join(texts)})"
    if operator in UNARY_OPERATORS:
        text = ("-" if operator == "neg" else "not ") + render(args[0], leaf, precedence, spelling)
    else:
        # Left-associative: the right operand needs parentheses at equal precedence.
        # Comparisons do not chain, so both sides bind tighter.
        left_context = precedence + 1 if precedence == COMPARISON_PRECEDENCE else precedence
        text = f"{render(args[0], leaf, left_context, spelling)} {operator} {render(args[1], leaf, precedence + 1, spelling)}"
    return f"({text})" if precedence < context else text
