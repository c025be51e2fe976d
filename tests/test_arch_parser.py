"""The one-pass `.arch` reader accepts exactly the texts grammar.lark accepts.

lark's LALR parser of the grammar is the oracle: for texts made by mutating the bundled specs
token by token (most stay close to valid, so both paths are exercised), the reader refuses a
text (SyntaxFault) exactly when lark does (UnexpectedInput). What the reader builds from an
accepted text is held by the goldens, the round trips and the diagnostics tests.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from lark.exceptions import UnexpectedInput

from archspec.errors import SpecError
from archspec.syntax.arch import _parser, parse_arch
from archspec.syntax.arch_parser import ArchParser, NestingTooDeep, SyntaxFault

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.arch"))
VOCABULARY = ["(", ")", "{", "}", "[", "]", ",", "=", "==", "<", "+", "-", "*", "/", "//", "%", "@", ".", "not", "and",
              "or", "in", "as", "with", "if", "else", "repeat", "residual", "shortcut", "concat", "branch", "true", "none",
              "x", "n", "1", "2.5", ".5", "1e3", "3x3", "'s'", '"t"', "min", "in.channels", "@t.width", "relu", "conv(8)",
              "block", "output", "input", "#c\n", "\n", "concat {", "branch {", "residual(merge=add)", "shortcut if n",
              "* 2", "with i", "@input", ":"]
_PIECES = re.compile(r"\s+|[A-Za-z_][A-Za-z0-9_]*|[0-9x.]+|//|==|.")


def token_mutation(text: str, rng: random.Random) -> str:
    pieces = _PIECES.findall(text)
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(len(pieces))
        action = rng.random()
        if action < 0.4:
            pieces.insert(index, f" {rng.choice(VOCABULARY)} ")
        elif action < 0.7:
            del pieces[index]
        else:
            pieces[index] = rng.choice(pieces)
    return "".join(pieces)


def lark_accepts(text: str) -> bool:
    try:
        _parser().parse(text)
    except UnexpectedInput:
        return False
    return True


def reader_accepts(text: str) -> bool | None:
    """True or False; None where a fault of meaning stopped the reader before the end (parse_arch
    then asks lark whether the grammar breaks later, so lark's answer is the one given)."""
    try:
        ArchParser(text, "t.arch").module()
    except SyntaxFault:
        return False
    except (SpecError, NestingTooDeep):
        return None
    return True


@pytest.mark.parametrize("seed", range(2))
def test_reader_accepts_what_the_grammar_accepts(seed):
    rng = random.Random(seed)
    originals = [path.read_text(encoding="utf-8") for path in SPECS]
    accepted = 0
    for _ in range(250):
        text = token_mutation(rng.choice(originals), rng)
        expected, answer = lark_accepts(text), reader_accepts(text)
        accepted += expected
        assert answer in (expected, None), text
        if answer is None:  # the public path gives lark's syntax fault, if any, over the fault of meaning
            with pytest.raises(SpecError):
                parse_arch(text)
    assert accepted > 25  # the mutations keep enough texts valid for the comparison to mean something


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.stem)
def test_every_bundled_spec_reads(path):
    assert reader_accepts(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("run", ["- " * 5_000 + "1", "not " * 5_000 + "x", "+".join(["1"] * 5_000)],
                         ids=["minus", "not", "sum"])
def test_long_runs_of_operators_are_refused_without_exhausting_the_stack(run):
    """Unary runs are read in a loop and sums left to right; the depth limit then refuses them."""
    with pytest.raises(SpecError, match="nested more than 100 operations"):
        parse_arch(f"network N\ninput 8\ndense({run})\n")
