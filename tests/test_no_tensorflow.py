"""The fast verbs never import TensorFlow or Keras, nor asyncio, which pydantic's deprecation
markers would drag in (checked in fresh processes)."""

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
    print('ASYNCIO', sorted(m for m in sys.modules if m.split('.')[0] in ('asyncio', 'ssl', 'concurrent')), file=sys.stderr)
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
    assert "ASYNCIO []" in result.stderr


def test_api_analyze_does_not_import_tensorflow():
    code = "import sys, archspec; r = archspec.load('resnet18').analyze(); r.to_json(); r.to_table(); " \
           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_asyncio_imported_after_archspec_is_the_real_module():
    code = textwrap.dedent(
        """
        import sys, archspec
        archspec.load('resnet18').analyze()
        assert 'asyncio' not in sys.modules
        import asyncio, asyncio.coroutines
        async def three():
            return 3
        assert asyncio.run(three()) == 3 and asyncio.coroutines.iscoroutinefunction(three)
        print(asyncio.__file__)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("asyncio/__init__.py")


def test_an_asyncio_imported_before_archspec_is_left_alone():
    code = "import asyncio; before = asyncio; import archspec, sys; assert sys.modules['asyncio'] is before; " \
           "assert asyncio.run(asyncio.sleep(0, result=5)) == 5; archspec.load('lenet5').analyze()"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
