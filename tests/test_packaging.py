"""A normal, non-editable install carries the grammar and the bundled specs."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        pytest.skip(f"could not build a wheel here: {result.stderr[-300:]}")
    return next(folder.glob("archspec-*.whl"))


def test_wheel_holds_the_grammar_and_every_bundled_spec(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "archspec/grammar.lark" in names
    for spec in (ROOT / "specs").glob("*.arch"):
        assert f"archspec/specs/{spec.name}" in names
    # the package's own data files: the codes' explanations and the interactive page's parts
    for folder, suffix in (("explanations", "*.md"), ("emit/html", "*")):
        files = sorted((ROOT / "archspec" / folder).glob(suffix))
        assert files and all(f"archspec/{folder}/{path.name}" in names for path in files)


def test_bundled_specs_load_by_name_from_the_installed_package(wheel, tmp_path):
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = ("import archspec; from archspec.codes import explanation; from archspec.emit.html_view import _asset; "
            "assert explanation('budget') and _asset('view.js'); "
            "print(archspec.__file__); print(archspec.load('resnet18').analyze().totals.params)")
    # Run outside the repository with only the extracted wheel on the path for archspec.
    result = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    location, params = result.stdout.split()
    assert location.startswith(str(target)) and params == "11183562"
