"""The kernel's relocation table, which lets the loader move it (KASLR).

The kernel is linked at one address (linkerscript.KERNEL_BASE) and the
loader places it at that address plus a random slide. Code does not care:
with `-mcmodel=medany -fno-pic` every reference from code to the kernel's
own symbols is PC-relative (auipc pairs, jumps, branches) or an offset from
the thread pointer (TLS), and moves with it. Data does care: a pointer
stored in data (a function table, a string's address in a struct) holds an
absolute address, and must have the slide added to it.

The bare-metal toolchain's linker makes no position-independent executable
(`-pie` and `-shared` are "not supported" by riscv64-unknown-elf-ld), so the
kernel is linked with `--emit-relocs`, which keeps every static relocation
in kernel.elf, and this module reads them:

- the kinds that move with the image need nothing (PC_RELATIVE below);
- R_RISCV_64 against a symbol of the image is a slot the loader adds the
  slide to; against an absolute or undefined symbol it stays;
- any other kind, in a section the kernel loads, is one the loader cannot
  apply (an absolute `lui`, say, from code built without medany): the build
  stops and names it, with where it is and against what.

The table, in the payload (tools/aubade/payload.py), is the slots' offsets
from the kernel's first loaded byte, each a little-endian u32, ascending.
The loader (loader/address_space.c) checks each lies in the bytes it copies
from the file, then adds the slide to the u64 there.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from aubade.elfcheck import Segment

# The RISC-V ELF psABI's relocation numbers (pyelftools has no table of
# them), for the kinds a kernel's objects can hold.
RELOCATION_TYPES = {
    "R_RISCV_NONE": 0,
    "R_RISCV_32": 1,
    "R_RISCV_64": 2,
    "R_RISCV_RELATIVE": 3,
    "R_RISCV_COPY": 4,
    "R_RISCV_JUMP_SLOT": 5,
    "R_RISCV_TLS_DTPMOD64": 7,
    "R_RISCV_TLS_DTPREL64": 9,
    "R_RISCV_TLS_TPREL64": 11,
    "R_RISCV_BRANCH": 16,
    "R_RISCV_JAL": 17,
    "R_RISCV_CALL": 18,
    "R_RISCV_CALL_PLT": 19,
    "R_RISCV_GOT_HI20": 20,
    "R_RISCV_TLS_GOT_HI20": 21,
    "R_RISCV_TLS_GD_HI20": 22,
    "R_RISCV_PCREL_HI20": 23,
    "R_RISCV_PCREL_LO12_I": 24,
    "R_RISCV_PCREL_LO12_S": 25,
    "R_RISCV_HI20": 26,
    "R_RISCV_LO12_I": 27,
    "R_RISCV_LO12_S": 28,
    "R_RISCV_TPREL_HI20": 29,
    "R_RISCV_TPREL_LO12_I": 30,
    "R_RISCV_TPREL_LO12_S": 31,
    "R_RISCV_TPREL_ADD": 32,
    "R_RISCV_ADD8": 33,
    "R_RISCV_ADD16": 34,
    "R_RISCV_ADD32": 35,
    "R_RISCV_ADD64": 36,
    "R_RISCV_SUB8": 37,
    "R_RISCV_SUB16": 38,
    "R_RISCV_SUB32": 39,
    "R_RISCV_SUB64": 40,
    "R_RISCV_ALIGN": 43,
    "R_RISCV_RVC_BRANCH": 44,
    "R_RISCV_RVC_JUMP": 45,
    "R_RISCV_RVC_LUI": 46,
    "R_RISCV_TPREL_I": 49,
    "R_RISCV_TPREL_S": 50,
    "R_RISCV_RELAX": 51,
    "R_RISCV_SUB6": 52,
    "R_RISCV_SET6": 53,
    "R_RISCV_SET8": 54,
    "R_RISCV_SET16": 55,
    "R_RISCV_SET32": 56,
    "R_RISCV_32_PCREL": 57,
    "R_RISCV_IRELATIVE": 58,
    "R_RISCV_PLT32": 59,
}
_TYPE_NAMES = {number: name for name, number in RELOCATION_TYPES.items()}
_ABSOLUTE_64 = RELOCATION_TYPES["R_RISCV_64"]
# Relocations whose result does not change when the whole image moves:
# PC-relative ones, offsets from the thread pointer, differences between two
# of the image's own addresses (ADD/SUB/SET: jump tables, DWARF-like
# lengths), and the linker's relaxation markers.
PC_RELATIVE = frozenset(
    RELOCATION_TYPES[name]
    for name in (
        "R_RISCV_NONE",
        "R_RISCV_BRANCH",
        "R_RISCV_JAL",
        "R_RISCV_CALL",
        "R_RISCV_CALL_PLT",
        "R_RISCV_PCREL_HI20",
        "R_RISCV_PCREL_LO12_I",
        "R_RISCV_PCREL_LO12_S",
        "R_RISCV_TPREL_HI20",
        "R_RISCV_TPREL_LO12_I",
        "R_RISCV_TPREL_LO12_S",
        "R_RISCV_TPREL_ADD",
        "R_RISCV_TPREL_I",
        "R_RISCV_TPREL_S",
        "R_RISCV_ADD8",
        "R_RISCV_ADD16",
        "R_RISCV_ADD32",
        "R_RISCV_ADD64",
        "R_RISCV_SUB8",
        "R_RISCV_SUB16",
        "R_RISCV_SUB32",
        "R_RISCV_SUB64",
        "R_RISCV_SUB6",
        "R_RISCV_SET6",
        "R_RISCV_SET8",
        "R_RISCV_SET16",
        "R_RISCV_SET32",
        "R_RISCV_32_PCREL",
        "R_RISCV_RVC_BRANCH",
        "R_RISCV_RVC_JUMP",
        "R_RISCV_RELAX",
        "R_RISCV_ALIGN",
    )
)
_ENTRY = struct.Struct("<I")
# Section indexes of symbols that are not addresses in the image.
_NOT_IN_IMAGE = ("SHN_ABS", "SHN_UNDEF")


class RelocationError(Exception):
    """The kernel cannot be moved: the message names the relocation that stops it."""

    advice = (
        "the loader can only add its slide to 64-bit absolute addresses in data; "
        "build the kernel's code with -mcmodel=medany -fno-pic (SConstruct's c_flags), "
        "so that code reaches the kernel's symbols PC-relative"
    )


def _loaded_sections(elf: ELFFile) -> dict[int, str]:
    return {
        index: section.name
        for index, section in enumerate(elf.iter_sections())
        if section["sh_flags"] & SH_FLAGS.SHF_ALLOC
    }


def slots(path: Path) -> list[int]:
    """The link-time addresses of the u64s the loader must add the slide to."""
    with path.open("rb") as file:
        elf = ELFFile(file)
        loaded = _loaded_sections(elf)
        found = set()
        for section in elf.iter_sections():
            if not isinstance(section, RelocationSection) or section["sh_info"] not in loaded:
                continue
            target = loaded[section["sh_info"]]
            symbols = elf.get_section(section["sh_link"])
            for relocation in section.iter_relocations():
                kind = relocation["r_info_type"]
                if kind in PC_RELATIVE:
                    continue
                symbol = symbols.get_symbol(relocation["r_info_sym"])
                where = f"{path}: {target}+{relocation['r_offset']:#x} against {symbol.name or '?'}"
                if kind != _ABSOLUTE_64:
                    name = _TYPE_NAMES.get(kind, f"type {kind}")
                    raise RelocationError(f"{where}: {name} cannot be relocated by the loader")
                if symbol["st_info"]["type"] == "STT_TLS":
                    raise RelocationError(f"{where}: R_RISCV_64 of a thread-local symbol")
                if symbol["st_shndx"] not in _NOT_IN_IMAGE:
                    found.add(relocation["r_offset"])
        if not found and not any(isinstance(s, RelocationSection) for s in elf.iter_sections()):
            raise RelocationError(f"{path}: no relocations; link the kernel with --emit-relocs")
        return sorted(found)


def table(path: Path, loads: Sequence[Segment]) -> bytes:
    """The payload's table for the kernel ELF at `path`, whose PT_LOADs are `loads`.

    Each slot must lie in the bytes a segment copies from the file: the
    loader adds the slide to what it copied, and zeroed .bss holds no
    address to move.
    """
    base = loads[0].vaddr
    entries = []
    for address in slots(path):
        if not any(
            load.vaddr <= address and address + 8 <= load.vaddr + load.filesz for load in loads
        ):
            raise RelocationError(
                f"{path}: the address at {address:#x} is not in the bytes of a PT_LOAD segment"
            )
        entries.append(_ENTRY.pack(address - base))
    return b"".join(entries)


def read_table(data: bytes) -> list[int]:
    """The offsets of a table, as `table` wrote them."""
    return [offset for (offset,) in _ENTRY.iter_unpack(data)]
