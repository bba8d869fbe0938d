"""The kernel's relocation table (aubade.kreloc), against the kernel the session built."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from configurations import VIRT, built
from elftools.elf.elffile import ELFFile

from aubade import kreloc
from aubade.elfcheck import PAGE_SIZE, check_kernel_elf
from aubade.toolchain import CROSS_PREFIX

KERNEL_ELF = built(VIRT, "kernel.elf")
_U64 = struct.Struct("<Q")


def loaded_words(path: Path) -> dict[int, int]:
    """Every 8-aligned u64 of the bytes the loader copies, by its address."""
    words = {}
    with path.open("rb") as stream:
        for segment in ELFFile(stream).iter_segments():
            if segment["p_type"] != "PT_LOAD":
                continue
            data = segment.data()
            for at in range(0, len(data) - 7, 8):
                words[segment["p_vaddr"] + at] = _U64.unpack_from(data, at)[0]
    return words


def kernel_span(path: Path) -> tuple[int, int]:
    """The kernel's pages, __kernel_start to __kernel_end."""
    checked = check_kernel_elf(path)
    return checked.loads[0].vaddr, -(-checked.loads[-1].end // PAGE_SIZE) * PAGE_SIZE


def test_every_slot_holds_an_address_in_the_kernel() -> None:
    start, end = kernel_span(KERNEL_ELF)
    words = loaded_words(KERNEL_ELF)
    slots = kreloc.slots(KERNEL_ELF)
    assert len(slots) > 100, "the kernel's tables (drivers, ktests, init calls) hold pointers"
    for slot in slots:
        assert start <= words[slot] <= end, f"{slot:#x} holds {words[slot]:#x}"


def test_every_kernel_address_in_the_loaded_bytes_is_a_slot() -> None:
    """A pointer the table missed would keep its link address after a slide
    and point where nothing is: no u64 of the image that looks like a kernel
    address may be left out."""
    start, end = kernel_span(KERNEL_ELF)
    slots = set(kreloc.slots(KERNEL_ELF))
    missed = [
        f"{address:#x} holds {value:#x}"
        for address, value in loaded_words(KERNEL_ELF).items()
        if start <= value < end and address not in slots
    ]
    assert not missed


def test_the_table_is_offsets_from_the_kernels_first_page() -> None:
    loads = check_kernel_elf(KERNEL_ELF).loads
    offsets = kreloc.read_table(kreloc.table(KERNEL_ELF, loads))
    assert offsets == [slot - loads[0].vaddr for slot in kreloc.slots(KERNEL_ELF)]
    assert offsets == sorted(offsets)


def test_a_kernel_linked_without_its_relocations_is_refused() -> None:
    with pytest.raises(kreloc.RelocationError, match="link the kernel with --emit-relocs"):
        kreloc.slots(built(VIRT, "kernel.stripped.elf"))


def test_an_absolute_lui_fails_the_build_naming_it(tmp_path: Path) -> None:
    """Code built for medlow reaches symbols with lui: an absolute address in
    an instruction, which the loader cannot move."""
    source = tmp_path / "medlow.c"
    source.write_text("long counter;\nlong *where(void) { return &counter; }\n")
    elf = tmp_path / "medlow.elf"
    subprocess.run(
        [
            f"{CROSS_PREFIX}gcc",
            "-march=rv64imac_zicsr",
            "-mabi=lp64",
            "-mcmodel=medlow",
            "-fno-pic",
            "-O2",
            "-nostdlib",
            "-static",
            "-Wl,--emit-relocs",
            "-Wl,-e,where",
            "-Wl,-Ttext=0xffffffff80000000",
            "-o",
            str(elf),
            str(source),
        ],
        check=True,
    )
    with pytest.raises(kreloc.RelocationError, match=r"R_RISCV_HI20 cannot be relocated") as error:
        kreloc.slots(elf)
    assert "against counter" in str(error.value)
    assert "-mcmodel=medany" in error.value.advice
