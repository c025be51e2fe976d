"""The network's ends, for the expander: its parameters' values, its inputs (the first and
the named further ones, each a tap) and its outputs (`output @a, @b`, else the last tensor).

A mixin of `Expander` (graph/expand.py): it reads the spec and writes the expander's shapes,
taps and names, and reports through its `error`.
"""

from __future__ import annotations

from typing import Any

from ..errors import DataPath, did_you_mean, show_value
from ..expr import UNKNOWN, Ref
from ..layers import MAX_DIMENSION, Shape
from .model import INPUT, Env
from .scope import Scope


class Endpoints:
    """Network parameters, inputs and outputs."""

    def named_inputs(self, env: Env) -> tuple[tuple[str, Shape], ...]:
        """The further inputs (`input 10 as meta`), each a tap; and the first input's own name."""
        if self.spec.input_name is not None:
            self.taps[self.spec.input_name] = INPUT
            self.names[self.spec.input_name] = ("input_name",)
        found = []
        for index, named in enumerate(self.spec.inputs):
            shape = self.valid_shape(self.evaluate(named.shape, env, ("inputs", index, "shape")), ("inputs", index, "shape"))
            self.shapes[named.name] = UNKNOWN if shape is None else shape  # said once; its tap still resolves
            self.taps[named.name] = named.name
            self.names[named.name] = ("inputs", index, "name")
            if shape is not None:
                found.append((named.name, shape))
        return tuple(found)

    def outputs(self, current: str, extra_inputs: tuple[tuple[str, Shape], ...]) -> tuple[str, ...]:
        """The node of each output: `output @a, @b` names taps; without it, the last tensor."""
        inputs = {INPUT, *(name for name, _ in extra_inputs)}
        if not self.spec.outputs:
            if current in inputs:
                self.error("the network's output is its input: no layer reaches it", ("body", len(self.spec.body) - 1),
                           "the last statement switched to an input's tap; end with a layer")
            self.sink.raise_if_errors({self.source.file: self.source.text})
            return (current,)
        found = []
        for index, tap in enumerate(self.spec.outputs):
            node = self.resolve_tap(tap, Scope.root(), ("outputs", index))
            if node in inputs:
                self.error(f"output `@{tap}` is an input: no layer reaches it", ("outputs", index), "name a layer or group")
            elif node is not None:
                found.append(node)
        self.sink.raise_if_errors({self.source.file: self.source.text})
        return tuple(found)

    def network_parameters(self) -> dict[str, Any]:
        known = [p.name for p in self.spec.params]
        for name in self.overrides:
            if name not in known:
                hint = did_you_mean(name, known) or (f"its parameters are {', '.join(known)}" if known else "it has no parameters")
                self.sink.error(f"--set {name}: network {self.spec.network} has no parameter `{name}`", None, hint)
        env = Env(symbols={p.name: Ref(ref=p.name) for p in self.spec.params})
        for index, param in enumerate(self.spec.params):
            if param.name in self.overrides:
                env[param.name] = self.overrides[param.name]
            elif param.required:
                self.error(f"network parameter `{param.name}` has no default and was not set", ("params", index), f"pass --set {param.name}=VALUE")
                env[param.name] = UNKNOWN
            else:
                env[param.name] = self.evaluate(param.default, env, ("params", index, "default"))
        return env

    def input_shape(self, env: dict[str, Any]) -> Shape | None:
        if self.input_override is not None:
            return tuple(self.input_override)
        value = self.evaluate(self.spec.input, env, ("input",))
        if value is UNKNOWN:
            return None
        return self.valid_shape(value, ("input",))

    def valid_shape(self, value: Any, path: DataPath) -> Shape | None:
        """An input's shape, or None after saying what is wrong with it."""
        if value is UNKNOWN:
            return None
        shape = (value,) if isinstance(value, int) and not isinstance(value, bool) else value
        valid = isinstance(shape, tuple) and 1 <= len(shape) <= 4 and all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_DIMENSION for n in shape)
        if not valid:
            self.error(f"the input shape must be a length (flat), LxC (a sequence), HxWxC (an image) or DxHxWxC (a volume), "
                       f"with sizes from 1 to {MAX_DIMENSION}; received {show_value(value)}", path)
            return None
        return shape
