"""Interrupt controllers QEMU does not model, and trees the kernel must refuse.

virt's own tree is edited and handed over with -dtb, as a board's would be:

- its PLIC made T-Head's `thead,c900-plic`, whose specifiers have two cells
  (the UART's `interrupts = <10 4>`, a high level): OpenSBI and the kernel
  take it as the PLIC it is, and typed input reaches the shell;
- the UART's interrupt-parent made a controller no driver takes: the kernel
  says so by name (`irq-no-driver`), rather than deferring for ever;
- the PLIC left with one hart's S-mode context, the last hart's: the
  UART's interrupt goes to that hart, not the boot hart (as on a NUMA
  socket whose PLIC does not reach the boot hart), and typed input is
  answered;
- the PLIC left with machine-mode contexts only: no hart can take the
  UART's interrupt, which is `irq-hart`, named, not a console that never
  answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import fdt
from configurations import TEST_LOG_DIR, VIRT, built
from test_panics import boot_until_panic, detail_after

from aubade.machine import Machine
from aubade.qemu import QemuConfig, dump_device_tree
from aubade.qemu_target import QemuTarget

TIMEOUT_SECONDS = 30
CAUSE_SUPERVISOR_EXTERNAL = 9
NO_CAUSE = 0xFFFFFFFF
UNKNOWN_CONTROLLER_PHANDLE = 0x5EED
CONFIG = QemuConfig(VIRT, built(VIRT, "Image"), smp=2, memory="256M", append="poweroff")

# Edits the tree, given its console UART's node and its PLIC's.
Edit = Callable[[fdt.FDT, fdt.Node, fdt.Node], None]


def _with_edited_tree(tmp_path: Path, config: QemuConfig, edit: Edit) -> QemuConfig:
    tree = fdt.parse_dtb(dump_device_tree(config, tmp_path / "qemu.dtb").read_bytes())
    uart = tree.get_node(tree.get_node("/chosen").get_property("stdout-path").value)
    plics = [node for _, nodes, _ in tree.walk() for node in nodes if "plic" in node.name]
    assert len(plics) == 1, f"virt's tree has {len(plics)} PLICs"
    edit(tree, uart, plics[0])
    edited = tmp_path / "edited.dtb"
    edited.write_bytes(tree.to_dtb(version=17))
    return replace(config, extra_args=("-dtb", str(edited)))


def _thead_plic(tree: fdt.FDT, uart: fdt.Node, plic: fdt.Node) -> None:
    plic.set_property("compatible", ["allwinner,sun20i-d1-plic", "thead,c900-plic"])
    plic.set_property("#interrupt-cells", 2)
    (source,) = uart.get_property("interrupts").data
    uart.set_property("interrupts", [source, 4])


def test_thead_plic_with_two_cell_specifiers_takes_typed_input(tmp_path: Path) -> None:
    config = replace(_with_edited_tree(tmp_path, CONFIG, _thead_plic), append="loglevel=debug")
    name = "virt-thead-plic"
    machine = Machine(name, QemuTarget(config), TEST_LOG_DIR / f"{name}.log")
    try:
        machine.power_on()
        route = machine.wait_for("irq", "route", TIMEOUT_SECONDS)
        machine.wait_for_text("aubade> ", TIMEOUT_SECONDS)
        machine.send(b"echo typed-through-thead\r")
        machine.wait_for_text("\ntyped-through-thead", TIMEOUT_SECONDS)
    finally:
        machine.close()
    report = machine.report("routed elsewhere")
    assert route.fields["chip"] == "plic@c000000", report


def _unknown_controller(tree: fdt.FDT, uart: fdt.Node, plic: fdt.Node) -> None:
    controller = fdt.Node(
        "interrupt-controller@3000000",
        fdt.PropStrings("compatible", "acme,intc"),
        fdt.Property("interrupt-controller"),
        fdt.PropWords("#interrupt-cells", 1),
        fdt.PropWords("phandle", UNKNOWN_CONTROLLER_PHANDLE),
    )
    tree.add_item(controller, uart.parent.path + "/" + uart.parent.name)
    uart.set_property("interrupt-parent", UNKNOWN_CONTROLLER_PHANDLE)


def _panics_naming_it(tmp_path: Path, name: str, edit: Edit, reason: str, detail: str) -> None:
    """The edited tree's boot panics with `reason`, its detail saying `detail`."""
    machine, panic = boot_until_panic(name, _with_edited_tree(tmp_path, CONFIG, edit), "kernel")
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == reason, report
    assert detail in detail_after(machine, panic), report


def test_uart_whose_controller_has_no_driver_panics_naming_it(tmp_path: Path) -> None:
    _panics_naming_it(
        tmp_path,
        "virt-irq-no-driver",
        _unknown_controller,
        "irq-no-driver",
        "interrupt-controller@3000000 (acme,intc) has no driver",
    )


def _pairs(plic: fdt.Node) -> list[tuple[int, int]]:
    """The PLIC's interrupts-extended: (cpu-intc phandle, cause) per context."""
    cells = list(plic.get_property("interrupts-extended").data)
    return list(zip(cells[::2], cells[1::2], strict=True))


def _drop_s_mode_contexts(plic: fdt.Node, keep: Callable[[int], bool]) -> None:
    """Mark the S-mode contexts of the harts (by cpu-intc phandle) not kept as
    absent. Contexts are numbered by position, so an absent one keeps its
    place with cause -1, as OpenSBI marks the M-mode ones it hides."""
    pairs = _pairs(plic)
    edited = [
        (phandle, NO_CAUSE if cause == CAUSE_SUPERVISOR_EXTERNAL and not keep(phandle) else cause)
        for phandle, cause in pairs
    ]
    assert edited != pairs, "the PLIC has no S-mode context to take out"
    plic.set_property("interrupts-extended", [cell for pair in edited for cell in pair])


def _only_last_hart_in_s_mode(tree: fdt.FDT, uart: fdt.Node, plic: fdt.Node) -> None:
    last = [phandle for phandle, cause in _pairs(plic) if cause == CAUSE_SUPERVISOR_EXTERNAL][-1]
    _drop_s_mode_contexts(plic, lambda phandle: phandle == last)


def test_uart_goes_to_a_hart_its_plic_reaches_when_the_boot_hart_is_not_one(
    tmp_path: Path,
) -> None:
    config = replace(CONFIG, smp=4, append="loglevel=debug")
    config = _with_edited_tree(tmp_path, config, _only_last_hart_in_s_mode)
    name = "virt-plic-last-hart-only"
    machine = Machine(name, QemuTarget(config), TEST_LOG_DIR / f"{name}.log")
    try:
        machine.power_on()
        harts = machine.wait_for("loader", "harts", TIMEOUT_SECONDS).int_list_field("ids")
        route = machine.wait_for("irq", "route", TIMEOUT_SECONDS)
        machine.wait_for_text("aubade> ", TIMEOUT_SECONDS)
        machine.send(b"echo typed-to-the-last-hart\r")
        machine.wait_for_text("\ntyped-to-the-last-hart", TIMEOUT_SECONDS)
        received = machine.wait_for("console", "rx", TIMEOUT_SECONDS)
    finally:
        machine.close()
    report = machine.report("routed elsewhere")
    assert route.int_field("hart") == max(harts), report
    assert received.int_field("cpu") == max(harts), report


def _machine_mode_contexts_only(tree: fdt.FDT, uart: fdt.Node, plic: fdt.Node) -> None:
    _drop_s_mode_contexts(plic, lambda phandle: False)


def test_uart_whose_controller_reaches_no_hart_panics_naming_it(tmp_path: Path) -> None:
    _panics_naming_it(
        tmp_path,
        "virt-irq-no-hart",
        _machine_mode_contexts_only,
        "irq-hart",
        "plic plic@c000000 has no S-mode context for any online hart",
    )
