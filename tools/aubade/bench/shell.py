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

    tools/bench shell
    tools/bench shell --runs 9 --smp 1 4 8 --memory 2G
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from aubade.bench.boots import (
    BOOT_TIMEOUT_SECONDS,
    FROM_EVENT,
    booted,
    log_path,
    matching,
    run_to_power_off,
)
from aubade.bench.options import (
    add_boot_options,
    add_machine_options,
    benchmarked_board,
    image_of,
)
from aubade.bench.table import format_table
from aubade.qemu import QemuConfig, format_command

NAME = "shell"
SUMMARY = "time to the shell's prompt, per -smp (guest and host clocks)"
PROMPT = "aubade> "
# The terminal QEMU prints on turns each line end into one more \r.
UPTIME = re.compile(r"uptime (\d+\.\d{6}) s\r*\n")
ANSWER_TIMEOUT_SECONDS = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_boot_options(parser, NAME, "-smp")
    add_machine_options(parser, [1, 8])


@dataclass(frozen=True)
class ShellBoot:
    """One boot's times to the prompt, in seconds."""

    from_loader_start: float
    """Guest clock: `loader: start` to the first command's `uptime`."""
    from_qemu_start: float
    """Host clock: QEMU started to the prompt read."""
    round_trip: float
    """Host clock: the prompt read to the `uptime` answer read (typing it between)."""


def measure_shell_boot(config: QemuConfig, logs: Path, run: int) -> ShellBoot:
    name = f"smp{config.smp}-{config.memory}-run{run}"
    with booted(f"bench shell {name}", config, log_path(logs, name)) as machine:
        prompt = machine.wait_for_text(PROMPT, BOOT_TIMEOUT_SECONDS)
        machine.send(b"uptime\r")
        answer = machine.wait_for_text(UPTIME, ANSWER_TIMEOUT_SECONDS)
        machine.send(b"poweroff\r")
        run_to_power_off(machine, ANSWER_TIMEOUT_SECONDS)
    start = matching(machine, *FROM_EVENT)[0]
    return ShellBoot(
        from_loader_start=float(answer.match[1]) - start.time,
        from_qemu_start=prompt.arrived,
        round_trip=answer.arrived - prompt.arrived,
    )


def run(args: argparse.Namespace) -> int:
    board = benchmarked_board(args.board)
    image = image_of(args, board)
    configs = {smp: QemuConfig(board, image, smp=smp, memory=args.memory) for smp in args.smp}
    for config in configs.values():
        print(format_command(config.command()), file=sys.stderr)
    boots = {
        smp: [measure_shell_boot(config, args.logs, run) for run in range(1, args.runs + 1)]
        for smp, config in configs.items()
    }
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
