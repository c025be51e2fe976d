"""The front end: source text in either form to the JSON form's plain dict, with source spans.

`read_source` reads a file (or standard input), `parse_text` text; both hand out a `Source`
(`archspec.source`). Modules by job: `reader` (files), `arch` (`.arch` text), `json_form` (JSON
text and its spans), `diagnostics` (syntax errors said with a hint).
"""

from .arch import parse_arch
from .json_form import parse_json
from .reader import MAX_SOURCE_BYTES, parse_text, read_source

__all__ = ["MAX_SOURCE_BYTES", "parse_arch", "parse_json", "parse_text", "read_source"]
