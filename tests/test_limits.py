"""Limits: hostile or mistaken input is refused with a located diagnostic, quickly, and
writers never leave a partial file. Each case records how long the refusal took."""

from __future__ import annotations

import json
import time

import pytest

import archspec
from archspec.analysis import Budget, check_budget
from archspec.errors import SpecError
from archspec.files import save_keras_atomic, write_atomic
from archspec.syntax import MAX_SOURCE_BYTES

from . import generated_source

FAST = 1.0  # seconds: "well under a second" on the project's 2-core machine

CASES = {
    "expansion size": ("network N\ninput 8x8x3\nrepeat 10000 { repeat 10000 { repeat 10000 { identity } } }\n",
                       "would expand to 1,000,000,000,000 layers and steps, more than the limit of 10,000"),
    "expansion through blocks": ("network N\ninput 8x8x3\nblock a { identity * 1000 }\nblock b { a * 1000 }\nb * 1000\n",
                                 "would expand to 1,000,000,000 layers"),
    "repeat count": ("network N\ninput 8x8x3\nrelu * 20000\n", "a repeat count must be an integer from 0 to 10,000; received 20000"),
    "repeat count from a parameter": ("network N(n=-3)\ninput 8x8x3\nrelu * n\n", "received -3"),
    "block nesting": ("network N\ninput 8x8x3\n" + "".join(f"block b{i} {{ b{i + 1} }}\n" for i in range(70)) + "block b70 { relu }\nb0\n",
                      "blocks are nested more than 64 calls deep"),
    "syntax nesting": ("network N\ninput 8x8x3\n" + "repeat 1 { " * 100 + "relu" + " }" * 100 + "\n", "nested more than 64 levels deep"),
    "recursion": ("network N\ninput 8x8x3\nblock a { b }\nblock b { a }\na\n", "block `a` is recursive: a -> b -> a"),
    "filters range": ("network N\ninput 8x8x3\nconv(2000000, 3)\n", "expected a value <= 1048576; received 2000000"),
    "kernel range": ("network N\ninput 8x8x3\nconv(8, 3000000)\n", "expected at most 1048576"),
    "input size range": ("network N\ninput 5000000x8x3\nrelu\n", "sizes from 1 to 1048576"),
    "arithmetic overflow": ("network N(a=1000000000)\ninput 8x8x3\nconv(a * a * a, 3)\n", "is out of range"),
    "division by zero": ("network N(a=0)\ninput 8x8x3\nconv(16 // a, 3)\n", "division by zero"),
}


@pytest.mark.parametrize("case", CASES)
def test_limit_is_refused_quickly_with_a_diagnostic(case):
    text, expected = CASES[case]
    start = time.perf_counter()
    with pytest.raises(SpecError) as raised:
        archspec.parse(text, "limit.arch").analyze()
    elapsed = time.perf_counter() - start
    rendered = raised.value.render()
    assert expected in rendered
    assert any(d.span is not None for d in raised.value.diagnostics), rendered
    print(f"{case}: refused in {elapsed * 1000:.0f} ms")
    assert elapsed < FAST, f"{case} took {elapsed:.2f} s"


def test_oversized_file_is_refused_before_parsing(cli, tmp_path):
    path = tmp_path / "big.arch"
    path.write_text("network N\ninput 8x8x3\n" + "relu\n" * (MAX_SOURCE_BYTES // 5 + 10), encoding="utf-8")
    start = time.perf_counter()
    result = cli("check", str(path))
    assert time.perf_counter() - start < FAST
    assert result.code == 1 and "larger than the 4 MiB limit for a spec file" in result.err


@pytest.mark.parametrize(("expected", "actual", "limit", "read"), [
    (10, 10, 100, 10),    # as stat said
    (10, 50, 100, 50),    # grew after the stat: read on
    (10, 500, 100, 100),  # grew past the limit: the limit's worth, so the caller refuses it
    (500, 500, 100, 100),
    (0, 0, 100, 0),
])
def test_a_file_is_read_to_its_size_and_no_further_than_the_limit(expected, actual, limit, read):
    from io import BytesIO

    from archspec.syntax.reader import _read_at_most

    assert len(_read_at_most(BytesIO(b"x" * actual), expected, limit)) == read


def test_deep_json_is_refused(cli, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"network": "N", "input": [8], "body": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    start = time.perf_counter()
    result = cli("check", str(path))
    assert time.perf_counter() - start < FAST
    assert result.code == 1 and "Traceback" not in result.err and "nested too deeply" in result.err


def test_invalid_utf8_is_located(cli, tmp_path):
    path = tmp_path / "bytes.arch"
    path.write_bytes(b"network N\ninput 8x8x3\nrelu \xff\xfe\n")
    result = cli("check", str(path))
    assert result.code == 1
    assert f"{path}:3:6: error: the file is not valid UTF-8 (byte 0xff at offset 27)" in result.err


def test_build_budget_is_checked_before_keras_allocates(cli, tmp_path):
    spec = tmp_path / "huge.arch"
    spec.write_text("network Huge\ninput 1024x1024x3\nconv(512, 3, padding=same)\nflatten dense(4096)\n", encoding="utf-8")
    start = time.perf_counter()
    result = cli("build", str(spec), "-o", str(tmp_path / "out"))
    assert time.perf_counter() - start < FAST
    assert result.code == 1
    assert "huge.arch:4:9: error[budget]: the network has 2,199,023,273,984 parameters" in result.err
    assert "huge.arch:3:1: error[budget]: building needs" in result.err and "1024x1024x512" in result.err
    assert not (tmp_path / "out").exists()
    small = archspec.parse("network S\ninput 8\ndense(10)\n").analyze()
    assert check_budget(small, Budget(max_params=50))[0].code == "budget"
    assert check_budget(small, Budget()) == []


def test_writes_are_atomic_and_create_folders(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    write_atomic(target, "first")
    write_atomic(target, "second")
    assert target.read_text() == "second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_unwritable_target_is_a_diagnostic(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SpecError) as raised:
        write_atomic(blocker / "inside.txt", "data")  # a file where a folder should be
    assert "cannot write" in str(raised.value)


def test_interrupted_keras_save_leaves_nothing_behind(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"previous")

    class Interrupted:
        def save(self, path):
            with open(path, "wb") as handle:
                handle.write(b"partial")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_keras_atomic(Interrupted(), target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_every_error_case_is_json_safe():
    report = json.loads(archspec.load("resnet18").analyze().to_json())
    assert report["diagnostics"][0]["code"] == "rf-misaligned"


HUGE = "9" * 4400  # past Python's 4,300-digit conversion limit: refused before converting, in every form


@pytest.mark.parametrize("text, file", [
    ('{"network":"N","input":[8,8,' + HUGE + '],"body":[{"call":"relu"}]}', "n.json"),
    ('{"network":"N","params":[{"name":"p","default":' + HUGE + '}],"input":[8,8,3],"body":[{"call":"relu"}]}', "n.json"),
    ("network N\ninput 8x8x" + HUGE + "\nrelu\n", "n.arch"),
    ("network N\ninput 8x8x3\nreshape(1x" + HUGE + ")\n", "n.arch"),
    ("network N(p=" + HUGE + ")\ninput 8x8x3\nrelu\n", "n.arch"),
])
def test_huge_integers_are_located_diagnostics(text, file):
    with pytest.raises(archspec.SpecError) as raised:
        archspec.parse(text, file).analyze()
    diagnostic = raised.value.diagnostics[0]
    assert diagnostic.span is not None and "at most 18 digits" in (diagnostic.hint or "")


@pytest.mark.parametrize("value", [HUGE, f"[{HUGE}]", f"8x{HUGE}"])
def test_huge_set_values_say_so(cli, value):
    result = cli("check", "baseline", "--set", f"classes={value}")
    assert result.code == 2 and "integers have at most 18 digits" in result.err and "set_int_max_str_digits" not in result.err


@pytest.mark.parametrize("make", ["fifo", "folder", "device"])
def test_non_regular_files_are_refused_at_once(cli, tmp_path, make):
    """A FIFO would block `open` until a writer came; a device could stream forever."""
    import os

    if make == "fifo":
        path = tmp_path / "spec.arch"
        os.mkfifo(path)
    elif make == "folder":
        path = tmp_path / "folder.arch"
        path.mkdir()
    else:
        path = "/dev/zero"
    started = time.perf_counter()
    for verb in (["check"], ["fmt"], ["convert", "--to", "json"]):
        result = cli(*verb, str(path))
        assert result.code == 1 and "not a spec file" in result.err, (verb, result.err)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("value, message", [
    ("a\nb", "a string cannot hold control characters"),
    ("a\rb", "a string cannot hold control characters"),
    ("[NaN]", "numbers must be finite"),
    ("[1e999]", "numbers must be finite"),
    ("0x10", "'0x10' is not a shape: sizes start at 1"),
])
def test_set_values_follow_the_rules_of_spec_values(cli, value, message):
    """--set once skipped the validation spec files get and broke the generated source."""
    result = cli("build", "baseline", "--set", f"classes={value}", "-o", "/nonexistent/never")
    assert result.code == 2 and message in result.err


def test_generated_source_compiles_whatever_the_file_name(cli, tmp_path):
    """A file name with newlines and quotes reaches the module's docstring and messages escaped."""
    name = 'x\nimport os; os.system("echo hi")\n#"\'\\.arch'
    spec = tmp_path / name
    spec.write_text("network N(wide=false)\ninput 8x8x3\nif wide { conv(8, 1) } else { conv(4, 1) }\n", encoding="utf-8")
    assert generated_source.problems(archspec.load(spec).to_python()) == []


def _nested(kind: str, depth: int) -> dict:
    if kind == "expression":
        value: object = 1
        for _ in range(depth):
            value = {"op": "+", "args": [value, 1]}
        return {"network": "N", "params": [{"name": "p", "default": value}], "input": [8, 8, 3], "body": [{"call": "relu"}]}
    body: list = [{"call": "relu"}]
    for _ in range(depth):
        body = [{"repeat": 1, "body": body}] if kind == "repeat" else [{"residual": body}]
    return {"network": "N", "input": [8, 8, 3], "body": body}


@pytest.mark.parametrize("kind, limit", [("repeat", 64), ("residual", 64), ("expression", 100)])
def test_both_forms_accept_the_same_nesting(kind, limit):
    """JSON once validated nesting the .arch form refused: the limits are one, checked in both."""
    deepest = archspec.parse(json.dumps(_nested(kind, limit)), "deep.json")
    deepest.graph()
    assert archspec.parse(deepest.to_arch()).to_dict() == deepest.to_dict()  # prints as .arch that parses back
    with pytest.raises(SpecError) as raised:
        archspec.parse(json.dumps(_nested(kind, limit + 1)), "deeper.json").graph()
    assert "nested more than" in raised.value.diagnostics[0].message and raised.value.diagnostics[0].span is not None


@pytest.mark.parametrize("text, message", ids=["lines", "words", "brackets", "json_statements"], argvalues=[
    ("network N\ninput 8\n" + "# a comment\n" * 25_000 + "relu\n", "lines, more than the limit of 20,000"),
    ("network N\ninput 8\n" + "relu " * 35_000 + "\n", "more than 30,000 names and numbers"),
    ("network N(p=" + "(" * 100_000 + "1" + ")" * 100_000 + ")\ninput 8\nrelu\n", "brackets are nested more than 164 deep"),
    ('{"network":"N","input":[8],"body":[' + ",".join(['{"call":"relu"}'] * 20_001) + "]}", "more than 20,000 statements"),
])
def test_floods_are_refused_before_parsing(text, message):
    """Sizes within the 4 MiB file limit that once took tens of seconds: refused at once."""
    started = time.perf_counter()
    with pytest.raises(SpecError) as raised:
        archspec.parse(text, "flood.json" if text.startswith("{") else "flood.arch").graph()
    assert message in raised.value.diagnostics[0].message
    assert raised.value.diagnostics[0].span is not None or "statements" in message
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_are_located_errors(constant):
    """Found by the extended fuzzer: Python's json reads them, JSON has none; once unlocated."""
    text = '{"network": "N", "input": [8, 8, 3], "body": [{"call": "dropout", "args": [' + constant + ']}]}'
    with pytest.raises(SpecError) as raised:
        archspec.parse(text, "n.json")
    diagnostic = raised.value.diagnostics[0]
    assert f"{constant} is not a JSON number" in diagnostic.message and diagnostic.span is not None
    assert diagnostic.span.column == text.index(constant) + 1


@pytest.mark.parametrize("form", ["arch", "json"])
def test_a_larger_flat_spec_needs_the_larger_limit_and_then_loads(form):
    """The default limits keep every answer within about 2 s; `size` (the CLI's --max-layers)
    raises the layer limit and the text limits scaled from it, in both forms alike."""
    from archspec.source import SizeLimits

    layers = 21_000  # more lines and statements than the default admits
    if form == "arch":
        text, file = "network N\ninput 8\n" + "relu\n" * layers, "flat.arch"
    else:
        text, file = json.dumps({"network": "N", "input": [8], "body": [{"call": "relu"}] * layers}), "flat.json"
    with pytest.raises(SpecError) as refused:
        archspec.parse(text, file)
    assert "more than" in refused.value.diagnostics[0].message
    with pytest.raises(SpecError, match="more than the limit of 11,000"):
        archspec.parse(text, file, size=SizeLimits(11_000)).analyze()  # the text is admitted, its expansion is not
    report = archspec.parse(text, file, size=SizeLimits(layers)).analyze()
    assert len(report.layers) == layers


def test_the_cli_takes_max_layers(tmp_path, capsys):
    from archspec.cli import main

    spec = tmp_path / "flat.arch"
    spec.write_text("network N\ninput 8\n" + "relu\n" * 21_000, encoding="utf-8")
    assert main(["check", str(spec)]) == 1
    assert "--max-layers" in capsys.readouterr().err
    assert main(["check", str(spec), "--max-layers", "21000"]) == 0
    assert "21000 layers" in capsys.readouterr().out


def _estimates(text: str) -> tuple[int, int]:
    """(the bound by the text alone, the steps under the parameters' defaults) of a spec's body."""
    from archspec.graph.estimate import _Estimate
    from archspec.graph.model import Limits

    architecture = archspec.parse(text, "estimate.arch")
    spec, limits = architecture.spec, Limits()
    values = {param.name: param.default for param in spec.params}
    exact = _Estimate(spec, limits)
    return _Estimate(spec, limits, by_name=True).body(spec.body), sum(exact.statement(s, values, 0) for s in spec.body)


@pytest.mark.parametrize("name", archspec.bundled_names())
def test_the_bound_by_the_text_is_never_below_the_steps_under_values(name):
    from archspec.api import bundled_dir

    bound, steps = _estimates((bundled_dir() / f"{name}.arch").read_text(encoding="utf-8"))
    assert bound >= steps > 0


def test_a_spec_over_the_bound_by_the_text_is_still_sized_under_its_values():
    text = "network N(n=2)\ninput 8x8x3\nblock b(k) { relu * k }\nrepeat n { b(3) }\n"
    bound, steps = _estimates(text)
    assert bound > 10_000 and steps == 2 * 3  # two copies of three relus
    assert len(archspec.parse(text).analyze().layers) == 6
