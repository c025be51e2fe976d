"""docs/language.md's layer reference against the registry: every name of the language has a
row, each row names the right positional arguments, arguments and Keras class, and the
activation list is the registry's."""

import re
from pathlib import Path

import pytest

from archspec.layers import ACTIVATIONS, INITIALIZERS, REGISTRY

DOC = (Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text(encoding="utf-8")
REFERENCE = DOC[DOC.index("## Layer reference"):]
REFERENCE = REFERENCE[: REFERENCE.find("\n## ", 1) if "\n## " in REFERENCE[1:] else len(REFERENCE)]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _layer_rows() -> dict[str, list[str]]:
    """name -> [positional, arguments, keras, example], from the tables with a `positional` column."""
    rows: dict[str, list[str]] = {}
    in_table = False
    for line in REFERENCE.splitlines():
        if line.startswith("| name | positional |"):
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        if in_table and not line.startswith("|---") and not line.startswith("| ---"):
            cells = _cells(line)
            for name in re.findall(r"`([a-z_0-9]+)`", cells[0]):
                rows[name] = cells[1:]
    return rows


ROWS = _layer_rows()


def _documented_arguments(name: str) -> set[str]:
    text = ROWS[name][1]
    copied = re.fullmatch(r"as `([a-z_0-9]+)`", text)
    if copied:
        return _documented_arguments(copied.group(1))
    text = re.sub(r"\([^)]*\)", "", text.split(":")[0])  # what follows a colon, or is in brackets, explains values
    return set(re.findall(r"`([a-z_0-9]+)(?:=[^`]*)?`", text))


def test_every_name_has_a_row():
    assert set(ROWS) == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_row_matches_the_registry(name):
    entry = REGISTRY[name]
    positional = ROWS[name][0]
    assert (positional == "—" and not entry.positional) or tuple(p.strip() for p in positional.split(",")) == entry.positional
    assert _documented_arguments(name) == set(entry.argument_names)
    keras_class = entry.cls.keras_layer.rsplit(".", 1)[1]
    assert re.match(rf"`{keras_class}\b", ROWS[name][2]) or f"`{keras_class}`" in ROWS[name][2], (ROWS[name][2], keras_class)
    if len(entry.cls.spatial_ranks) > 1:  # a rank-generic kind names Keras' class for each rank it takes
        for rank in entry.cls.spatial_ranks:
            assert f"`{keras_class.replace('2D', f'{rank}D')}`" in ROWS[name][2], (ROWS[name][2], rank)


def test_value_lists_are_the_registrys():
    lists = {cells[0]: cells[1] for cells in map(_cells, REFERENCE.splitlines()) if len(cells) == 2}
    assert lists["`activation`"].split("one of ")[1].strip("`").split() == list(ACTIVATIONS)
    assert lists["`kernel_init`, `bias_init`"].strip("`").split() == list(INITIALIZERS)
