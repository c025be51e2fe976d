"""The size estimate: how many layers and steps a body would expand to, found without building
anything (so it is fast even for specs that would expand to billions), to refuse runaway
expansion before doing it.

Takes a `Spec`, the network's parameter values and the `Limits`; reports through a callback.
Each statement kind bounds its own steps (`StatementModel.expansion_steps`); only block calls,
which need the spec's blocks, are estimated here.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..errors import DataPath
from ..expr import UNKNOWN, evaluate_quietly
from ..spec import MAX_REPEAT, Call, Spec, StatementModel
from .model import Env, Limits, bind_block

LARGE = 10**15  # estimates saturate here

Report = Callable[[str, DataPath, str], None]  # (message, where, hint)


def refuse_oversized(spec: Spec, env: Env, limits: Limits, report: Report) -> bool:
    """Report, and say True, when the body would expand to more layers and steps than `limits` allow."""
    if _Estimate(spec, limits, by_name=True).body(spec.body) <= limits.max_layers:
        return False  # no parameter value could make it larger: the walk with values is not needed
    estimate = _Estimate(spec, limits)
    total = 0
    for index, statement in enumerate(spec.body):
        total = min(LARGE, total + estimate.statement(statement, env, 0))
        if total > limits.max_layers:
            report(f"the network would expand to {'at least ' if total >= LARGE else ''}{total:,} layers "
                   f"and steps, more than the limit of {limits.max_layers:,}", ("body", index),
                   "reduce repeat counts; the limit guards against runaway expansion")
            return True
    return False


class _Walk:
    """`SizeWalk` for one scope: what a statement's `expansion_steps` asks of the estimate."""

    def __init__(self, estimate: "_Estimate", env: Mapping[str, Any], depth: int):
        self.estimate, self.env, self.depth = estimate, env, depth

    def size(self, body: tuple) -> int:
        return min(LARGE, sum(self.estimate.statement(statement, self.env, self.depth + 1) for statement in body))

    def value(self, expr: Any) -> Any:
        value = evaluate_quietly(expr, self.env)
        if value is UNKNOWN and self.estimate.by_name:
            return MAX_REPEAT  # any parameter's value: the most a count may be, neither true nor false
        return value


class _Estimate:
    """The steps of statements under the parameters' values; or, `by_name`, a bound that holds
    whatever the values (counts that read a parameter taken at the largest a count may be, both
    arms of a condition that reads one, each block sized once for any arguments). That bound is
    a walk over the text alone, and most specs are well under the limit by it."""

    def __init__(self, spec: Spec, limits: Limits, by_name: bool = False):
        self.spec, self.limits, self.by_name = spec, limits, by_name
        self.memo: dict[tuple, int] = {}  # (block, its arguments, or its name alone) -> steps

    def body(self, statements: tuple) -> int:
        return _Walk(self, {}, -1).size(statements)

    def statement(self, statement: StatementModel, env: Mapping[str, Any], depth: int) -> int:
        # A layer, a tap or an empty repeat body each cost one step, so repeats of nothing are bounded too.
        if depth > self.limits.max_block_depth:
            return 0  # reported by the expansion itself
        block = self.spec.block(statement.call) if isinstance(statement, Call) else None
        if block is None:
            return min(LARGE, statement.expansion_steps(_Walk(self, env, depth)))
        if self.by_name:
            if block.name not in self.memo:
                self.memo[block.name] = max(1, _Walk(self, {}, depth).size(block.body))
            return self.memo[block.name]
        names = [p.name for p in block.params]
        exprs = dict(zip(names, statement.args)) | dict(statement.kwargs)
        given = {name: evaluate_quietly(expr, env) for name, expr in exprs.items() if name in names}
        local = bind_block(self.spec, block, statement, given, env, lambda expr, scope, path: evaluate_quietly(expr, scope))
        key = (block.name, tuple(sorted((name, _hashable(value)) for name, value in local.items())))
        if key not in self.memo:
            self.memo[key] = max(1, _Walk(self, local, depth).size(block.body))
        return self.memo[key]


def _hashable(value: Any) -> Any:
    return value if not isinstance(value, (list, dict)) else repr(value)
