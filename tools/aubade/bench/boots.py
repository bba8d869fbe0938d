"""A benchmark's boot: QEMU on aubade.machine's console loop, the loop the
boot tests use, so that a panic fails the boot at once with the harness's
report and no QEMU outlives the benchmark (aubade.qemu_target).

Each boot's console is logged (under `--logs`, build/bench/SUBCOMMAND by
default), named after what it boots; a failure's report names the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aubade.bench.errors import BenchError
from aubade.bootlog import Event, select
from aubade.machine import Machine
from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget

FROM_EVENT = ("loader", "start")
"""Where the guest-clock times start: the loader's first line."""
BOOT_TIMEOUT_SECONDS = 120.0
"""Seconds from QEMU's start to what a boot awaits: its power-off, the prompt."""


def log_path(logs: Path, *labels: object) -> Path:
    """LOGS/LABEL-LABEL-....log: one per boot that may run at once (the
    machine locks its log)."""
    return logs / ("-".join(str(label) for label in labels) + ".log")


@contextmanager
def booted(name: str, config: QemuConfig, log: Path) -> Iterator[Machine]:
    """QEMU started on a machine named `name`; leaving the block kills it,
    whether the boot ended or failed."""
    # Typed at once: a benchmark that types times the answer.
    machine = Machine(name, QemuTarget(config, send_delay=None), log, quiet=True)
    try:
        machine.power_on()
        yield machine
    finally:
        machine.close()


def run_to_power_off(machine: Machine, timeout: float) -> None:
    """Wait for QEMU to exit, which must be with status 0 (an orderly power-off)."""
    status = machine.wait_exit(timeout)
    if status != 0:
        raise BenchError(machine.report(f"QEMU exited with status {status}"))


def boot_to_power_off(name: str, config: QemuConfig, log: Path) -> Machine:
    """One boot whose command line powers it off, run to its end."""
    with booted(name, config, log) as machine:
        run_to_power_off(machine, BOOT_TIMEOUT_SECONDS)
    return machine


def matching(machine: Machine, component: str, name: str) -> list[Event]:
    """The boot's `component: name` events; BenchError if it printed none."""
    events = select(machine.events, component, name)
    if not events:
        raise BenchError(machine.report(f"no `{component}: {name}` line"))
    return events
