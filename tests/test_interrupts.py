"""Device interrupts, end to end: what is typed on the console reaches the shell.

Each machine boots without `poweroff` and with `loglevel=debug` to the
shell's prompt. A command typed there must be answered, and its bytes must
come back as `console: rx` traces that count them, printed by the hart the
kernel routed the UART's interrupt to (`irq: route`): the boot hart,
wherever the UART's controller reaches it.

The machines are one of each interrupt controller the kernel drives: the
PLIC (virt; sifive_u, whose contexts are numbered otherwise; virt with two
NUMA sockets, a PLIC each), the APLIC in direct mode and the APLIC sending
MSIs to IMSICs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import fdt
import pytest
from configurations import (
    APLIC,
    APLIC_IMSIC,
    NUMA_SOCKETS,
    SIFIVE_U,
    TEST_LOG_DIR,
    VIRT,
    BootConfig,
)

from aubade.bootlog import Event
from aubade.machine import Machine
from aubade.qemu import dump_device_tree
from aubade.qemu_target import QemuTarget

WORD = "typed-through"
TYPED = f"echo {WORD}\r".encode()
PROMPT = "aubade> "
CAUSE_SUPERVISOR_EXTERNAL = 9
# sifive_u at -smp 3: two U54s, so that the boot hart is not the only one.
MACHINES = (
    BootConfig(VIRT, 2, "256M"),
    BootConfig(SIFIVE_U, 3, SIFIVE_U.qemu.memory),
    *(BootConfig(VIRT, 4, "256M", variant=variant) for variant in (APLIC, APLIC_IMSIC)),
    BootConfig(VIRT, 4, "512M", variant=NUMA_SOCKETS),
)


def _harts_reached(dtb: Path) -> set[int]:
    """The harts whose S-mode external interrupt the console UART's
    controller drives, read from the device tree: through its own
    interrupts-extended (PLIC, APLIC in direct mode), or those of the IMSIC
    its msi-parent names (APLIC in MSI mode)."""
    tree = fdt.parse_dtb(dtb.read_bytes())
    nodes = [node for _, children, _ in tree.walk() for node in children]
    by_phandle = {
        node.get_property("phandle").value: node for node in nodes if node.exist_property("phandle")
    }
    node = tree.get_node(tree.get_property("stdout-path", "/chosen").value)
    while not node.exist_property("interrupt-parent"):  # inherited from an ancestor
        node = node.parent
    controller = by_phandle[node.get_property("interrupt-parent").value]
    if controller.exist_property("msi-parent"):
        controller = by_phandle[controller.get_property("msi-parent").value]
    outputs = list(controller.get_property("interrupts-extended").data)
    return {
        by_phandle[intc].parent.get_property("reg").value
        for intc, cause in zip(outputs[::2], outputs[1::2], strict=True)
        if cause == CAUSE_SUPERVISOR_EXTERNAL
    }


@pytest.mark.parametrize("config", MACHINES, ids=[config.id for config in MACHINES])
def test_typed_command_is_answered_and_received_by_the_hart_routed_to(
    config: BootConfig,
) -> None:
    name = f"{config.id}-console-rx"
    qemu = replace(config.qemu(), append="loglevel=debug")
    machine = Machine(name, QemuTarget(qemu), TEST_LOG_DIR / f"{name}.log")
    received: list[Event] = []
    try:
        machine.power_on()
        boot_hart = machine.wait_for("loader", "start", timeout=30).int_field("hart")
        online = machine.wait_for("kernel", "online", timeout=15)
        route = machine.wait_for("irq", "route", timeout=15)
        for _ in range(online.int_field("count")):
            machine.wait_for("kernel", "late", timeout=15)
        machine.wait_for_text(PROMPT, timeout=10)
        machine.send(TYPED)
        answer = machine.wait_for_text(PROMPT, timeout=10)
        while sum(event.int_field("bytes") for event in received) < len(TYPED):
            received.append(machine.wait_for("console", "rx", timeout=10))
    finally:
        machine.close()

    report = machine.report(f"{TYPED!r} was not received as expected")
    assert WORD in answer.lines, report
    assert sum(event.int_field("bytes") for event in received) == len(TYPED), report
    reached = _harts_reached(dump_device_tree(qemu, TEST_LOG_DIR / f"{name}.dtb"))
    routed = route.int_field("hart")
    assert routed in reached, f"routed to hart {routed}, not one of {sorted(reached)}\n{report}"
    if boot_hart in reached:
        assert routed == boot_hart, report
    assert {event.int_field("cpu") for event in received} == {routed}, report
