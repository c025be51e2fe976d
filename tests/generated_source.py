"""What a module archspec generates may contain, checked on its syntax tree (never by running it).

The generated module must compile and hold nothing but model-building code: a docstring, imports
of keras (and numpy), verbatim copies of archspec.keras_layers' classes, and one `build_model`
function whose statements assign layer calls and return a `keras.Model`. Any text from the spec
(names, strings, file names) may only appear as a string constant. `problems(source)` lists every
departure; the suite and the long fuzz run (tests/fuzz/fuzz_long.py) both call it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ALLOWED_MODULES = {"keras", "numpy"}
CUSTOM_CLASSES_FILE = Path(__file__).resolve().parents[1] / "archspec" / "keras_layers.py"
# The values a call argument may be built of: names of parameters and tensors, literals, arithmetic.
ARGUMENT_NODES = (ast.Constant, ast.Name, ast.Load, ast.Tuple, ast.List, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop,
                  ast.keyword, ast.Dict)


def _custom_class_sources() -> dict[str, str]:
    tree = ast.parse(CUSTOM_CLASSES_FILE.read_text(encoding="utf-8"))
    return {node.name: ast.dump(node) for node in tree.body if isinstance(node, ast.ClassDef)}


def _call_root(function: ast.expr) -> str | None:
    """`layers.Conv2D` -> 'layers', `keras.layers.Dense` -> 'keras', `LayerScale` -> 'LayerScale'."""
    while isinstance(function, ast.Attribute):
        function = function.value
    return function.id if isinstance(function, ast.Name) else None


def _argument_problems(node: ast.AST, where: str) -> list[str]:
    """Arguments are literals, names and arithmetic; a call in them only builds a keras object
    (`keras.regularizers.L2(l2=0.01)`)."""
    found = []
    for part in ast.walk(node):
        if isinstance(part, ast.Call) and _call_root(part.func) != "keras":
            found.append(f"{where}: calls {ast.unparse(part.func)} in a layer's arguments")
        elif not isinstance(part, ARGUMENT_NODES + (ast.Attribute, ast.Call)):
            found.append(f"{where}: {type(part).__name__} in a layer's arguments")
    return found


TEST_NODES = (ast.Compare, ast.BoolOp, ast.Name, ast.Constant, ast.Tuple, ast.UnaryOp, ast.Load, ast.cmpop, ast.boolop,
              ast.unaryop)


def _plain_test(test: ast.expr) -> bool:
    """Comparisons of parameters with literals; `tuple(input_shape)` is the one call allowed."""
    return all(isinstance(part, TEST_NODES) or (isinstance(part, ast.Call) and ast.unparse(part.func) == "tuple")
               for part in ast.walk(test))


def _is_guard(statement: ast.stmt) -> bool:
    """`if <comparison>: raise ValueError("...")` (a parameter the module cannot vary) or
    `if input_shape is None: input_shape = (...)` (the default input built from parameters)."""
    if not (isinstance(statement, ast.If) and not statement.orelse and len(statement.body) == 1
            and _plain_test(statement.test)):
        return False
    body = statement.body[0]
    if isinstance(body, ast.Raise):
        return (isinstance(body.exc, ast.Call) and ast.unparse(body.exc.func) == "ValueError"
                and all(isinstance(argument, ast.Constant) for argument in body.exc.args))
    return (isinstance(body, ast.Assign) and [ast.unparse(target) for target in body.targets] == ["input_shape"]
            and not _argument_problems(body.value, "input_shape"))


def _layer_call_problems(value: ast.expr, builders: set[str], where: str) -> list[str]:
    """A layer call is `Builder(args)(tensors)` or `keras.Input(...)`/`keras.Model(...)`."""
    if not isinstance(value, ast.Call):
        return [f"{where}: assigns a {type(value).__name__}, not a layer call"]
    inner = value.func if isinstance(value.func, ast.Call) else value
    root = _call_root(inner.func)
    if root not in builders:
        return [f"{where}: calls {ast.unparse(inner.func)}, which builds no layer"]
    problems = []
    for call in {id(inner): inner, id(value): value}.values():
        for argument in [*call.args, *call.keywords]:
            problems += _argument_problems(argument, where)
    return problems


def _function_problems(function: ast.FunctionDef, builders: set[str]) -> list[str]:
    problems = [f"build_model's defaults: {problem}" for default in function.args.defaults
                for problem in _argument_problems(default, "default")]
    for index, statement in enumerate(function.body):
        where = f"build_model line {statement.lineno}"
        if index == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # the docstring
        if isinstance(statement, ast.Assign) and all(isinstance(target, ast.Name) for target in statement.targets):
            problems += _layer_call_problems(statement.value, builders, where)
        elif _is_guard(statement):
            continue
        elif isinstance(statement, ast.Return) and statement.value is not None:
            problems += _layer_call_problems(statement.value, builders, where)
        else:
            problems.append(f"{where}: a {type(statement).__name__} statement")
    return problems


def problems(source: str) -> list[str]:
    """Every way `source` departs from a clean generated module; empty when it is clean."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"does not compile: {error}"]
    custom = _custom_class_sources()
    builders = {"keras", "layers", *custom}
    found: list[str] = []
    functions = 0
    for index, statement in enumerate(tree.body):
        if index == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        if isinstance(statement, ast.Import):
            found += [f"imports {alias.name}" for alias in statement.names if alias.name not in ALLOWED_MODULES]
        elif isinstance(statement, ast.ImportFrom):
            if statement.module not in ALLOWED_MODULES:
                found.append(f"imports from {statement.module}")
        elif isinstance(statement, ast.ClassDef):
            if custom.get(statement.name) != ast.dump(statement):
                found.append(f"class {statement.name} is not a copy of archspec.keras_layers.{statement.name}")
        elif isinstance(statement, ast.FunctionDef) and statement.name == "build_model":
            functions += 1
            found += _function_problems(statement, builders)
        else:
            found.append(f"line {statement.lineno}: a top-level {type(statement).__name__}")
    if functions != 1:
        found.append(f"{functions} build_model functions")
    return found
