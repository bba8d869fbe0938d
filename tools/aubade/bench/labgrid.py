"""Boot the same machine four ways, directly and through labgrid, and print
what one boot costs each way, median (min-max) in ms, with the ratio of the
farm's to QEMU's own:

- qemu: QEMU entering the Image directly, `-append poweroff` (the boot
  tests' QEMU boots);
- qemu-u-boot: QEMU entering U-Boot, whose distro boot finds the Image and
  `poweroff` on an SD image (its autoboot countdown included);
- labgrid: labgrid's QEMU through U-Boot (boards/labgrid/qemu-virt-uboot.yaml):
  the strategy writes the card, stops autoboot at the prompt, sets
  `bootargs` and boots;
- farm: the same through a farm on this machine (aubade.labgrid_farm):
  the place's console over the network from labgrid's exporter through
  ser2net, the pretend board's power switch, the coordinator's lock.

The machine is the environment files': virt, -smp 4, -m 256M. Each boot is
timed on the host's clock by the harness's console loop (aubade.machine),
from its power-on to the `kernel: poweroff` line read from the console, and
to the machine switched off again: QEMU's exit for the first two; for
labgrid, whose targets stay on at power-off like a board, the console
fallen silent and the strategy's way to `off`. Boots run one at a time,
round after round of the four ways.

    .venv/bin/scons sdimage
    .venv/bin/python tools/bench labgrid --runs 9
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

from aubade.bench.boots import BOOT_TIMEOUT_SECONDS, log_path
from aubade.bench.errors import BenchError, BenchUsageError
from aubade.bench.options import REPO, add_boot_options, image_of
from aubade.bench.table import format_table
from aubade.boards import load_board
from aubade.machine import Machine
from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget
from aubade.sdimage import write_sd_image
from aubade.target import Target

NAME = "labgrid"
SUMMARY = "one boot directly in QEMU, through U-Boot, through labgrid, and on a farm"
APPEND = "poweroff"
SMP, MEMORY = 4, "256M"
"""The machine of boards/labgrid/*.yaml."""
QEMU_UBOOT_ENV = REPO / "boards" / "labgrid" / "qemu-virt-uboot.yaml"
WAYS = ("qemu", "qemu-u-boot", "labgrid", "farm")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_boot_options(parser, NAME, "way", image=False)


def measure(name: str, target: Target, logs: Path) -> tuple[float, float]:
    """Seconds from power-on to `kernel: poweroff` read, and to the machine off."""
    machine = Machine(name, target, log_path(logs, name), quiet=True)
    try:
        machine.power_on()
        poweroff = machine.wait_for("kernel", "poweroff", BOOT_TIMEOUT_SECONDS)
        machine.wait_exit(BOOT_TIMEOUT_SECONDS)
    finally:
        machine.close()
    return machine.arrival_of(poweroff), machine.elapsed()


def run(args: argparse.Namespace) -> int:
    # Here, not above: `tools/bench --help` runs without the venv, which
    # alone has labgrid.
    from labgrid import Environment

    from aubade.labgrid_farm import FarmError, loopback_farm
    from aubade.labgrid_target import LabgridTarget

    if args.board != "virt":
        raise BenchUsageError(f"--board {args.board}: the labgrid environments boot virt")
    board = load_board("virt")
    image = image_of(args, board)
    built_card = REPO / "build" / board.name / "sdcard.img"
    if not built_card.is_file():
        raise BenchUsageError(
            f"no {built_card}, the card labgrid's strategy writes: run `scons sdimage`"
        )
    with tempfile.TemporaryDirectory(prefix="bench-labgrid-") as scratch:
        work = Path(scratch)
        card = write_sd_image(image, work / "card.img", board.name, APPEND).path
        direct = QemuConfig(board, image, smp=SMP, memory=MEMORY, append=APPEND)
        through_u_boot = QemuConfig(board, image, smp=SMP, memory=MEMORY, sd_image=card)
        try:
            with loopback_farm(work, card, SMP, MEMORY) as farm:
                on_farm = Environment(str(farm.env_file))
                on_farm.config.set_option("coordinator_address", farm.address)
                local = Environment(str(QEMU_UBOOT_ENV))
                targets: dict[str, Callable[[], Target]] = {
                    "qemu": lambda: QemuTarget(direct, send_delay=None),
                    "qemu-u-boot": lambda: QemuTarget(through_u_boot, send_delay=None),
                    "labgrid": lambda: LabgridTarget(local, APPEND),
                    "farm": lambda: LabgridTarget(on_farm, APPEND),
                }
                times = {way: [] for way in WAYS}
                try:
                    for run_number in range(1, args.runs + 1):
                        for way in WAYS:
                            times[way].append(
                                measure(f"{way}-run{run_number}", targets[way](), args.logs)
                            )
                finally:
                    local.cleanup()
                    on_farm.cleanup()
        except FarmError as error:
            raise BenchError(f"the farm did not come up: {error}") from None
    print(f"ms, median (min-max) of {args.runs} boots each, one at a time, virt -smp {SMP}")
    for title, index in (("power-on to `kernel: poweroff` read", 0), ("power-on to off", 1)):
        milliseconds = {(SMP, way): [boot[index] * 1000 for boot in times[way]] for way in WAYS}
        print(f"\nhost clock: {title} (ratio: farm/qemu)")
        print(format_table(milliseconds, [SMP], list(WAYS)))
    return 0
