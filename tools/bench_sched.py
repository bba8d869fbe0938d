#!/usr/bin/env python3
"""Boot the in-kernel scheduler cases several times and print what they measure.

The `context` and `sched` ktest cases note their figures in the KTAP report:
the cost of a bare context_switch and of a switch through the scheduler
(two tasks on one hart yielding to each other), in cycles as `rdcycle` counts
them on the guest, and the stress run's counts. This collects them over
several boots per `-smp` and prints the median and the spread of each.

    tools/bench_sched.py
    tools/bench_sched.py --runs 9 --smp 1 4 8
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from bench_boot import boot_events

from aubade.benchconsole import BenchError, add_boot_options
from aubade.boards import load_board
from aubade.qemu import QemuConfig, format_command

REPO = Path(__file__).resolve().parents[1]
# Each figure: its name in the table, and the pattern of the note that gives it.
FIGURES = {
    "context_switch cycles": re.compile(
        r"# switch_runs_the_other_context\S*: context_switch cycles=(\d+)"
    ),
    "schedule switch cycles": re.compile(r"# yield_switches\S*: schedule switch cycles=(\d+)"),
    "schedule switch ns": re.compile(r"# yield_switches\S*: schedule switch cycles=\d+ ns=(\d+)"),
    "stress counts": re.compile(r"# stress_on_every_hart: stress .* counts=(\d+)"),
    "stress sleeps": re.compile(r"# stress_on_every_hart: stress .* sleeps=(\d+)"),
    "stress switches": re.compile(r"# stress_on_every_hart: stress .* switches=(\d+)"),
    "stress ms": re.compile(r"# stress_on_every_hart: stress tasks=\d+ ms=(\d+)"),
}


def measure(config: QemuConfig) -> dict[str, int]:
    """The figures of one boot; a figure the report lacks is an error."""
    _, console = boot_events(config)
    if "not ok" in console:
        raise BenchError("a case failed:\n" + console)
    figures = {}
    for name, pattern in FIGURES.items():
        match = pattern.search(console)
        if match is None:
            raise BenchError(f"no `{name}` in the report:\n{console}")
        figures[name] = int(match.group(1))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_boot_options(parser, "-smp", image=False)
    parser.add_argument(
        "--smp", nargs="+", type=int, default=[1, 4], help="QEMU -smp counts (default: %(default)s)"
    )
    parser.add_argument("--memory", default="256M", help="QEMU -m (default: %(default)s)")
    args = parser.parse_args(argv)
    board = load_board(args.board)
    image = REPO / "build" / board.name / "Image"
    for smp in args.smp:
        config = QemuConfig(board, image, smp=smp, memory=args.memory, append="ktest=context,sched")
        print(f"-smp {smp}: {format_command(config.command())}", flush=True)
        runs: defaultdict[str, list[int]] = defaultdict(list)
        try:
            for _ in range(args.runs):
                for name, value in measure(config).items():
                    runs[name].append(value)
        except BenchError as error:
            print(f"bench_sched: {error}", file=sys.stderr)
            return 1
        for name, values in runs.items():
            print(f"  {name:24} {statistics.median(values):>10.0f}  ({min(values)}-{max(values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
