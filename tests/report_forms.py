"""A report with the locations taken out, so the `.arch` and JSON forms of one spec compare equal."""

from __future__ import annotations

import re

import archspec

# "in `call(...)` at file:line:col": the note names the form's own file and position
NOTE_LOCATION = re.compile(r"at (line \d+|[^\n]+?:\d+:\d+)")  # `at line 20` in the same file, else `at FILE:L:C`


def report_without_locations(architecture: archspec.Architecture) -> dict:
    report = architecture.analyze().to_dict()
    for diagnostic in report["diagnostics"]:
        diagnostic.pop("location")
        diagnostic["note"] = NOTE_LOCATION.sub("at <location>", diagnostic["note"] or "")
    return report
