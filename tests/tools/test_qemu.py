"""QEMU command lines: what the tests run is what a person can paste."""

from __future__ import annotations

import shlex
from pathlib import Path

from aubade.boards import load_board
from aubade.qemu import QemuConfig, format_command

VIRT = load_board("virt")


def test_command_has_board_firmware_harts_memory_image_and_command_line() -> None:
    config = QemuConfig(VIRT, Path("/b/Image"), smp=4, memory="2G", append="poweroff foo")
    assert config.command() == [
        "qemu-system-riscv64",
        *("-machine", "virt", "-bios", "default", "-nographic", "-no-reboot"),
        *("-smp", "4", "-m", "2G", "-kernel", "/b/Image", "-append", "poweroff foo"),
    ]


def test_board_defaults_fill_in_harts_and_memory_and_no_append_when_empty() -> None:
    command = QemuConfig(VIRT, Path("Image"), extra_args=("-s", "-S")).command()
    assert command[-8:] == [
        "-smp",
        str(VIRT.qemu.smp),
        "-m",
        VIRT.qemu.memory,
        "-kernel",
        "Image",
        "-s",
        "-S",
    ]
    assert "-append" not in command


def test_other_firmware_replaces_the_boards_and_nothing_else() -> None:
    board = QemuConfig(VIRT, Path("Image"), smp=1, memory="128M")
    other = QemuConfig(VIRT, Path("Image"), smp=1, memory="128M", firmware=("-bios", "/f/fw.bin"))
    assert other.command() == [
        "/f/fw.bin" if argument == "default" else argument for argument in board.command()
    ]


def test_dumpdtb_command_differs_only_in_the_machine_option() -> None:
    config = QemuConfig(VIRT, Path("Image"), smp=1, memory="128M", append="poweroff")
    dump = config.dumpdtb_command(Path("/logs/a,b.dtb"))
    assert dump[2] == "virt,dumpdtb=/logs/a,,b.dtb"
    assert dump[:2] + dump[3:] == config.command()[:2] + config.command()[3:]


def test_printed_command_reads_back_as_the_same_arguments() -> None:
    config = QemuConfig(VIRT, Path("/my build/Image"), smp=2, memory="256M", append="a 'b' c")
    assert shlex.split(format_command(config.command())) == config.command()
