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

This is a benchmark of its own rather than an option of `tools/bench boot`:
that one times the kernel on its own clock from `loader: start`, where what
came before does not count, while this one is about what comes before, which
only the host's clock sees as the console streams in.

Boots alternate between the two ways, so that a change in the host's load
during the run weighs on both alike. Both clocks follow the host's, so boots
run at once (`--jobs 2`) on a host with fewer CPUs than their harts slow each
other down: by default they run one after another.

    tools/bench u-boot
    tools/bench u-boot --runs 9 --smp 1 2 4 --memory 1G
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

from aubade.bench.boots import (
    BOOT_TIMEOUT_SECONDS,
    FROM_EVENT,
    booted,
    log_path,
    matching,
    run_to_power_off,
)
from aubade.bench.errors import BenchError, BenchUsageError
from aubade.bench.options import (
    add_boot_options,
    add_machine_options,
    at_least_one,
    benchmarked_board,
    image_of,
)
from aubade.bench.table import format_table
from aubade.boards import NotEmulatedError
from aubade.qemu import QemuConfig, format_command
from aubade.sdimage import SdImageError, write_sd_image

NAME = "u-boot"
SUMMARY = "time to `kernel: init` entered directly and through U-Boot, per -smp"
APPEND = "poweroff"
UNTIL_EVENT = ("kernel", "init")
_UNTIL = f"`{': '.join(UNTIL_EVENT)}`"
AUTOBOOT = "Hit any key to stop autoboot:"
# U-Boot counts down on the autoboot line and ends it when the count ends.
COUNTDOWN_END = re.compile("\n")
POWEROFF_TIMEOUT_SECONDS = 10.0
DIRECT, U_BOOT = "direct", "u-boot"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_boot_options(parser, NAME, "-smp and way")
    add_machine_options(parser, [1, 4])
    parser.add_argument(
        "--jobs", type=at_least_one, default=1, help="boots run at once (default: %(default)s)"
    )


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


def measure(config: QemuConfig, way: str, logs: Path, run: int) -> Boot:
    name = f"smp{config.smp}-{way}-run{run}"
    countdown = 0.0
    with booted(f"bench u-boot {name}", config, log_path(logs, name)) as machine:
        if config.sd_image is not None:
            counting = machine.wait_for_text(AUTOBOOT, BOOT_TIMEOUT_SECONDS)
            counted = machine.wait_for_text(COUNTDOWN_END, BOOT_TIMEOUT_SECONDS)
            countdown = counted.arrived - counting.arrived
        until = machine.wait_for(*UNTIL_EVENT, BOOT_TIMEOUT_SECONDS)
        to_until = machine.arrival_of(until)
        run_to_power_off(machine, POWEROFF_TIMEOUT_SECONDS)
    start = matching(machine, *FROM_EVENT)[0]
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


def run(args: argparse.Namespace) -> int:
    board = benchmarked_board(args.board)
    try:
        _ = board.u_boot
    except NotEmulatedError as error:
        raise BenchUsageError(str(error)) from None
    image = image_of(args, board)
    with tempfile.TemporaryDirectory(prefix="bench-u-boot-") as scratch:
        try:
            sd_image = write_sd_image(image, Path(scratch) / "sdcard.img", board.name, APPEND)
        except SdImageError as error:
            raise BenchError(f"no SD image: {error}") from None
        print(sd_image.describe(), file=sys.stderr)
        configs = {}
        for smp in args.smp:
            direct = QemuConfig(board, image, smp=smp, memory=args.memory, append=APPEND)
            configs[smp, DIRECT] = direct
            configs[smp, U_BOOT] = replace(direct, append="", sd_image=sd_image.path)
        for config in configs.values():
            print(format_command(config.command()), file=sys.stderr)
        # Round after round of every configuration, not run after run of one (see above).
        boots = [(key, run) for run in range(1, args.runs + 1) for key in configs]
        with ThreadPoolExecutor(args.jobs) as pool:
            try:
                measured = list(
                    pool.map(
                        lambda boot: measure(configs[boot[0]], boot[0][1], args.logs, boot[1]),
                        boots,
                    )
                )
            finally:
                # Whatever ended the run (a failure, Ctrl-C), no further boot
                # starts; the pool's exit still waits for those running.
                pool.shutdown(cancel_futures=True)
    by_key: dict[tuple[int, str], list[Boot]] = {key: [] for key in configs}
    for (key, _), boot in zip(boots, measured, strict=True):
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
