"""Machines beyond the usual configurations: current CPU bindings, many
reserved ranges, and as many harts as QEMU's firmware serves.

Each test boots once, with `-append poweroff`, through every step of the
boot-log contract, and reads its facts from that boot. The trees are QEMU's
own for virt, dumped and edited with the `fdt` package, handed over with
-dtb (OpenSBI still adds its own nodes to them, as it does to QEMU's).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import fdt
import pytest
from configurations import TEST_LOG_DIR, VIRT, built
from harness.boot import POWEROFF_BOOT, Boot, BootStep, run_boot
from test_panics import boot_until_panic

from aubade.qemu import QemuConfig, dump_device_tree
from aubade.qemu_target import QemuTarget

RESERVED_RANGES = 30
"""More than the loader's old limit of 32, once OpenSBI's, the tree's and
the loader's own ranges are counted too."""


def _boot(name: str, config: QemuConfig, steps: tuple[BootStep, ...] = POWEROFF_BOOT) -> Boot:
    boot = run_boot(name, QemuTarget(config), TEST_LOG_DIR / f"{name}.log", steps)
    assert boot.failure is None, boot.failure
    assert boot.reached == len(steps) and boot.ended, f"stopped early: {boot.log_path}"
    assert boot.status == 0, f"exit status {boot.status}: {boot.log_path}"
    return boot


def _online_ids(boot: Boot) -> list[str]:
    return boot.event("kernel", "online").list_field("ids")


def _edited_virt_tree(tmp_path: Path, config: QemuConfig) -> fdt.FDT:
    return fdt.parse_dtb(dump_device_tree(config, tmp_path / "qemu.dtb").read_bytes())


def _boot_edited(name: str, config: QemuConfig, tree: fdt.FDT, tmp_path: Path) -> Boot:
    edited = tmp_path / f"{name}.dtb"
    edited.write_bytes(tree.to_dtb(version=17))
    return _boot(name, replace(config, extra_args=("-dtb", str(edited))))


def _isa_extensions(isa: str) -> list[str]:
    """riscv,isa's extensions as riscv,isa-extensions lists them:
    "rv64imac_zicsr_sstc" is i, m, a, c, zicsr, sstc."""
    base, *multi_letter = isa.lower().split("_")
    assert base.startswith("rv64"), isa
    return list(base[len("rv64") :]) + multi_letter


def test_tree_with_isa_extensions_and_no_isa_string_boots(tmp_path: Path) -> None:
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=4, memory="256M", append="poweroff")
    tree = _edited_virt_tree(tmp_path, config)
    cpus = [node for node in tree.get_node("/cpus").nodes if node.name.startswith("cpu@")]
    assert len(cpus) == 4
    for cpu in cpus:
        isa = cpu.get_property("riscv,isa").value
        cpu.remove_property("riscv,isa")
        cpu.append(fdt.PropStrings("riscv,isa-base", "rv64i"))
        cpu.append(fdt.PropStrings("riscv,isa-extensions", *_isa_extensions(isa)))

    boot = _boot_edited("virt-smp4-isa-extensions", config, tree, tmp_path)
    assert boot.event("loader", "harts").list_field("ids") == ["0", "1", "2", "3"]
    assert sorted(_online_ids(boot), key=int) == ["0", "1", "2", "3"]
    assert len(boot.events_of("kernel", "late")) == 4


def test_t_head_c906_without_svpbmt_is_refused_by_name(tmp_path: Path) -> None:
    """The loader refuses the board rather than map device memory with
    page attributes that such a hart reads as T-Head's own (MAEE)."""
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=2, memory="256M", append="poweroff")
    tree = _edited_virt_tree(tmp_path, config)
    for cpu in tree.get_node("/cpus").nodes:
        if cpu.name.startswith("cpu@"):
            assert "svpbmt" not in cpu.get_property("riscv,isa").value
            cpu.remove_property("compatible")
            cpu.append(fdt.PropStrings("compatible", "thead,c906", "riscv"))
    edited = tmp_path / "c906.dtb"
    edited.write_bytes(tree.to_dtb(version=17))

    machine, panic = boot_until_panic(
        "virt-smp2-thead-c906", replace(config, extra_args=("-dtb", str(edited))), "loader"
    )
    report = machine.report("the T-Head hart was not refused as expected")
    assert panic.field("reason") == "vendor-page-attributes", report
    assert "thead,c906" in "\n".join(machine.lines), report


def test_tree_with_thirty_reserved_ranges_boots(tmp_path: Path) -> None:
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=2, memory="512M", append="poweroff")
    tree = _edited_virt_tree(tmp_path, config)
    if not tree.exist_node("/reserved-memory"):
        reserved = fdt.Node("reserved-memory")
        reserved.append(fdt.PropWords("#address-cells", 2))
        reserved.append(fdt.PropWords("#size-cells", 2))
        reserved.append(fdt.Property("ranges"))
        tree.add_item(reserved, "/")
    # 64 KiB apart from 0x90000000, well above the firmware, the loader and
    # the kernel, and below 512 MiB's end where QEMU puts the tree.
    bases = [0x9000_0000 + i * 0x1_0000 for i in range(RESERVED_RANGES)]
    for base in bases:
        node = fdt.Node(f"test@{base:x}")
        node.append(fdt.PropWords("reg", 0, base, 0, 0x1000))
        tree.add_item(node, "/reserved-memory")

    boot = _boot_edited("virt-smp2-30-reserved", config, tree, tmp_path)
    ranges = {
        event.fields["range"]
        for event in boot.events_of("loader", "reserved")
        if event.fields.get("node", "").startswith("test@")
    }
    assert ranges == {f"0x{base:x}-0x{base + 0x1000:x}" for base in bases}
    assert sorted(_online_ids(boot), key=int) == ["0", "1"]


# Each step of the contract may take this much longer on a machine of this
# many harts emulated on few host cores: the loader maps a stack per hart,
# every hart prints its own lines, and each vCPU gets a sliver of the host.
# The bound keeps a hang from running on; the time a boot takes is reported
# (its `kernel: init` timestamp), not asserted.
_STEP_TIMEOUT_PER_16_HARTS = 1.0


@pytest.mark.parametrize(("smp", "memory"), [(64, "1G"), (128, "2G")])
def test_many_harts_all_come_online(smp: int, memory: str) -> None:
    scale = max(1.0, smp / 16 * _STEP_TIMEOUT_PER_16_HARTS)
    steps = tuple(replace(step, timeout=step.timeout * scale) for step in POWEROFF_BOOT)
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=smp, memory=memory, append="poweroff")
    boot = _boot(f"virt-smp{smp}-{memory}", config, steps)

    every_hart = [str(hart) for hart in range(smp)]
    assert boot.event("loader", "harts").list_field("ids") == every_hart
    assert len(boot.events_of("loader", "percpu")) == smp
    assert sorted(_online_ids(boot), key=int) == every_hart
    assert boot.events_of("kernel", "offline") == []
    assert len(boot.events_of("kernel", "late")) == smp
    print(f"-smp {smp}: kernel: init at {boot.event('kernel', 'init').time:.3f} s")
