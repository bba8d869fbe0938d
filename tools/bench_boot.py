#!/usr/bin/env python3
"""Boot the built Image several times per configuration and print how long the
loader and the early kernel take: the median time from `loader: start` to
`kernel: frames`, or to the last line of another event (`--until
kernel:early` is the time until every hart has started).

The times are the boot log's own timestamps (the guest's `time` CSR), so they
leave out QEMU's start-up and OpenSBI. Boots run one after another, so they
do not compete for the host's CPUs.

    tools/bench_boot.py --runs 9 --memory 128M 1G 2G --smp 1 4
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from aubade.boards import load_board
from aubade.bootlog import Event, parse_events, select
from aubade.qemu import QemuConfig, format_command

REPO = Path(__file__).resolve().parents[1]
FROM_EVENT = ("loader", "start")
BOOT_TIMEOUT_SECONDS = 120
_TAIL_LINES = 20


class BenchError(Exception):
    """A boot did not run to an orderly power-off with both events."""


def measure_boot(config: QemuConfig, until: tuple[str, str]) -> float:
    """Seconds from FROM_EVENT to the last `until` event in one boot."""
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
        raise BenchError(_report(headline, console)) from None
    console = result.stdout.decode(errors="replace")
    if result.returncode != 0:
        raise BenchError(_report(f"QEMU exited with status {result.returncode}", console))
    events = parse_events(console)
    start = _matching(events, *FROM_EVENT, console)[0]
    end = _matching(events, *until, console)[-1]
    return end.time - start.time


def _matching(events: list[Event], component: str, name: str, console: str) -> list[Event]:
    matching = select(events, component, name)
    if not matching:
        raise BenchError(_report(f"no `{component}: {name}` line", console))
    return matching


def _report(headline: str, console: str) -> str:
    """The failure and the console's last lines (main printed the command before the boot)."""
    tail = "\n".join(f"  | {line}" for line in console.splitlines()[-_TAIL_LINES:])
    return f"{headline}; last console lines:\n{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--board", default="virt", help="board description (default: %(default)s)")
    parser.add_argument("--image", type=Path, help="image to boot (default: build/<board>/Image)")
    parser.add_argument(
        "--runs", type=int, default=5, help="boots per configuration (default: %(default)s)"
    )
    parser.add_argument(
        "--memory", nargs="+", default=["128M", "2G"], help="QEMU -m sizes (default: %(default)s)"
    )
    parser.add_argument(
        "--smp", nargs="+", type=int, default=[1], help="QEMU -smp counts (default: %(default)s)"
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
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    board = load_board(args.board)
    if not board.qemu_exits_on_poweroff:
        # Each boot is timed from its whole console, which ends when QEMU does.
        parser.error(f"QEMU does not exit at power-off on {board.name}: benchmark another board")
    image = args.image or REPO / "build" / board.name / "Image"
    print(f"{'memory':>8} {'smp':>4} {'runs':>5} {'median ms':>10} {'min ms':>10} {'max ms':>10}")
    for memory in args.memory:
        for smp in args.smp:
            config = QemuConfig(board, image, smp=smp, memory=memory, append=args.append)
            print(format_command(config.command()), file=sys.stderr)
            try:
                milliseconds = [measure_boot(config, until) * 1000 for _ in range(args.runs)]
            except BenchError as error:
                print(f"boot failed: {error}", file=sys.stderr)
                return 1
            print(
                f"{memory:>8} {smp:>4} {args.runs:>5} {statistics.median(milliseconds):>10.3f}"
                f" {min(milliseconds):>10.3f} {max(milliseconds):>10.3f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
