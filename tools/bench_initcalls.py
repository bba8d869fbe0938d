#!/usr/bin/env python3
"""The slowest init calls of a boot, measured by the kernel itself.

Boots the built Image several times with `initcall_debug` and reads the
`init: call token=... fn=... hart=... us=...` lines. For each init token, a
boot's figure is its slowest hart's call; the table gives the median (and
the spread) over the boots, slowest first.

Barrier calls (smp_barrier) mostly measure how long a hart waited for the
others, not work: they are listed apart.

    tools/bench_initcalls.py
    tools/bench_initcalls.py --smp 8 --runs 9 --top 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from bench_boot import boot_events

from aubade.benchconsole import BenchError, add_boot_options
from aubade.boards import load_board
from aubade.bootlog import Event, select
from aubade.qemu import QemuConfig, format_command

REPO = Path(__file__).resolve().parents[1]
WAITING_FUNCTIONS = {"smp_barrier"}


def slowest_hart_per_token(events: list[Event]) -> dict[tuple[str, str], int]:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_boot_options(parser, None, image=False)
    parser.add_argument("--smp", type=int, default=4, help="QEMU -smp (default: %(default)s)")
    parser.add_argument("--memory", default="256M", help="QEMU -m (default: %(default)s)")
    parser.add_argument("--top", type=int, default=5, help="calls listed (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.top < 1:
        parser.error("--runs and --top must be at least 1")

    board = load_board(args.board)
    if not board.qemu.exits_on_poweroff:
        parser.error(f"QEMU does not exit at power-off on {board.name}: benchmark another board")
    config = QemuConfig(
        board,
        REPO / "build" / board.name / "Image",
        smp=args.smp,
        memory=args.memory,
        append="poweroff initcall_debug",
    )
    print(format_command(config.command()), file=sys.stderr)
    samples: dict[tuple[str, str], list[int]] = defaultdict(list)
    for _ in range(args.runs):
        try:
            events, _console = boot_events(config)
        except BenchError as error:
            print(f"boot failed: {error}", file=sys.stderr)
            return 1
        for key, us in slowest_hart_per_token(events).items():
            samples[key].append(us)

    work = {key: values for key, values in samples.items() if key[1] not in WAITING_FUNCTIONS}
    waits = {key: values for key, values in samples.items() if key[1] in WAITING_FUNCTIONS}
    where = f"-smp {args.smp} -m {args.memory}, {args.runs} boots, slowest hart per boot, us"
    print(format_rows(f"slowest init calls ({where}):", work, args.top))
    print(format_rows("barriers (time spent waiting for the other harts):", waits, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
