"""Boot the firmware floor and the built Image, interleaved, and print one
table of how far Aubade's boot is above the floor:

- the floor: OpenSBI entering floor.S (built into build/bench/floor.bin at
  the board's load address), which prints `floor: up` through the SBI
  console and powers off; QEMU's start to that line on the host's clock;
- Aubade, booted to its shell's prompt (QEMU killed there): QEMU's start to
  `kernel: init`, `proc: start` and the prompt on the host's clock, with the
  ratio to the floor at the same -smp, and the guest-clock phases from the
  log's timestamps (`loader: start` → `loader: handoff` → `kernel: init` →
  `proc: start`);
- with `--scaling` (the default): `loader: start` → `kernel: init` (guest
  clock, booted with `poweroff`) per `--scaling-smp` with the ratio to the
  first, and per `--scaling-memory` at -smp 1 with the ratio to the first.

Boots go round by round (floor, Aubade, each scaling machine, then again),
so a change in the host's load weighs on all alike; one at a time.

    tools/bench floor
    tools/bench floor --runs 3 --smp 1 --no-scaling
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from aubade.bench.boot import measure_boot
from aubade.bench.boots import BOOT_TIMEOUT_SECONDS, booted, log_path, matching, run_to_power_off
from aubade.bench.floor_payload import LINE, LINE_PATTERN, build_payload
from aubade.bench.floor_table import Row, format_floor_table
from aubade.bench.options import (
    REPO,
    add_boot_options,
    add_machine_options,
    at_least_one,
    benchmarked_board,
    image_of,
)
from aubade.bench.shell import PROMPT
from aubade.qemu import QemuConfig, format_command

NAME = "floor"
SUMMARY = "Aubade's boot beside the firmware floor (OpenSBI and a minimal payload)"
PAYLOAD = REPO / "build" / "bench" / "floor.bin"
# Issue 20's targets, each a ratio to what the row is compared with.
INIT_OVER_FLOOR = {1: 1.15, 4: 1.3}
"""QEMU's start to `kernel: init`, by -smp, within this of the floor's time to its line."""
PROMPT_OVER_FLOOR = {1: 1.4}
"""QEMU's start to the shell's prompt, by -smp, within this of the floor's."""
SMP_TARGETS = {8: 2.0, 32: 4.0}
"""`loader: start` to `kernel: init` at this -smp within this of -smp 1."""
MEMORY_TARGET = ("16G", 1.1)
"""`loader: start` to `kernel: init` at 16G within 1.1x of the smallest memory."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_boot_options(parser, NAME, "machine")
    add_machine_options(parser, [1, 4])
    parser.set_defaults(runs=11)
    parser.add_argument(
        "--scaling",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add the -smp and -m scaling rows (default: %(default)s)",
    )
    parser.add_argument(
        "--scaling-smp",
        nargs="+",
        type=at_least_one,
        default=[1, 2, 4, 8, 16, 32],
        help="-smp counts of the scaling rows, the first the base (default: %(default)s)",
    )
    parser.add_argument(
        "--scaling-memory",
        nargs="+",
        default=["128M", "1G", "8G", "16G"],
        help="-m sizes of the scaling rows, the first the base (default: %(default)s)",
    )


@dataclass(frozen=True)
class AubadeBoot:
    """One boot to the prompt, in seconds."""

    to_init: float
    to_proc: float
    to_prompt: float
    """Host clock, from QEMU's start."""
    loader: float
    to_kernel: float
    kernel_to_proc: float
    """Guest clock: `loader: start` → `loader: handoff` → `kernel: init` → `proc: start`."""


def measure_floor(config: QemuConfig, logs: Path, run: int) -> float:
    """Host seconds from QEMU's start to the floor's line; it must then power off."""
    name = f"floor-smp{config.smp}-run{run}"
    with booted(f"bench floor {name}", config, log_path(logs, name)) as machine:
        line = machine.wait_for_text(LINE_PATTERN, BOOT_TIMEOUT_SECONDS)
        run_to_power_off(machine, BOOT_TIMEOUT_SECONDS)
    return line.arrived


def measure_aubade(config: QemuConfig, logs: Path, run: int) -> AubadeBoot:
    """One boot to the prompt; leaving `booted` kills QEMU there."""
    name = f"aubade-smp{config.smp}-run{run}"
    with booted(f"bench floor {name}", config, log_path(logs, name)) as machine:
        init = machine.wait_for("kernel", "init", BOOT_TIMEOUT_SECONDS)
        proc = machine.wait_for("proc", "start", BOOT_TIMEOUT_SECONDS)
        prompt = machine.wait_for_text(PROMPT, BOOT_TIMEOUT_SECONDS)
    start = matching(machine, "loader", "start")[0]
    handoff = matching(machine, "loader", "handoff")[0]
    return AubadeBoot(
        to_init=machine.arrival_of(init),
        to_proc=machine.arrival_of(proc),
        to_prompt=prompt.arrived,
        loader=handoff.time - start.time,
        to_kernel=init.time - handoff.time,
        kernel_to_proc=proc.time - init.time,
    )


def _ms(seconds: list[float]) -> list[float]:
    return [second * 1000 for second in seconds]


def run(args: argparse.Namespace) -> int:
    board = benchmarked_board(args.board)
    image = image_of(args, board)
    payload = build_payload(board, PAYLOAD)
    floors = {s: QemuConfig(board, payload, smp=s, memory=args.memory) for s in args.smp}
    aubades = {s: QemuConfig(board, image, smp=s, memory=args.memory) for s in args.smp}
    # Keyed by (smp, memory): the -smp 1 row of both scalings is one machine.
    scaling: dict[tuple[int, str], QemuConfig] = {}
    if args.scaling:
        base_memory = args.scaling_memory[0]
        keys = [(s, base_memory) for s in args.scaling_smp]
        keys += [(args.scaling_smp[0], m) for m in args.scaling_memory]
        for smp, memory in keys:
            scaling[smp, memory] = QemuConfig(
                board, image, smp=smp, memory=memory, append="poweroff"
            )
    for config in [*floors.values(), *aubades.values(), *scaling.values()]:
        print(format_command(config.command()), file=sys.stderr)

    floor_s: dict[int, list[float]] = {s: [] for s in args.smp}
    aubade_boots: dict[int, list[AubadeBoot]] = {s: [] for s in args.smp}
    scaling_s: dict[tuple[int, str], list[float]] = {key: [] for key in scaling}
    for run_number in range(1, args.runs + 1):
        for smp in args.smp:
            floor_s[smp].append(measure_floor(floors[smp], args.logs, run_number))
            aubade_boots[smp].append(measure_aubade(aubades[smp], args.logs, run_number))
        for key, config in scaling.items():
            until = ("kernel", "init")
            scaling_s[key].append(measure_boot(config, until, args.logs / "scaling", run_number))

    rows: list[Row] = []
    for smp in args.smp:
        floor_row = Row(f"QEMU start → {LINE} (floor)", "host", smp, args.memory, _ms(floor_s[smp]))
        rows.append(floor_row)
        boots = aubade_boots[smp]
        for measure, attribute, target in (
            ("QEMU start → kernel: init", "to_init", INIT_OVER_FLOOR.get(smp)),
            ("QEMU start → proc: start", "to_proc", None),
            ("QEMU start → prompt", "to_prompt", PROMPT_OVER_FLOOR.get(smp)),
        ):
            times = _ms([getattr(boot, attribute) for boot in boots])
            rows.append(
                Row(measure, "host", smp, args.memory, times, "floor", floor_row.median, target)
            )
        for measure, attribute in (
            ("loader: start → loader: handoff", "loader"),
            ("loader: handoff → kernel: init", "to_kernel"),
            ("kernel: init → proc: start", "kernel_to_proc"),
        ):
            times = _ms([getattr(boot, attribute) for boot in boots])
            rows.append(Row(measure, "guest", smp, args.memory, times))
    if scaling:
        measure = "loader: start → kernel: init"
        base_smp, base_memory = args.scaling_smp[0], args.scaling_memory[0]
        base = Row(measure, "guest", base_smp, base_memory, _ms(scaling_s[base_smp, base_memory]))
        for smp in args.scaling_smp:
            times = _ms(scaling_s[smp, base_memory])
            target = SMP_TARGETS.get(smp)
            rows.append(
                Row(
                    measure,
                    "guest",
                    smp,
                    base_memory,
                    times,
                    f"smp {base_smp}",
                    base.median,
                    target,
                )
            )
        for memory in args.scaling_memory:
            times = _ms(scaling_s[base_smp, memory])
            target = MEMORY_TARGET[1] if memory == MEMORY_TARGET[0] else None
            rows.append(
                Row(measure, "guest", base_smp, memory, times, base_memory, base.median, target)
            )
    print(f"ms, median/min/max of {args.runs} boots each, interleaved, one at a time")
    print(format_floor_table(rows))
    return 0
