"""Every statement kind is one model whose rules the stages find by its key: a grammar rule
`<key>_stmt` with its transformer method, an expansion rule `expand_<key>`, and a printing rule
(`print_<key>` for groups, `inline_<key>` for one-line statements). Nothing else lists them."""

import re

import pytest

from archspec.emit.arch import ArchPrinter
from archspec.graph.expand import Expander
from archspec.source import GRAMMAR_FILE, KEYWORDS
from archspec.spec import STATEMENT_KEYS, STATEMENT_MODELS
from archspec.spec.models import BODY, BRANCHES, STATEMENT_LISTS
from archspec.syntax.arch_parser import ArchParser

GRAMMAR = GRAMMAR_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize("model", STATEMENT_MODELS, ids=lambda model: model.key)
def test_each_statement_kind_has_its_rules(model):
    assert re.search(rf"^{model.key}_stmt:", GRAMMAR, re.M), "grammar rule"
    assert callable(getattr(ArchParser, f"{model.key}_stmt", None)), "reader rule"
    assert callable(getattr(Expander, f"expand_{model.key}", None)), "expansion rule"
    printer_rules = [getattr(ArchPrinter, f"{kind}_{model.key}", None) for kind in ("print", "inline")]
    assert any(callable(rule) for rule in printer_rules), "printing rule"


@pytest.mark.parametrize("model", STATEMENT_MODELS, ids=lambda model: model.key)
def test_parts_name_the_models_fields(model):
    keys = {info.alias or name for name, info in model.model_fields.items()}
    for key, holds in model.parts:
        assert key in keys
        if holds in (BODY, BRANCHES):
            assert key in STATEMENT_LISTS


def test_keys_and_keywords_are_derived():
    assert list(STATEMENT_KEYS) == [model.key for model in STATEMENT_MODELS]
    assert KEYWORDS == set(re.findall(r'"([a-z_]+)"', GRAMMAR))
    assert {"repeat", "residual", "concat", "if"} <= KEYWORDS
