"""TensorFlow's start-up lines stay out of archspec's output unless `--verbose` asks for them,
and a failed import still says what TensorFlow wrote (archspec/backend.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from archspec import backend

ROOT = Path(__file__).resolve().parent.parent
ARCHSPEC_LINES = ("wrote ", "Baseline: ")


@pytest.fixture
def noisy_module(tmp_path, monkeypatch):
    """A module that writes to file descriptor 2 while it loads, as TensorFlow's native libraries do."""

    def make(name: str, fails: bool) -> str:
        body = f"""
            import os
            os.write(2, b"I0000 native start-up notice\\n")
            {'raise ImportError("libcuda.so: cannot open shared object file")' if fails else 'VALUE = 1'}
        """
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delitem(sys.modules, name, raising=False)
        return name

    return make


def test_what_a_library_writes_to_fd_2_while_loading_is_kept_out(noisy_module, capfd):
    name = noisy_module("quiet_ok", fails=False)
    module = backend._load(name)
    assert module.VALUE == 1
    assert capfd.readouterr().err == ""


def test_a_failed_import_is_phrased_by_archspec_with_what_the_library_wrote(noisy_module, capfd):
    name = noisy_module("quiet_broken", fails=True)
    with pytest.raises(backend.BackendUnavailable) as raised:
        backend._load(name)
    message = str(raised.value)
    assert message.startswith(f"cannot import {name} (libcuda.so: cannot open shared object file)")
    assert "pip install tensorflow" in message
    assert "I0000 native start-up notice" in message  # replayed, since it may explain the failure
    assert capfd.readouterr().err == ""


def test_verbose_imports_without_capturing(noisy_module, capfd, monkeypatch):
    monkeypatch.setattr(backend, "_verbose", True)
    backend._load(noisy_module("loud_ok", fails=False))
    assert "I0000 native start-up notice" in capfd.readouterr().err


def _archspec(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_")}
    return subprocess.run([sys.executable, "-m", "archspec", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)}, timeout=300)


@pytest.mark.keras
def test_build_prints_no_tensorflow_line(tmp_path):
    result = _archspec("build", "baseline", "-o", str(tmp_path / "out"), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert lines and all(line.startswith(ARCHSPEC_LINES) for line in lines), lines
    assert result.stderr == ""


@pytest.mark.keras
def test_verbose_leaves_tensorflow_its_own_log_level(tmp_path):
    probe = ("from archspec import backend; import os; backend.set_verbose({verbose}); backend.load_keras(); "
             "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))")
    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_")}
    levels = [subprocess.run([sys.executable, "-c", probe.format(verbose=verbose)], capture_output=True, text=True,
                             env=env | {"PYTHONPATH": str(ROOT)}, timeout=300).stdout.strip() for verbose in (False, True)]
    assert levels == ["3", "None"]
