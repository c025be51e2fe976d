"""Robustness: random and mutated text never raises anything but archspec's own SpecError,
and every error it raises renders with a location."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archspec
from archspec.errors import SpecError

from .conftest import COURSE_SPECS, SPECS

BUNDLED = [(SPECS / f"{name}.arch").read_text(encoding="utf-8") for name in COURSE_SPECS]
TOKENS = ["conv", "(", ")", "{", "}", ",", "=", "*", "@", "x", "3", "0", "-1", "1e9", "same", "relu", "bn", "repeat",
          "concat", "branch", "residual", "shortcut", "if", "else", "as", "block", "input", "network", "#", "\n", "\"", "[", "]"]
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def compile_text(text: str, file: str = "fuzz.arch") -> None:
    """Everything `archspec check` does; only SpecError may escape, and it must render."""
    try:
        archspec.parse(text, file).analyze()
    except SpecError as error:
        rendered = error.render()
        assert error.diagnostics and rendered
        assert "Traceback" not in rendered


@FAST
@given(st.text(max_size=300))
def test_random_text(text):
    compile_text(text)


@FAST
@given(st.sampled_from(BUNDLED), st.data())
def test_mutated_bundled_specs(original, data):
    text = original
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["insert", "delete", "duplicate", "token"]))
        if action == "insert":
            text = text[:position] + data.draw(st.text(min_size=1, max_size=5)) + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + data.draw(st.integers(1, 20)):]
        elif action == "duplicate":
            text = text[:position] + text[position:position + 30] + text[position:]
        else:
            text = text[:position] + " " + data.draw(st.sampled_from(TOKENS)) + " " + text[position:]
    compile_text(text)


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_token_soup_after_a_valid_header(tokens):
    compile_text("network N(a=2)\ninput 16x16x3\n" + " ".join(tokens))


@FAST
@given(st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.floats(allow_nan=False) | st.sampled_from(["conv", "relu", "same", "body", "call"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["call", "args", "kwargs", "body", "repeat", "concat", "residual", "shortcut", "if", "then", "ref", "op", "tap", "as"]),
        children, max_size=4),
    max_leaves=20,
))
def test_random_json_bodies(body):
    text = json.dumps({"network": "N", "input": [8, 8, 3], "body": body if isinstance(body, list) else [body]})
    compile_text(text, "fuzz.json")


def test_deep_nesting_is_refused_not_crashed():
    depth = 500
    compile_text("network N\ninput 8x8x3\n" + "repeat 1 { " * depth + "relu" + " }" * depth)
    compile_text("network N\ninput 8x8x3\nidentity(x=" + "(" * 2000 + "1" + ")" * 2000 + ")")
    compile_text(json.dumps({"network": "N", "input": [8], "body": [{"repeat": 1, "body": []}]})[:-2] + "[" * 5000)


def test_nul_bytes_and_huge_repeat_are_diagnosed():
    compile_text("network N\ninput 8x8x3\nrelu\x00\n")
    compile_text("network N\ninput 8x8x3\nrelu * 1000000\n")
    compile_text("network N\ninput 8x8x3\nrepeat 10000 { repeat 10000 { relu } }\n")
