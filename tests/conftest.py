"""Shared test fixtures: running the CLI in-process and golden files.

Golden files live under tests/cases/; refresh them with `pytest --update-goldens` and review
the diff before committing.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from archspec.cli import main

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"
SPECS = ROOT / "specs"


def python_process(*arguments: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """A fresh interpreter run with these arguments (`-c CODE`, `-m MODULE ...`), its output captured."""
    return subprocess.run([sys.executable, *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
COURSE_SPECS = ("baseline", "lenet5", "alexnet8", "vgg16", "inception10", "resnet18")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden files under tests/cases/")


KERAS_MODULE = "\npytestmark = pytest.mark.keras\n"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `-m "not keras"` (the fast subset), a module whose every test is a keras one is not
    imported at all: importing it imports TensorFlow, seconds spent only to deselect its tests."""
    if config.getoption("markexpr", "").strip() != "not keras" or collection_path.suffix != ".py":
        return None
    if collection_path.name.startswith("test_") and KERAS_MODULE in collection_path.read_text(encoding="utf-8"):
        return True
    return None


@dataclass
class Result:
    code: int
    out: str
    err: str
    terminal: str = ""  # both streams interleaved, as a terminal shows them


class _Stream(io.StringIO):
    """Standard output or error: keeps its own text and also writes it to the shared terminal."""

    def __init__(self, terminal: io.StringIO):
        super().__init__()
        self.terminal = terminal

    def write(self, text: str) -> int:
        self.terminal.write(text)
        return super().write(text)


def run_cli(*args: str, stdin: str | None = None) -> Result:
    """Run `archspec ARGS` in this process, capturing its output and exit code."""
    import sys

    terminal = io.StringIO()
    out, err = _Stream(terminal), _Stream(terminal)
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = _TextStdin(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        sys.stdin = old_stdin
    return Result(code, out.getvalue(), err.getvalue(), terminal.getvalue())


class _TextStdin(io.StringIO):
    """A stdin stand-in with the `.buffer` that archspec reads bytes from."""

    def __init__(self, text: str):
        super().__init__(text)
        self.buffer = io.BytesIO(text.encode("utf-8"))


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text with a golden file, or rewrite it under --update-goldens."""
    update = request.config.getoption("--update-goldens")

    def check(path: Path, actual: str) -> None:
        if update or not path.exists():
            if not update:
                pytest.fail(f"golden file {path.relative_to(ROOT)} is missing; run pytest --update-goldens and review it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"{path.relative_to(ROOT)} differs; rerun with --update-goldens and review the diff"

    return check
