"""The kernel's embedded symbol table, against the kernel the session built."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

import pytest
from configurations import VIRT, built
from elftools.elf.elffile import ELFFile

from aubade.ksyms import (
    Function,
    KsymsError,
    assembly,
    check_unmoved,
    functions,
    lookup,
    name,
)

KERNEL_ELF = built(VIRT, "kernel.elf")
FIRST_LINK = built(VIRT, "kernel.pre.elf")
ENTRY = struct.Struct("<QII")


def embedded_table(path: Path) -> list[Function]:
    """Decodes .ksyms the way kernel/debug/symbols.c reads it: entries count
    from the kernel's first byte (__kernel_start)."""
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        data = elf.get_section_by_name(".ksyms").data()
        (start,) = elf.get_section_by_name(".symtab").get_symbol_by_name("__kernel_start")
        base = start["st_value"]
    (count,) = struct.unpack_from("<Q", data)
    names = 8 + count * ENTRY.size
    table = []
    for index in range(count):
        offset, size, name = ENTRY.unpack_from(data, 8 + index * ENTRY.size)
        end = data.index(b"\0", names + name)
        table.append(Function(base + offset, size, data[names + name : end].decode()))
    return table


def test_table_holds_c_functions_and_assembly_entry_points() -> None:
    names = {function.name for function in functions(KERNEL_ELF)}
    assert {"kernel_main", "fault_inject_here", "trap_handle", "symbol_name"} <= names
    assert {"_start", "trap_entry", "secondary_entry"} <= names


def test_table_is_sorted_and_disjoint() -> None:
    table = functions(KERNEL_ELF)
    for before, after in itertools.pairwise(table):
        assert before.address + before.size <= after.address, (before, after)
    assert all(function.size > 0 for function in table)


def test_c_function_sizes_are_the_elfs() -> None:
    with KERNEL_ELF.open("rb") as stream:
        (main,) = ELFFile(stream).get_section_by_name(".symtab").get_symbol_by_name("kernel_main")
    (entry,) = [f for f in functions(KERNEL_ELF) if f.name == "kernel_main"]
    assert (entry.address, entry.size) == (main["st_value"], main["st_size"])


def test_kernel_embeds_the_table_of_its_first_link() -> None:
    assert embedded_table(KERNEL_ELF) == functions(FIRST_LINK)
    assert embedded_table(FIRST_LINK) == []


def test_the_second_link_moved_nothing() -> None:
    check_unmoved(FIRST_LINK, KERNEL_ELF)


def test_a_moved_symbol_is_named(tmp_path: Path) -> None:
    loader = built(VIRT, "loader.elf")
    with pytest.raises(KsymsError, match=r"(?m)^  _start: 0x[0-9a-f]+ in kernel.pre.elf, "):
        check_unmoved(FIRST_LINK, loader)


def test_assembly_lays_names_out_after_the_entries() -> None:
    text = assembly([Function(0x1000, 0x10, "a"), Function(0x1010, 4, "bc")], "test")
    assert "    .8byte 2\n" in text
    assert "    .8byte 0x1000\n    .4byte 0x10, 0x0\n" in text
    assert "    .8byte 0x1010\n    .4byte 0x4, 0x2\n" in text
    assert text.index("ksyms_names:") < text.index('.asciz "a"') < text.index('.asciz "bc"')


def test_lookup_names_function_and_offset_and_nothing_between() -> None:
    table = [Function(0x1000, 0x10, "a"), Function(0x1020, 4, "b")]
    assert lookup(table, 0x1000) == ("a", 0)
    assert lookup(table, 0x100F) == ("a", 0xF)
    assert lookup(table, 0x1010) is None
    assert lookup(table, 0x0FFF) is None
    assert lookup(table, 0x1023) == ("b", 3)
    assert lookup(table, 0x1024) is None


def test_name_gives_the_offset_and_names_a_return_address_by_the_byte_before() -> None:
    table = [Function(0x1000, 0x10, "a"), Function(0x1010, 0x8, "b")]
    assert name(table, 0x1004) == "a+0x4"
    assert name(table, 0x1010) == "b+0x0"
    # Just past a call that ends `a`: the caller is `a`, not `b`.
    assert name(table, 0x1010, return_address=True) == "a+0x10"
    assert name(table, 0x1018) is None
    assert name(table, 0x1018, return_address=True) == "b+0x8"
