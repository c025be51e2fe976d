"""The generated Python module compiles and holds only model-building code, whatever text the spec,
its file name or `--set` carries (tests/generated_source.py says what "only" means)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archspec
from archspec.cli.values import parse_value
from archspec.errors import SpecError

from . import generated_source
from .conftest import SPECS

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# Text that tries to leave a string or a docstring: quotes, backslashes, newlines of every kind, code.
HOSTILE = st.text(alphabet=st.sampled_from(list("\"'\\\n\r\t\x0b\x0c\x1b\u2028\u2029\x85 #;()=aé\U0001F600")) | st.characters(
    blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(['"""', "'''", '\\"""', '\nimport os; os.system("x")\n#', "\\N{", "\\x"])
FILE_NAME = HOSTILE.map(lambda text: text.replace("/", "_").replace("\x00", "_")).filter(lambda name: name not in ("", ".", ".."))


def spec_with_string(text: str) -> str:
    """A JSON spec whose string parameter (emitted as a default and in the docstring) is `text`."""
    return json.dumps({"network": "N", "params": [{"name": "tag", "default": text}, {"name": "wide", "default": False}],
                       "input": [8, 8, 3], "body": [{"if": {"ref": "wide"}, "then": [{"call": "conv", "args": [8, 1]}],
                                                     "else": [{"call": "conv", "args": [4, 1]}]}]})


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.arch")), ids=lambda path: path.stem)
def test_every_bundled_module_is_clean(path):
    assert generated_source.problems(archspec.load(path).to_python()) == []


def test_the_checker_finds_what_does_not_belong():
    """The checker itself can fail: a module with a stray import, statement and call is caught."""
    source = ('"""doc"""\nimport keras\nimport os\nfrom keras import layers\n'
              "def build_model(a=1):\n    os.system('x')\n    x = layers.Dense(eval('1'))(a)\n    return keras.Model(a, x)\n"
              "print(1)\n")
    assert generated_source.problems(source) == [
        "imports os", "build_model line 6: a Expr statement", "build_model line 7: calls eval in a layer's arguments",
        "line 9: a top-level Expr"]


@FAST
@given(name=FILE_NAME, text=HOSTILE)
def test_hostile_file_names_and_strings_stay_strings(tmp_path_factory, name, text):
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / (name + ".json")
    try:
        path.write_text(spec_with_string(text), encoding="utf-8")
    except (OSError, UnicodeEncodeError):  # a name the file system refuses (too long): nothing to test
        return
    try:
        source = archspec.load(path).to_python()
    except SpecError as error:
        assert error.diagnostics
        return
    assert generated_source.problems(source) == []


@FAST
@given(text=HOSTILE)
def test_hostile_set_values_stay_strings(text):
    """A `--set` value reaches the module as its parameter's default, or is refused."""
    try:
        value = parse_value(text)
    except ValueError:
        return
    try:
        source = archspec.parse(spec_with_string("plain"), "tagged.json").to_python(set={"tag": value})
    except SpecError as error:
        assert error.diagnostics
        return
    assert generated_source.problems(source) == []
