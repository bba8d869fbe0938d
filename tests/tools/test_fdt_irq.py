"""Interrupt specifiers as lib/ reads them (fdt_irq_at), on trees written with dtc.

The kernel and tools/boardcheck both find a device's interrupts through
lib/fdt.c; here it runs on the host (tests/tools/fdt_irq_host/print_irqs.c)
over small trees that exercise each way a tree may say it: `interrupts`
with an `interrupt-parent` of its own or inherited from an ancestor,
`interrupts-extended` (which wins over `interrupts`), controllers of 0 to
3 cells, and malformed lists, which must end the list rather than be read
past. irqchip_driver() names the compatible a kernel driver takes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRINT_IRQS = Path(__file__).with_name("fdt_irq_host") / "print_irqs.c"
# lib/string.c is left out: <aubade/string.h> declares libc's prototypes.
HOST_SOURCES = ("lib/fdt.c", "lib/irqchip.c")
FLAGS = ("-std=gnu11", "-Wall", "-Wextra", "-Werror", f"-I{REPO / 'lib' / 'include'}")

TREE = """
/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    interrupt-parent = <&one>;

    one: one-cell { interrupt-controller; #interrupt-cells = <1>; compatible = "riscv,plic0"; };
    two: two-cell { interrupt-controller; #interrupt-cells = <2>; compatible = "riscv,aplic"; };
    three: three-cell { interrupt-controller; #interrupt-cells = <3>; compatible = "acme,intc"; };
    zero: no-cells { interrupt-controller; #interrupt-cells = <0>; compatible = "riscv,imsics"; };
    thead: thead-plic {
        interrupt-controller;
        #interrupt-cells = <2>;
        compatible = "allwinner,sun20i-d1-plic", "thead,c900-plic";
    };
    later: later-compatible {
        interrupt-controller;
        #interrupt-cells = <1>;
        compatible = "acme,plic", "sifive,plic-1.0.0";
    };
    uncounted: no-interrupt-cells { interrupt-controller; };
    big: five-cells { interrupt-controller; #interrupt-cells = <5>; };

    inherits-root { interrupts = <7 8>; };
    bus {
        interrupt-parent = <&two>;
        child { interrupts = <10 4 11 1>; };
        own-parent { interrupt-parent = <&three>; interrupts = <1 2 3>; };
        grandparent { deeper { interrupts = <12 8>; }; };
    };
    extended {
        interrupts-extended = <&one 5>, <&two 6 4>, <&three 1 2 3>, <&zero>, <&thead 9 1>;
        interrupts = <99>;
    };
    vendors { interrupts-extended = <&later 3>; };
    bad-phandle { interrupts-extended = <&one 5>, <0x999 1>; };
    truncated-extended { interrupts-extended = <&two 6>; };
    uncounted-extended { interrupts-extended = <&one 1>, <&uncounted 2>; };
    ragged { interrupt-parent = <&two>; interrupts = <1 2 3>; };
    parent-without-cells { interrupt-parent = <&uncounted>; interrupts = <1>; };
    too-many-cells { interrupt-parent = <&big>; interrupts = <1 2 3 4 5>; };
    zero-cells-interrupts { interrupt-parent = <&zero>; interrupts = <1>; };
    dangling-parent { interrupt-parent = <0x777>; interrupts = <1>; };
    no-interrupts { };
};
"""

EXPECTED = {
    "/inherits-root": [
        "0 parent=one-cell driver=riscv,plic0 cells=7",
        "1 parent=one-cell driver=riscv,plic0 cells=8",
        "end=2",
    ],
    "/bus/child": [
        "0 parent=two-cell driver=riscv,aplic cells=10,4",
        "1 parent=two-cell driver=riscv,aplic cells=11,1",
        "end=2",
    ],
    "/bus/own-parent": ["0 parent=three-cell driver=none cells=1,2,3", "end=1"],
    "/bus/grandparent/deeper": ["0 parent=two-cell driver=riscv,aplic cells=12,8", "end=1"],
    "/extended": [
        "0 parent=one-cell driver=riscv,plic0 cells=5",
        "1 parent=two-cell driver=riscv,aplic cells=6,4",
        "2 parent=three-cell driver=none cells=1,2,3",
        "3 parent=no-cells driver=riscv,imsics cells=",
        "4 parent=thead-plic driver=thead,c900-plic cells=9,1",
        "end=5",
    ],
    "/vendors": ["0 parent=later-compatible driver=sifive,plic-1.0.0 cells=3", "end=1"],
    "/bad-phandle": ["0 parent=one-cell driver=riscv,plic0 cells=5", "end=1"],
    "/truncated-extended": ["end=0"],
    "/uncounted-extended": ["0 parent=one-cell driver=riscv,plic0 cells=1", "end=1"],
    "/ragged": ["end=0"],
    "/parent-without-cells": ["end=0"],
    "/too-many-cells": ["end=0"],
    "/zero-cells-interrupts": ["end=0"],
    "/dangling-parent": ["end=0"],
    "/no-interrupts": ["end=0"],
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"no {name} on PATH (tools/setup installs it)", pytrace=False)
    return path


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Each node's lines of print_irqs, without the node's path."""
    out = tmp_path_factory.mktemp("fdt_irq")
    program = out / "print_irqs"
    sources = [str(PRINT_IRQS), *(str(REPO / name) for name in HOST_SOURCES)]
    subprocess.run([_tool("cc"), *FLAGS, "-o", str(program), *sources], check=True)
    dtb = out / "irqs.dtb"
    # -q: dtc's warnings about the malformed nodes are the point of them.
    subprocess.run(
        [_tool("dtc"), "-q", "-I", "dts", "-O", "dtb", "-o", str(dtb)],
        input=TREE.encode(),
        check=True,
    )
    result = subprocess.run(
        [str(program), str(dtb), *EXPECTED], capture_output=True, text=True, timeout=10, check=True
    )
    lines: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        path, rest = line.split(" ", 1)
        lines.setdefault(path, []).append(rest)
    return lines


@pytest.mark.parametrize("path", EXPECTED)
def test_interrupts_of_node(printed: dict[str, list[str]], path: str) -> None:
    assert printed.get(path) == EXPECTED[path]
