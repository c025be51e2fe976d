"""Emitters: the last stage. Each takes a `Graph` and hands out one artifact (a Keras model,
Python source). Only the Keras emitter imports Keras, and only when it is called."""
