"""Host tests of aubade.payload: two checked ELFs and a relocation table in, the same bytes out."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from configurations import VIRT, built

from aubade import kreloc
from aubade.elfcheck import ElfCheckError, check_kernel_elf
from aubade.payload import ALIGNMENT, PayloadError, pack, unpack, write_payload
from tools.elfbuilder import ET_DYN, build_elf
from tools.test_elfcheck import ENTRY as KERNEL_ENTRY
from tools.test_elfcheck import kernel_headers
from tools.test_elfcheck_user import ENTRY as USER_ENTRY
from tools.test_elfcheck_user import user_headers

# The kernel as linked, with its relocations: write_payload's third input.
RELOCATABLE_KERNEL = built(VIRT, "kernel.elf")


def write_elves(tmp_path: Path, **kernel_fields: int) -> tuple[Path, Path]:
    kernel = tmp_path / "kernel.elf"
    kernel.write_bytes(build_elf(kernel_headers(), **{"entry": KERNEL_ENTRY, **kernel_fields}))
    user = tmp_path / "init.elf"
    user.write_bytes(build_elf(user_headers(), entry=USER_ENTRY))
    return kernel, user


def test_round_trip_gives_the_build_its_elves_and_table_back_byte_for_byte(
    tmp_path: Path,
) -> None:
    kernel, user = built(VIRT, "kernel.stripped.elf"), built(VIRT, "user/init.stripped.elf")
    out = tmp_path / "payload.bin"

    checked_kernel, _ = write_payload(kernel, user, RELOCATABLE_KERNEL, out)

    unpacked = unpack(out.read_bytes())
    assert unpacked.kernel == kernel.read_bytes()
    assert unpacked.user == user.read_bytes()
    assert unpacked.relocations == kreloc.table(RELOCATABLE_KERNEL, checked_kernel.loads)
    assert unpacked.relocations, "the kernel has pointers in its data: the table is not empty"


def test_each_entry_starts_on_a_page(tmp_path: Path) -> None:
    unpacked = unpack(pack(b"k" * 5000, b"u" * 10, b"r" * 8))
    assert unpacked.kernel_offset % ALIGNMENT == 0
    assert unpacked.user_offset % ALIGNMENT == 0
    assert unpacked.user_offset >= unpacked.kernel_offset + 5000
    assert unpacked.relocations == b"r" * 8


def test_header_layout_is_the_loaders() -> None:
    """loader/payload_header.c reads these bytes as its struct payload_header."""
    data = pack(b"kernel", b"user", b"relocs")
    assert data[:16] == b"AUBPAYLD" + struct.pack("<II", 1, 3)
    assert struct.unpack_from("<QQQQQQ", data, 16) == (
        ALIGNMENT,
        6,
        2 * ALIGNMENT,
        4,
        3 * ALIGNMENT,
        6,
    )


@pytest.mark.parametrize("bad", ["kernel", "user"])
def test_nothing_is_written_when_an_elf_is_bad(tmp_path: Path, bad: str) -> None:
    kernel, user = write_elves(tmp_path)
    broken = kernel if bad == "kernel" else user
    broken.write_bytes(broken.read_bytes()[:16])
    out = tmp_path / "payload.bin"
    with pytest.raises(ElfCheckError, match=str(broken)):
        write_payload(kernel, user, RELOCATABLE_KERNEL, out)
    assert not out.exists()


def test_the_kernel_is_checked_as_a_kernel_and_the_user_program_as_one(tmp_path: Path) -> None:
    kernel, user = write_elves(tmp_path)
    out = tmp_path / "payload.bin"
    with pytest.raises(ElfCheckError, match="starts below 0xffffffc000000000"):
        write_payload(user, user, RELOCATABLE_KERNEL, out)
    with pytest.raises(ElfCheckError, match="runs past the end of a user program's memory"):
        write_payload(kernel, kernel, RELOCATABLE_KERNEL, out)
    kernel.write_bytes(build_elf(kernel_headers(), entry=KERNEL_ENTRY, elf_type=ET_DYN))
    with pytest.raises(ElfCheckError, match="ET_DYN"):
        write_payload(kernel, user, RELOCATABLE_KERNEL, out)


def test_a_table_entry_outside_the_kernels_file_bytes_is_refused(tmp_path: Path) -> None:
    """The table must name bytes the loader copies: the synthetic kernel's
    segments are not where the built kernel's pointers are."""
    kernel, user = write_elves(tmp_path)
    out = tmp_path / "payload.bin"
    with pytest.raises(kreloc.RelocationError, match="not in the bytes of a PT_LOAD segment"):
        write_payload(kernel, user, RELOCATABLE_KERNEL, out)
    assert not out.exists()
    assert check_kernel_elf(kernel).entry == KERNEL_ENTRY


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda data: data[:20], "too few for a payload header", id="truncated"),
        pytest.param(lambda data: b"X" + data[1:], "magic b'XUBPAYLD'", id="magic"),
        pytest.param(
            lambda data: data[:8] + struct.pack("<I", 2) + data[12:], "version 2", id="version"
        ),
        pytest.param(
            lambda data: data[:16] + struct.pack("<Q", 8) + data[24:],
            "the kernel entry at 0x8+0x6 is not page-aligned",
            id="misaligned",
        ),
        pytest.param(lambda data: data[: 2 * ALIGNMENT + 2], "the user entry", id="cut-short"),
    ],
)
def test_unpack_names_what_does_not_hold(edit: Callable[[bytes], bytes], message: str) -> None:
    with pytest.raises(PayloadError, match=re.escape(message)):
        unpack(edit(pack(b"kernel", b"user", b"relocs")))
