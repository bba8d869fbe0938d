"""Host tests of aubade.elfcheck on kernel ELF files built in Python."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from aubade.elfcheck import ElfCheckError, Segment, check_kernel_elf, main
from tools.elfbuilder import (
    ELFCLASS32,
    ELFDATA2MSB,
    EM_X86_64,
    ET_DYN,
    PF_R,
    PF_W,
    PF_X,
    PT_GNU_STACK,
    PT_LOAD,
    PT_RISCV_ATTRIBUTES,
    PT_TLS,
    ProgramHeader,
    build_elf,
)

KERNEL_BASE = 0xFFFFFFFF80000000
ENTRY = KERNEL_BASE + 0x10
# Where a kernel linked to run at its physical address would sit: low enough
# for the 32-bit fields of an ELFCLASS32 file.
PHYSICAL_BASE = 0x80200000

# Indices of the headers of kernel_headers(), in table order as binutils
# writes them: the RISC-V attributes first, PT_GNU_STACK last.
ATTRIBUTES, TEXT, RODATA, DATA, TLS, STACK = range(6)


def kernel_headers(base: int = KERNEL_BASE) -> list[ProgramHeader]:
    """A well-formed kernel: text, rodata, data with bss and TLS inside it."""
    return [
        ProgramHeader(PT_RISCV_ATTRIBUTES, vaddr=0, data=b"A\x1b\x00\x00\x00riscv\x00"),
        ProgramHeader(PT_LOAD, vaddr=base, flags=PF_R | PF_X, data=b"\x13" * 0x1800),
        ProgramHeader(PT_LOAD, vaddr=base + 0x2000, data=b"r" * 0x100),
        ProgramHeader(
            PT_LOAD, vaddr=base + 0x3000, flags=PF_R | PF_W, data=b"d" * 0x200, memsz=0x1000
        ),
        ProgramHeader(PT_TLS, vaddr=base + 0x3100, filesz=0x40, memsz=0x80),
        ProgramHeader(PT_GNU_STACK, vaddr=0, flags=PF_R | PF_W),
    ]


def write_kernel(tmp_path: Path, image: bytes) -> Path:
    path = tmp_path / "kernel.elf"
    path.write_bytes(image)
    return path


def kernel_image(headers: list[ProgramHeader], *, entry: int = ENTRY, **elf_fields: int) -> bytes:
    return build_elf(headers, entry=entry, **elf_fields)


def assert_rejected(path: Path, *fragments: str) -> None:
    """The check fails with a message that starts with the file and holds every fragment."""
    with pytest.raises(ElfCheckError) as caught:
        check_kernel_elf(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message


def test_good_kernel_passes_and_reports_its_segments(tmp_path: Path) -> None:
    path = write_kernel(tmp_path, kernel_image(kernel_headers()))

    checked = check_kernel_elf(path)

    assert checked.path == path
    assert checked.entry == ENTRY
    assert [(load.index, load.vaddr, load.filesz, load.memsz) for load in checked.loads] == [
        (TEXT, KERNEL_BASE, 0x1800, 0x1800),
        (RODATA, KERNEL_BASE + 0x2000, 0x100, 0x100),
        (DATA, KERNEL_BASE + 0x3000, 0x200, 0x1000),
    ]
    assert [load.perm for load in checked.loads] == ["r-x", "r--", "rw-"]
    assert all(load.offset % 4096 == load.vaddr % 4096 for load in checked.loads)
    assert all(load.align == 4096 for load in checked.loads)
    assert checked.tls is not None
    assert (checked.tls.index, checked.tls.vaddr, checked.tls.filesz, checked.tls.memsz) == (
        TLS,
        KERNEL_BASE + 0x3100,
        0x40,
        0x80,
    )


def test_kernel_without_tls_passes(tmp_path: Path) -> None:
    headers = kernel_headers()
    del headers[TLS]
    checked = check_kernel_elf(write_kernel(tmp_path, kernel_image(headers)))
    assert checked.tls is None


def test_tls_bss_may_run_past_its_segment(tmp_path: Path) -> None:
    headers = kernel_headers()
    # .tdata ends with the data segment's file bytes; .tbss runs past the segment.
    headers[TLS] = replace(headers[TLS], vaddr=KERNEL_BASE + 0x3100, filesz=0x100, memsz=0x1000)
    checked = check_kernel_elf(write_kernel(tmp_path, kernel_image(headers)))
    assert checked.tls is not None


def test_bss_only_segment_may_have_its_offset_past_the_end(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers.insert(
        STACK,
        ProgramHeader(
            PT_LOAD, vaddr=KERNEL_BASE + 0x8000, flags=PF_R | PF_W, memsz=0x4000, offset=0x10000
        ),
    )
    checked = check_kernel_elf(write_kernel(tmp_path, kernel_image(headers)))
    assert checked.loads[-1].memsz == 0x4000


@pytest.mark.parametrize("image", [b"", b"\x7fEL", b"#!/bin/sh\necho not an elf\n"])
def test_not_an_elf_file(tmp_path: Path, image: bytes) -> None:
    assert_rejected(write_kernel(tmp_path, image), "not an ELF file")


def test_truncated_elf_header(tmp_path: Path) -> None:
    image = kernel_image(kernel_headers())[:40]
    assert_rejected(write_kernel(tmp_path, image), "truncated or malformed ELF header")


def test_unreadable_file(tmp_path: Path) -> None:
    assert_rejected(tmp_path / "kernel.elf", "cannot read")


def test_elf_class_is_64_bit(tmp_path: Path) -> None:
    image = kernel_image(
        kernel_headers(PHYSICAL_BASE), entry=PHYSICAL_BASE + 0x10, elf_class=ELFCLASS32
    )
    assert_rejected(write_kernel(tmp_path, image), "EI_CLASS is ELFCLASS32, expected ELFCLASS64")


@pytest.mark.parametrize(
    ("elf_fields", "message"),
    [
        pytest.param(
            {"byte_order": ELFDATA2MSB},
            "EI_DATA is ELFDATA2MSB, expected ELFDATA2LSB",
            id="big-endian",
        ),
        pytest.param(
            {"machine": EM_X86_64}, "e_machine is EM_X86_64, expected EM_RISCV", id="x86-64"
        ),
        pytest.param({"elf_type": ET_DYN}, "e_type is ET_DYN, expected ET_EXEC", id="ET_DYN"),
        pytest.param({"phentsize": 64}, "e_phentsize is 64, expected 56", id="phentsize"),
    ],
)
def test_elf_header_rules(tmp_path: Path, elf_fields: dict[str, int], message: str) -> None:
    path = write_kernel(tmp_path, kernel_image(kernel_headers(), **elf_fields))
    assert_rejected(path, message)


def test_program_header_table_inside_the_file(tmp_path: Path) -> None:
    image = kernel_image(kernel_headers())[: 64 + 2 * 56]
    assert_rejected(
        write_kernel(tmp_path, image), "program header table", "runs past the end of the file"
    )


def test_at_least_one_load_segment(tmp_path: Path) -> None:
    headers = kernel_headers()
    path = write_kernel(tmp_path, kernel_image([headers[ATTRIBUTES], headers[STACK]]))
    assert_rejected(path, "no PT_LOAD segment")


def test_load_vaddr_is_page_aligned(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers[RODATA] = replace(headers[RODATA], vaddr=KERNEL_BASE + 0x2010)
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 2 (PT_LOAD at 0xffffffff80002010): vaddr is not page-aligned (4096)",
    )


def test_load_offset_is_congruent_to_vaddr(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers[RODATA] = replace(headers[RODATA], offset=0x3010)
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 2 (PT_LOAD at 0xffffffff80002000): offset 0x3010 is not congruent to vaddr",
    )


def test_load_filesz_does_not_exceed_memsz(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers[RODATA] = replace(headers[RODATA], memsz=0x80)
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 2 (PT_LOAD at 0xffffffff80002000): filesz 0x100 exceeds memsz 0x80",
    )


def test_load_file_range_inside_the_file(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers[DATA] = replace(headers[DATA], filesz=0x800)
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 3 (PT_LOAD at 0xffffffff80003000): file range",
        "runs past the end of the file",
    )


def test_load_inside_the_address_space(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers.insert(
        STACK, ProgramHeader(PT_LOAD, vaddr=0xFFFFFFFFFFFFF000, flags=PF_R | PF_W, memsz=0x2000)
    )
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 5 (PT_LOAD at 0xfffffffffffff000): memsz 0x2000 runs past the end of the address",
    )


def test_load_is_not_writable_and_executable(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers[DATA] = replace(headers[DATA], flags=PF_R | PF_W | PF_X)
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 3 (PT_LOAD at 0xffffffff80003000): writable and executable; a segment must be W^X",
    )


def test_loads_sorted_by_vaddr(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers[RODATA], headers[DATA] = headers[DATA], headers[RODATA]
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 3 (PT_LOAD at 0xffffffff80002000): comes after "
        "segment 2 (PT_LOAD at 0xffffffff80003000); PT_LOAD segments must be sorted by vaddr",
    )


def test_loads_do_not_overlap(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers[RODATA] = replace(headers[RODATA], vaddr=KERNEL_BASE + 0x1000)
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 2 (PT_LOAD at 0xffffffff80001000): overlaps "
        "segment 1 (PT_LOAD at 0xffffffff80000000) once rounded to 4096-byte pages",
    )


def test_at_most_one_tls(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers.insert(STACK, headers[TLS])
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 5 (PT_TLS at 0xffffffff80003100): a second PT_TLS after segment 4; "
        "at most one is allowed",
    )


def test_tls_image_inside_a_load(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers[TLS] = replace(headers[TLS], vaddr=KERNEL_BASE + 0x3FF0)
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 4 (PT_TLS at 0xffffffff80003ff0): its image "
        "[0xffffffff80003ff0, 0xffffffff80004030) lies in the file bytes of no PT_LOAD",
    )


def test_tls_image_in_the_file_bytes_of_its_load(tmp_path: Path) -> None:
    """Inside the data segment's memory, but past its file bytes: nothing to copy from."""
    headers = kernel_headers()
    headers[TLS] = replace(headers[TLS], vaddr=KERNEL_BASE + 0x3F00, filesz=0x40, memsz=0x80)
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 4 (PT_TLS at 0xffffffff80003f00): its image "
        "[0xffffffff80003f00, 0xffffffff80003f40) lies in the file bytes of no PT_LOAD",
    )


def test_tls_image_at_its_loads_offset(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers[TLS] = replace(headers[TLS], offset=0x100)  # not where its load keeps it
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 4 (PT_TLS at 0xffffffff80003100): its image",
        "lies in the file bytes of no PT_LOAD",
    )


def test_tls_filesz_at_most_memsz(tmp_path: Path) -> None:
    headers = kernel_headers()
    headers[TLS] = replace(headers[TLS], filesz=0x80, memsz=0x40)
    assert_rejected(
        write_kernel(tmp_path, kernel_image(headers)),
        "segment 4 (PT_TLS at 0xffffffff80003100): filesz 0x80 exceeds memsz 0x40",
    )


def test_entry_inside_a_load(tmp_path: Path) -> None:
    image = kernel_image(kernel_headers(), entry=KERNEL_BASE + 0x1800)
    assert_rejected(
        write_kernel(tmp_path, image), "entry 0xffffffff80001800 lies inside no PT_LOAD"
    )


def test_entry_inside_an_executable_load(tmp_path: Path) -> None:
    image = kernel_image(kernel_headers(), entry=KERNEL_BASE + 0x2000)
    assert_rejected(
        write_kernel(tmp_path, image),
        "entry 0xffffffff80002000 lies in segment 2 (PT_LOAD at 0xffffffff80002000), "
        "which is not executable",
    )


def test_main_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_kernel(tmp_path, kernel_image(kernel_headers()))
    assert main([str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}: entry 0xffffffff80000010; PT_LOAD r-x 0xffffffff80000000+0x1800, "
        "r-- 0xffffffff80002000+0x100, rw- 0xffffffff80003000+0x1000; "
        "PT_TLS 0xffffffff80003100+0x80\n"
    )


def test_main_prints_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_kernel(tmp_path, kernel_image(kernel_headers(), machine=EM_X86_64))
    assert main([str(path)]) == 1
    assert capsys.readouterr().err == f"{path}: e_machine is EM_X86_64, expected EM_RISCV\n"


def test_segment_perm_spells_each_flag() -> None:
    segment = Segment(index=0, vaddr=0, memsz=0, filesz=0, offset=0, flags=0, align=4096)
    assert segment.perm == "---"
    assert replace(segment, flags=PF_R | PF_W | PF_X).perm == "rwx"
    assert replace(segment, flags=PF_W).perm == "-w-"


def test_kernel_is_in_the_upper_half(tmp_path: Path) -> None:
    image = kernel_image(kernel_headers(PHYSICAL_BASE), entry=PHYSICAL_BASE + 0x10)
    assert_rejected(
        write_kernel(tmp_path, image),
        "segment 1 (PT_LOAD at 0x80200000): starts below 0xffffffc000000000; "
        "the kernel lives in the upper half",
    )
