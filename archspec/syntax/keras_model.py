"""A Keras model to the JSON form's plain dict: the front end of `archspec import`.

Takes a built `keras.Model` (Functional or Sequential); hands out the plain dict a `.json` spec
loads to, or a `SpecError` naming every layer archspec cannot express (its name, its class and
where it sits), all in one run. Imports Keras only when called.

Each layer is mapped back through the registry: the kind whose Keras class it is, its fields read
from the layer's config through the kind's (Keras keyword, field) table. The mapping is then
proved: the kind's own Keras call is instantiated and its config must equal the original's,
name aside, so the imported spec emits exactly the layer it came from. Defaults are left out
(`Layer.arguments()`), so the spec reads like a hand-written one. Consecutive equal units become
`repeat`s; tensors read out of order are named (`as`) and read as taps.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ..backend import load_keras
from ..errors import Diagnostic, SpecError
from ..layers import REGISTRY, REGULARIZER, Entry, Layer
from ..layers.base import KerasEquivalent
from ..source import KEYWORDS
from .keras_graph import Fused, Record, SeriesParallel, fused_activations, key_of, recover_residuals
from .recover import compress_repeats, recover_blocks

# Config keys that describe the layer object, not the network it computes.
_IGNORED_CONFIG = frozenset(("name", "trainable", "dtype", "autocast", "build_config", "seed"))


class Imported(NamedTuple):
    data: dict  # the plain dict of the spec
    notes: list[str]  # what it does not keep (initializers archspec has no name for)
    layers: list[Any]  # the Keras layer of each layer of the expanded spec, in order


def from_keras_model(model: Any, name: str | None = None, keep_names: bool = False) -> Imported:
    """The spec of `model`'s network, or SpecError listing every layer it cannot express. With
    `keep_names`, every layer keeps its Keras name (`as`), and no block is made of them."""
    keras = load_keras()

    reader = _ModelReader(keras, model, keep_names)
    reader.read()
    if reader.faults:
        raise SpecError(reader.faults)
    notes = [f"not kept: the initializer {what} of {len(layers)} layer{'s' if len(layers) > 1 else ''} "
             f"({', '.join(layers[:3])}{', ...' if len(layers) > 3 else ''}); they start from archspec's default"
             for what, layers in reader.notes.items()]
    return Imported(reader.spec_dict(name or _identifier(model.name, "Imported")), notes, reader.layers)


class _ModelReader:
    def __init__(self, keras: Any, model: Any, keep_names: bool = False):
        self.keras, self.model, self.keep_names = keras, model, keep_names
        self.faults: list[Diagnostic] = []
        self.notes: dict[str, list[str]] = {}  # initializers not kept: what, by layer
        self.statements: list[dict] = []
        self.names: dict[tuple, str] = {}  # a tensor's key -> its name in the spec
        self.same_as: dict[tuple, tuple] = {}  # a nested model's tensors -> the outer ones they are
        self.current: tuple | None = None  # the key of the tensor the next call applies to
        self.named: set[tuple] = set()  # tensors that need `as`
        self.inputs: list[tuple[str, list[int]]] = []
        self.layers: list[Any] = []  # the Keras layer of each call, in order: the spec's layers, once expanded
        self.records: list[Record] = []  # each call with the tensors it reads and writes, for structure recovery

    # -- the graph

    def read(self) -> None:
        model = self.model
        if not model.inputs:
            self.faults.append(Diagnostic("error", f"model `{model.name}` is not built: it has no inputs",
                                          hint="build it first, e.g. call it on `keras.Input(shape=...)`"))
            return
        for index, tensor in enumerate(model.inputs):
            name = "input" if index == 0 else _identifier(tensor.name, f"input_{index}")
            sizes = list(tensor.shape[1:])
            if None in sizes:
                self.faults.append(Diagnostic("error", f"input `{tensor.name}` has sizes Keras leaves open: {tuple(tensor.shape[1:])}",
                                              hint="give the model a fixed input shape, e.g. `--arg input_shape=224x224x3`"))
                return
            self.names[key_of(tensor)] = name
            self.inputs.append((name, [int(size) for size in sizes]))
        self.current = key_of(model.inputs[0])
        self.walk(model)
        self.outputs = [self.names.get(self.key(tensor)) for tensor in model.outputs]

    def walk(self, model: Any) -> None:
        """Each operation in the order the model computes them; a nested model's are walked in
        place, its tensors read as the outer ones they stand for."""
        functional = getattr(model, "_functional", None) or model  # a Sequential keeps its graph there
        steps = []
        for operation in functional.operations:
            if isinstance(operation, self.keras.layers.InputLayer):
                continue
            nodes = [node for node in operation._inbound_nodes if node.operation is operation]
            if len(nodes) != 1:
                self.fault(operation, f"is applied {len(nodes)} times (a shared layer)", "archspec builds each layer once")
                continue
            steps.append((operation, nodes[0]))
        for operation, node in fused_activations(self.keras, steps):
            inputs, outputs = list(node.input_tensors), list(node.output_tensors)
            if isinstance(operation, self.keras.Model):
                self.flatten(operation, inputs, outputs)
            else:
                self.add_layer(operation, inputs, outputs)

    def flatten(self, inner: Any, inputs: list, outputs: list) -> None:
        if len(inner.inputs) != len(inputs) or len(inner.outputs) != len(outputs):
            self.fault(inner, "is a nested model whose inputs or outputs do not match its call")
            return
        inner = getattr(inner, "_functional", None) or inner
        for own, outer in zip(inner.inputs, inputs):
            self.same_as[key_of(own)] = self.key(outer)
        self.walk(inner)
        for own, outer in zip(inner.outputs, outputs):
            self.same_as[key_of(outer)] = self.key(own)

    def key(self, tensor: Any) -> tuple:
        key = key_of(tensor)
        while key in self.same_as:
            key = self.same_as[key]
        return key

    def fault(self, layer: Any, problem: str, hint: str | None = None) -> None:
        self.faults.append(Diagnostic("error", f"layer `{layer.name}` ({type(layer).__name__}) {problem}", hint=hint))

    def add_layer(self, layer: Any, inputs: list, outputs: list) -> None:
        if len(outputs) != 1:
            self.fault(layer, f"has {len(outputs)} outputs; archspec layers have one")
            for index, tensor in enumerate(outputs):
                self.names[key_of(tensor)] = _identifier(f"{layer.name}_{index}", "layer")
            return
        output = outputs[0]
        self.names[key_of(output)] = self.unique(_identifier(layer.name, "layer"))
        statement, inputs = self.statement_for(layer, inputs)
        if statement is None:  # a fault: later layers still read its output, so every fault is found
            self.current = key_of(output)
            return
        if self.key(inputs[0]) != self.current:  # switch to the tensor the layer reads
            self.statements.append({"tap": self.name_of(inputs[0])})
        taps = [self.name_of(tensor) for tensor in inputs[1:]]
        if taps:
            statement["inputs"] = taps
        if self.keep_names:
            statement["as"] = self.names[key_of(output)]
        call = {key: value for key, value in statement.items() if key != "inputs"}  # the graph says what it reads
        self.records.append(Record(call, tuple(self.key(t) for t in inputs), key_of(output), layer))
        statement["_output"] = key_of(output)
        self.statements.append(statement)
        self.layers.append(layer)
        self.current = key_of(output)

    def unique(self, name: str) -> str:
        """Keras names layers and operations from separate counters: `multiply_6` can be both."""
        taken = set(self.names.values())
        candidate, number = name, 2
        while candidate in taken or candidate == "input":
            candidate, number = f"{name}_{number}", number + 1
        return candidate

    def name_of(self, tensor: Any) -> str:
        key = self.key(tensor)
        self.named.add(key)
        return self.names[key]

    # -- one layer

    def statement_for(self, layer: Any, inputs: list) -> tuple[dict | None, list]:
        """The call that emits `layer`, and its inputs in the order the call takes them."""
        shapes = [[int(size) for size in tensor.shape[1:]] for tensor in inputs]
        foreign = self.foreign(layer)
        if foreign is not None:  # a class of keras.applications' own, or an operation, with a kind of ours
            entry, equivalent = foreign
            if len(inputs) < 2 and equivalent.operation:  # `x + 3.0`: an operation with a constant
                self.fault(layer, "combines a tensor with a constant", "archspec's merges combine tensors; "
                           "write the constant as a layer (e.g. `rescaling`) in the Keras model")
                return None, inputs
            try:
                built = entry.build(equivalent.fields(layer.get_config()))
            except Exception as error:
                self.fault(layer, "cannot be expressed exactly", str(error).splitlines()[0])
                return None, inputs
            return _call_statement(built, entry.cls), inputs[::-1] if equivalent.reversed_inputs else inputs
        keras_class = type(layer).__name__
        candidates = [entry for entry in REGISTRY.values() if keras_class in _keras_names(entry.cls)]
        if not candidates:
            self.fault(layer, "has no archspec kind", "archspec expresses the layers of its registry (docs/language.md lists them)")
            return None, inputs
        config = _axes_from_end(layer.get_config(), len(shapes[0]) + 1 if shapes else 2)
        problems = []
        for cls in dict.fromkeys(entry.cls for entry in candidates):
            try:
                built = _built(cls, config)
            except Exception as error:  # the config does not fit this kind's fields
                problems.append(f"{cls.op}: {str(error).splitlines()[0]}")
                continue
            mismatch = self.differs(built, shapes, layer, config)
            if mismatch is None:
                plain = _shortest_kind(built)
                return _call_statement(plain, type(plain)), inputs
            problems.append(mismatch)
        self.fault(layer, "cannot be expressed exactly", "; ".join(problems))
        return None, inputs

    def foreign(self, layer: Any) -> tuple[Entry, KerasEquivalent] | None:
        """The kind whose `keras_equivalents` name this class: one of keras.applications' own
        classes or a keras.ops operation (not Keras' layer of the same name)."""
        if isinstance(layer, Fused):
            return REGISTRY[layer.kind], KerasEquivalent()
        is_operation = not isinstance(layer, self.keras.layers.Layer)
        if not is_operation and not type(layer).__module__.startswith("keras.src.applications"):
            return None
        for entry in REGISTRY.values():
            equivalent = entry.cls.keras_equivalents.get(type(layer).__name__)
            if equivalent is not None and equivalent.operation == is_operation and not entry.presets:
                return entry, equivalent
        return None

    def differs(self, built: Layer, shapes: list, layer: Any, config: dict) -> str | None:
        """None where the kind emits this very layer (initializers aside, which are noted);
        else which config value differs."""
        from ..emit.keras import instantiate

        bound = built.bound(shapes) if shapes and shapes[0] else built
        emitted = instantiate(self.keras, bound.keras_call(), name=config.get("name", "x"))
        if type(emitted).__name__ != type(layer).__name__:
            # `relu` at its defaults emits Activation("relu"), the same function as ReLU()
            same_function = isinstance(emitted, self.keras.layers.Activation) and not built.arguments()
            return None if same_function else f"{built.op}: emits {type(emitted).__name__}"
        rebuilt = _axes_from_end(emitted.get_config(), len(shapes[0]) + 1 if shapes else 2)
        for key in sorted(set(config) | set(rebuilt)):
            if key in _IGNORED_CONFIG:
                continue
            if _normal(config.get(key)) != _normal(rebuilt.get(key)):
                if key.endswith("_initializer"):  # how training starts, not what the network computes
                    self.notes.setdefault(_describe(config.get(key)), []).append(layer.name)
                    continue
                return f"{built.op}: `{key}` is {config.get(key)!r}, archspec would write {rebuilt.get(key)!r}"
        return None

    # -- the spec

    @staticmethod
    def tap_counts(body: list[dict]) -> dict[str, int]:
        """How often each named tensor is read (as a tap, a merge input or an output)."""
        counts: dict[str, int] = {}
        for statement in body:
            for name in ([statement["tap"]] if "tap" in statement else []) + list(statement.get("inputs", ())):
                counts[name] = counts.get(name, 0) + 1
        return counts

    def spec_dict(self, name: str) -> dict:
        several = len(self.outputs) > 1 or (self.outputs and self.outputs[0] != self.names.get(self.current))
        if several:  # the outputs are read by name
            self.named.update(key_of(tensor) for tensor in self.model.outputs)
        body = []
        for statement in self.statements:
            output = statement.pop("_output", None)
            if output is not None and output in self.named:
                statement["as"] = self.names[output]
            body.append(statement)
        data: dict[str, Any] = {"network": name, "input": self.inputs[0][1]}
        if self.inputs[0][0] != "input":
            data["input_name"] = self.inputs[0][0]
        if len(self.inputs) > 1:
            data["inputs"] = [{"name": n, "shape": shape} for n, shape in self.inputs[1:]]
        structured = None
        if len(self.inputs) == 1 and not several:
            structured = SeriesParallel(self.records, key_of(self.model.inputs[0])).statements()
        if structured is not None:  # the whole graph nests: residuals, shortcuts and branches
            body, self.layers[:] = structured
        else:  # taps where needed; identity residuals found in the sequence
            reads = self.tap_counts(body)
            for output in self.outputs:  # an output is read too: its name stays
                reads[output] = reads.get(output, 0) + 2
            body = recover_residuals(body, reads)
        blocks, body = recover_blocks(body, "residual_unit") if not self.keep_names else ([], body)
        if blocks:
            data["blocks"] = blocks
        data["body"] = compress_repeats(body)
        if several:
            data["outputs"] = self.outputs
        return data


def _keras_names(cls: type[Layer]) -> tuple[str, ...]:
    """The Keras class names a kind emits: `Conv2D`, and `Conv1D`/`Conv3D` where it takes those ranks."""
    path = getattr(cls, "keras_layer", "")
    base = path.rsplit(".", 1)[-1]
    if "2D" in base:
        return tuple(base.replace("2D", f"{rank}D") for rank in cls.spatial_ranks)
    return (base,)


def _built(cls: type[Layer], config: dict) -> Layer:
    """The kind's layer for a config; an initializer it has no name for is left at its default
    (differs() notes it)."""
    fields = _fields_from_config(cls, config)
    try:
        return cls(**fields)
    except Exception:
        kept = {name: value for name, value in fields.items() if not name.endswith("_init")}
        if kept == fields:
            raise
        return cls(**kept)


def _axes_from_end(config: dict, rank: int) -> dict:
    """`axis=3` on a 4-D tensor is `axis=-1`: compared and written from the end, as archspec does."""
    if "axis" not in config:
        return config
    def from_end(axis: Any) -> Any:
        if isinstance(axis, int) and axis >= 0:
            return axis - rank
        if isinstance(axis, (list, tuple)):
            return from_end(axis[0]) if len(axis) == 1 else type(axis)(from_end(item) for item in axis)
        return axis
    return {**config, "axis": from_end(config["axis"])}


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        settings = ", ".join(f"{k}={v!r}" for k, v in (value.get("config") or {}).items() if v is not None)
        return f"{value.get('class_name')}({settings})"
    return repr(value)


def _fields_from_config(cls: type[Layer], config: dict) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for keras_name, field in cls.keras_arguments:
        if keras_name not in config:
            continue
        value = config[keras_name]
        if field == REGULARIZER:
            fields.update(_regularizer_fields(value))
            continue
        fields[field] = _field_value(cls, field, value)
    return fields


def _field_value(cls: type[Layer], field: str, value: Any) -> Any:
    if isinstance(value, dict) and "class_name" in value:  # a serialized initializer
        return _snake(value["class_name"])
    if isinstance(value, (list, tuple)):
        items = [_field_value(cls, field, item) for item in value]
        # (3, 3) reads as 3; pairs of pairs ((0, 1), (0, 1)) stay as they are, a pair per axis
        scalars = all(not isinstance(item, list) for item in items)
        return items[0] if items and scalars and all(item == items[0] for item in items) and field != "shape" else items
    if value == "linear" and field == "activation" and cls.model_fields[field].default is None:
        return None
    return value


def _regularizer_fields(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    settings = value.get("config", {})
    return {key: settings[key] for key in ("l1", "l2") if settings.get(key)}


def _normal(value: Any) -> Any:
    """A config value compared as what it means: lists and tuples alike, objects by class and settings."""
    if isinstance(value, (list, tuple)):
        return tuple(_normal(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _normal(item)) for key, item in value.items() if key not in ("module", "registered_name")))
    return value


def _call_statement(layer: Layer, cls: type[Layer]) -> dict:
    """The call a person would write: the entry whose presets match, the positional arguments
    first, defaults left out."""
    arguments = layer.arguments()
    entry = _best_entry(cls, arguments)
    for key in entry.presets:
        arguments.pop(key, None)
    statement: dict[str, Any] = {"call": entry.name}
    args = []
    for name in entry.positional:
        if name not in arguments:
            break
        args.append(_plain(arguments.pop(name)))
    if args:
        statement["args"] = args
    if arguments:
        statement["kwargs"] = {key: _plain(value) for key, value in arguments.items()}
    return statement


def _shortest_kind(layer: Layer) -> Layer:
    """`act(relu)` is written `relu` where that kind emits the very same call."""
    function = getattr(layer, "function", None) if "function" in type(layer).model_fields else None
    entry = REGISTRY.get(function) if isinstance(function, str) else None
    if entry is not None and entry.cls is not type(layer) and not entry.presets:
        try:
            plain = entry.build({})
        except Exception:  # a kind that needs arguments
            return layer
        if _call_text(plain) == _call_text(layer):
            return plain
    return layer


def _call_text(layer: Layer) -> tuple:
    call = layer.keras_call()
    return call.path, tuple((argument.name, argument.value) for argument in call.arguments)


def _best_entry(cls: type[Layer], arguments: dict) -> Entry:
    entries = [entry for entry in REGISTRY.values() if entry.cls is cls]
    matching = [entry for entry in entries if all(arguments.get(k, cls.model_fields[k].default) == v for k, v in entry.presets.items())]
    return max(matching or entries, key=lambda entry: len(entry.presets))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _identifier(text: str, fallback: str) -> str:
    """A spec name for a Keras name: letters, digits and underscores, not a keyword."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", str(text))[:80] or fallback
    if name[0].isdigit():
        name = "_" + name[:79]
    return name + "_" if name in KEYWORDS else name
