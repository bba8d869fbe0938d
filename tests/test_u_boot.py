"""The dev-board path in QEMU: OpenSBI, then U-Boot's distro boot from an SD
image on a virtio disk, with no key pressed, into the loader.

The phase tests of test_boot.py run on these configurations too (they are
in BOOT_CONFIGS); these are the facts only a boot through U-Boot has.
"""

from __future__ import annotations

import re

from configurations import EXTLINUX_WORD, BootConfig
from harness.boot import Boot

# U-Boot's own line as it hands over (common/image-fdt.c); free text, but the
# one place the device tree's address is said before the loader starts.
U_BOOT_FDT = re.compile(r"Booting using the fdt blob at (0x[0-9a-f]+)")


def test_the_kernel_gets_the_word_from_extlinux_append(u_boot_boot: Boot) -> None:
    assert EXTLINUX_WORD in u_boot_boot.event("kernel", "cmdline").list_field("args")


def test_the_loader_gets_u_boots_device_tree_in_a1(u_boot_boot: Boot) -> None:
    before_loader = u_boot_boot.lines[
        : u_boot_boot.lines.index(u_boot_boot.event("loader", "start").line)
    ]
    addresses = [int(m[1], 16) for line in before_loader if (m := U_BOOT_FDT.search(line))]
    assert addresses, "U-Boot did not say which device tree it booted with"
    assert u_boot_boot.event("loader", "start").int_field("dtb") == addresses[-1]


def test_booti_moves_the_image_to_dram_base_plus_text_offset(
    u_boot_boot: Boot, u_boot_config: BootConfig
) -> None:
    (loader,) = [
        event.range_field("range")
        for event in u_boot_boot.events_of("loader", "reserved")
        if event.field("what") == "loader"
    ]
    assert loader[0] == u_boot_config.board.load_address
