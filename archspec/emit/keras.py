"""Graph -> keras.Model, built with the functional API from the registry's `KerasCall`s.

Takes a `Graph`; hands out a `keras.Model` whose layer names equal the report's. Imports Keras
inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any

from ..backend import load_keras
from ..graph import INPUT, Graph
from ..layers import CUSTOM_PREFIX, KerasCall


def instantiate(keras: Any, call: KerasCall, **extra: Any) -> Any:
    """Make the object a `KerasCall` describes (nested calls, e.g. regularizers, first)."""
    target = keras
    path = call.path.split(".")
    if path[0] == CUSTOM_PREFIX:  # one of archspec's own layers, where Keras has none
        from ..keras_layers import CUSTOM_LAYERS

        target, path = CUSTOM_LAYERS, path[1:]
    for part in path:
        target = target[part] if isinstance(target, dict) else getattr(target, part)
    kwargs = {
        argument.name: instantiate(keras, argument.value) if isinstance(argument.value, KerasCall) else argument.value
        for argument in call.arguments
    }
    return target(**kwargs, **extra)


def to_keras(graph: Graph) -> Any:
    """The functional Keras model of `graph`, with the same layer names as the report."""
    keras = load_keras()

    tensors = {node: keras.Input(shape=shape, name=graph.input_name if node == INPUT else node) for node, shape in graph.inputs}
    for node in graph.nodes:
        layer = instantiate(keras, node.layer.keras_call(), name=node.name)
        inputs = [tensors[name] for name in node.inputs]
        tensors[node.name] = layer(inputs if len(inputs) > 1 else inputs[0])
    inputs = [tensors[node] for node, _ in graph.inputs]
    outputs = [tensors[name] for name in graph.outputs]
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0], name=graph.network)


WEIGHTS_SUFFIX = ".weights.npz"


def save_weights(arrays: dict[str, list[Any]], path: str) -> None:
    """Write weights by layer name: `NAME/0`, `NAME/1`, ... in the order Keras' get_weights() gives."""
    import numpy as np

    flat = {f"{name}/{index}": np.asarray(array) for name, values in arrays.items() for index, array in enumerate(values)}
    with open(path, "wb") as handle:
        np.savez(handle, **flat)


def load_weights(model: Any, path: str) -> int:
    """Set the weights of `model`'s layers from a file of `save_weights`; every weighted layer
    must be in it with the shapes it has. Returns how many layers were set; SpecError otherwise."""
    import numpy as np

    from ..errors import Diagnostic, SpecError, quoted

    try:
        stored = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise SpecError([Diagnostic("error", f"cannot read the weights {quoted(path)}: {error}")]) from None
    by_layer: dict[str, dict[int, Any]] = {}
    for key in stored.files:
        name, _, index = key.rpartition("/")
        by_layer.setdefault(name, {})[int(index)] = stored[key]
    faults, count = [], 0
    for layer in model.layers:
        expected = layer.get_weights()
        if not expected:
            continue
        given = by_layer.pop(layer.name, None)
        arrays = [given[index] for index in sorted(given)] if given else []
        if [a.shape for a in arrays] != [e.shape for e in expected]:
            faults.append(Diagnostic("error", f"weights for layer `{layer.name}`: expected shapes {[e.shape for e in expected]}; "
                                              f"the file has {[a.shape for a in arrays] or 'none'}"))
            continue
        layer.set_weights(arrays)
        count += 1
    if by_layer:
        faults.append(Diagnostic("error", f"the weights name layers the network does not have: {', '.join(sorted(by_layer)[:5])}",
                                 hint="build the spec the weights were imported with"))
    if faults:
        raise SpecError(faults)
    return count
