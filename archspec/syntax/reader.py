"""Reading sources: a file, standard input or text, in either form, to a `Source`.

Takes a path ("-" for standard input) or text; refuses files over the size limit and text that
is not UTF-8; hands the text to the `.arch` or JSON parser by its name or first character.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from ..errors import Diagnostic, SpecError, quoted
from ..source import DEFAULT_SIZE, SizeLimits, Source, point_span
from .arch import parse_arch
from .json_form import parse_json

MAX_SOURCE_BYTES = 4 * 1024 * 1024


def read_source(path: str | Path, display_name: str | None = None, size: SizeLimits = DEFAULT_SIZE) -> Source:
    """Read and parse a `.arch` or `.json` file ("-" reads standard input as `.arch` or JSON)."""
    name = display_name or str(path)
    if str(path) == "-":
        raw = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
        name = display_name or "<stdin>"
    else:
        try:
            raw = _read_regular_file(path)
        except OSError as error:
            raise SpecError([Diagnostic("error", f"cannot read {quoted(path)}: {error.strerror or error}")]) from None
    if len(raw) > MAX_SOURCE_BYTES:
        raise SpecError([Diagnostic("error", f"{quoted(name)} is larger than the {MAX_SOURCE_BYTES // (1024 * 1024)} MiB limit for a spec file")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        span = point_span(name, raw, error.start)
        shown = raw.decode("utf-8", "replace")  # the excerpt shows the bad bytes as U+FFFD
        raise SpecError([Diagnostic("error", f"the file is not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})", span,
                                    "save the file as UTF-8")], {name: shown}) from None
    is_json = name.endswith(".json") or (str(path) == "-" and text.lstrip().startswith("{"))
    return parse_json(text, name, size) if is_json else parse_arch(text, name, size)


def _read_regular_file(path: str | Path) -> bytes:
    """At most MAX_SOURCE_BYTES + 1 bytes of a regular file. Anything else (a folder, a FIFO,
    a device, a socket) is refused at once: opening a FIFO would wait for a writer, a device
    could stream forever. Opened without blocking and checked again, so a swap cannot slip one in."""
    kind = _not_regular(os.stat(path).st_mode)
    if kind is None:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            status = os.fstat(handle.fileno())
            kind = _not_regular(status.st_mode)
            if kind is None:
                return _read_at_most(handle, status.st_size, MAX_SOURCE_BYTES + 1)
    raise SpecError([Diagnostic("error", f"{quoted(path)} is {kind}, not a spec file", hint="give the path of a .arch or .json file")])


def _read_at_most(handle: BinaryIO, expected: int, limit: int) -> bytes:
    """At most `limit` bytes: as many as the file had (asking for `limit` at once would allocate
    that much for every small file, a third of a millisecond each), and on up to the limit if it
    has grown since."""
    data = handle.read(min(expected + 1, limit))
    if expected < len(data) < limit:
        data += handle.read(limit - len(data))
    return data


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def parse_text(text: str, file: str = "<text>", size: SizeLimits = DEFAULT_SIZE) -> Source:
    """Parse text in either form, deciding by its first character."""
    return parse_json(text, file, size) if text.lstrip().startswith("{") else parse_arch(text, file, size)
