"""archspec: a compiler for neural-network architecture specs.

    import archspec
    spec = archspec.load("resnet18")      # a path, a bundled name; archspec.parse(text) for text
    report = spec.analyze()               # .totals, .layers, .to_json(), .to_table()

Nothing here imports TensorFlow or Keras; the emitters and `from_keras(model)` import them when called.
"""

from .startup import ImportsUncollected, import_pydantic

with ImportsUncollected():  # what the imports build is never garbage (see startup.py)
    import_pydantic()  # before any stage imports it
    from .api import Architecture, bundled_names, from_keras, load, parse
    from .errors import Diagnostic, SpecError
    from .version import __version__

__all__ = ["Architecture", "Diagnostic", "SpecError", "bundled_names", "from_keras", "load", "parse", "__version__"]
