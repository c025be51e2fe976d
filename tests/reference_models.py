"""The six course networks written by hand in Keras 3, as the course code builds them.

An oracle independent of archspec: the emitted models must have these weight shapes and
counts, and the benchmarks time these builds. Layer arguments follow
shared/reference/course-networks.md (functional API instead of the course's subclassing).
"""

from __future__ import annotations


def _keras():
    import keras

    return keras


def baseline():
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(6, 5, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D(2, strides=2, padding="same")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x), name="Baseline")


def lenet5():
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(6, 5, activation="sigmoid")(inputs)
    x = layers.MaxPooling2D(2, strides=2)(x)
    x = layers.Conv2D(16, 5, activation="sigmoid")(x)
    x = layers.MaxPooling2D(2, strides=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(120, activation="sigmoid")(x)
    x = layers.Dense(84, activation="sigmoid")(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x), name="LeNet5")


def alexnet8():
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for filters in (96, 256):
        x = layers.Conv2D(filters, 3)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(3, strides=2)(x)
    for filters in (384, 384, 256):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = layers.Flatten()(x)
    for _ in range(2):
        x = layers.Dense(2048, activation="relu")(x)
        x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x), name="AlexNet8")


def vgg16():
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for filters, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(convs):
            x = layers.Conv2D(filters, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2, strides=2, padding="same")(x)
        x = layers.Dropout(0.2)(x)
    x = layers.Flatten()(x)
    for _ in range(2):
        x = layers.Dense(512, activation="relu")(x)
        x = layers.Dropout(0.2)(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x), name="VGG16")


def inception10():
    keras = _keras()
    layers = keras.layers

    def conv_bn_relu(x, channels, kernel=3, stride=1):
        x = layers.Conv2D(channels, kernel, strides=stride, padding="same")(x)
        x = layers.BatchNormalization()(x)
        return layers.Activation("relu")(x)

    def inception(x, channels, stride=1):
        b1 = conv_bn_relu(x, channels, 1, stride)
        b2 = conv_bn_relu(conv_bn_relu(x, channels, 1, stride), channels, 3)
        b3 = conv_bn_relu(conv_bn_relu(x, channels, 1, stride), channels, 5)
        b4 = conv_bn_relu(layers.MaxPooling2D(3, strides=1, padding="same")(x), channels, 1, stride)
        return layers.Concatenate(axis=-1)([b1, b2, b3, b4])

    inputs = keras.Input((32, 32, 3))
    x = conv_bn_relu(inputs, 16)
    channels = 16
    for _ in range(2):
        x = inception(x, channels, 2)
        x = inception(x, channels, 1)
        channels *= 2
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x), name="Inception10")


def resnet18():
    keras = _keras()
    layers = keras.layers

    def unit(x, filters, stride=1, project=False):
        y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
        y = layers.BatchNormalization()(y)
        y = layers.Activation("relu")(y)
        y = layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization()(y)
        if project:
            x = layers.Conv2D(filters, 1, strides=stride, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
        return layers.Activation("relu")(layers.Add()([y, x]))

    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    filters = 64
    for stage in range(4):
        for index in range(2):
            downsample = stage != 0 and index == 0
            x = unit(x, filters, 2 if downsample else 1, downsample)
        filters *= 2
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax", kernel_regularizer=keras.regularizers.L2(0.01))(x)
    return keras.Model(inputs, outputs, name="ResNet18")


BUILDERS = {
    "baseline": baseline, "lenet5": lenet5, "alexnet8": alexnet8,
    "vgg16": vgg16, "inception10": inception10, "resnet18": resnet18,
}
