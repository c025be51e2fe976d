"""The analysis of every bundled spec, as the table and as JSON, held in golden files
(tests/cases/analysis/), so a change in any figure or in either rendering shows as a diff."""

from pathlib import Path

import pytest

from archspec.api import bundled_names

CASES = Path(__file__).resolve().parent / "cases" / "analysis"


@pytest.mark.parametrize("name", bundled_names())
@pytest.mark.parametrize("form", ["table", "json"])
def test_analysis_matches_golden(cli, golden, name, form):
    result = cli("analyze", name, "--format", form)
    assert result.code == 0, result.err
    golden(CASES / f"{name}.{'txt' if form == 'table' else 'json'}", result.out)
