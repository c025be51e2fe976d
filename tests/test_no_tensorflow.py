"""The fast verbs never import TensorFlow or Keras, nor asyncio and importlib.metadata, which
pydantic would drag in (see archspec/startup.py); checked in fresh processes. Whoever imports
those two later gets the real modules, and pydantic still finds its plugins."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from .conftest import ROOT, python_process

PROBE = textwrap.dedent(
    """
    import sys
    from archspec.cli import main
    code = main({args!r})
    heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))
    print('HEAVY', heavy, file=sys.stderr)
    print('ASYNCIO', sorted(m for m in sys.modules if m.split('.')[0] in ('asyncio', 'ssl', 'concurrent')
                            or m.startswith('importlib.metadata')), file=sys.stderr)
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


def test_pydantic_still_finds_an_installed_plugin(tmp_path):
    """The plugin loader keeps archspec's stand-in for importlib.metadata, which imports the real
    module when the loader looks for plugins: a plugin installed as a distribution is found."""
    info = tmp_path / "fake_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-plugin\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[pydantic]\nfake = fake_plugin_module:plugin\n", encoding="utf-8")
    (tmp_path / "fake_plugin_module.py").write_text(
        "class Plugin:\n    def new_schema_validator(self, *args, **kwargs):\n        return None, None, None\nplugin = Plugin()\n",
        encoding="utf-8")
    code = "import archspec, sys; from pydantic.plugin._loader import get_plugins; " \
           "print([type(p).__name__ for p in get_plugins()], 'importlib.metadata' in sys.modules)"
    env = {key: value for key, value in os.environ.items() if key != "PYDANTIC_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT), env.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['Plugin']", "True"]


def _run_python(code: str) -> subprocess.CompletedProcess:
    result = python_process("-c", textwrap.dedent(code))
    assert result.returncode == 0, result.stderr
    return result


COLLECTIONS = """
import gc
runs = []
gc.callbacks.append(lambda phase, info: phase == "start" and runs.append(info["generation"]))
"""


def test_the_program_imports_archspec_without_walking_what_the_imports_build():
    # As the console script starts: sys.argv[0] names the program.
    result = _run_python(COLLECTIONS + "import sys\nsys.argv[0] = 'archspec'\nimport archspec\n"
                         "print(len(runs), len(gc.get_objects(1)), gc.isenabled(), gc.get_freeze_count())")
    collections, middle, enabled, frozen = result.stdout.split()
    assert int(collections) <= 5 and enabled == "True" and frozen == "0"  # 47 collections without the pause
    # What was built went straight to the oldest generation: no young collection walked it into
    # the middle one (a host process's import leaves some 17,000 objects there).
    assert int(middle) < 1_000


def test_a_host_process_garbage_is_collected_as_before_the_import():
    """In a host process the collector resumes after the import; the host's objects keep their
    generations, so a cycle it dropped just before is still found by a young collection."""
    result = _run_python(COLLECTIONS + textwrap.dedent(
        """
        import weakref
        class Cycle:
            pass
        gc.collect()
        first = Cycle(); first.other = Cycle(); first.other.other = first
        alive = weakref.ref(first)
        del first
        import archspec
        gc.collect(0)
        print(alive() is None, gc.isenabled(), gc.get_freeze_count())
        """))
    assert result.stdout.split() == ["True", "True", "0"]


def test_a_host_process_collector_choices_are_kept():
    disabled = _run_python("import gc; gc.disable(); import archspec; print(gc.isenabled())")
    assert disabled.stdout.split() == ["False"]
    # Frozen objects stay frozen (the count only falls as some are freed), and none of the import's join them.
    frozen = _run_python("import gc; keep = [[] for _ in range(100)]; gc.freeze(); before = gc.get_freeze_count(); "
                         "import archspec; print(100 < gc.get_freeze_count() <= before, gc.isenabled())")
    assert frozen.stdout.split() == ["True", "True"]
