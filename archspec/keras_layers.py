"""The Keras layers archspec emits where Keras has no built-in one: a learned per-channel scale
(ConvNeXt's LayerScale) and a scaled residual sum (InceptionResNetV2's x + s·F(x)).

Importing this module imports Keras and registers both classes for `keras.models.load_model`
(as `archspec>LayerScale`, `archspec>ScaledAdd`). The generated Python source carries a copy of
each class it uses, so the module it writes needs neither archspec nor this file. Each class is
written to read well on its own, as it is copied verbatim.
"""

from __future__ import annotations

from .backend import load_keras

keras = load_keras()


@keras.saving.register_keras_serializable(package="archspec")
class LayerScale(keras.layers.Layer):
    """Multiplies each channel (the last axis) by a learned scale, initialised to `init_value`."""

    def __init__(self, init_value=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.init_value = init_value

    def build(self, input_shape):
        self.gamma = self.add_weight(
            name="gamma", shape=(input_shape[-1],), initializer=keras.initializers.Constant(self.init_value), trainable=True
        )

    def call(self, inputs):
        return inputs * self.gamma

    def get_config(self):
        return {**super().get_config(), "init_value": self.init_value}


@keras.saving.register_keras_serializable(package="archspec")
class ScaledAdd(keras.layers.Layer):
    """inputs[0] * scale + inputs[1]: a residual sum whose branch is scaled by a constant."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        return inputs[0] * self.scale + inputs[1]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


CUSTOM_LAYERS = {"LayerScale": LayerScale, "ScaledAdd": ScaledAdd}  # by the name a KerasCall's path gives after `archspec.`
