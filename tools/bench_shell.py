#!/usr/bin/env python3
"""Boot the built Image to the shell several times per `-smp` and print how
long the prompt (`aubade> `) takes to appear, median (min-max) in ms:

- from `loader: start`, on the guest's clock: the boot log's timestamp of
  `loader: start` to the `uptime` the shell gives for a command typed as
  soon as the prompt is seen. That bounds the prompt's time from above by
  the typing round trip, which is printed too.
- from QEMU's start, on the host's clock: the process started to the prompt
  read from its console. This includes QEMU's own start-up and OpenSBI.

Each boot is then powered off with the shell's `poweroff`, which must end
QEMU with status 0. Boots run one after another: the guest's clock follows
the host's, and boots run at once slow each other down.

    tools/bench_shell.py
    tools/bench_shell.py --runs 9 --smp 1 4 8 --memory 2G
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass

from bench_boot import BOOT_TIMEOUT_SECONDS, FROM_EVENT, REPO, matching

from aubade.benchconsole import BenchError, add_boot_options, started_console
from aubade.benchtable import format_table
from aubade.boards import load_board
from aubade.bootlog import parse_events
from aubade.qemu import QemuConfig, format_command

PROMPT = re.compile(re.escape("aubade> "))
UPTIME = re.compile(r"uptime (\d+\.\d{6}) s\r?\n")
ANSWER_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class ShellBoot:
    """One boot's times to the prompt, in seconds."""

    from_loader_start: float
    """Guest clock: `loader: start` to the first command's `uptime`."""
    from_qemu_start: float
    """Host clock: QEMU started to the prompt read."""
    round_trip: float
    """Host clock: `uptime` typed to its answer read."""


def measure_shell_boot(config: QemuConfig) -> ShellBoot:
    with started_console(config) as console:
        console.wait_for(PROMPT, BOOT_TIMEOUT_SECONDS, "prompt")
        prompt_seen = console.elapsed()
        console.type(b"uptime\r")
        uptime = float(console.wait_for(UPTIME, ANSWER_TIMEOUT_SECONDS, "`uptime` answer")[1])
        answered = console.elapsed()
        console.type(b"poweroff\r")
        console.power_off(ANSWER_TIMEOUT_SECONDS)
    start = matching(parse_events(console.text), *FROM_EVENT, console.text)[0]
    return ShellBoot(uptime - start.time, prompt_seen, answered - prompt_seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_boot_options(parser, "-smp")
    parser.add_argument("--memory", default="256M", help="QEMU -m (default: %(default)s)")
    parser.add_argument(
        "--smp", nargs="+", type=int, default=[1, 8], help="QEMU -smp counts (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    board = load_board(args.board)
    if not board.qemu.exits_on_poweroff:
        parser.error(f"QEMU does not exit at power-off on {board.name}: benchmark another board")
    image = args.image or REPO / "build" / board.name / "Image"
    configs = {smp: QemuConfig(board, image, smp=smp, memory=args.memory) for smp in args.smp}
    for config in configs.values():
        print(format_command(config.command()), file=sys.stderr)
    boots: dict[int, list[ShellBoot]] = {smp: [] for smp in args.smp}
    try:
        for smp, config in configs.items():
            for _ in range(args.runs):
                boots[smp].append(measure_shell_boot(config))
    except BenchError as error:
        print(f"boot failed: {error}", file=sys.stderr)
        return 1

    tables = (
        (f"from `{': '.join(FROM_EVENT)}` (guest clock)", "from_loader_start"),
        ("from QEMU's start (host clock)", "from_qemu_start"),
        ("typing round trip, the first bound's slack (host clock)", "round_trip"),
    )
    print(f"ms to the prompt, median (min-max) of {args.runs} boots")
    for title, attribute in tables:
        milliseconds = {
            (smp, args.memory): [getattr(boot, attribute) * 1000 for boot in boots[smp]]
            for smp in args.smp
        }
        print(f"\n{title}")
        print(format_table(milliseconds, args.smp, [args.memory]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
