#!/usr/bin/env python3
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

    tools/bench_boot.py --until kernel:late
    tools/bench_boot.py --runs 9 --memory 128M 2G --smp 1 4 --jobs 2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aubade.benchconsole import BenchError, add_boot_options, failure_report
from aubade.benchtable import format_table
from aubade.boards import load_board
from aubade.bootlog import Event, parse_events, select
from aubade.qemu import QemuConfig, format_command

REPO = Path(__file__).resolve().parents[1]
FROM_EVENT = ("loader", "start")
BOOT_TIMEOUT_SECONDS = 120


def boot_events(config: QemuConfig) -> tuple[list[Event], str]:
    """The events and the console of one boot run to an orderly power-off."""
    try:
        result = subprocess.run(
            config.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=BOOT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        console = (error.stdout or b"").decode(errors="replace")
        headline = f"no power-off within {BOOT_TIMEOUT_SECONDS} s"
        raise BenchError(failure_report(headline, console)) from None
    console = result.stdout.decode(errors="replace")
    if result.returncode != 0:
        raise BenchError(failure_report(f"QEMU exited with status {result.returncode}", console))
    return parse_events(console), console


def measure_boot(config: QemuConfig, until: tuple[str, str]) -> float:
    """Seconds from FROM_EVENT to the last `until` event in one boot."""
    events, console = boot_events(config)
    start = matching(events, *FROM_EVENT, console)[0]
    end = matching(events, *until, console)[-1]
    return end.time - start.time


def matching(events: list[Event], component: str, name: str, console: str) -> list[Event]:
    matching = select(events, component, name)
    if not matching:
        raise BenchError(failure_report(f"no `{component}: {name}` line", console))
    return matching


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_boot_options(parser, "configuration")
    parser.add_argument(
        "--memory",
        nargs="+",
        default=["128M", "1G", "8G"],
        help="QEMU -m sizes, smallest first (default: %(default)s)",
    )
    parser.add_argument(
        "--smp",
        nargs="+",
        type=int,
        default=[1, 4, 8],
        help="QEMU -smp counts (default: %(default)s)",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="boots run at once (default: %(default)s)"
    )
    parser.add_argument(
        "--append", default="poweroff", help="kernel command line (default: %(default)s)"
    )
    parser.add_argument(
        "--until",
        default="kernel:frames",
        help="measure to the last line of this COMPONENT:EVENT (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    component, _, event = args.until.partition(":")
    until = (component.strip(), event.strip())
    if args.runs < 1 or args.jobs < 1:
        parser.error("--runs and --jobs must be at least 1")

    board = load_board(args.board)
    if not board.qemu.exits_on_poweroff:
        # Each boot is timed from its whole console, which ends when QEMU does.
        parser.error(f"QEMU does not exit at power-off on {board.name}: benchmark another board")
    image = args.image or REPO / "build" / board.name / "Image"
    configs = {
        (smp, memory): QemuConfig(board, image, smp=smp, memory=memory, append=args.append)
        for smp in args.smp
        for memory in args.memory
    }
    for config in configs.values():
        print(format_command(config.command()), file=sys.stderr)
    boots = [key for key in configs for _ in range(args.runs)]
    with ThreadPoolExecutor(args.jobs) as pool:
        try:
            seconds = list(pool.map(lambda key: measure_boot(configs[key], until), boots))
        except BenchError as error:
            pool.shutdown(cancel_futures=True)
            print(f"boot failed: {error}", file=sys.stderr)
            return 1
    milliseconds: dict[tuple[int, str], list[float]] = {key: [] for key in configs}
    for key, time in zip(boots, seconds, strict=True):
        milliseconds[key].append(time * 1000)
    span = f"from the first `{': '.join(FROM_EVENT)}` to the last `{': '.join(until)}`"
    print(f"ms {span}, median (min-max) of {args.runs} boots, {args.jobs} at a time")
    print(format_table(milliseconds, args.smp, args.memory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
