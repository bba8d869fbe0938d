"""The dev-board path in QEMU: OpenSBI, then U-Boot's distro boot from an SD
image on a virtio disk, with no key pressed, into the loader.

The phase tests of test_boot.py run on these configurations too (they are
in BOOT_CONFIGS); these are the facts only a boot through U-Boot has.
"""

from __future__ import annotations

import re

import pytest
from configurations import EXTLINUX_WORD, TEST_IMAGE_DIR, VIRT, BootConfig, built
from harness.boot import Boot
from test_shell import ShellRun, run_shell

from aubade import sdimage
from aubade.qemu import QemuConfig

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


DEFAULT_IMAGE_NAME = "virt-smp2-256M-uboot-default"


@pytest.fixture(scope="module")
def default_image_shell() -> ShellRun:
    """`scons run via=u-boot` as a new user types it: an SD image written with
    no command line at all, booted through U-Boot to PID 1's prompt."""
    card = TEST_IMAGE_DIR / f"{DEFAULT_IMAGE_NAME}.img"
    sdimage.write_sd_image(built(VIRT, "Image"), card, VIRT.name)
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=2, memory="256M", sd_image=card)
    return run_shell(DEFAULT_IMAGE_NAME, config, (("help",), ("cmdline",)))


@pytest.mark.xdist_group(DEFAULT_IMAGE_NAME)
def test_the_default_image_boots_through_u_boot_to_a_shell_that_answers(
    default_image_shell: ShellRun,
) -> None:
    assert any("cmdline" in line for line in default_image_shell.answer("help").output), (
        default_image_shell.shown(default_image_shell.answer("help"))
    )


@pytest.mark.xdist_group(DEFAULT_IMAGE_NAME)
def test_the_default_image_gives_the_kernel_u_boots_empty_bootargs(
    default_image_shell: ShellRun,
) -> None:
    default_image_shell.answer("cmdline")
    assert default_image_shell.boot.event("kernel", "cmdline").list_field("args") == []
