"""Fatal errors: each must say what went wrong and power off with a failure status.

The build never embeds a bad kernel ELF (tools/aubade/elfcheck.py refuses
it), so the loader tests corrupt the payload inside a built Image, as flash
might, and boot that: each ends in `loader: panic reason=...` and a non-zero
QEMU exit status, never a hang. The kernel test makes the kernel fault on
purpose (`fault=null`) and checks the trap report.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from configurations import BOARD, IMAGE, TEST_LOG_DIR
from elftools.elf.elffile import ELFFile
from harness.machine import Machine
from harness.qemu_target import QemuTarget

from aubade.bootlog import Event
from aubade.qemu import QemuConfig

LOADER_ELF = IMAGE.with_name("loader.elf")
ELF64_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
PT_LOAD = 1
PF_W = 2


def payload_offset() -> int:
    """Where the kernel ELF starts in the Image: its symbol, less the load address."""
    with LOADER_ELF.open("rb") as stream:
        symbols = ELFFile(stream).get_section_by_name(".symtab")
        (payload_start,) = symbols.get_symbol_by_name("payload_start")
        return payload_start["st_value"] - BOARD.load_address


def load_headers(elf: bytearray) -> list[int]:
    """Offsets in `elf` of its PT_LOAD program headers."""
    header = ELF64_HEADER.unpack_from(elf)
    phoff, phnum = header[5], header[10]
    offsets = [phoff + i * PROGRAM_HEADER.size for i in range(phnum)]
    return [offset for offset in offsets if PROGRAM_HEADER.unpack_from(elf, offset)[0] == PT_LOAD]


def bad_magic(elf: bytearray) -> None:
    elf[0:4] = b"\x7fELV"


def bad_machine(elf: bytearray) -> None:
    struct.pack_into("<H", elf, 18, 62)  # EM_X86_64


def bad_phoff(elf: bytearray) -> None:
    struct.pack_into("<Q", elf, 32, 0xFFFF_FF00)


def overlapping_segments(elf: bytearray) -> None:
    """The second PT_LOAD starts one page into the first (kernel text is longer)."""
    first, second = load_headers(elf)[:2]
    first_vaddr = PROGRAM_HEADER.unpack_from(elf, first)[3]
    struct.pack_into("<Q", elf, second + 16, first_vaddr + 0x1000)


def writable_text(elf: bytearray) -> None:
    text = load_headers(elf)[0]
    flags = PROGRAM_HEADER.unpack_from(elf, text)[1]
    struct.pack_into("<I", elf, text + 4, flags | PF_W)


CORRUPTIONS: dict[str, tuple[Callable[[bytearray], None], str]] = {
    "bad-magic": (bad_magic, "elf-magic"),
    "bad-machine": (bad_machine, "elf-machine"),
    "bad-phoff": (bad_phoff, "elf-phoff"),
    "overlapping-segments": (overlapping_segments, "elf-overlap"),
    "writable-text": (writable_text, "elf-wx"),
}


def corrupted_image(corrupt: Callable[[bytearray], None], path: Path) -> Path:
    image = bytearray(IMAGE.read_bytes())
    start = payload_offset()
    elf = image[start:]
    corrupt(elf)
    image[start:] = elf
    path.write_bytes(image)
    return path


def boot_until_panic(name: str, config: QemuConfig, component: str) -> tuple[Machine, Event]:
    """Boot until `component: panic`, then until QEMU exits; the machine is off after."""
    machine = Machine(name, QemuTarget(config), TEST_LOG_DIR / f"{name}.log")
    try:
        machine.power_on()
        machine.wait_for("loader", "start", timeout=30)
        panic = machine.wait_for(component, "panic", timeout=10)
        status = machine.wait_exit(timeout=10)
    finally:
        machine.close()
    assert status not in (0, None), machine.report(f"exit status {status} after the panic")
    return machine, panic


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corrupted_payload_panics_and_powers_off_failed(corruption: str, tmp_path: Path) -> None:
    corrupt, reason = CORRUPTIONS[corruption]
    image = corrupted_image(corrupt, tmp_path / "Image")
    config = QemuConfig(BOARD, image, smp=1, memory="128M", append="poweroff")
    machine, panic = boot_until_panic(f"payload-{corruption}", config, "loader")
    assert panic.fields["reason"] == reason, machine.report("panicked for another reason")
    assert not any(event.component == "kernel" for event in machine.events)


def test_kernel_trap_reports_cause_address_and_registers() -> None:
    config = QemuConfig(BOARD, IMAGE, smp=1, memory="128M", append="fault=null")
    machine, panic = boot_until_panic("kernel-fault-null", config, "kernel")
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "load-page-fault", report
    assert panic.int_field("cause") == 13, report
    assert panic.int_field("addr") == 0, report
    assert panic.int_field("pc") >= 0xFFFFFFFF80000000, report
    register_lines = machine.lines[machine.lines.index(panic.line) + 1 :]
    dumped = " ".join(register_lines).split()
    for register in ("sepc", "scause", "stval", "ra", "sp", "tp", "a0", "t6"):
        assert register in dumped, report
    assert not any(event.name == "poweroff" for event in machine.events), report
