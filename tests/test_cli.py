"""The command line's contract: verbs, options, exit codes and output forms (design.md)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import archspec

from .conftest import ROOT, SPECS, python_process


def test_check_several_specs_reports_each(cli, tmp_path):
    bad = tmp_path / "bad.arch"
    bad.write_text("network Bad\ninput 8x8x3\nconv(4, 3) rleu\n", encoding="utf-8")
    result = cli("check", "baseline", str(bad), "lenet5")
    assert result.code == 1
    assert "baseline: ok (Baseline: 9 layers, 198,506 params)" in result.out
    assert "lenet5: ok" in result.out
    assert f"{bad}:3:12: error: unknown layer or block `rleu`" in result.err
    assert "did you mean `relu`?" in result.err


def test_unknown_spec_name_suggests_a_bundled_one(cli):
    result = cli("check", "resnet81")
    assert result.code == 1
    assert "no spec file or bundled spec named 'resnet81'" in result.err
    assert "did you mean `resnet18`?" in result.err


@pytest.mark.parametrize(
    "args",
    [[], ["frobnicate"], ["analyze"], ["analyze", "resnet18", "--format", "xml"], ["analyze", "resnet18", "--depth", "0"],
     ["convert", "resnet18"], ["analyze", "resnet18", "--set", "classes"], ["analyze", "resnet18", "--input", "32x32x3x1x1"]],
)
def test_usage_errors_exit_2(cli, args):
    result = cli(*args)
    assert result.code == 2
    assert "Traceback" not in result.err


def test_analyze_json_follows_the_report_contract(cli):
    result = cli("analyze", "resnet18", "--format", "json")
    assert result.code == 0
    report = json.loads(result.out)
    assert report["format"] == "archspec-report/1"
    assert report["network"] == "ResNet18"
    assert report["input_shape"] == [32, 32, 3] and report["output_shape"] == [10]
    totals = report["totals"]
    assert (totals["params"], totals["trainable_params"], totals["non_trainable_params"]) == (11_183_562, 11_173_962, 9_600)
    assert set(totals["flops"]) == {"tfprof", "2mac"} and totals["flops"]["2mac"] == 2 * totals["macs"]
    assert totals["param_bytes"] == 4 * totals["params"]
    assert set(totals["receptive_field"]) == {"size", "stride", "padding", "aligned", "layer"}
    assert totals["receptive_field"]["layer"] == "basic_8_relu_2"
    assert totals["receptive_field"]["aligned"] is False
    layer = report["layers"][0]
    assert set(layer) >= {"name", "kind", "block", "inputs", "output_shape", "params", "trainable_params", "macs", "flops", "receptive_field"}
    assert layer == {
        "name": "conv_1", "kind": "conv", "block": None, "inputs": ["input"], "output_shape": [32, 32, 64],
        "params": 1728, "trainable_params": 1728, "macs": 32 * 32 * 64 * 27, "flops": {"tfprof": 2 * 32 * 32 * 64 * 27, "2mac": 2 * 32 * 32 * 64 * 27},
        "receptive_field": {"size": [3, 3], "stride": [1, 1], "padding": [1, 1]},
    }
    names = [layer["name"] for layer in report["layers"]]
    assert len(names) == len(set(names))
    assert [d["code"] for d in report["diagnostics"]] == ["rf-misaligned"] * 3
    assert report["diagnostics"][0]["location"].endswith("resnet18.arch:9:3")


def test_analyze_set_and_input_override(cli):
    result = cli("analyze", "resnet18", "--format", "json", "--set", "classes=100", "--input", "64x64x1")
    report = json.loads(result.out)
    assert report["input_shape"] == [64, 64, 1] and report["output_shape"] == [100]
    assert report["totals"]["params"] == 11_183_562 - 2 * 1728 // 3 - 5_130 + 512 * 100 + 100


def test_set_unknown_parameter_is_an_error(cli):
    result = cli("analyze", "resnet18", "--set", "clases=5")
    assert result.code == 1
    assert "network ResNet18 has no parameter `clases`" in result.err and "did you mean `classes`?" in result.err


def test_analyze_table_depth_and_csv_and_markdown(cli):
    table = cli("analyze", "resnet18", "--depth", "1").out
    assert "basic_3" in table and "basic(128, stride=2, project=true) [9 layers]" in table
    assert "basic_3_conv_1  " not in table.split("warning")[0]
    assert "11,183,562" in table and "FLOPs (tfprof)" in table and "FLOPs (2mac)" in table
    rows = list(csv.DictReader(io.StringIO(cli("analyze", "resnet18", "--format", "csv", "--depth", "1").out)))
    assert sum(int(row["params"]) for row in rows) == 11_183_562
    assert [row["name"] for row in rows][:4] == ["conv_1", "bn_1", "relu_1", "basic_1"]
    markdown = cli("analyze", "baseline", "--format", "markdown").out
    assert markdown.startswith("### Baseline\n\n| Layer | Kind |")
    assert "| conv_1 | conv | 32x32x6 | 456 |" in markdown


def test_params_torch_convention(cli):
    report = json.loads(cli("analyze", "resnet18", "--format", "json", "--params", "torch").out)
    assert report["param_convention"] == "torch"
    assert report["totals"]["params"] == 11_183_562 - 9_600
    assert report["totals"]["non_trainable_params"] == 0


def test_convert_to_json_and_back_through_stdin(cli):
    as_json = cli("convert", "inception10", "--to", "json").out
    as_arch = cli("convert", "-", "--to", "arch", stdin=as_json)
    assert as_arch.code == 0
    assert cli("convert", "-", "--to", "json", stdin=as_arch.out).out == as_json


def test_convert_writes_atomically_and_never_over_its_input(cli, tmp_path):
    spec = tmp_path / "net.arch"
    spec.write_text((SPECS / "baseline.arch").read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("convert", str(spec), "--to", "arch", "-o", str(spec))
    assert result.code == 1 and "refusing to overwrite the input spec" in result.err
    target = tmp_path / "out" / "deeper" / "net.json"
    assert cli("convert", str(spec), "--to", "json", "-o", str(target)).code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["network"] == "Baseline"
    assert sorted(p.name for p in target.parent.iterdir()) == ["net.json"]


def test_fmt_refuses_bundled_names(cli):
    result = cli("fmt", "resnet18")
    assert result.code == 2 and "bundled specs are read-only" in result.err


def test_list_shows_every_course_spec(cli):
    result = cli("list")
    assert result.code == 0
    for name, params in [("baseline", "198,506"), ("resnet18", "11,183,562"), ("inception10", "121,418")]:
        line = next(line for line in result.out.splitlines() if line.startswith(name + " "))
        assert params in line


def test_python_api():
    import archspec

    spec = archspec.load(str(SPECS / "resnet18.arch"))
    report = spec.analyze()
    assert report.totals.params == 11_183_562
    assert report.layers[0].name == "conv_1"
    assert json.loads(report.to_json())["network"] == "ResNet18"
    assert "ResNet18" in report.to_table()
    with pytest.raises(archspec.SpecError) as raised:
        archspec.parse("network N\ninput 4x4x1\nconv(8, 5)\n").analyze()
    assert "kernel 5 exceeds its 4x4 input" in str(raised.value)
    assert raised.value.diagnostics[0].span.line == 3


# verb, arguments, exit code (docs/cli.md "Exit codes": 0 ok, 1 spec or file errors, 2 usage). Every verb
# appears; the cases that would succeed only by importing TensorFlow are left to the keras tests.
EXIT_CODES = [
    ("", [], 2),  # no verb
    ("nosuchverb", [], 2),
    ("check", ["baseline"], 0),
    ("check", ["nosuch.arch"], 1),  # neither a file nor a bundled spec: a spec error
    ("check", ["{tmp}/bad.arch"], 1),
    ("check", ["{tmp}"], 1),  # a folder
    ("check", ["baseline", "--set", "classes"], 2),  # malformed --set
    ("check", ["baseline", "--input", "0x3"], 2),  # malformed --input
    ("analyze", ["baseline"], 0),
    ("analyze", ["{tmp}/bad.arch"], 1),
    ("analyze", ["baseline", "--format", "nosuch"], 2),
    ("analyze", ["baseline", "--depth", "-1"], 2),
    ("analyze", ["baseline", "--format", "json", "--depth", "1"], 2),
    ("build", ["{tmp}/bad.arch", "-o", "{tmp}"], 1),
    ("build", ["baseline", "--max-params", "10", "-o", "{tmp}"], 1),  # over budget
    ("build", ["baseline", "-o", "{tmp}/tidy.arch"], 2),  # -o names a file
    ("build", ["baseline", "--max-params", "0"], 2),
    ("diagram", ["{tmp}/bad.arch"], 1),
    ("diagram", ["baseline", "-o", "{tmp}/b.gif"], 2),  # unknown extension
    ("diagram", ["baseline", "-o", "{tmp}/b.png", "--format", "svg"], 2),  # contradicting --format
    ("diagram", ["baseline", "-o", "{tmp}/b.jpg"], 0),
    ("diagram", ["baseline", "-o", "{tmp}/tidy.arch/b.svg"], 1),  # cannot write
    ("train", ["baseline"], 2),  # --data is required
    ("train", ["{tmp}/bad.arch", "--data", "cifar10"], 1),
    ("train", ["baseline", "--data", "nosuch"], 1),
    ("predict", [], 2),
    ("predict", ["{tmp}/norun", "x.png"], 1),
    ("fmt", ["nosuch.arch"], 2),  # fmt on a file that does not exist
    ("fmt", ["baseline"], 2),  # bundled specs are read-only
    ("fmt", ["--check", "{tmp}/tidy.arch"], 0),
    ("fmt", ["--check", "{tmp}/messy.arch"], 1),  # would change
    ("fmt", ["{tmp}"], 1),  # a folder
    ("convert", ["baseline", "--to", "json"], 0),
    ("convert", ["nosuch.arch", "--to", "json"], 1),
    ("convert", ["baseline", "--to", "json", "-o", "{tmp}/tidy.arch/x.json"], 1),  # cannot write
    ("convert", ["baseline"], 2),  # --to is required
    ("convert", ["baseline", "--to", "xml"], 2),
    ("schema", [], 0),
    ("schema", ["extra"], 2),
    ("list", [], 0),
    ("list", ["extra"], 2),
]


def _exit_case_files(folder: Path) -> None:
    (folder / "bad.arch").write_text("network N\ninput 4x4x1\nconv(8, 5)\n", encoding="utf-8")
    (folder / "tidy.arch").write_text("network N\ninput 4x4x1\n\nconv(8, 1)\n", encoding="utf-8")
    (folder / "messy.arch").write_text("network   N\ninput 4x4x1\nconv(8,1)\n", encoding="utf-8")


@pytest.mark.parametrize("verb, arguments, code", EXIT_CODES, ids=[f"{v}-{'-'.join(a)}" for v, a, _ in EXIT_CODES])
def test_exit_codes_are_the_documented_ones(cli, tmp_path, verb, arguments, code):
    if verb == "diagram" and code == 0 and shutil.which("dot") is None:
        pytest.skip("needs Graphviz")
    _exit_case_files(tmp_path)
    result = cli(*([verb] if verb else []), *(a.replace("{tmp}", str(tmp_path)) for a in arguments))
    assert result.code == code, result.err
    assert "Traceback" not in result.err
    if verb == "diagram" and code == 0:
        assert (tmp_path / "b.jpg").read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG, not SVG text


WITHOUT_TENSORFLOW = """
import sys
from archspec.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print("exit", code, "tensorflow" in sys.modules)
"""

# What `predict`, `train` and `build` must refuse before importing TensorFlow, and what they say.
REFUSED_BEFORE_TENSORFLOW = {
    "predict-no-run": (["predict", "{tmp}/norun", "{tmp}/x.png"], "is not a finished run folder"),
    "predict-no-image": (["predict", "{tmp}/run", "{tmp}/nosuch.png"], "no such file"),
    "predict-folder-image": (["predict", "{tmp}/run", "{tmp}/folder"], "not a regular file"),
    "train-no-data-set": (["train", "baseline", "--data", "nosuch", "--out", "{tmp}/r"], "no data set 'nosuch'"),
    "train-no-npz": (["train", "baseline", "--data", "{tmp}/nosuch.npz", "--out", "{tmp}/r"], "no such file"),
    "train-one-class": (["train", "baseline", "--data", "{tmp}/folder", "--out", "{tmp}/r"], "at least two subfolders"),
    "train-optimizer": (["train", "baseline", "--data", "cifar10", "--optimizer", "adamm", "--out", "{tmp}/r"], "unknown optimizer"),
    "train-val-split": (["train", "baseline", "--data", "cifar10", "--val-split", "2", "--out", "{tmp}/r"], "between 0 and 1"),
    "train-out-is-a-file": (["train", "baseline", "--data", "cifar10", "--out", "{tmp}/run/run.json"], "is a file, not a run folder"),
    "build-cannot-write": (["build", "baseline", "-o", "{tmp}/run/run.json/x"], "is not a folder"),
    "build-over-input": (["build", "{tmp}/run/baseline.py", "-o", "{tmp}/run"], "refusing to overwrite the input spec"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_BEFORE_TENSORFLOW))
def test_cheap_checks_come_before_tensorflow(tmp_path, case):
    """A missing file or a mistyped option is said at once, before TensorFlow's seconds of import."""
    import os
    import subprocess
    import sys

    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text("{}", encoding="utf-8")
    (run / "best.keras").write_bytes(b"")
    (run / "baseline.py").write_text(archspec.load("baseline").to_arch(), encoding="utf-8")  # a spec named like an output
    (tmp_path / "folder").mkdir()
    arguments, expected = REFUSED_BEFORE_TENSORFLOW[case]
    result = subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, *(a.replace("{tmp}", str(tmp_path)) for a in arguments)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # this checkout, whatever is installed
    assert "exit 1 False" in result.stdout, result.stdout + result.stderr
    assert expected in result.stderr and "function_node" not in result.stderr


@pytest.mark.parametrize("arguments", [["--input", "-1x3"], ["--input=-1x3"], ["--input", "28x-1x1"]])
def test_a_negative_input_size_reaches_the_shape_check(cli, arguments):
    """argparse reads `-1x3` as an option; archspec attaches it to --input so the message names the size."""
    result = cli("check", "baseline", *arguments)
    assert result.code == 2
    assert "expected a shape like 32x32x3" in result.err and "expected one argument" not in result.err


def test_after_a_double_dash_every_argument_is_a_spec_path(cli):
    result = cli("check", "--", "--input", "-1x3")
    assert result.code == 1 and "--input" in result.err


def _command_parsers(parser) -> dict:
    action = next(action for action in parser._actions if action.dest == "command")
    return action.choices


def _options(parser) -> list[tuple]:
    return [(tuple(action.option_strings), action.dest, action.default, action.choices, action.nargs, action.required)
            for action in parser._actions]


def test_a_run_of_one_command_builds_that_command_as_the_whole_parser_does():
    from archspec.cli import build_parser

    every = _command_parsers(build_parser())
    assert len(every) >= 13
    for name, full in every.items():
        only = _command_parsers(build_parser(name))
        assert list(only) == [name]
        assert _options(only[name]) == _options(full)
        assert only[name].get_default("handler") is full.get_default("handler")
        assert only[name].format_help() == full.format_help()


@pytest.mark.parametrize("first", ["anlyze", "--version", "-h", "--", "resnet18"])
def test_a_first_argument_that_is_no_command_gets_every_command(first):
    from archspec.cli import build_parser

    assert list(_command_parsers(build_parser(first))) == list(_command_parsers(build_parser()))


def test_a_misspelt_command_is_answered_with_every_choice(cli):
    result = cli("anlyze", "resnet18")
    assert result.code == 2
    assert "invalid choice: 'anlyze'" in result.err and "'analyze'" in result.err and "'list'" in result.err


# The program (the console script, `python -m archspec`) ends without the interpreter's teardown
# (os._exit); what the usual exit does for the user must still happen.
PROGRAM = """
import atexit, sys
atexit.register(lambda: print("exit handler ran"))
sys.argv[1:] = {args!r}
from archspec.cli import program
program()
print("program returned")
"""


def _program(args: list[str]):
    return python_process("-c", PROGRAM.format(args=args))


def test_the_program_flushes_its_output_runs_the_exit_handlers_and_keeps_the_exit_code(tmp_path):
    clean = _program(["analyze", "resnet18", "--format", "json"])
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.endswith("exit handler ran\n") and "program returned" not in clean.stdout
    assert json.loads(clean.stdout.removesuffix("exit handler ran\n"))["totals"]["params"] > 11_000_000  # the whole report
    bad = tmp_path / "bad.arch"
    bad.write_text("network bad\ninput 32x32x3\nconv(8, 3)\ndense(10, activation=softmx)\n", encoding="utf-8")
    faulty = _program(["check", str(bad)])
    assert faulty.returncode == 1
    assert "softmx" in faulty.stderr and faulty.stdout == "exit handler ran\n"


def test_the_program_returns_to_the_usual_exit_where_a_thread_still_runs():
    code = PROGRAM.replace("from archspec.cli", "import threading, time\nthreading.Thread(target=time.sleep, args=(1.0,)).start()\nfrom archspec.cli")
    code = code.replace("program()", "try:\n    program()\nexcept SystemExit as end:\n    print('usual exit', end.code)")
    result = python_process("-c", code.format(args=["list"]))
    assert result.returncode == 0 and "resnet18" in result.stdout and "usual exit 0\n" in result.stdout and result.stdout.endswith("exit handler ran\n")


def test_main_returns_to_a_host_that_set_the_process_arguments():
    result = python_process("-c", "import sys\nsys.argv[1:] = ['list']\nfrom archspec.cli import main\nprint('returned', main())\n")
    assert result.returncode == 0 and result.stdout.endswith("returned 0\n"), result.stderr


@pytest.mark.parametrize("wrapper", [["-m", "cProfile", "-s", "cumtime"], ["-m", "trace", "--count", "--summary"]])
def test_a_profiler_or_tracer_still_gets_the_end_of_the_program(wrapper, tmp_path):
    if "trace" in wrapper:  # its annotated copies of the modules go there, not beside the sources
        wrapper = [*wrapper, "--coverdir", str(tmp_path / "cover")]
    script = tmp_path / "run.py"
    script.write_text("import sys\nsys.argv[1:] = ['explain', 'budget']\nfrom archspec.cli import program\nprogram()\n", encoding="utf-8")
    result = python_process(*wrapper, str(script), cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "budget" in result.stdout
    assert ("function calls" in result.stdout) if "cProfile" in wrapper else ("lines" in result.stdout and "cov%" in result.stdout)


def test_the_program_started_with_its_output_closed_exits_as_before():
    result = subprocess.run(["sh", "-c", f"'{sys.executable}' -m archspec list >&-"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "Traceback" not in result.stderr
