"""How long the kernel takes to rebuild after no change, after an edit to one
.c file and after an edit to one header, for one revision or side by side for
several.

Each revision is checked out into a temporary git worktree (the checkout you
work in is never touched) and built once. Then every round runs, in each tree
in turn, the three steps:

1. no-op: `scons -Q board=NAME` with nothing changed;
2. .c edit: a new function appended to the file that defines kmalloc;
3. header edit: a new declaration appended to the header that declares
   kmalloc (the header a change to the heap's interface touches).

The edits are real changes, not a touch: SCons decides by content, so a file
whose bytes did not change rebuilds nothing, and a comment would not change
the object file either. The table gives each step's median time and the
compiler runs it took; with several revisions, the last column is the ratio
of the last revision's median to the first's. Ratios in one run, not times,
are the figure to compare: the trees share one machine and its noise.

    tools/bench rebuild                     this checkout's HEAD
    tools/bench rebuild 3db9ddb HEAD        before and after a change
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aubade.bench.errors import BenchError, BenchUsageError
from aubade.bench.options import at_least_one

NAME = "rebuild"
SUMMARY = "no-op, one .c file and one header rebuild times, side by side for revisions"
REPO = Path(__file__).resolve().parents[3]
STEPS = ("no-op", ".c edit", "header edit")
KMALLOC = re.compile(r"^void \*kmalloc\(", re.MULTILINE)
COMPILE = re.compile(r"^\S*gcc .* -c ", re.MULTILINE)


@dataclass
class Tree:
    """One revision's worktree and the two files its edits change."""

    revision: str
    path: Path
    source: Path
    header: Path
    seconds: dict[str, list[float]] = field(default_factory=dict)
    compiles: dict[str, list[int]] = field(default_factory=dict)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "revisions",
        nargs="*",
        default=["HEAD"],
        metavar="REV",
        help="git revisions to measure side by side (default: HEAD)",
    )
    parser.add_argument("--board", default="virt", help="the board to build (default: virt)")
    parser.add_argument(
        "--runs", type=at_least_one, default=5, help="rounds of the three steps (default: 5)"
    )


def run(args: argparse.Namespace) -> int:
    commits = [resolve(revision) for revision in args.revisions]
    with tempfile.TemporaryDirectory(prefix="aubade-rebuild-") as scratch:
        trees: list[Tree] = []
        try:
            for index, (revision, commit) in enumerate(zip(args.revisions, commits, strict=True)):
                trees.append(check_out(revision, commit, Path(scratch) / str(index)))
            for tree in trees:
                print(f"rebuild: first build of {tree.revision}", file=sys.stderr)
                scons(tree, args.board)
            for round_number in range(args.runs):
                # Rotating the order keeps a tree from always running right
                # after the other one warmed (or cooled) the caches.
                shift = round_number % len(trees)
                for tree in trees[shift:] + trees[:shift]:
                    measure_round(tree, args.board, round_number)
        finally:
            for tree in trees:
                git("worktree", "remove", "--force", str(tree.path))
    print(format_table(trees))
    return 0


def resolve(revision: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BenchUsageError(f"{revision}: not a revision of this repository (see `git log`)")
    return result.stdout.strip()


def check_out(revision: str, commit: str, path: Path) -> Tree:
    git("worktree", "add", "--detach", "--quiet", str(path), commit)
    return Tree(revision, path, defining(path, "*.c"), defining(path, "*.h"))


def defining(tree: Path, pattern: str) -> Path:
    """The one file under kernel/ matching `pattern` that declares or defines kmalloc."""
    candidates = sorted((tree / "kernel").rglob(pattern))
    found = [path for path in candidates if KMALLOC.search(path.read_text())]
    if len(found) != 1:
        names = ", ".join(str(path.relative_to(tree)) for path in found) or "none"
        raise BenchError(f"expected one kernel {pattern} file with `void *kmalloc(`, found {names}")
    return found[0]


def measure_round(tree: Tree, board: str, round_number: int) -> None:
    name = f"rebuild_bench_{round_number}"
    function = f"\nint {name}(void);\nint {name}(void) {{ return {round_number}; }}\n"
    edits = {
        "no-op": None,
        ".c edit": (tree.source, function),
        "header edit": (tree.header, f"\nint {name}_declared(void);\n"),
    }
    for step, edit in edits.items():
        if edit:
            path, text = edit
            with path.open("a") as file:
                file.write(text)
        started = time.monotonic()
        output = scons(tree, board)
        tree.seconds.setdefault(step, []).append(time.monotonic() - started)
        tree.compiles.setdefault(step, []).append(len(COMPILE.findall(output)))


def scons(tree: Tree, board: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "SCons", "-Q", f"board={board}"],
        cwd=tree.path,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BenchError(f"scons failed in {tree.revision}:\n{result.stdout}{result.stderr}")
    return result.stdout


def git(*arguments: str) -> None:
    subprocess.run(["git", "-C", str(REPO), *arguments], check=True)


def format_table(trees: list[Tree]) -> str:
    """Per step: each revision's median seconds (spread) and compiles, then the ratio."""
    ratio = [f"{trees[-1].revision}/{trees[0].revision}"] if len(trees) > 1 else []
    header = ["step", *(tree.revision for tree in trees), *ratio]
    rows = []
    for step in STEPS:
        cells = []
        for tree in trees:
            seconds = tree.seconds[step]
            compiles = statistics.median(tree.compiles[step])
            cells.append(
                f"{statistics.median(seconds):.2f}s ({min(seconds):.2f}-{max(seconds):.2f}),"
                f" {compiles:g} cc"
            )
        if ratio:
            last = statistics.median(trees[-1].seconds[step])
            first = statistics.median(trees[0].seconds[step])
            cells.append(f"{last / first:.2f}x")
        rows.append([step, *cells])
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )
