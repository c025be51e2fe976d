"""The fast verbs never import TensorFlow or Keras (checked in fresh processes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from .conftest import ROOT

PROBE = textwrap.dedent(
    """
    import sys
    from archspec.cli import main
    code = main({args!r})
    heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))
    print('HEAVY', heavy, file=sys.stderr)
    sys.exit(code)
    """
)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "resnet18"],
        ["analyze", "resnet18", "--format", "json"],
        ["analyze", "inception10", "--depth", "1"],
        ["fmt", "--check", "specs/vgg16.arch"],
        ["convert", "resnet18", "--to", "json"],
        ["schema"],
        ["diagram", "inception10", "--format", "dot", "-o", "-"],
        ["list"],
    ],
)
def test_fast_verbs_do_not_import_tensorflow(args):
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stderr


def test_api_analyze_does_not_import_tensorflow():
    code = "import sys, archspec; r = archspec.load('resnet18').analyze(); r.to_json(); r.to_table(); " \
           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
