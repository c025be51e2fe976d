"""Static checks: what needs no evaluation (names of layers, blocks, arguments and parameters,
keywords used as names, recursive blocks, and each statement's own `static_faults`).

Takes a `Spec` and its `Source`; puts located diagnostics into a `DiagnosticSink`.
"""

from __future__ import annotations

from typing import Any

from ..errors import DataPath, DiagnosticSink, did_you_mean
from ..expr import Op, Ref
from ..layers import REGISTRY
from ..source import KEYWORDS, Source
from .models import BODY, EXPRESSION, INPUT_NAME, Block, Call, Param, Spec, StatementModel


def check_spec(spec: Spec, source: Source, sink: DiagnosticSink) -> bool:
    """Static checks into `sink`; False when expansion must not run (a recursive block)."""
    checker = StaticChecker(spec, source, sink)
    checker.run()
    return not checker.recursive


class StaticChecker:
    """Checks what needs no evaluation: names of layers, blocks, arguments and parameters."""

    def __init__(self, spec: Spec, source: Source, sink: DiagnosticSink):
        self.spec, self.source, self.sink = spec, source, sink
        self.blocks: dict[str, Block] = {}
        self.calls: dict[str, list[tuple[str, DataPath]]] = {}  # block -> blocks it calls, with where
        self.recursive = False
        self.faults = 0
        # Layer calls that were found sound, by their whole text and scope: a large flat spec
        # repeats a few calls many times, and an equal call in an equal scope is sound again.
        self.sound_calls: set[tuple] = set()

    def check_name(self, name: str, what: str, path: DataPath) -> None:
        """Keywords cannot name things, and `input` names the network's input tensor."""
        if name in KEYWORDS and name != "input":
            self.error(f"`{name}` is a keyword and cannot name {what}", path, "choose another name")
        elif name == "input" and what != "the network":
            self.error(f"`input` names the network's input and cannot name {what}", path, "choose another name")

    def error(self, message: str, path: DataPath, hint: str | None = None) -> None:
        self.faults += 1
        self.sink.add(self.source.diagnostic("error", message, path, hint))

    def run(self) -> None:
        spec = self.spec
        self.check_name(spec.network, "the network", ("network",))
        network_scope = self.check_params(spec.params, ("params",), set())
        for index, block in enumerate(spec.blocks):
            path = ("blocks", index)
            self.check_name(block.name, "a block", path + ("name",))
            for tap_index, tap in enumerate(block.taps):
                self.check_name(tap, "a tensor parameter", path + ("taps", tap_index))
                if tap in block.taps[:tap_index]:
                    self.error(f"tensor parameter `@{tap}` is declared twice", path + ("taps", tap_index))
            if block.name in self.blocks:
                self.error(f"block `{block.name}` is defined twice", path + ("name",))
            elif block.name in REGISTRY:
                self.error(f"block `{block.name}` has the name of a layer kind", path + ("name",), "rename the block")
            self.blocks.setdefault(block.name, block)
        self.check_expr(spec.input, ("input",), network_scope)
        self.check_inputs(spec)
        for index, block in enumerate(spec.blocks):
            path = ("blocks", index)
            scope = self.check_params(block.params, path + ("params",), network_scope)
            self.calls[block.name] = []
            self.check_body(block.body, path + ("body",), scope, block.name)
        self.check_body(spec.body, ("body",), network_scope, None)
        self.check_recursion()

    def check_inputs(self, spec: Spec) -> None:
        """Input names are names, each once; the further inputs' shapes are constants (a
        generated module takes one input_shape)."""
        seen = {spec.input_name or INPUT_NAME}
        if spec.input_name is not None:
            self.check_name(spec.input_name, "an input", ("input_name",))
        for index, named in enumerate(spec.inputs):
            path = ("inputs", index)
            self.check_name(named.name, "an input", path + ("name",))
            if named.name in seen:
                self.error(f"input `{named.name}` is declared twice", path + ("name",), "give each input its own name")
            seen.add(named.name)
            self.check_expr(named.shape, path + ("shape",), set())
        for index, name in enumerate(spec.outputs):
            if name in spec.outputs[:index]:
                self.error(f"output `@{name}` is listed twice", ("outputs", index))

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

    def check_statement(self, statement: StatementModel, path: DataPath, scope: set[str], block: str | None) -> None:
        if isinstance(statement, Call) and statement.as_ is None and statement.call in REGISTRY:
            key = (statement.call, statement.inputs, repr(statement.args), repr(statement.kwargs), frozenset(scope))
            if key in self.sound_calls:
                return
            faults = self.faults
            self.check_parts(statement, path, scope, block)
            if self.faults == faults:
                self.sound_calls.add(key)
            return
        self.check_parts(statement, path, scope, block)

    def check_parts(self, statement: StatementModel, path: DataPath, scope: set[str], block: str | None) -> None:
        alias = getattr(statement, "as_", None)
        if alias is not None:
            self.check_name(alias, "a layer or group", path + ("as",))
        index = getattr(statement, "index", None)
        if index is not None:
            self.check_name(index, "a repeat index", path + ("index",))
            if index in scope:
                self.error(f"repeat index `{index}` hides the parameter `{index}`", path + ("index",), "give the index its own name")
        for message, where, hint in statement.static_faults():
            self.error(message, path + where, hint)
        for where, holds, value in statement.walk():
            if holds == EXPRESSION:
                self.check_expr(value, path + where, scope)
            elif holds == BODY:
                self.check_body(value, path + where, statement.body_scope(scope), block)
        if isinstance(statement, Call):  # the one statement that names layers and blocks
            self.check_call(statement, path, scope, block)

    def check_call(self, call: Call, path: DataPath, scope: set[str], block: str | None) -> None:
        entry = REGISTRY.get(call.call)
        if entry is not None:
            self.check_arguments(call, path, f"{call.call}", entry.positional, entry.argument_names, entry.required)
            most = entry.cls.inputs_allowed[1]
            if call.inputs and most == 1 and len(call.inputs) > 1:
                self.error(f"{call.call} takes one input; received {len(call.inputs)} taps", path + ("inputs", 1))
            elif most is not None and most > 1 and len(call.inputs) + 1 > most:  # a merge also takes the current tensor
                self.error(f"{call.call} merges exactly {most} inputs, the current tensor and {most - 1} tap"
                           f"{'s' if most > 2 else ''}; received {len(call.inputs)} taps", path + ("inputs", most - 1),
                           f"chain it, one tap at a time: `{call.call}(@{call.inputs[0]}) {call.call}(@{call.inputs[1]})`")
            return
        target = self.blocks.get(call.call)
        if target is None:
            choices = list(REGISTRY) + list(self.blocks)
            self.error(f"unknown layer or block `{call.call}`", path + ("call",), did_you_mean(call.call, choices))
            return
        if call.inputs and not target.taps:
            self.error(f"block `{call.call}` takes the current tensor; it declares no tensor parameters (`@name`)", path + ("inputs", 0),
                       f"switch to the tap first (`@name` on its own, then the block call), or declare one: `block {call.call}(@x)`")
        elif len(call.inputs) != len(target.taps):
            wanted = ", ".join(f"@{tap}" for tap in target.taps)
            self.error(f"block `{call.call}` takes {len(target.taps)} tensor{'s' if len(target.taps) != 1 else ''} ({wanted}); "
                       f"received {len(call.inputs)}", path + ("inputs", min(len(call.inputs), len(target.taps))) if call.inputs else path,
                       f"pass one tap for each, in order: `{call.call}({', '.join(f'@{chr(97 + i)}' for i in range(len(target.taps)))}, ...)`")
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
