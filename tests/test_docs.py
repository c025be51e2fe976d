"""The documentation's examples, run and compared with what the docs show.

Every fenced block of README.md and docs/*.md (not docs/gallery) that holds shell lines
(`$ archspec ...`, `$ cat FILE`, `$ echo $?`) is run here, in-process, in a copy of
docs/examples/, and each command's output (standard output and standard error together, in
the order they were written, as a terminal shows them) is compared with the lines that follow
it in the block. Python blocks with `>>>` prompts are run as doctests.

In a documented output a line `...` stands for any run of lines (none included), and a line
ending in `...` for any line that starts with the text before it, so long outputs can stay
trimmed.

An HTML comment on the line before a fence (blank lines aside) changes what is done with it:

    <!-- doc-test: skip -->             the block is not run (it trains, builds Keras models, ...)
    <!-- doc-test: skip: REASON -->     the same, saying why
    <!-- doc-test: $ COMMAND -->        the whole block is the output of COMMAND (for blocks
                                        that show only an output, or JSON fragments)
    <!-- doc-test: file NAME -->        the block is the content of docs/examples/NAME (a path
                                        relative to docs/examples/)
    <!-- doc-test: python EXPR -->      the block is the text that the Python expression EXPR
                                        returns (`archspec` is imported)

Pipelines may chain `archspec` (reading `-` from the pipe), `head -N`/`head -n N` and
`jq -c FILTER` for simple filters (`.key`, `[]`, `[N]`, `,`), emulated here.

`pytest --update-goldens tests/test_docs.py` rewrites the documented outputs with the real
ones, keeping `...` trims where the rest still matches and otherwise rewriting the kept lines
around them; review `git diff README.md docs` (and the prose around each change) afterwards.
"""

from __future__ import annotations

import difflib
import doctest
import io
import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import ROOT, run_cli

EXAMPLES = ROOT / "docs" / "examples"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DIRECTIVE = re.compile(r"^<!--\s*doc-test:\s*(.*?)\s*-->$")
FENCE = re.compile(r"^(\s*)(`{3,})(.*)$")
SLOW = {"train", "predict"}  # they train models (and may download data): mark such blocks skip


# ---------------------------------------------------------------------------------------------
# Reading the docs


@dataclass
class Block:
    doc: Path
    index: int  # the block's ordinal among the fenced blocks of its file
    line: int  # 1-based line of the opening fence
    info: str
    body: list[str]
    directive: str | None

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def kind(self) -> str | None:
        if self.directive:
            if self.directive == "skip" or self.directive.startswith("skip:"):
                return "skip"
            for kind in ("$", "file", "python"):
                if self.directive.startswith(kind + " "):
                    return kind
            return "unknown"
        if any(line.startswith("$ ") for line in self.body):
            return "shell"
        if any(line.lstrip().startswith(">>> ") for line in self.body):
            return "doctest"
        return None


def read_blocks(doc: Path) -> list[Block]:
    lines = doc.read_text(encoding="utf-8").split("\n")
    blocks, i, last_text = [], 0, None
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            if lines[i].strip():
                last_text = lines[i].strip()
            i += 1
            continue
        indent, ticks, info = opening.groups()
        end = i + 1
        while end < len(lines) and lines[end].strip() != ticks:
            end += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[i + 1:end]]
        directive = DIRECTIVE.match(last_text or "")
        blocks.append(Block(doc, len(blocks), i + 1, info.strip(), body, directive.group(1) if directive else None))
        i, last_text = end + 1, None
    return blocks


def replace_block(doc: Path, index: int, body: list[str]) -> None:
    """Rewrite the body of the `index`-th fenced block of `doc`, keeping its indentation."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    block = read_blocks(doc)[index]
    start = block.line  # the line after the fence, 0-based
    indent = FENCE.match(lines[block.line - 1]).group(1)
    lines[start:start + len(block.body)] = [indent + line if line else line for line in body]
    doc.write_text("\n".join(lines), encoding="utf-8")


ALL_BLOCKS = [block for doc in DOCS for block in read_blocks(doc) if block.kind]


# ---------------------------------------------------------------------------------------------
# Comparing outputs: `...` lines match any run of lines


def is_gap(pattern: str) -> bool:
    return pattern.strip() == "..."


def line_matches(pattern: str, line: str) -> bool:
    if pattern == line:
        return True
    return pattern.endswith("...") and not is_gap(pattern) and line.startswith(pattern[:-3])


def split_gaps(patterns: list[str]) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    for pattern in patterns:
        if is_gap(pattern):
            segments.append([])
        else:
            segments[-1].append(pattern)
    return segments


def segment_at(segment: list[str], lines: list[str], start: int) -> bool:
    return start + len(segment) <= len(lines) and all(line_matches(p, lines[start + k]) for k, p in enumerate(segment))


def match(patterns: list[str], lines: list[str]) -> bool:
    """Whether `lines` fit `patterns`: the first and last segments are anchored at the ends,
    the segments between `...` lines are found leftmost (which is optimal for such patterns)."""
    segments = split_gaps(patterns)
    if len(segments) == 1:
        return len(patterns) == len(lines) and segment_at(patterns, lines, 0)
    head, *middle, tail = segments
    end = len(lines) - len(tail)
    if end < len(head) or not segment_at(head, lines, 0) or not segment_at(tail, lines, end):
        return False
    position = len(head)
    for segment in middle:
        found = next((k for k in range(position, end - len(segment) + 1) if segment_at(segment, lines, k)), None)
        if found is None:
            return False
        position = found + len(segment)
    return True


def refresh(patterns: list[str], lines: list[str]) -> list[str]:
    """New documented lines for a real output: the patterns if they still match, else the real
    output trimmed the same way, each kept segment rewritten from the run of lines it aligns with
    best (the first segment at the start, the last at the end). The result always matches."""
    if match(patterns, lines):
        return patterns
    segments = split_gaps(patterns)
    if len(segments) == 1:
        return list(lines)
    gaps = [p for p in patterns if is_gap(p)]
    head, *middle, tail = segments
    tail_start, tail_lines = align(tail, lines, 0, len(lines), anchor_start=False, anchor_end=True)
    head_end, new = align(head, lines, 0, tail_start, anchor_start=True, anchor_end=False)
    for gap, segment in zip(gaps, middle):
        found = align(segment, lines, head_end, tail_start, anchor_start=False, anchor_end=False)
        new += [gap, *found[1]]
        head_end = found[0]
    return new + [gaps[-1], *tail_lines]


GAP = 0.4  # the cost of a line missing on either side when aligning, against a similarity in [0.6, 1]


def align(segment: list[str], lines: list[str], lo: int, hi: int, anchor_start: bool, anchor_end: bool) -> tuple[int, list[str]]:
    """Align `segment` with a run of `lines[lo:hi]` (from `lo` if `anchor_start`, up to `hi` if
    `anchor_end`), allowing lines missing on either side. Returns the far end of the run (its
    end, or its start when `anchor_end`) and the run, where a pattern ending in `...` is kept, or
    cut at the same length, on the line it aligns with."""
    width, height = hi - lo, len(segment)
    if not segment:
        return (hi if anchor_end else lo), []
    score = [[0.0] * (width + 1) for _ in range(height + 1)]
    move = [[""] * (width + 1) for _ in range(height + 1)]
    for j in range(1, width + 1):
        score[0][j], move[0][j] = (-GAP * j, "left") if anchor_start else (0.0, "start")
    for i in range(1, height + 1):
        score[i][0], move[i][0] = -GAP * i, "up"
        for j in range(1, width + 1):
            pair = score[i - 1][j - 1] + similarity(segment[i - 1], lines[lo + j - 1])
            score[i][j], move[i][j] = max((pair, "pair"), (score[i - 1][j] - GAP, "up"), (score[i][j - 1] - GAP, "left"))
    end = width if anchor_end else max(range(width + 1), key=lambda j: (score[height][j], -j))
    i, j, run = height, end, []
    while i > 0 or (j > 0 and move[0][j] == "left"):
        step = move[i][j]
        if step == "pair":
            run.append(kept(segment[i - 1], lines[lo + j - 1]))
            i, j = i - 1, j - 1
        elif step == "up":
            i -= 1
        else:
            run.append(lines[lo + j - 1])
            j -= 1
    run.reverse()
    return (lo + j if anchor_end else lo + end), run


def kept(pattern: str, line: str) -> str:
    if line_matches(pattern, line):
        return pattern
    if pattern.endswith("...") and len(line) > len(pattern) - 3:
        return line[:len(pattern) - 3] + "..."
    return line


def similarity(pattern: str, line: str) -> float:
    if line_matches(pattern, line):
        return 1.0
    ratio = difflib.SequenceMatcher(None, pattern, line).ratio()
    return ratio if ratio >= 0.6 else -1.0


# ---------------------------------------------------------------------------------------------
# Running the commands


@dataclass
class Shell:
    """Just enough of a shell for the docs: archspec in-process, cat, echo $?, head, jq -c."""

    status: int = 0  # of the last command, for `echo $?`

    def run(self, command: str) -> str:
        """Run a command line; returns what a terminal shows (both streams, in order)."""
        if command.strip() == "echo $?":
            return f"{self.status}\n"
        stages = split_pipeline(command)
        terminal, piped = [], None
        for number, words in enumerate(stages, 1):
            out, err, merged = self.stage(words, piped)
            if number == len(stages):
                terminal.append(merged)
            else:  # a pipe takes standard output; standard error still reaches the terminal
                terminal.append(err)
                piped = out
        return "".join(terminal)

    def stage(self, words: list[str], piped: str | None) -> tuple[str, str, str]:
        """Run one stage: (standard output, standard error, both in the order written)."""
        name, args = words[0], words[1:]
        if name == "archspec":
            if args and args[0] in SLOW:
                pytest.fail(f"`archspec {args[0]}` trains or loads models: mark the block <!-- doc-test: skip -->")
            if args[:1] == ["diagram"] and "dot" not in args and shutil.which("dot") is None:
                pytest.skip("Graphviz's `dot` is not installed")
            self.status, out, err, merged = run_archspec(args, piped)
            return out, err, merged
        self.status = 0
        if name == "cat" and len(args) == 1 and piped is None:
            path = Path(args[0])
            if not path.exists():
                self.status = 1
                error = f"cat: {args[0]}: No such file or directory\n"
                return "", error, error
            text = path.read_text(encoding="utf-8")
            return text, "", text
        if name == "head" and piped is not None:
            count = int(args[1]) if args[:1] == ["-n"] else int(args[0].lstrip("-")) if args else 10
            text = "".join(piped.splitlines(keepends=True)[:count])
            return text, "", text
        if name == "jq" and args[:1] == ["-c"] and len(args) == 2 and piped is not None:
            text = "".join(json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n"
                           for value in jq(args[1], json.loads(piped)))
            return text, "", text
        pytest.fail(f"the doc test cannot run {shlex.join(words)!r}: emulate it in tests/test_docs.py or mark the block skip")


def split_pipeline(command: str) -> list[list[str]]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars="|")
    lexer.whitespace_split = True
    stages: list[list[str]] = [[]]
    for token in lexer:
        if token == "|":
            stages.append([])
        else:
            stages[-1].append(token)
    if not all(stages):
        pytest.fail(f"cannot parse the command {command!r}")
    return stages


def run_archspec(args: list[str], stdin: str | None) -> tuple[int, str, str, str]:
    """(exit code, standard output, standard error, both interleaved as the docs show them)."""
    result = run_cli(*args, stdin=stdin)
    return result.code, result.out, result.err, result.terminal


def jq(program: str, value):
    """`jq -c PROGRAM` for paths joined by `,`: `.`, `.key`, `[]`, `[N]`."""
    for path in program.split(","):
        path = path.strip()
        if not re.fullmatch(r"\.(?:[A-Za-z_$][\w$]*|\[\d*\])?(?:\.[A-Za-z_$][\w$]*|\[\d*\])*", path):
            pytest.fail(f"the jq emulation cannot run {program!r}")
        results = [value]
        for step in re.findall(r"\.[A-Za-z_$][\w$]*|\[\d*\]", path):
            if step == "[]":
                results = [item for result in results for item in (result.values() if isinstance(result, dict) else result)]
            elif step.startswith("["):
                results = [result[int(step[1:-1])] for result in results]
            else:
                results = [result.get(step[1:]) for result in results]
        yield from results


def output_lines(text: str) -> list[str]:
    return text.splitlines()


# ---------------------------------------------------------------------------------------------
# The tests


@pytest.fixture
def examples(tmp_path, monkeypatch):
    """A copy of docs/examples/ as the working folder (examples such as `fmt` change files)."""
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps usage lines to the terminal's width
    return folder


def commands_of(body: list[str]) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for line in body:
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
        else:
            pytest.fail(f"a line before the block's first `$` command: {line!r}")
    return commands


def diff(expected: list[str], actual: list[str]) -> str:
    return "\n".join(difflib.unified_diff(expected, actual, "documented", "actual", lineterm="", n=2))


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[block.id for block in ALL_BLOCKS])
def test_doc_example(block: Block, examples: Path, request: pytest.FixtureRequest) -> None:
    update = request.config.getoption("--update-goldens")
    kind = block.kind
    if kind == "skip":
        pytest.skip(f"marked <!-- doc-test: {block.directive} -->")
    if kind == "unknown":
        pytest.fail(f"{block.id}: unknown directive <!-- doc-test: {block.directive} -->; see tests/test_docs.py", pytrace=False)
    if kind == "doctest":
        run_doctest(block)
        return
    if kind == "shell":
        shell, new_body, problems = Shell(), [], []
        for command, expected in commands_of(block.body):
            actual = output_lines(shell.run(command))
            if not match(expected, actual):
                problems.append(f"$ {command}\n{diff(expected, actual)}")
            new_body += [f"$ {command}", *refresh(expected, actual)]
    else:
        if kind == "$":
            actual = output_lines(Shell().run(block.directive[2:]))
        elif kind == "file":
            actual = output_lines((EXAMPLES / block.directive[5:].strip()).read_text(encoding="utf-8"))
        else:
            import archspec

            actual = output_lines(str(eval(block.directive[7:], {"archspec": archspec})))
        problems = [] if match(block.body, actual) else [f"<!-- doc-test: {block.directive} -->\n{diff(block.body, actual)}"]
        new_body = refresh(block.body, actual)
    if problems and update:
        replace_block(block.doc, block.index, new_body)
        return
    if problems:
        pytest.fail(f"{block.id}: the documented output differs (refresh with pytest --update-goldens "
                    f"tests/test_docs.py and review the diff):\n" + "\n".join(problems), pytrace=False)


def run_doctest(block: Block) -> None:
    import archspec

    parser = doctest.DocTestParser()
    test = parser.get_doctest("\n".join(block.body) + "\n", {"archspec": archspec}, block.id, str(block.doc), block.line)
    output = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=output.write)
    if runner.failures:
        pytest.fail(f"{block.id}: a Python example differs:\n{output.getvalue()}", pytrace=False)


def test_every_example_file_is_used() -> None:
    """docs/examples/ holds what the docs use, nothing more."""
    text = "\n".join(doc.read_text(encoding="utf-8") for doc in DOCS)
    unused = [path.name for path in sorted(EXAMPLES.iterdir()) if path.name not in text]
    assert not unused, f"files in docs/examples/ that no doc mentions: {unused}"


def test_the_matcher() -> None:
    assert match(["a", "...", "d"], ["a", "b", "c", "d"])
    assert match(["a", "...", "c", "..."], ["a", "b", "c", "d"])
    assert match(["...", "x"], ["x"])
    assert match(["  ...", "x", "..."], ["w", "x", "y", "x"])
    assert match(["warning: ..."], ["warning: something"])
    assert not match(["a", "...", "d"], ["a", "b", "c"])
    assert not match(["a", "...", "a"], ["a"])
    assert not match(["a"], ["a", "b"])
    assert not match(["warning: ..."], ["note: something"])


def test_refresh_keeps_trims() -> None:
    unchanged = ["a", "...", "z"]
    assert refresh(unchanged, ["a", "b", "z"]) is unchanged
    old = ["title", "conv_1  5 /1", "...", "params  10", "..."]
    real = ["title", "conv_1  5 s1", "relu_1  5 s1", "params  10", "MACs  7", "warning: w"]
    assert refresh(old, real) == ["title", "conv_1  5 s1", "...", "params  10", "..."]
    # a line inserted inside a kept segment is kept; the segment still ends where it did
    old = ["{", '  "size": 6,', '  "aligned": true', "  },", "  ...", "}"]
    real = ["{", '  "size": 6,', '  "layer": "d",', '  "aligned": true', "  },", "  {", "  },", "}"]
    assert refresh(old, real) == ["{", '  "size": 6,', '  "layer": "d",', '  "aligned": true', "  },", "  ...", "}"]
    # a line cut with `...` is cut at the same place
    assert refresh(["x", "...", "warning: add 'down' ..."], ["x", "y", "warning: add 'dn' merges"]) == \
        ["x", "...", "warning: add 'dn' me..."]
    # kept lines that are gone are dropped
    assert refresh(["a", "b", "...", "c", "d"], ["a", "c"]) == ["a", "...", "c"]
