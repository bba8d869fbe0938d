"""Boot the built Image several times per configuration and print how long the
loader and the kernel take: the time from `loader: start` to the last line of
an event, `kernel: frames` unless `--until` names another (`kernel:early` is
the time until every hart has started, `kernel:late` until every hart is
ready). The table has a row per `-smp`, a column per `-m` with the median
and the spread of the boots, and the ratio of the largest memory size's
median to the smallest's.

The times are the boot log's own timestamps (the guest's `time` CSR), so they
leave out QEMU's start-up and OpenSBI. That clock follows the host's, so
boots run at once (`--jobs 2`) on a host with fewer CPUs than their harts
slow each other down: by default they run one after another.

    tools/bench boot --until kernel:late
    tools/bench boot --runs 9 --memory 128M 2G --smp 1 4 --jobs 2
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aubade.bench.boots import FROM_EVENT, boot_to_power_off, log_path, matching
from aubade.bench.options import add_boot_options, at_least_one, benchmarked_board, image_of
from aubade.bench.table import format_table
from aubade.bootlog import KNOWN_EVENTS
from aubade.qemu import QemuConfig, format_command

NAME = "boot"
SUMMARY = "the loader's and the kernel's time to an event, per -smp and -m (guest clock)"


def until_event(text: str) -> tuple[str, str]:
    """An argparse type: COMPONENT:EVENT, an event of the boot log. Checked
    as the command line is read, before anything is booted."""
    component, _, event = text.partition(":")
    kind = f"{component.strip()}: {event.strip()}"
    if kind not in KNOWN_EVENTS:
        valid = ", ".join(sorted(known.replace(": ", ":") for known in KNOWN_EVENTS))
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an event of the boot log; valid events: {valid}"
        )
    return component.strip(), event.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_boot_options(parser, NAME, "configuration")
    parser.add_argument(
        "--memory",
        nargs="+",
        default=["128M", "1G", "8G"],
        help="QEMU -m sizes, smallest first (default: %(default)s)",
    )
    parser.add_argument(
        "--smp",
        nargs="+",
        type=at_least_one,
        default=[1, 4, 8],
        help="QEMU -smp counts (default: %(default)s)",
    )
    parser.add_argument(
        "--jobs", type=at_least_one, default=1, help="boots run at once (default: %(default)s)"
    )
    parser.add_argument(
        "--append", default="poweroff", help="kernel command line (default: %(default)s)"
    )
    parser.add_argument(
        "--until",
        type=until_event,
        default="kernel:frames",
        metavar="COMPONENT:EVENT",
        help="measure to the last line of this event (default: %(default)s)",
    )


def measure_boot(config: QemuConfig, until: tuple[str, str], logs: Path, run: int) -> float:
    """Seconds from FROM_EVENT to the last `until` event in one boot."""
    name = f"smp{config.smp}-{config.memory}-run{run}"
    machine = boot_to_power_off(f"bench boot {name}", config, log_path(logs, name))
    start = matching(machine, *FROM_EVENT)[0]
    end = matching(machine, *until)[-1]
    return end.time - start.time


def run(args: argparse.Namespace) -> int:
    board = benchmarked_board(args.board)
    image = image_of(args, board)
    configs = {
        (smp, memory): QemuConfig(board, image, smp=smp, memory=memory, append=args.append)
        for smp in args.smp
        for memory in args.memory
    }
    for config in configs.values():
        print(format_command(config.command()), file=sys.stderr)
    boots = [(key, run) for key in configs for run in range(1, args.runs + 1)]
    with ThreadPoolExecutor(args.jobs) as pool:
        try:
            seconds = list(
                pool.map(
                    lambda boot: measure_boot(configs[boot[0]], args.until, args.logs, boot[1]),
                    boots,
                )
            )
        finally:
            # Whatever ended the run (a failure, Ctrl-C), no further boot starts.
            pool.shutdown(cancel_futures=True)
    milliseconds: dict[tuple[int, str], list[float]] = {key: [] for key in configs}
    for (key, _), time in zip(boots, seconds, strict=True):
        milliseconds[key].append(time * 1000)
    span = f"from the first `{': '.join(FROM_EVENT)}` to the last `{': '.join(args.until)}`"
    print(f"ms {span}, median (min-max) of {args.runs} boots, {args.jobs} at a time")
    print(format_table(milliseconds, args.smp, args.memory))
    return 0
