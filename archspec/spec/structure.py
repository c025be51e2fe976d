"""Loading: the plain dict from `syntax` validated into a `Spec`, and pydantic's faults as
located diagnostics (one per place, phrased for the spec's author).

Takes a `Source`; hands out a frozen `Spec`, or raises `SpecError` with every structural fault.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import DataPath, Diagnostic, SpecError, describe_validation_error, did_you_mean
from ..expr import Op, Ref, expression_tag
from ..source import ARCH, MAX_EXPRESSION_DEPTH, MAX_NESTING, Source
from .models import STATEMENT_KEYS, STATEMENT_LISTS, Block, ConcatGroup, Param, Spec, statement_tag


def load_spec(source: Source) -> Spec:
    """Validate a parsed source's structure into a `Spec`, or raise `SpecError` with every fault.

    Name-level faults (unknown layers, arguments, parameters) are found by `check_spec`, which
    the graph stage runs, so that they are reported together with the faults found by expansion.
    """
    # The .arch reader has applied these limits and folded negated numbers while reading.
    too_deep = _nesting_fault(source.data, source.size.statements) if source.format != ARCH else None
    if too_deep is not None:
        message, path = too_deep
        raise SpecError([source.diagnostic("error", message, path, "flatten the nesting, or move inner parts into blocks")],
                        {source.file: source.text})
    try:
        return Spec.model_validate(_fold_negated_numbers(source.data) if source.format != ARCH else source.data)
    except ValidationError as error:
        raise SpecError(_structure_diagnostics(error, source), {source.file: source.text}) from None
    except RecursionError:
        raise SpecError([Diagnostic("error", "the spec is nested too deeply")], {source.file: source.text}) from None


def _fold_negated_numbers(value: Any) -> Any:
    """`{"op": "neg", "args": [2]}` is the number -2, as the .arch front end folds `-2`: the
    canonical form of a negated number, so each form prints as the other and back unchanged.
    (Recursion is safe: the nesting was bounded first.)"""
    if isinstance(value, dict):
        args = value.get("args")
        if value.get("op") == "neg" and isinstance(args, list) and len(args) == 1 and len(value) == 2:
            operand = _fold_negated_numbers(args[0])
            if isinstance(operand, (int, float)) and not isinstance(operand, bool):
                return -operand
        return {key: _fold_negated_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fold_negated_numbers(item) for item in value]
    return value


def _nesting_fault(data: Any, max_statements: int) -> tuple[str, DataPath] | None:
    """Statements nested more than MAX_NESTING deep, or operations more than
    MAX_EXPRESSION_DEPTH: the limits the .arch front end applies, so both forms accept the same
    specs. Walked without recursion, as the data may be as deep as JSON allows."""
    if not isinstance(data, dict):
        return None
    stack: list[tuple[Any, DataPath, int, int]] = [(data.get("body"), ("body",), -1, 0)]
    stack += [(block.get("body"), ("blocks", index, "body"), 0, 0)
              for index, block in enumerate(data.get("blocks") or []) if isinstance(block, dict)]
    stack += [(data.get(key), (key,), 0, 0) for key in ("params", "input", "inputs")]
    count = 0
    while stack:
        value, path, statements, operations = stack.pop()
        if isinstance(value, dict):
            if "in" not in value and any(key in value for key in STATEMENT_KEYS):  # (an `@x.channels` holds "tap")
                statements += 1
                count += 1
                if count > max_statements:
                    return f"the spec has more than {max_statements:,} statements", path
                if statements > MAX_NESTING:
                    return f"statements are nested more than {MAX_NESTING} levels deep", path
            if "op" in value:
                operations += 1
                if operations > MAX_EXPRESSION_DEPTH:
                    return f"the expression is nested more than {MAX_EXPRESSION_DEPTH} operations deep", path
            stack.extend((item, path + (key,), statements, operations) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, path + (index,), statements, operations) for index, item in enumerate(value))
    return None


def _structure_diagnostics(error: ValidationError, source: Source) -> list[Diagnostic]:
    located = []
    for item in error.errors():
        path = _data_path(source.data, item["loc"])
        located.append((path, item))
    unknown_keys = {(path[:-1], path[-1]) for path, item in located if item["type"] == "extra_forbidden" and path}
    # One message per place: a union's alternatives all fail there, and the telling one is the
    # alternative that matched the value's type but not its rules (not finite, bad characters).
    best: dict[DataPath, dict] = {}
    for path, item in located:
        if path not in best or (best[path]["type"].endswith("_type") and not item["type"].endswith("_type")):
            best[path] = item
    located = [(path, item) for path, item in located if best[path] is item]
    diagnostics = []
    seen_paths: set[DataPath] = set()
    for path, item in located:
        if path in seen_paths:
            continue
        if item["type"] == "missing":
            field_name = str(item["loc"][-1])
            # `bdy` instead of `body` is one mistake: its unknown-key error already names `body`.
            if any(where == path and did_you_mean(str(key), [field_name]) for where, key in unknown_keys):
                continue
        seen_paths.add(path)
        diagnostics.append(_structure_diagnostic(path, item, source))
    return diagnostics


def _structure_diagnostic(path: DataPath, item: dict, source: Source) -> Diagnostic:
    value = _value_at(source.data, path)
    kind = item["type"]
    hint = None
    if kind == "extra_forbidden":
        parent = path[:-1]
        keys = _keys_of(parent, _value_at(source.data, parent))
        message = f"unknown key `{path[-1]}` in {_describe_path(parent)}"
        hint = did_you_mean(str(path[-1]), keys) or (f"expected keys: {', '.join(keys)}" if keys else None)
    elif kind == "missing":
        message = f"{_describe_path(path)} is missing its `{item['loc'][-1]}`"
    elif kind == "statement":
        message = f"{_describe_path(path)}: {item['msg']}"
        if isinstance(value, dict):
            hint = next((did_you_mean(str(key), STATEMENT_KEYS) for key in value if did_you_mean(str(key), STATEMENT_KEYS)), None)
    else:
        described, hint = describe_validation_error(item)
        message = f"{_describe_path(path)}: {described}"
    return source.diagnostic("error", message, path, hint)


def _data_path(data: Any, loc: tuple) -> DataPath:
    """Follow a pydantic `loc` through the data, skipping union tags and other non-keys.

    A tagged union puts its tag in `loc` right after the value's own position; the tag can be
    spelled like a key (`call`), so it is skipped only where it names the value's own tag.
    """
    path: list = []
    current = data
    skip_tag = True
    for part in loc:
        if skip_tag and part in (statement_tag(current), expression_tag(current)):
            skip_tag = False
            continue
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
            skip_tag = True
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
            skip_tag = True
    return tuple(path)


def _value_at(data: Any, path: DataPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _model_at(path: DataPath, value: Any) -> type[BaseModel] | None:
    """Which model the dict at `path` is validated as."""
    if not path:
        return Spec
    if len(path) >= 2 and path[-2] == "params":
        return Param
    if len(path) == 2 and path[0] == "blocks":
        return Block
    if isinstance(value, dict):
        tag = statement_tag(value)
        if tag is not None and any(part in STATEMENT_LISTS for part in path[-3:]):
            return STATEMENT_KEYS[tag]
        if "ref" in value:
            return Ref
        if "op" in value:
            return Op
    return None


def _keys_of(path: DataPath, value: Any) -> list[str]:
    model = _model_at(path, value)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items() if not (info.exclude)]


def _describe_path(path: DataPath) -> str:
    if not path:
        return "the spec"
    names = {"body": "the body", "blocks": "the blocks", "params": "the parameters", "input": "the input shape",
             "input_name": "the input's name", "inputs": "the further inputs", "outputs": "the outputs",
             "allow": "`allow`"}
    last = path[-1]
    last_key = next((p for p in reversed(path) if isinstance(p, str)), None)
    if isinstance(last, int) and last_key == "args":
        return f"argument {last + 1}"
    if len(path) >= 2 and path[-2] == "kwargs":
        return f"argument `{last}`"
    if isinstance(last, int) and last_key == "params":
        return f"parameter {last + 1}"
    if isinstance(last, int) and path[-2] == "blocks":
        return f"block {last + 1}"
    if isinstance(last, int) and path[-2] == "allow":
        return "`allow`"
    if isinstance(last, int) and last_key == ConcatGroup.key and path[-2] == ConcatGroup.key:
        return f"branch {last + 1}"
    if isinstance(last, int):
        return f"statement {last + 1} of {names.get(str(path[-2]), '`' + str(path[-2]) + '`')}"
    return names.get(str(last), f"`{last}`")
