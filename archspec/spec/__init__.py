"""The spec language as data: pydantic models of the JSON form (`models`), loading with located
structural faults (`structure`), and the static checks (`static`).

Takes the plain dict from `syntax` (either form); hands out a frozen `Spec`, or a `SpecError`
with every structural and static fault (unknown layers and blocks, unknown or missing
arguments, arity, unknown parameters, recursive blocks), each located in the source.
"""

from ..expr import Op, Ref  # the expression models, where the spec's users look for them
from .models import (
    INPUT_NAME,
    MAX_REPEAT,
    STATEMENT_KEYS,
    STATEMENT_MODELS,
    Block,
    Call,
    ConcatGroup,
    If,
    NamedInput,
    Param,
    Repeat,
    Residual,
    SizeWalk,
    Spec,
    Statement,
    StatementModel,
    Tap,
    is_repeat_count,
    json_schema,
    repeat_count_message,
    statement_tag,
)
from .static import check_spec
from .structure import load_spec

__all__ = [
    "INPUT_NAME", "NamedInput",
    "MAX_REPEAT", "STATEMENT_KEYS", "STATEMENT_MODELS", "Block", "Call", "ConcatGroup", "If", "Op", "Param", "Ref", "Repeat",
    "Residual", "SizeWalk", "Spec", "Statement", "StatementModel", "Tap", "check_spec", "is_repeat_count", "json_schema",
    "load_spec", "repeat_count_message", "statement_tag",
]
