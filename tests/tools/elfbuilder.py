"""Builds small ELF files byte by byte, for the tests of whatever reads them.

The builder writes exactly what it is told, broken headers included, so a test
can break one rule at a time. It writes an ELF header, the program header
table right after it, then each header's bytes; there are no sections.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

ELFCLASS32 = 1
ELFCLASS64 = 2
ELFDATA2LSB = 1
ELFDATA2MSB = 2
EV_CURRENT = 1

ET_EXEC = 2
ET_DYN = 3

EM_X86_64 = 62
EM_RISCV = 243

PT_LOAD = 1
PT_DYNAMIC = 2
PT_INTERP = 3
PT_TLS = 7
PT_GNU_STACK = 0x6474E551
PT_RISCV_ATTRIBUTES = 0x70000003

PF_X = 1
PF_W = 2
PF_R = 4

PAGE_SIZE = 4096

# Field layouts from the ELF specification. The ELF header is the same list of
# fields in both classes; the 64-bit program header moves p_flags up front so
# that the 8-byte fields stay aligned.
_ELF_HEADER_LAYOUT = {ELFCLASS32: "16sHHIIIIIHHHHHH", ELFCLASS64: "16sHHIQQQIHHHHHH"}
_PROGRAM_HEADER_LAYOUT = {ELFCLASS32: "IIIIIIII", ELFCLASS64: "IIQQQQQQ"}
_BYTE_ORDER_PREFIX = {ELFDATA2LSB: "<", ELFDATA2MSB: ">"}


@dataclass(frozen=True)
class ProgramHeader:
    """One program header and the bytes it covers in the file.

    filesz and memsz default to len(data); offset defaults to the first free
    place in the file that is congruent to vaddr modulo the page size, except
    for a PT_TLS inside an earlier PT_LOAD: there it defaults to where that
    load's bytes for vaddr are, as a linker places it.
    """

    type: int
    vaddr: int
    flags: int = PF_R
    data: bytes = b""
    filesz: int | None = None
    memsz: int | None = None
    offset: int | None = None
    align: int = PAGE_SIZE


def _first_congruent_offset(free_from: int, vaddr: int) -> int:
    offset = free_from - free_from % PAGE_SIZE + vaddr % PAGE_SIZE
    return offset if offset >= free_from else offset + PAGE_SIZE


def build_elf(
    program_headers: Sequence[ProgramHeader],
    *,
    entry: int,
    elf_class: int = ELFCLASS64,
    byte_order: int = ELFDATA2LSB,
    machine: int = EM_RISCV,
    elf_type: int = ET_EXEC,
    phentsize: int | None = None,
) -> bytes:
    """Returns the bytes of an ELF file; phentsize overrides the true entry size."""
    prefix = _BYTE_ORDER_PREFIX[byte_order]
    elf_header_format = prefix + _ELF_HEADER_LAYOUT[elf_class]
    program_header_format = prefix + _PROGRAM_HEADER_LAYOUT[elf_class]
    elf_header_size = struct.calcsize(elf_header_format)
    program_header_size = struct.calcsize(program_header_format)

    image = bytearray(elf_header_size + len(program_headers) * program_header_size)
    table = bytearray()
    loads: list[tuple[int, int, int]] = []  # (vaddr, offset, memsz) of each PT_LOAD so far
    for header in program_headers:
        offset = header.offset
        if offset is None and header.type == PT_TLS:
            offset = next(
                (
                    load_offset + header.vaddr - load_vaddr
                    for load_vaddr, load_offset, load_memsz in loads
                    if load_vaddr <= header.vaddr < load_vaddr + load_memsz
                ),
                None,
            )
        if offset is None:
            offset = _first_congruent_offset(len(image), header.vaddr)
        if header.data:
            image.extend(bytes(max(0, offset + len(header.data) - len(image))))
            image[offset : offset + len(header.data)] = header.data
        filesz = len(header.data) if header.filesz is None else header.filesz
        memsz = len(header.data) if header.memsz is None else header.memsz
        if header.type == PT_LOAD:
            loads.append((header.vaddr, offset, memsz))
        if elf_class == ELFCLASS64:
            fields = (header.type, header.flags, offset, header.vaddr, header.vaddr)
            fields += (filesz, memsz, header.align)
        else:
            fields = (header.type, offset, header.vaddr, header.vaddr, filesz, memsz)
            fields += (header.flags, header.align)
        table += struct.pack(program_header_format, *fields)

    ident = b"\x7fELF" + bytes((elf_class, byte_order, EV_CURRENT))
    image[:elf_header_size] = struct.pack(
        elf_header_format,
        ident,
        elf_type,
        machine,
        EV_CURRENT,
        entry,
        elf_header_size,  # e_phoff: the table follows the ELF header
        0,  # e_shoff: no section header table
        0,  # e_flags
        elf_header_size,
        program_header_size if phentsize is None else phentsize,
        len(program_headers),
        0,  # e_shentsize
        0,  # e_shnum
        0,  # e_shstrndx
    )
    image[elf_header_size : elf_header_size + len(table)] = table
    return bytes(image)
