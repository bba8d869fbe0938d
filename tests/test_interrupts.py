"""Device interrupts, end to end: bytes typed on the console reach the kernel.

Each board boots without `poweroff` and with `loglevel=debug`, so that once
every hart has said `kernel: late` the machine idles with its interrupts on.
"hello\\r" typed on the console must come back as `console: rx` traces that
count its bytes, printed by the boot hart, where the device tree routes the
UART's interrupt (through the PLIC context that interrupts-extended gives it).
"""

from __future__ import annotations

import pytest
from configurations import SIFIVE_U, TEST_LOG_DIR, VIRT, built
from harness.machine import Machine
from harness.qemu_target import QemuTarget

from aubade.boards import Board
from aubade.bootlog import Event
from aubade.qemu import QemuConfig

TYPED = b"hello\r"
# sifive_u at -smp 3: two U54s, so that the boot hart is not the only one.
MACHINES = ((VIRT, 2, "256M"), (SIFIVE_U, 3, SIFIVE_U.qemu.memory))


@pytest.mark.parametrize(
    ("board", "smp", "memory"), MACHINES, ids=[board.name for board, _, _ in MACHINES]
)
def test_typed_bytes_are_received_by_the_boot_hart(board: Board, smp: int, memory: str) -> None:
    name = f"{board.name}-smp{smp}-console-rx"
    config = QemuConfig(
        board, built(board, "Image"), smp=smp, memory=memory, append="loglevel=debug"
    )
    machine = Machine(name, QemuTarget(config), TEST_LOG_DIR / f"{name}.log")
    received: list[Event] = []
    try:
        machine.power_on()
        boot_hart = machine.wait_for("loader", "start", timeout=30).field("hart")
        online = machine.wait_for("kernel", "online", timeout=15)
        for _ in range(online.int_field("count")):
            machine.wait_for("kernel", "late", timeout=15)
        machine.send(TYPED)
        while sum(event.int_field("bytes") for event in received) < len(TYPED):
            received.append(machine.wait_for("console", "rx", timeout=10))
    finally:
        machine.close()

    report = machine.report(f"{TYPED!r} was not received as expected")
    assert sum(event.int_field("bytes") for event in received) == len(TYPED), report
    assert {event.field("cpu") for event in received} == {boot_hart}, report
