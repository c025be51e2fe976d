"""Safe file output: every writer goes through `write_atomic`, so a file is either wholly
replaced or untouched (a temporary file in the same folder, then an atomic rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import Diagnostic, SpecError


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def write_atomic(path: str | os.PathLike, data: str | bytes, protect: tuple[str | os.PathLike, ...] = ()) -> int:
    """Write `data` to `path` atomically, creating missing folders; refuse to replace a
    protected path (the input spec). Returns the number of bytes written."""
    target = Path(path)
    for protected in protect:
        if same_file(protected, target):
            raise SpecError([Diagnostic("error", f"refusing to overwrite the input spec '{target}'", hint="choose another output path")])
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise SpecError([Diagnostic("error", f"cannot write '{target}': {error.strerror or error}")]) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise SpecError([Diagnostic("error", f"cannot write '{target}': {error.strerror or error}")]) from None
        raise
    return len(payload)


def save_keras_atomic(model: Any, path: str | os.PathLike, protect: tuple[str | os.PathLike, ...] = ()) -> int:
    """`model.save(path)` through a temporary `.keras` file in the same folder and a rename, so an
    interrupted save leaves no partial file. Returns the size written."""
    target = Path(path)
    for protected in protect:
        if same_file(protected, target):
            raise SpecError([Diagnostic("error", f"refusing to overwrite the input spec '{target}'")])
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".keras", dir=target.parent)
        os.close(handle)
    except OSError as error:
        raise SpecError([Diagnostic("error", f"cannot write '{target}': {error.strerror or error}")]) from None
    try:
        model.save(temporary)  # Keras insists on the .keras suffix, which the temporary name keeps
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise SpecError([Diagnostic("error", f"cannot write '{target}': {error.strerror or error}")]) from None
        raise
    return target.stat().st_size


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
