"""What archspec does before its first import of pydantic, to keep a cold start short.

Takes nothing and hands out nothing: `archspec/__init__.py` calls `import_pydantic()` first, so
every stage after it finds the parts of pydantic it uses already imported, and runs its imports
in `ImportsUncollected()`: nothing an import builds is garbage (classes, tables, modules that live
as long as the process), yet the cycle collector would walk it 47 times, 5.5 ms of a 0.14 s
`analyze`.

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
import sys
import types
from typing import Any

# What archspec's stages import from pydantic, at import or at their first validation.
PYDANTIC_MODULES = ("pydantic_core", "pydantic", "pydantic.main", "pydantic.fields", "pydantic.types",
                    "pydantic.functional_validators", "pydantic.functional_serializers", "pydantic.json_schema",
                    "pydantic._internal._generate_schema", "pydantic.plugin._loader")


class ImportsUncollected:
    """A `with` block in which the cycle collector does not run, and after which what was built
    in it counts as old: moved (not walked) into the collector's oldest generation, which only a
    full collection visits. Collecting resumes afterwards unless it was off before; where a host
    process has frozen objects of its own (`gc.freeze()`), they stay frozen and nothing is moved."""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exception: object) -> None:
        if not gc.get_freeze_count():
            gc.freeze()  # every tracked object into the permanent generation, in one step...
            gc.unfreeze()  # ...and from there into the oldest one
        if self.was_enabled:
            gc.enable()


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
