"""Graph -> keras.Model, built with the functional API from the registry's `KerasCall`s.

Takes a `Graph`; hands out a `keras.Model` whose layer names equal the report's. Imports Keras
inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any

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
    import keras

    tensors = {node: keras.Input(shape=shape, name=graph.input_name if node == INPUT else node) for node, shape in graph.inputs}
    for node in graph.nodes:
        layer = instantiate(keras, node.layer.keras_call(), name=node.name)
        inputs = [tensors[name] for name in node.inputs]
        tensors[node.name] = layer(inputs if len(inputs) > 1 else inputs[0])
    inputs = [tensors[node] for node, _ in graph.inputs]
    outputs = [tensors[name] for name in graph.outputs]
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0], name=graph.network)
