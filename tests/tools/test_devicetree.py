"""Reading memory banks, cpus, bootargs and the timebase from a DTB."""

from __future__ import annotations

import subprocess
from pathlib import Path

from aubade.devicetree import MemoryBank, read_device_tree

# Cells that fdt takes for strings ("ABC\0" is 0x41424300), a node with two
# banks in one reg, 1-cell addresses, a second memory node, the timebase on
# the cpu nodes, and cpu nodes of every kind (one disabled, a monitor core
# without an MMU, an RV32 one): all of them are listed. Which ones the kernel
# runs on is the loader's to say (tests/tools/test_boardcheck.py).
ODD_TREE = """
/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    chosen { bootargs = "poweroff initcall_debug"; };
    memory@41424300 {
        device_type = "memory";
        reg = <0x41424300 0x41424300>;
    };
    memory@10000000 {
        device_type = "memory";
        reg = <0x10000000 0x1000 0x20000000 0x2000>;
    };
    soc {
        #address-cells = <2>;
        #size-cells = <2>;
        memory@100000000 {
            device_type = "memory";
            reg = <0x1 0x0 0x0 0x80000000>;
        };
    };
    cpus {
        #address-cells = <1>;
        #size-cells = <0>;
        cpu@3 {
            device_type = "cpu"; reg = <3>; timebase-frequency = <1000000>;
            riscv,isa = "rv64imafdc"; mmu-type = "riscv,sv57";
        };
        cpu@1 {
            device_type = "cpu"; reg = <1>; timebase-frequency = <1000000>; status = "okay";
            riscv,isa = "rv64imac_zicsr"; mmu-type = "riscv,sv39";
        };
        cpu@2 {
            device_type = "cpu"; reg = <2>; status = "disabled";
            riscv,isa = "rv64imac"; mmu-type = "riscv,sv39";
        };
        cpu@0 { device_type = "cpu"; reg = <0>; riscv,isa = "rv64imac"; };
        cpu@4 { device_type = "cpu"; reg = <4>; riscv,isa = "rv32imac"; mmu-type = "riscv,sv32"; };
        cpu-map { };
    };
};
"""


def test_odd_but_valid_tree_reads_right(tmp_path: Path) -> None:
    dtb = tmp_path / "odd.dtb"
    subprocess.run(
        ["dtc", "-I", "dts", "-O", "dtb", "-o", str(dtb)], input=ODD_TREE, text=True, check=True
    )
    tree = read_device_tree(dtb)
    assert tree.memory == (
        MemoryBank(0x10000000, 0x1000),
        MemoryBank(0x20000000, 0x2000),
        MemoryBank(0x41424300, 0x41424300),
        MemoryBank(0x100000000, 0x80000000),
    )
    assert [cpu.hart_id for cpu in tree.cpus] == [0, 1, 2, 3, 4]
    assert tree.bootargs == "poweroff initcall_debug"
    assert tree.timebase_frequency == 1_000_000
