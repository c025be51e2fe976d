"""Keras and TensorFlow, imported on demand and quietly: the one place archspec imports them.

The verbs that need them (build, train, predict, import, and the Python API's `to_keras`)
call `load_keras()` or `load_tensorflow()`. The analysis stages never do.

TensorFlow writes a handful of lines to the process's standard error while it loads (absl's
"log messages before absl::InitializeLog()", oneDNN's and the CUDA stub's notices, the CPU
feature guard, and `failed call to cuInit` on a machine without a GPU). None of them is a
fault, and the one that says "E0000 ... failed" looks like one. Unless `set_verbose(True)`,
they are kept out: the C++ log level is raised
(`TF_CPP_MIN_LOG_LEVEL`, which a user's own setting overrides), the loading is done with file
descriptor 2 pointed at a buffer, and Python-side warnings from Keras and TensorFlow are
filtered. If the import fails, what TensorFlow wrote is shown with archspec's message.
"""

from __future__ import annotations

import os
import sys
import warnings
from types import ModuleType

_verbose = False
_NOISY_MODULES = r"(keras|tensorflow|absl|tf_keras|h5py)(\.|$)"


class BackendUnavailable(Exception):
    """Keras or TensorFlow cannot be imported; the message says why, in archspec's words."""


def set_verbose(verbose: bool) -> None:
    """Show TensorFlow's own start-up and log lines (the command line's `--verbose`)."""
    global _verbose
    _verbose = verbose


def load_keras() -> ModuleType:
    """The `keras` module, imported quietly the first time."""
    return _load("keras")


def load_tensorflow() -> ModuleType:
    """The `tensorflow` module, imported quietly the first time."""
    return _load("tensorflow")


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    if _verbose:
        return _import(name)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hides INFO, WARNING and ERROR lines of the C++ runtime
    warnings.filterwarnings("ignore", module=_NOISY_MODULES)
    module = _import_silently(name)
    _quiet_python_loggers()
    return module


def _import(name: str) -> ModuleType:
    try:
        return __import__(name)
    except ImportError as error:
        return _import_failed(name, error, "")


def _import_silently(name: str) -> ModuleType:
    """Import with the process's standard error (file descriptor 2, where the native runtime
    writes) pointed at a temporary file; what was written is replayed only if the import fails."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (an embedding host): import as it comes
        return _import(name)
    import tempfile  # with the backend's import, not on the fast verbs' start-up

    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        failure: BaseException | None = None
        try:
            module = __import__(name)
        except ImportError as error:
            failure = error
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        if failure is None:
            return module
        capture.seek(0)
        text = capture.read().decode("utf-8", "replace")
    return _import_failed(name, failure, text)


def _import_failed(name: str, error: BaseException, captured: str) -> ModuleType:
    detail = f"\nTensorFlow wrote:\n{captured.rstrip()}" if captured.strip() else ""
    raise BackendUnavailable(
        f"cannot import {name} ({error}); this verb needs TensorFlow 2.16 or newer with Keras 3: "
        f"`pip install tensorflow`{detail}"
    ) from None


def _quiet_python_loggers() -> None:
    """TensorFlow's and absl's Python loggers: errors only (their warnings are deprecation notes)."""
    import logging

    for logger in ("tensorflow", "absl", "keras"):
        logging.getLogger(logger).setLevel(logging.ERROR)
