"""A hart that is started but never arrives: reported offline, and the boot goes on.

sifive_u's hart 0 is an E51 monitor core: SBI HSM accepts to start it, but it
never reaches the kernel. Its cpu node normally has no mmu-type, so the
loader leaves it alone; given one (QEMU's own tree for the machine, edited,
handed over with -dtb), it looks usable, the kernel starts it, waits for it
in vain, and must say so and boot on with the others.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import fdt
from configurations import SIFIVE_U, TEST_LOG_DIR, built

from aubade.machine import Machine
from aubade.qemu import QemuConfig, dump_device_tree
from aubade.qemu_target import QemuTarget

# Two seconds of waiting for the hart, then the rest of the boot.
TIMEOUT_SECONDS = 15


def test_hart_that_never_arrives_is_reported_offline_and_the_boot_goes_on(
    tmp_path: Path,
) -> None:
    config = QemuConfig(SIFIVE_U, built(SIFIVE_U, "Image"), smp=3, append="poweroff")
    tree = fdt.parse_dtb(dump_device_tree(config, tmp_path / "qemu.dtb").read_bytes())
    monitor_core = tree.get_node("/cpus/cpu@0")
    assert monitor_core.get_property("mmu-type") is None, "hart 0 already looks usable"
    monitor_core.append(fdt.PropStrings("mmu-type", "riscv,sv39"))
    edited = tmp_path / "hart0-with-mmu.dtb"
    edited.write_bytes(tree.to_dtb(version=17))

    config = replace(config, extra_args=("-dtb", str(edited)))
    machine = Machine(
        "sifive_u-hart0-never-arrives",
        QemuTarget(config),
        TEST_LOG_DIR / "sifive_u-hart0-never-arrives.log",
    )
    try:
        machine.power_on()
        harts = machine.wait_for("loader", "harts", timeout=30)
        offline = machine.wait_for("kernel", "offline", timeout=TIMEOUT_SECONDS)
        online = machine.wait_for("kernel", "online", timeout=TIMEOUT_SECONDS)
        poweroff = machine.wait_for("kernel", "poweroff", timeout=TIMEOUT_SECONDS)
    finally:
        machine.close()

    report = machine.report("the hart that never arrives was not handled as expected")
    assert harts.list_field("ids") == ["0", "1", "2"], report
    # Reported by the boot hart (cpu=), about hart 0 (hart=).
    assert offline.fields == {"hart": "0", "reason": "timeout", "cpu": online.fields["cpu"]}, report
    assert online.list_field("ids") == ["1", "2"], report
    early = [event.int_field("hart") for event in machine.events if event.name == "early"]
    assert sorted(early) == [1, 2], report
    assert poweroff.fields["status"] == "ok", report
