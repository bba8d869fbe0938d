#!/usr/bin/env python3
"""Boot the built Image several times per `-smp` two ways and print how long
each takes to reach `kernel: init`, median (min-max) in ms:

- direct: OpenSBI (the board's firmware) enters the Image given with -kernel,
  the command line `poweroff` given with -append;
- u-boot: OpenSBI enters the board's U-Boot, whose distro boot finds
  extlinux.conf on an SD image (written from the same Image into a temporary
  directory) on a virtio disk and `booti`s the Image, the command line
  `poweroff` from extlinux's `append` line.

Three tables compare them, and a fourth shows the part of the U-Boot path that
is its autoboot countdown (`Hit any key to stop autoboot`, U-Boot's default
bootdelay), measured from that text to the end of its line:

- host clock, from QEMU's start to the `kernel: init` line read from its
  console: what a person waits for, QEMU's start-up and the firmware included;
- guest clock, the `kernel: init` line's timestamp: the guest's `time` since
  reset, which through U-Boot counts U-Boot's time too;
- guest clock, from `loader: start` to `kernel: init`: the loader and the
  kernel alone, which should not care which way they were entered.

It prints the SD image's size in bytes too.

This is a script of its own rather than an option of tools/bench_boot.py:
that one times the kernel on its own clock from `loader: start`, where what
came before does not count, while this one is about what comes before, which
only the host's clock sees as the console streams in.

Boots alternate between the two ways, so that a change in the host's load
during the run weighs on both alike. Both clocks follow the host's, so boots
run at once (`--jobs 2`) on a host with fewer CPUs than their harts slow each
other down: by default they run one after another.

    tools/bench_u_boot.py
    tools/bench_u_boot.py --runs 9 --smp 1 2 4 --memory 1G
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from operator import attrgetter
from pathlib import Path

from bench_boot import BOOT_TIMEOUT_SECONDS, FROM_EVENT, REPO, matching

from aubade.benchconsole import BenchError, add_boot_options, started_console
from aubade.benchtable import format_table
from aubade.boards import NotEmulatedError, load_board
from aubade.bootlog import parse_events, parse_line
from aubade.qemu import QemuConfig, format_command
from aubade.sdimage import SdImageError, write_sd_image

APPEND = "poweroff"
UNTIL_EVENT = ("kernel", "init")
_UNTIL = f"`{': '.join(UNTIL_EVENT)}`"
# The whole line, so that its timestamp has arrived when it is matched; the
# boot log's grammar then decides whether it is the event.
UNTIL_LINE = re.compile(rf"^[^\n]*\] {re.escape(': '.join(UNTIL_EVENT))}\b[^\n]*\n", re.MULTILINE)
AUTOBOOT = re.compile(re.escape("Hit any key to stop autoboot:"))
# U-Boot counts down on the autoboot line and ends it when the count ends.
COUNTDOWN_END = re.compile("\n")
POWEROFF_TIMEOUT_SECONDS = 10
DIRECT, U_BOOT = "direct", "u-boot"


@dataclass(frozen=True)
class Boot:
    """One boot's times, in seconds."""

    to_until: float
    """Host clock: QEMU started to the UNTIL_EVENT line read from its console."""
    until: float
    """Guest clock: the UNTIL_EVENT line's timestamp, since reset."""
    from_loader_start: float
    """Guest clock: FROM_EVENT to UNTIL_EVENT."""
    countdown: float
    """Host clock: U-Boot's autoboot countdown, none without U-Boot."""


def measure(config: QemuConfig) -> Boot:
    kind = f"{_UNTIL} line"
    countdown = 0.0
    with started_console(config) as console:
        if config.sd_image is not None:
            console.wait_for(AUTOBOOT, BOOT_TIMEOUT_SECONDS, "U-Boot autoboot countdown")
            counting = console.elapsed()
            console.wait_for(COUNTDOWN_END, BOOT_TIMEOUT_SECONDS, "end of the countdown")
            countdown = console.elapsed() - counting
        line = console.wait_for(UNTIL_LINE, BOOT_TIMEOUT_SECONDS, kind)[0]
        to_until = console.elapsed()
        until = parse_line(line)
        if until is None:
            raise console.failure(f"a garbled {kind}: {line!r}")
        console.power_off(POWEROFF_TIMEOUT_SECONDS)
    start = matching(parse_events(console.text), *FROM_EVENT, console.text)[0]
    return Boot(to_until, until.time, until.time - start.time, countdown)


Column = tuple[str, str, Callable[[Boot], float]]
"""A table's column: its label, the way of the boots it shows, and what of each boot."""


def _both_ways(seconds: Callable[[Boot], float]) -> list[Column]:
    return [(way, way, seconds) for way in (DIRECT, U_BOOT)]


TABLES: list[tuple[str, list[Column]]] = [
    (
        f"host clock: QEMU's start to the {_UNTIL} line read from its console",
        _both_ways(attrgetter("to_until")),
    ),
    (
        f"guest clock: the {_UNTIL} line's timestamp (since reset, U-Boot's time included)",
        _both_ways(attrgetter("until")),
    ),
    (
        f"guest clock: `{': '.join(FROM_EVENT)}` to {_UNTIL}",
        _both_ways(attrgetter("from_loader_start")),
    ),
    (
        f"host clock: U-Boot's autoboot countdown, of the U-Boot path's time to {_UNTIL}",
        [(U_BOOT, U_BOOT, attrgetter("to_until")), ("countdown", U_BOOT, attrgetter("countdown"))],
    ),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_boot_options(parser, "-smp and way")
    parser.add_argument("--memory", default="256M", help="QEMU -m (default: %(default)s)")
    parser.add_argument(
        "--smp", nargs="+", type=int, default=[1, 4], help="QEMU -smp counts (default: %(default)s)"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="boots run at once (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.jobs < 1:
        parser.error("--runs and --jobs must be at least 1")

    board = load_board(args.board)
    try:
        _ = board.u_boot
    except NotEmulatedError as error:
        parser.error(str(error))
    if not board.qemu.exits_on_poweroff:
        # Each boot must end on its own, at the power-off its command line asks for.
        parser.error(f"QEMU does not exit at power-off on {board.name}: benchmark another board")
    image = args.image or REPO / "build" / board.name / "Image"
    with tempfile.TemporaryDirectory(prefix="bench_u_boot-") as scratch:
        try:
            sd_image = write_sd_image(image, Path(scratch) / "sdcard.img", board.name, APPEND)
        except SdImageError as error:
            print(f"no SD image: {error}", file=sys.stderr)
            return 1
        print(sd_image.describe(), file=sys.stderr)
        configs = {}
        for smp in args.smp:
            direct = QemuConfig(board, image, smp=smp, memory=args.memory, append=APPEND)
            configs[smp, DIRECT] = direct
            configs[smp, U_BOOT] = replace(direct, append="", sd_image=sd_image.path)
        for config in configs.values():
            print(format_command(config.command()), file=sys.stderr)
        # Round after round of every configuration, not run after run of one (see above).
        boots = [key for _ in range(args.runs) for key in configs]
        with ThreadPoolExecutor(args.jobs) as pool:
            try:
                measured = list(pool.map(lambda key: measure(configs[key]), boots))
            except BenchError as error:
                print(f"boot failed: {error}", file=sys.stderr)
                return 1
            finally:
                # Whatever ended the run (a failure, Ctrl-C), no further boot
                # starts; the pool's exit still waits for those running.
                pool.shutdown(cancel_futures=True)
    by_key: dict[tuple[int, str], list[Boot]] = {key: [] for key in configs}
    for key, boot in zip(boots, measured, strict=True):
        by_key[key].append(boot)

    print(f"ms, median (min-max) of {args.runs} boots, {args.jobs} at a time, -m {args.memory}")
    print(f"SD image: {sd_image.size} bytes")
    for title, columns in TABLES:
        milliseconds = {
            (smp, label): [seconds(boot) * 1000 for boot in by_key[smp, way]]
            for smp in args.smp
            for label, way, seconds in columns
        }
        print(f"\n{title}")
        print(format_table(milliseconds, args.smp, [label for label, _, _ in columns]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
