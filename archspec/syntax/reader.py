"""Reading sources: a file, standard input or text, in either form, to a `Source`.

Takes a path ("-" for standard input) or text; refuses files over the size limit and text that
is not UTF-8; hands the text to the `.arch` or JSON parser by its name or first character.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import Diagnostic, SpecError
from ..source import Source, point_span
from .arch import parse_arch
from .json_form import parse_json

MAX_SOURCE_BYTES = 4 * 1024 * 1024


def read_source(path: str | Path, display_name: str | None = None) -> Source:
    """Read and parse a `.arch` or `.json` file ("-" reads standard input as `.arch` or JSON)."""
    name = display_name or str(path)
    if str(path) == "-":
        raw = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
        name = display_name or "<stdin>"
    else:
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_SOURCE_BYTES + 1)
        except OSError as error:
            raise SpecError([Diagnostic("error", f"cannot read '{path}': {error.strerror or error}")]) from None
    if len(raw) > MAX_SOURCE_BYTES:
        raise SpecError([Diagnostic("error", f"'{name}' is larger than the {MAX_SOURCE_BYTES // (1024 * 1024)} MiB limit for a spec file")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        span = point_span(name, raw, error.start)
        shown = raw.decode("utf-8", "replace")  # the excerpt shows the bad bytes as U+FFFD
        raise SpecError([Diagnostic("error", f"the file is not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})", span,
                                    "save the file as UTF-8")], {name: shown}) from None
    is_json = name.endswith(".json") or (str(path) == "-" and text.lstrip().startswith("{"))
    return parse_json(text, name) if is_json else parse_arch(text, name)


def parse_text(text: str, file: str = "<text>") -> Source:
    """Parse text in either form, deciding by its first character."""
    return parse_json(text, file) if text.lstrip().startswith("{") else parse_arch(text, file)
