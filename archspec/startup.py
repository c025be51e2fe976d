"""What archspec does before its first import of pydantic, to keep a cold start short.

Takes nothing and hands out nothing: `archspec/__init__.py` calls `import_pydantic_core()`
first, so every stage after it finds the parts of pydantic it uses already imported.
"""

import importlib
import inspect
import sys
import types

# What archspec's stages import from pydantic, at import or at their first validation.
PYDANTIC_MODULES = ("pydantic_core", "pydantic", "pydantic.main", "pydantic.fields", "pydantic.types",
                    "pydantic.functional_validators", "pydantic.functional_serializers", "pydantic.json_schema",
                    "pydantic._internal._generate_schema")


def import_pydantic() -> None:
    """Import the parts of pydantic that archspec uses, without also importing asyncio.

    pydantic and pydantic_core mark their old helpers with typing_extensions' `@deprecated`,
    which on Python < 3.13 imports `asyncio.coroutines` only to ask whether each helper is a
    coroutine function. That drags in asyncio, ssl, socket, subprocess and concurrent.futures: 30-45 ms
    of a cold `archspec analyze` on a 2-core machine, a fifth of its time, for a question
    whose answer is no. For the length of that one import, `asyncio.coroutines` is a stand-in
    that answers it with `inspect`; the stand-in is removed afterwards, so a later
    `import asyncio` (archspec's multi-worker training, a notebook) gets the real module.

    Nothing is changed when asyncio or pydantic is already imported.
    """
    if "pydantic" in sys.modules or "asyncio" in sys.modules:
        return
    package, coroutines = types.ModuleType("asyncio"), types.ModuleType("asyncio.coroutines")
    # What the decorator reads: the test and, were the answer yes, the marker it would set.
    coroutines.iscoroutinefunction = inspect.iscoroutinefunction  # type: ignore[attr-defined]
    coroutines._is_coroutine = object()  # type: ignore[attr-defined]
    package.coroutines = coroutines  # type: ignore[attr-defined]
    package.__path__ = []  # a package, so `import asyncio.coroutines` resolves to the stand-in
    stand_ins = {"asyncio": package, "asyncio.coroutines": coroutines}
    sys.modules.update(stand_ins)
    try:
        for name in PYDANTIC_MODULES:
            importlib.import_module(name)
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
