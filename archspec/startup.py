"""What archspec does before its first import of pydantic, to keep a cold start short.

Hands out `import_pydantic`, `ImportsUncollected` and `started_as_the_program`, for
`archspec/__init__.py`, and `CollectorPaused`, which the API's stages run in too. The package
calls `import_pydantic()` first, so every stage after it finds the parts of pydantic it uses
already imported, and it runs its imports in `ImportsUncollected()`: nothing an import builds
is garbage (classes, tables, modules that live as long as the process), yet the cycle collector
would walk it 47 times, 5.5 ms of a 0.14 s `analyze`, and in the program need not walk it at all.

Two modules that pydantic imports but a run of archspec never uses cost a fifth of a cold
`archspec analyze` (2-core machine, Python 3.11):

- `asyncio` (with ssl, socket, subprocess and concurrent.futures, 30-45 ms): pydantic marks its
  old helpers with typing_extensions' `@deprecated`, which on Python < 3.13 imports
  `asyncio.coroutines` only to ask whether each helper is a coroutine function. None is.
- `importlib.metadata` (with email and zipfile, about 12 ms): pydantic's plugin loader imports it
  when the first validator is built, to read the installed distributions' entry points, which
  it does only where plugins are enabled (the command line disables them).

While pydantic is imported, each is a stand-in; the stand-ins are taken out of `sys.modules`
afterwards, so whoever imports either later (multi-worker training, a notebook) gets the real
module.
"""

import gc
import importlib
import inspect
import os
import sys
import types
from typing import Any

# What archspec's stages import from pydantic, at import or at their first validation.
PYDANTIC_MODULES = ("pydantic_core", "pydantic", "pydantic.main", "pydantic.fields", "pydantic.types",
                    "pydantic.functional_validators", "pydantic.functional_serializers", "pydantic.json_schema",
                    "pydantic._internal._generate_schema", "pydantic.plugin._loader")


class CollectorPaused:
    """A `with` block in which Python's cycle collector does not run; it runs again afterwards,
    unless it was off before (a caller's choice is left as it was, and nested blocks nest)."""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exception: object) -> None:
        if self.was_enabled:
            gc.enable()


class ImportsUncollected(CollectorPaused):
    """The collector paused over archspec's imports. In the `archspec` program, what was built
    also counts as old when the block ends: every object is moved (not walked) into the
    collector's oldest generation, which only a full collection visits; otherwise the first
    collection afterwards walks them all. A host process's objects are left in their
    generations, and its frozen ones (`gc.freeze()`) stay frozen."""

    def __exit__(self, *exception: object) -> None:
        if started_as_the_program() and not gc.get_freeze_count():
            gc.freeze()  # every tracked object into the permanent generation, in one step...
            gc.unfreeze()  # ...and from there into the oldest one
        super().__exit__(*exception)


PROGRAM_NAMES = ("archspec", "archspec-script")  # the console script (archspec.exe on Windows)
PROGRAM_MODULES = ("archspec", "archspec.__main__", "archspec.cli")


def started_as_the_program() -> bool:
    """Whether this process is the `archspec` program: its console script, or `python -m
    archspec` (while that imports the package, `sys.argv[0]` is still "-m")."""
    argv = getattr(sys, "argv", None) or [""]
    if os.path.splitext(os.path.basename(argv[0]))[0] in PROGRAM_NAMES:
        return True
    original = getattr(sys, "orig_argv", [])
    if argv[0] != "-m" or "-m" not in original:
        return False
    module = original.index("-m") + 1
    return module < len(original) and original[module] in PROGRAM_MODULES


class _ImportedOnFirstUse(types.ModuleType):
    """Stands for a module that is imported when one of its attributes is first read: the
    plugin loader keeps this object as its `importlib_metadata`, and reads it only to look
    for plugins."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)


def import_pydantic() -> None:
    """Import the parts of pydantic that archspec uses, with the stand-ins described above.
    Nothing is stood in for a module already imported; nothing is done when pydantic is."""
    if "pydantic" in sys.modules:
        return
    stand_ins: dict[str, types.ModuleType] = {}
    if "asyncio" not in sys.modules:
        package, coroutines = types.ModuleType("asyncio"), types.ModuleType("asyncio.coroutines")
        # What the decorator reads: the test and, were the answer yes, the marker it would set.
        coroutines.iscoroutinefunction = inspect.iscoroutinefunction  # type: ignore[attr-defined]
        coroutines._is_coroutine = object()  # type: ignore[attr-defined]
        package.coroutines = coroutines  # type: ignore[attr-defined]
        package.__path__ = []  # a package, so `import asyncio.coroutines` resolves to the stand-in
        stand_ins |= {"asyncio": package, "asyncio.coroutines": coroutines}
    if "importlib.metadata" not in sys.modules:
        stand_ins["importlib.metadata"] = _ImportedOnFirstUse("importlib.metadata")
    sys.modules.update(stand_ins)
    try:
        for name in PYDANTIC_MODULES:
            importlib.import_module(name)
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
