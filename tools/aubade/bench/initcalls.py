"""The slowest init calls of a boot, measured by the kernel itself.

Boots the built Image several times with `initcall_debug` and reads the
`init: call token=... fn=... hart=... us=...` lines. For each init token, a
boot's figure is its slowest hart's call; the table gives the median (and
the spread) over the boots, slowest first.

Barrier calls (smp_barrier) mostly measure how long a hart waited for the
others, not work: they are listed apart.

    tools/bench initcalls
    tools/bench initcalls --smp 8 --runs 9 --top 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable

from aubade.bench.boots import boot_to_power_off, log_path
from aubade.bench.options import add_boot_options, at_least_one, benchmarked_board, image_of
from aubade.bootlog import Event, select
from aubade.qemu import QemuConfig, format_command

NAME = "initcalls"
SUMMARY = "the slowest init calls, as the kernel times them with initcall_debug"
WAITING_FUNCTIONS = {"smp_barrier"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_boot_options(parser, NAME, None, image=False)
    parser.add_argument(
        "--smp", type=at_least_one, default=4, help="QEMU -smp (default: %(default)s)"
    )
    parser.add_argument("--memory", default="256M", help="QEMU -m (default: %(default)s)")
    parser.add_argument(
        "--top", type=at_least_one, default=5, help="calls listed (default: %(default)s)"
    )


def slowest_hart_per_token(events: Iterable[Event]) -> dict[tuple[str, str], int]:
    """Per (token, function): the longest any hart took, in microseconds."""
    slowest: dict[tuple[str, str], int] = {}
    for call in select(events, "init", "call"):
        key = (call.field("token"), call.field("fn"))
        slowest[key] = max(slowest.get(key, 0), call.int_field("us"))
    return slowest


def format_rows(title: str, samples: dict[tuple[str, str], list[int]], top: int) -> str:
    rows = sorted(samples.items(), key=lambda item: -statistics.median(item[1]))[:top]
    lines = [title, f"  {'token':16} {'function':24} {'median':>8}  min-max"]
    for (token, function), values in rows:
        median = statistics.median(values)
        lines.append(f"  {token:16} {function:24} {median:8.0f}  {min(values)}-{max(values)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    board = benchmarked_board(args.board)
    config = QemuConfig(
        board,
        image_of(args, board),
        smp=args.smp,
        memory=args.memory,
        append="poweroff initcall_debug",
    )
    print(format_command(config.command()), file=sys.stderr)
    samples: dict[tuple[str, str], list[int]] = defaultdict(list)
    for number in range(1, args.runs + 1):
        name = f"smp{args.smp}-{args.memory}-run{number}"
        machine = boot_to_power_off(f"bench initcalls {name}", config, log_path(args.logs, name))
        for key, us in slowest_hart_per_token(machine.events).items():
            samples[key].append(us)

    work = {key: values for key, values in samples.items() if key[1] not in WAITING_FUNCTIONS}
    waits = {key: values for key, values in samples.items() if key[1] in WAITING_FUNCTIONS}
    where = f"-smp {args.smp} -m {args.memory}, {args.runs} boots, slowest hart per boot, us"
    print(format_rows(f"slowest init calls ({where}):", work, args.top))
    print(format_rows("barriers (time spent waiting for the other harts):", waits, args.top))
    return 0
