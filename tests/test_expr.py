"""Table tests of the expression language (archspec.expr): every operator, precedence,
integer and float division, typing faults, and the renderer's parentheses."""

from __future__ import annotations

import pytest

import archspec
from archspec.expr import UNKNOWN, EvalError, Op, Ref, evaluate, referenced_parameters, render, substitute


def op(operator: str, *args: object) -> Op:
    return Op(op=operator, args=args)


# (operator, operands, value): hand-computed, one row per operator and typing rule
VALUES = [
    ("+", (2, 3), 5), ("-", (2, 3), -1), ("*", (4, 3), 12),
    ("/", (7, 2), 3.5), ("/", (6, 3), 2.0), ("//", (7, 2), 3), ("//", (-7, 2), -4), ("%", (7, 3), 1), ("%", (-7, 3), 2),
    ("//", (7.5, 2), 3.0), ("+", (1, 0.5), 1.5),
    ("neg", (4,), -4), ("neg", (-2.5,), 2.5),
    ("not", (True,), False), ("and", (True, False), False), ("or", (False, True), True),
    ("==", (1, 1), True), ("==", (1, 1.0), True), ("==", (1, True), False), ("==", ("same", "same"), True),
    ("!=", ("same", "valid"), True), ("!=", (2, 2), False),
    ("<", (1, 2), True), ("<=", (2, 2), True), (">", (1, 2), False), (">=", (3, 2), True),
    # functions, with Python's semantics (round: half to even; int: towards zero)
    ("min", (3, 1, 2), 1), ("max", (3, 1.5), 3), ("max", (2, 7, 1, 5), 7),
    ("ceil", (2.1,), 3), ("ceil", (-2.5,), -2), ("ceil", (4,), 4), ("floor", (2.9,), 2), ("floor", (-2.1,), -3),
    ("round", (2.5,), 2), ("round", (3.5,), 4), ("round", (-0.6,), -1), ("int", (7.9,), 7), ("int", (-7.9,), -7),
]


@pytest.mark.parametrize("operator, operands, expected", VALUES)
def test_operator_values(operator: str, operands: tuple, expected: object) -> None:
    result = evaluate(op(operator, *operands), {})
    assert result == expected and type(result) is type(expected)


FAULTS = [
    (op("/", 1, 0), "division by zero in `1 / 0`"),
    (op("//", 1, 0), "division by zero in `1 // 0`"),
    (op("%", 1, 0), "division by zero in `1 % 0`"),
    (op("+", 1, "a"), "`+` takes numbers; received 'a'"),
    (op("<", True, 1), "`<` takes numbers; received true"),
    (op("and", 1, True), "`and` takes true or false; received 1"),
    (op("not", None), "`not` takes true or false; received none"),
    (op("*", 2**40, 2**40), "`1099511627776 * 1099511627776` is out of range"),
    (op("/", 1e300, 1e-300), "`1e+300 / 1e-300` is out of range"),
    (op("ceil", "a"), "`ceil` takes numbers; received 'a'"),
    (op("max", 1, True), "`max` takes numbers; received true"),
    (op("int", 1e300), "`int(1e+300)` is out of range"),
]


@pytest.mark.parametrize("expression, message", FAULTS)
def test_operator_faults(expression: Op, message: str) -> None:
    with pytest.raises(EvalError) as caught:
        evaluate(expression, {})
    assert caught.value.message == message


def test_references_and_unknown_values() -> None:
    env = {"n": 4}
    assert evaluate(op("*", Ref(ref="n"), 2), env) == 8
    assert evaluate(op("*", Ref(ref="missing"), 2), env) is UNKNOWN
    assert evaluate((Ref(ref="n"), 3), env) == (4, 3)
    assert referenced_parameters(op("+", Ref(ref="a"), (Ref(ref="b"), 1))) == {"a", "b"}


def test_fault_paths_point_at_the_operation() -> None:
    with pytest.raises(EvalError) as caught:
        evaluate(op("+", 1, op("/", 2, 0)), {}, ("body", 0))
    assert caught.value.path == ("body", 0, "args", 1)


def test_substitute_keeps_network_parameters_and_folds_the_rest() -> None:
    symbols = {"width": Ref(ref="width"), "local": None}
    env = {"width": 64, "local": 2}
    rewritten = substitute(op("*", Ref(ref="width"), Ref(ref="local")), symbols, env)
    assert rewritten == op("*", Ref(ref="width"), 2)
    assert substitute(op("+", Ref(ref="local"), 1), symbols, env) is None


def _leaf(value: object, context: int) -> str:
    return value.ref if isinstance(value, Ref) else str(value)


# (expression, text): the fewest parentheses that keep the meaning
RENDERINGS = [
    (op("*", op("+", Ref(ref="a"), 1), 2), "(a + 1) * 2"),
    (op("+", Ref(ref="a"), op("*", 1, 2)), "a + 1 * 2"),
    (op("-", Ref(ref="a"), op("-", 1, 2)), "a - (1 - 2)"),
    (op("-", op("-", Ref(ref="a"), 1), 2), "a - 1 - 2"),
    (op("neg", op("+", Ref(ref="a"), 1)), "-(a + 1)"),
    (op("==", op("==", Ref(ref="a"), 1), True), "(a == 1) == True"),
    (op("not", op("and", Ref(ref="a"), Ref(ref="b"))), "not (a and b)"),
    (op("or", op("and", Ref(ref="a"), Ref(ref="b")), Ref(ref="c")), "a and b or c"),
    (op("//", Ref(ref="a"), op("//", 4, 2)), "a // (4 // 2)"),
    (op("*", op("max", Ref(ref="a"), op("+", 1, 2)), 2), "max(a, 1 + 2) * 2"),
    (op("neg", op("ceil", op("/", Ref(ref="a"), 2))), "-ceil(a / 2)"),
    (op("//", op("int", op("+", op("*", Ref(ref="a"), 1.1), 4)), 8), "int(a * 1.1 + 4) // 8"),
]


@pytest.mark.parametrize("arguments, message", [((), "at least 1 item"), ((1,), "`max` takes 2 to 8 arguments"),
                                                ((1,) * 9, "at most 8 items")])
def test_function_arity_is_checked(arguments: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        op("max", *arguments)


def test_unknown_function_is_a_located_error() -> None:
    with pytest.raises(archspec.SpecError) as error:
        archspec.parse("network N\ninput 4\ndense(maxx(1, 2))\n")
    assert "unknown function `maxx`" in str(error.value) and "did you mean `max`?" in str(error.value)


@pytest.mark.parametrize("value", [2.5, -2.5, 3.0, -3.0, 0.1, -0.1, 7, -7])
def test_python_spelling_of_ceil_and_floor(value: float) -> None:
    """The generated source imports only keras, so ceil and floor are written out; they must
    give what the language's evaluation gives."""
    import math

    from archspec.emit.python import PYTHON_SPELLING

    for name, exact in (("ceil", math.ceil), ("floor", math.floor)):
        result = eval(PYTHON_SPELLING[name]([repr(value)]))  # noqa: S307 - our own generated text
        assert result == exact(value) and isinstance(result, int)


def test_repeat_count_may_be_a_function_call() -> None:
    """`call * ceil(...)` is what fmt prints for a one-call repeat; it must parse back."""
    text = "network N(depth=1.2)\ninput 4x4x1\nrelu * ceil(depth * 2)\n"
    assert len(archspec.parse(text).graph().nodes) == 3


@pytest.mark.parametrize("expression, text", RENDERINGS)
def test_render_precedence(expression: Op, text: str) -> None:
    assert render(expression, _leaf) == text


@pytest.mark.parametrize("expression", [case for case, _ in RENDERINGS])
def test_rendered_arch_evaluates_like_the_model(expression: Op) -> None:
    """The .arch printer's text of an expression parses back to the same value."""
    values = {"a": 5, "b": True, "c": False}
    if "and" in repr(expression) or "not" in repr(expression) or "==" in repr(expression):
        values = {"a": True, "b": False, "c": True}
    header = ", ".join(f"{name}={'true' if value is True else 'false' if value is False else value}" for name, value in values.items())
    text = render(expression, lambda value, context: value.ref if isinstance(value, Ref) else str(value).lower())
    spec = archspec.parse(f"network N({header}, r={text})\ninput 4\ndense(1)\n")
    default = spec.spec.params[-1].default
    assert evaluate(default, values) == evaluate(expression, values)



def test_in_reads_the_tensor_each_statement_receives() -> None:
    text = ("network N\ninput 10x6x3\nblock b(f=in.channels * 2) { conv(f, 1) conv(in.channels + in.width, 1) }\n"
            "b b(in.height) dense(in.channels)\n")
    nodes = archspec.parse(text).graph().nodes
    # 3*2; 6 + width 6; in.height 10; then 10 channels + width 6; dense reads those 16
    assert [node.output_shape[-1] for node in nodes] == [6, 12, 10, 16, 16]


def test_tap_sizes_read_the_shape_of_an_earlier_tensor() -> None:
    """`@x.channels`, `@x.height`: DenseNet's transition and a U-Net's skip can read a tap."""
    text = ("network N\ninput 16x16x3\nblock half { conv(@stem.channels // 2, 1) }\n"
            "conv(8, 3, padding=same) as stem\nconv(@stem.channels * 2, 3, stride=2, padding=same) as down\n"
            "upsample(@stem.height // @down.height) concat(@stem) conv(@down.channels + @input.channels, 1)\nhalf\n")
    architecture = archspec.parse(text)
    assert [node.output_shape for node in architecture.graph().nodes] == [
        (16, 16, 8), (8, 8, 16), (16, 16, 16), (16, 16, 24), (16, 16, 19), (16, 16, 4)]
    assert "@stem.channels * 2" in architecture.to_arch() and "@stem.height // @down.height" in architecture.to_arch()
    assert archspec.parse(architecture.to_json(), "n.json").to_dict() == architecture.to_dict()
    assert {"in": "channels", "tap": "stem"} == architecture.to_dict()["body"][1]["args"][0]["args"][0]  # conv(@stem.channels * 2, ...)


@pytest.mark.parametrize("text, message", [
    ("network N\ninput 8x8x3\nconv(@nope.channels, 1)\n", "unknown tap `@nope`"),
    ("network N\ninput 8x8x3\nconv(@input.depth, 1)\n", "`@input.depth` needs a volume (DxHxWxC); tap `input` is 8x8x3"),
    ("network N\ninput 8x8x3\nconv(@input.size, 1)\n", "a tap has no size `size`"),
    ("network N\ninput in.channels\ndense(2)\n", "`in.channels` is the tensor a statement receives, and there is none here"),
    ("network N\ninput 8\ndense(in.height)\n", "`in.height` needs an image (HxWxC) or a volume (DxHxWxC); the statement receives 8"),
    ("network N\ninput 16x3\ndense(in.width)\n", "`in.width` needs an image (HxWxC) or a volume (DxHxWxC); the statement receives 16x3"),
    ("network N\ninput 8x8x3\ndense(in.length)\n", "`in.length` needs a sequence (LxC); the statement receives 8x8x3"),
    ("network N\ninput 8x8x3\ndense(in.depth)\n", "`in.depth` needs a volume (DxHxWxC); the statement receives 8x8x3"),
    ("network N\ninput 8\ndense(in.size)\n", "`in` has no size `size`"),
])
def test_in_faults_are_located(text: str, message: str) -> None:
    with pytest.raises(archspec.SpecError) as error:
        archspec.parse(text).graph()
    assert message in str(error.value)
    assert error.value.diagnostics[0].span is not None


def test_in_sizes_are_not_a_parameter_anyone_can_name() -> None:
    """The received shape lives under a key no name can spell: no hint offers it, and a JSON
    reference to `in` is an unknown parameter, not the shape."""
    with pytest.raises(archspec.SpecError) as error:
        archspec.parse("network N\ninput 8x8x3\nconv(inn, 1)\n").graph()
    assert "did you mean `in`" not in str(error.value)
    json_text = '{"network": "N", "input": [8, 8, 3], "body": [{"call": "conv", "args": [{"ref": "in"}, 1]}]}'
    with pytest.raises(archspec.SpecError) as error:
        archspec.parse(json_text, "n.json").graph()
    assert [d.message for d in error.value.diagnostics] == ["unknown parameter `in`"]


def test_repeat_counts_read_from_in_are_bounded_before_expanding() -> None:
    text = "network N\ninput 4x4x10000\nrepeat in.channels { repeat in.channels { repeat in.channels { } } }\nrelu\n"
    with pytest.raises(archspec.SpecError, match="would expand to"):
        archspec.parse(text).graph()


def test_a_call_repeated_in_channels_times_parses() -> None:
    assert len(archspec.parse("network N\ninput 4x4x3\nrelu * in.channels\n").graph().nodes) == 3


def test_sources_that_read_in_sizes_are_fixed_to_their_input() -> None:
    """Layers built from `in.*` follow the input and every parameter: the module refuses others."""
    architecture = archspec.parse("network N(width=4)\ninput 8x8x3\nconv(width, 1) conv(in.channels * 2, 1)\n")
    graph = architecture.graph()
    assert graph.fixed_input and graph.structural == {"width"}
    source = architecture.to_python()
    assert "tuple(input_shape) != (8, 8, 3)" in source and "if width != 4:" in source


@pytest.mark.parametrize("name", ["int", "min", "max", "round"])
def test_names_of_the_functions_are_kept_off_the_generated_source(name: str) -> None:
    source = archspec.parse(f"network N({name}=2, k=3)\ninput 8x8x3\nconv(ceil(k / 2), 1) as {name}\n").to_python()
    signature = next(line for line in source.splitlines() if line.startswith("def build_model("))
    assert f" {name}=" not in signature and f"\n    {name} = " not in source
    compile(source, "generated.py", "exec")
