"""The console on a `snps,dw-apb-uart` node, the VisionFive 2's UART.

QEMU models no such board, so virt's own tree is edited: its ns16550a node
gets the DesignWare compatible, handed over with -dtb. It keeps
`reg-io-width = <1>`: QEMU's 16550 has its registers one byte apart, and a
32-bit access to the line status register at offset 5 is unaligned, which
QEMU refuses (OpenSBI, reading the same node, then prints nothing either).
So this checks that both the output and the input drivers take the node,
through the shared accessors; the 32-bit accesses themselves wait for a
board (docs/boards.md).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import fdt
from configurations import TEST_LOG_DIR, VIRT, built

from aubade.machine import Machine
from aubade.qemu import QemuConfig, dump_device_tree
from aubade.qemu_target import QemuTarget

NAME = "virt-dw-apb-uart"
TIMEOUT_SECONDS = 30


def test_typed_input_reaches_the_shell_on_a_dw_apb_uart(tmp_path: Path) -> None:
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=2, memory="256M")
    tree = fdt.parse_dtb(dump_device_tree(config, tmp_path / "qemu.dtb").read_bytes())
    uart = tree.get_node(tree.get_node("/chosen").get_property("stdout-path").value)
    uart.set_property("compatible", "snps,dw-apb-uart")
    uart.set_property("reg-io-width", 1)
    edited = tmp_path / "dw-apb-uart.dtb"
    edited.write_bytes(tree.to_dtb(version=17))

    machine = Machine(
        NAME,
        QemuTarget(replace(config, extra_args=("-dtb", str(edited)))),
        TEST_LOG_DIR / f"{NAME}.log",
    )
    try:
        machine.power_on()
        machine.wait_for_text("aubade> ", TIMEOUT_SECONDS)
        # Only the kernel's receive interrupt for this node brings the
        # typed line to the shell: an unknown UART gets none.
        machine.send(b"echo typed-on-dw-apb\r")
        machine.wait_for_text("\ntyped-on-dw-apb", TIMEOUT_SECONDS)
        machine.send(b"poweroff\r")
        poweroff = machine.wait_for("kernel", "poweroff", TIMEOUT_SECONDS)
    finally:
        machine.close()
    assert poweroff.fields["status"] == "ok", machine.report("the shell did not power off")
