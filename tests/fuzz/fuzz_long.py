"""The long fuzz run: N mutated or random specs through `archspec check`, in-process.

    python tests/fuzz/fuzz_long.py --cases 100000 [--seed 1] [--save-failures DIR]

Every case must end with exit 0 or 1, and with 1, diagnostics located at file:line:col; an
uncaught exception or a traceback is a failure, saved (input and output) for a regression test.
Mutations: inserted, deleted and duplicated tokens and bytes, invalid UTF-8, NUL bytes, very long
lines, deep nesting; and random JSON documents. The suite runs a bounded version of the same
idea with hypothesis (tests/test_parser_fuzz.py).
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

from archspec.cli import main  # noqa: E402

TOKENS = ["conv", "(", ")", "{", "}", ",", "=", "*", "@", "x", "3", "0", "-1", "1e9", "99999999", "same", "relu", "bn",
          "repeat", "concat", "branch", "residual", "shortcut", "if", "else", "as", "block", "input", "network", "#", "\n",
          '"', "[", "]", "3x3", "//", "/", "%", "not", "and", "true", "none", "dense", "flatten", "add(@input)", "@input"]
LOCATED = re.compile(r"^\S+:\d+:\d+: (error|warning)")


def mutate(text: str, rng: random.Random) -> bytes:
    data = text.encode("utf-8")
    for _ in range(rng.randint(1, 5)):
        position = rng.randint(0, len(data))
        action = rng.choice(["insert_token", "delete", "duplicate", "bytes", "nul", "long_line", "nesting", "swap_lines"])
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
        else:
            lines = data.split(b"\n")
            rng.shuffle(lines)
            data = b"\n".join(lines)
    return data


def random_json(rng: random.Random, depth: int = 0):
    keys = ["call", "args", "kwargs", "body", "repeat", "concat", "residual", "shortcut", "shortcut_if", "if", "then", "else",
            "ref", "op", "tap", "as", "inputs"]
    roll = rng.random()
    if depth > 4 or roll < 0.3:
        return rng.choice([None, True, 0, 3, -1, 2.5, "conv", "relu", "same", "x", [], {}])
    if roll < 0.6:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randint(1, 4))}


def run_case(data: bytes, suffix: str, folder: Path) -> tuple[bool, str]:
    path = folder / f"case{suffix}"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", "-q", str(path)])
    except BaseException:  # noqa: BLE001 - anything escaping main is exactly what we hunt
        return False, traceback.format_exc()
    text = err.getvalue()
    if code not in (0, 1) or "Traceback" in text:
        return False, f"exit {code}\n{text}"
    if code == 1:
        first = text.splitlines()[0] if text else ""
        if not LOCATED.match(first):
            return False, f"unlocated diagnostic:\n{text}"
    return True, ""


def main_fuzz() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save-failures", type=Path, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    originals = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "specs").glob("*.arch"))]
    failures = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for index in range(args.cases):
            if index % 10 == 9:
                document = {"network": "N", "input": [8, 8, 3], "body": [random_json(rng) for _ in range(rng.randint(1, 4))]}
                data, suffix = json.dumps(document).encode(), ".json"
            else:
                data, suffix = mutate(rng.choice(originals), rng), ".arch"
            ok, detail = run_case(data, suffix, Path(folder))
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
