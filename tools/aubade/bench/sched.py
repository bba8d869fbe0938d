"""Boot the in-kernel scheduler cases several times and print what they measure.

The `context` and `sched` ktest cases note their figures in the KTAP report:
the cost of a bare context_switch and of a switch through the scheduler
(two tasks on one hart yielding to each other), in cycles as `rdcycle` counts
them on the guest, and the stress run's counts. This collects them over
several boots per `-smp` and prints the median and the spread of each.

    tools/bench sched
    tools/bench sched --runs 9 --smp 1 4 8
"""

from __future__ import annotations

import argparse
import re
import statistics
from collections import defaultdict

from aubade.bench.boots import boot_to_power_off, log_path
from aubade.bench.errors import BenchError
from aubade.bench.options import (
    add_boot_options,
    add_machine_options,
    benchmarked_board,
    image_of,
)
from aubade.machine import Machine
from aubade.qemu import QemuConfig, format_command

NAME = "sched"
SUMMARY = "context switch and scheduler costs from the ktest cases, per -smp (guest cycles)"
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_boot_options(parser, NAME, "-smp", image=False)
    add_machine_options(parser, [1, 4])


def figures(machine: Machine) -> dict[str, int]:
    """The figures of one boot's report; a case that failed or a figure the
    report lacks is an error."""
    if "not ok" in machine.text:
        raise BenchError(machine.report("a case failed (`not ok`)"))
    found = {}
    for name, pattern in FIGURES.items():
        match = pattern.search(machine.text)
        if match is None:
            raise BenchError(machine.report(f"no `{name}` in the report"))
        found[name] = int(match.group(1))
    return found


def run(args: argparse.Namespace) -> int:
    board = benchmarked_board(args.board)
    image = image_of(args, board)
    for smp in args.smp:
        config = QemuConfig(board, image, smp=smp, memory=args.memory, append="ktest=context,sched")
        print(f"-smp {smp}: {format_command(config.command())}", flush=True)
        runs: defaultdict[str, list[int]] = defaultdict(list)
        for number in range(1, args.runs + 1):
            name = f"smp{smp}-{args.memory}-run{number}"
            machine = boot_to_power_off(f"bench sched {name}", config, log_path(args.logs, name))
            for figure, value in figures(machine).items():
                runs[figure].append(value)
        for figure, values in runs.items():
            print(
                f"  {figure:24} {statistics.median(values):>10.0f}  ({min(values)}-{max(values)})"
            )
    return 0
