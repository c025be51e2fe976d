"""Safe file output: every writer goes through `atomic_target`, so a file is either wholly
replaced or untouched (a temporary file in the same folder, then an atomic rename), and the
input spec is never overwritten."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from .errors import Diagnostic, SpecError, quoted


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _cannot_write(target: Path, error: OSError) -> SpecError:
    return SpecError([Diagnostic("error", f"cannot write {quoted(target)}: {error.strerror or error}")])


def check_target(path: str | os.PathLike, protect: tuple[str | os.PathLike, ...] = ()) -> Path:
    """The file `path` will write to, checked without creating anything: not an input spec, and
    its folder (or the nearest one that exists) a folder we may write in. Callers check every
    target this way before the expensive work that produces the files (importing Keras)."""
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)  # write through a symlink, keep the link
    for protected in protect:
        if same_file(protected, target):
            raise SpecError([Diagnostic("error", f"refusing to overwrite the input spec {quoted(target)}", hint="choose another output path")])
    if target.is_dir():
        raise SpecError([Diagnostic("error", f"cannot write {quoted(target)}: it is a folder")])
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise SpecError([Diagnostic("error", f"cannot write {quoted(target)}: {quoted(folder)} is not a folder")])
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SpecError([Diagnostic("error", f"cannot write {quoted(target)}: permission denied in {quoted(folder)}")])
    return target


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike, protect: tuple[str | os.PathLike, ...] = (), suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path beside `path` (missing folders are created); when the block ends
    normally it replaces `path` by rename, and on any error or interrupt it is removed."""
    target = check_target(path, protect)
    try:
        import tempfile  # only a write needs it (not check's and analyze's start-up)

        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
        os.close(handle)
    except OSError as error:
        raise _cannot_write(target, error) from None
    try:
        yield temporary
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _cannot_write(target, error) from None
        raise


def write_atomic(path: str | os.PathLike, data: str | bytes, protect: tuple[str | os.PathLike, ...] = ()) -> int:
    """Write `data` to `path` atomically; returns the number of bytes written."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_target(path, protect) as temporary, open(temporary, "wb") as stream:
        stream.write(payload)
        stream.flush()
        os.fsync(stream.fileno())
    return len(payload)


def save_keras_atomic(model: Any, path: str | os.PathLike, protect: tuple[str | os.PathLike, ...] = ()) -> int:
    """`model.save` through a temporary file, so an interrupted save leaves no partial model."""
    with atomic_target(path, protect, suffix=".keras") as temporary:  # Keras insists on the suffix
        model.save(temporary)
    return Path(path).stat().st_size


def write_all_atomic(targets: list[tuple[str | os.PathLike, Callable[[str], None], str]],
                     protect: tuple[str | os.PathLike, ...] = ()) -> list[int]:
    """Write several files as one: every target is checked (and its temporary made) before any
    is written, each writer fills its temporary (`(path, writer, suffix)`), and only when all
    succeeded are they renamed into place, so an error or an interrupt leaves the old files."""
    with contextlib.ExitStack() as stack:
        temporaries = [stack.enter_context(atomic_target(path, protect, suffix)) for path, _, suffix in targets]
        for temporary, (_, writer, _) in zip(temporaries, targets):
            writer(temporary)
    return [Path(path).stat().st_size for path, _, _ in targets]


def bytes_writer(data: str | bytes) -> Callable[[str], None]:
    """A writer for `write_all_atomic` that puts `data` (text as UTF-8) in the file, synced."""
    payload = data.encode("utf-8") if isinstance(data, str) else data

    def write(temporary: str) -> None:
        with open(temporary, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
    return write


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
