"""The long fuzz run: N mutated or random specs through `archspec check`, in-process.

    python tests/fuzz/fuzz_long.py --cases 100000 [--seed 1] [--save-failures DIR] [--keras-every N]

Every case must end with exit 0 or 1, and with 1, diagnostics located at file:line:col; an
uncaught exception or a traceback is a failure, saved (input and output) for a regression test.
Mutations: inserted, deleted and duplicated tokens and bytes, invalid UTF-8, NUL bytes, very long
lines, deep nesting (braces, parentheses, long sums), huge and odd numbers, strings with control
characters and Unicode line separators, file names holding newlines, quotes and code; random JSON documents (with the same numbers, strings
and deep nesting); `--set` values of every JSON type and `--input` shapes with huge and odd sizes. Every accepted spec is also held to
the properties: fmt is idempotent, .arch -> JSON -> .arch and JSON -> .arch -> JSON are stable,
the two forms' reports are equal (locations aside), and the generated Python compiles and, parsed with `ast`, holds only imports of keras and
layer-building calls (tests/generated_source.py); with --keras-every N, every Nth case (when accepted)
is built in Keras and its count_params and output shape compared with the report. The suite runs a
bounded version of the same idea with hypothesis (tests/test_parser_fuzz.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import archspec  # noqa: E402
from archspec.cli import main  # noqa: E402
from tests import generated_source  # noqa: E402
from tests.report_forms import report_without_locations  # noqa: E402

TOKENS = ["conv", "(", ")", "{", "}", ",", "=", "*", "@", "x", "3", "0", "-1", "1e9", "99999999", "same", "relu", "bn",
          "repeat", "concat", "branch", "residual", "shortcut", "if", "else", "as", "block", "input", "network", "#", "\n",
          '"', "[", "]", "3x3", "//", "/", "%", "not", "and", "true", "none", "dense", "flatten", "add(@input)", "@input"]
LOCATED = re.compile(r"^[^\n]+:\d+:\d+: (error|warning)")  # control characters in file names are escaped


def mutate(text: str, rng: random.Random) -> bytes:
    data = text.encode("utf-8")
    for _ in range(rng.randint(1, 5)):
        position = rng.randint(0, len(data))
        action = rng.choice(["insert_token", "delete", "duplicate", "bytes", "nul", "long_line", "nesting", "swap_lines",
                             "number", "string", "parens", "sum"])
        if action == "insert_token":
            data = data[:position] + (" " + rng.choice(TOKENS) + " ").encode() + data[position:]
        elif action == "delete":
            data = data[:position] + data[position + rng.randint(1, 40):]
        elif action == "duplicate":
            data = data[:position] + data[position:position + rng.randint(1, 80)] + data[position:]
        elif action == "bytes":
            data = data[:position] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))) + data[position:]
        elif action == "nul":
            data = data[:position] + b"\x00" + data[position:]
        elif action == "long_line":
            data = data[:position] + b"relu " * rng.randint(100, 3000) + data[position:]
        elif action == "nesting":
            depth = rng.randint(10, 400)
            data = data[:position] + b"repeat 1 { " * depth + b"relu" + b" }" * depth + data[position:]
        elif action == "number":
            data = data[:position] + odd_number(rng).encode() + data[position:]
        elif action == "string":
            data = data[:position] + ('"' + odd_string(rng).replace('"', "") + '"').encode("utf-8", "surrogatepass") + data[position:]
        elif action == "parens":
            depth = rng.randint(50, 5000)
            data = data[:position] + b"(" * depth + b"1" + b")" * depth + data[position:]
        elif action == "sum":
            data = data[:position] + b"+".join([b"1"] * rng.randint(10, 20000)) + data[position:]
        else:
            lines = data.split(b"\n")
            rng.shuffle(lines)
            data = b"\n".join(lines)
    return data


def odd_number(rng: random.Random) -> str:
    """Numbers at and past every limit: 18 and 19 digits, past Python's 4,300, hex-looking shapes."""
    return rng.choice(["9" * 18, "9" * 19, "9" * rng.randint(20, 5000), "1e308", "1e999", "-0", "0x10", "0x0x1", "1" + "0" * 400,
                       "18446744073709551617", "1.5e-400", "00000000000000000000001"])


def odd_string(rng: random.Random) -> str:
    """Strings no spec may hold, and some it may: newlines, CR, Unicode separators, tab, NUL,
    quotes, a backslash, a lone surrogate."""
    return rng.choice(["a\nb", "a\rb", "\u2028", "\u2029", "x\ty", "\x00", "'\"", "\\", "ok", "é" * 3, "\ud800"])


NUMBER_MARKER = "<number>"
JSON_NUMBERS = ["9" * 18, "9" * 19, "9" * 5000, "1e308", "1e999", "-0", "1" + "0" * 400, "18446744073709551617", "1.5e-400",
                "NaN", "Infinity", "-Infinity"]


def dump_with_numbers(document: object, rng: random.Random) -> str:
    text = json.dumps(document, ensure_ascii=rng.random() < 0.5)
    while f'"{NUMBER_MARKER}"' in text:
        text = text.replace(f'"{NUMBER_MARKER}"', rng.choice(JSON_NUMBERS), 1)
    return text


def random_json(rng: random.Random, depth: int = 0):
    keys = ["call", "args", "kwargs", "body", "repeat", "concat", "residual", "shortcut", "shortcut_if", "if", "then", "else",
            "ref", "op", "tap", "as", "inputs"]
    roll = rng.random()
    if depth > 4 or roll < 0.3:
        leaf = rng.choice([None, True, 0, 3, -1, 2.5, "conv", "relu", "same", "x", [], {}, "number", "string"])
        if leaf == "number":  # a marker, replaced by the raw number text once dumped (Python cannot hold all of them)
            return NUMBER_MARKER
        if leaf == "string":
            return odd_string(rng)
        return leaf
    if roll < 0.6:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randint(1, 4))}


def check_keras(architecture: archspec.Architecture) -> str:
    """The emitted Keras model has the parameters and the output shapes (every output) the report says."""
    report = architecture.analyze()
    model = architecture.to_keras()
    if model.count_params() != report.totals.params:
        return f"Keras counts {model.count_params():,} params, the report {report.totals.params:,}"
    keras_shapes = [tuple(output.shape[1:]) for output in model.outputs]
    report_shapes = [tuple(shape) for _, shape in report.outputs]
    if keras_shapes != report_shapes:
        return f"Keras' output shapes are {keras_shapes}, the report's {report_shapes}"
    return ""


def check_properties(path: Path, with_keras: bool = False) -> str:
    """For an accepted spec: fmt idempotent, both round trips stable, the generated module clean,
    and (when asked) the emitted model's parameter count equal to the report's."""
    architecture = archspec.load(path)
    text = architecture.to_arch()
    again = archspec.parse(text, "again.arch")
    if again.to_arch() != text:
        return "fmt is not idempotent"
    if again.to_dict() != architecture.to_dict():
        return ".arch -> JSON -> .arch changed the spec"
    as_json = archspec.parse(architecture.to_json(), "a.json")
    through_arch = archspec.parse(as_json.to_arch(), "b.arch")
    if through_arch.to_dict() != architecture.to_dict():
        return "JSON -> .arch -> JSON changed the spec"
    if report_without_locations(as_json) != report_without_locations(architecture):
        return "the JSON form's report differs from the .arch form's"
    found = generated_source.problems(architecture.to_python())
    if found:
        return "the generated module: " + "; ".join(found)
    return check_keras(architecture) if with_keras else ""


def odd_file_name(rng: random.Random) -> str:
    """A file name with what the file system allows and generated code must not be broken by."""
    pieces = ["case", "\n", "\r", "\t", "\u2028", "\u0085", '"""', "'", "\\", "import os; os.system('x')", "#", " ", "é", "{", "%s"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))


def run_case(data: bytes, suffix: str, folder: Path, arguments: tuple[str, ...] = (), stem: str = "case",
             with_keras: bool = False) -> tuple[bool, str]:
    path = folder / f"{stem}{suffix}"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", "-q", *arguments, str(path)])
    except BaseException:  # noqa: BLE001 - anything escaping main is exactly what we hunt
        return False, traceback.format_exc()
    text = err.getvalue()
    if "Traceback" in text:
        return False, f"exit {code}\n{text}"
    if arguments and code == 2:
        return (True, "") if text.startswith(("archspec: error: --set", "archspec: error: --input")) and "Traceback" not in text else (False, text)
    if code not in (0, 1):
        return False, f"exit {code}\n{text}"
    if code == 1:
        first = text.splitlines()[0] if text else ""
        if not LOCATED.match(first) and not arguments:
            return False, f"unlocated diagnostic:\n{text}"
    if code == 0 and not arguments:
        try:
            problem = check_properties(path, with_keras)
        except BaseException:  # noqa: BLE001
            return False, traceback.format_exc()
        if problem:
            return False, problem
    return True, ""


def main_fuzz() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save-failures", type=Path, default=None)
    parser.add_argument("--keras-every", type=int, default=0, metavar="N",
                        help="also build every Nth case in Keras and compare count_params and the output shape (0: never)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    originals = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "specs").glob("*.arch"))]
    failures = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for index in range(args.cases):
            arguments: tuple[str, ...] = ()
            if index % 10 == 9:
                document = {"network": "N", "input": [8, 8, 3], "body": [random_json(rng) for _ in range(rng.randint(1, 4))]}
                data, suffix = dump_with_numbers(document, rng).encode("utf-8", "surrogatepass"), ".json"
            elif index % 10 == 7:  # --input with huge and odd sizes
                data, suffix = mutate(rng.choice(originals), rng) if rng.random() < 0.3 else b"network N\ninput 8x8x3\nconv(4, 3) flatten dense(2)\n", ".arch"
                arguments = ("--input=" + "x".join(odd_number(rng) if rng.random() < 0.4 else str(rng.randint(0, 40))
                                                  for _ in range(rng.randint(1, 4))),)
            elif index % 10 == 8:  # --set with a value of any JSON type, on a spec whose parameter feeds a layer
                data, suffix = b"network N(p=8)\ninput 8x8x3\nconv(p, 1) flatten dense(p)\n", ".arch"
                value = random_json(rng, 3)
                arguments = ("--set", f"p={value if isinstance(value, str) else dump_with_numbers(value, rng)}")
            else:
                data, suffix = mutate(rng.choice(originals), rng), ".arch"
            stem = odd_file_name(rng) if index % 10 == 6 else "case"
            with_keras = bool(args.keras_every) and index % args.keras_every == 0
            ok, detail = run_case(data, suffix, Path(folder), arguments, stem, with_keras)
            if not ok:
                failures.append((data, suffix, detail))
                if args.save_failures:
                    args.save_failures.mkdir(parents=True, exist_ok=True)
                    (args.save_failures / f"failure{len(failures)}{suffix}").write_bytes(data)
                    (args.save_failures / f"failure{len(failures)}.txt").write_text(detail, encoding="utf-8")
            if (index + 1) % 10_000 == 0:
                print(f"{index + 1:,} cases, {len(failures)} failures, {time.perf_counter() - start:.0f} s", flush=True)
    elapsed = time.perf_counter() - start
    print(f"{args.cases:,} cases in {elapsed:.0f} s ({args.cases / elapsed:,.0f}/s), seed {args.seed}: {len(failures)} failures")
    for data, suffix, detail in failures[:5]:
        print("---", suffix, data[:200], "\n", detail[-1500:])
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main_fuzz())
