"""Build-time validation of the ELFs the loader embeds: the kernel and the user program.

The loader maps PT_LOAD segments page by page and trusts what it is given, so
every property it relies on is checked here, on the host, where a mistake in a
linker script gives a clear message instead of a hang in QEMU. Both kinds of
ELF go through the same checks; an `ElfRules` says where each kind may live
and whether it may have thread-local storage (lib/elf.c checks the same rules
again at boot).

Run as `python -m aubade.elfcheck [--user] FILE` to check one file by hand.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile

PAGE_SIZE = 4096
ADDRESS_SPACE_END = 1 << 64
ELF_MAGIC = b"\x7fELF"
ELF64_PHDR_SIZE = 56
# The loader and the kernel describe at most this many (ELF_MAX_SEGMENTS).
MAX_LOADS = 8
# Program headers that ask for a dynamic linker, which nothing here is.
DYNAMIC_TYPES = ("PT_INTERP", "PT_DYNAMIC")


class ElfCheckError(Exception):
    """The file breaks a rule; the message names the file, the segment and the rule."""

    advice: str = ""
    """What to look at to fix it, for the build's error."""


@dataclass(frozen=True)
class ElfRules:
    """What one kind of ELF may be (struct elf_rules in lib/include/aubade/elf.h)."""

    program: str
    """Names the kind in messages."""
    start: int
    """No PT_LOAD below this address."""
    start_why: str
    end: int
    """Every PT_LOAD's pages end at or below this address."""
    end_what: str
    tls: bool
    """Whether a PT_TLS is allowed."""
    advice: str


KERNEL_RULES = ElfRules(
    program="kernel",
    start=0xFFFFFFC000000000,
    start_why="the kernel lives in the upper half",
    end=ADDRESS_SPACE_END,
    end_what="the end of the address space",
    tls=True,
    advice="the kernel's segments come from linker/kernel.ld.in",
)
# Page 0 stays unmapped so that a null pointer faults; the kernel puts the
# program's stack above USER_RULES.end.
USER_RULES = ElfRules(
    program="user program",
    start=PAGE_SIZE,
    start_why="page 0 stays unmapped, so that null pointers fault",
    end=0x3F00000000,
    end_what="the end of a user program's memory, below its stack",
    tls=False,
    advice=(
        "user programs are linked statically, without thread-local storage, by "
        "linker/user.ld.in (docs/building.md, 'The user program')"
    ),
)


@dataclass(frozen=True)
class Segment:
    """One program header, by its index in the program header table."""

    index: int
    vaddr: int
    memsz: int
    filesz: int
    offset: int
    flags: int
    align: int

    @property
    def perm(self) -> str:
        """Permissions in the `rwx` style of `ls` and `readelf -l`."""
        return "".join(
            letter if self.flags & flag else "-"
            for letter, flag in (("r", P_FLAGS.PF_R), ("w", P_FLAGS.PF_W), ("x", P_FLAGS.PF_X))
        )

    @property
    def end(self) -> int:
        return self.vaddr + self.memsz


@dataclass(frozen=True)
class CheckedElf:
    path: Path
    entry: int
    loads: tuple[Segment, ...]
    tls: Segment | None


def _round_up_to_page(address: int) -> int:
    return -(-address // PAGE_SIZE) * PAGE_SIZE


def _describe(kind: str, segment: Segment) -> str:
    return f"segment {segment.index} ({kind} at {segment.vaddr:#x})"


def _read_elf(path: Path, data: bytes) -> ELFFile:
    """Parses the ELF header, turning every way a file can fail to be ELF into one message."""
    if data[: len(ELF_MAGIC)] != ELF_MAGIC:
        raise ElfCheckError(f"{path}: not an ELF file (it does not start with 7f 45 4c 46)")
    try:
        return ELFFile(io.BytesIO(data))
    except ELFError as error:
        raise ElfCheckError(f"{path}: truncated or malformed ELF header ({error})") from error


def _check_header(path: Path, elf: ELFFile) -> None:
    ident = elf["e_ident"]
    if ident["EI_CLASS"] != "ELFCLASS64":
        raise ElfCheckError(f"{path}: EI_CLASS is {ident['EI_CLASS']}, expected ELFCLASS64")
    if ident["EI_DATA"] != "ELFDATA2LSB":
        raise ElfCheckError(
            f"{path}: EI_DATA is {ident['EI_DATA']}, expected ELFDATA2LSB (little-endian)"
        )
    if elf["e_machine"] != "EM_RISCV":
        raise ElfCheckError(f"{path}: e_machine is {elf['e_machine']}, expected EM_RISCV")
    if elf["e_type"] != "ET_EXEC":
        raise ElfCheckError(f"{path}: e_type is {elf['e_type']}, expected ET_EXEC")


def _read_segments(path: Path, elf: ELFFile, file_size: int) -> list[tuple[str, Segment]]:
    """Returns (p_type, segment) for every program header, in table order."""
    table_start = elf["e_phoff"]
    try:
        count = elf.num_segments()
        # pyelftools steps through the table by e_phentsize, so any other size
        # would make it read headers from the wrong offsets.
        if count and elf["e_phentsize"] != ELF64_PHDR_SIZE:
            raise ElfCheckError(
                f"{path}: e_phentsize is {elf['e_phentsize']}, expected {ELF64_PHDR_SIZE}"
            )
        table_end = table_start + count * ELF64_PHDR_SIZE
        if table_end > file_size:
            raise ElfCheckError(
                f"{path}: program header table [{table_start:#x}, {table_end:#x}) runs past "
                f"the end of the file ({file_size:#x} bytes)"
            )
        headers = [elf.get_segment(index).header for index in range(count)]
    except ELFError as error:
        raise ElfCheckError(f"{path}: malformed program header table ({error})") from error
    return [
        (
            header["p_type"],
            Segment(
                index=index,
                vaddr=header["p_vaddr"],
                memsz=header["p_memsz"],
                filesz=header["p_filesz"],
                offset=header["p_offset"],
                flags=header["p_flags"],
                align=header["p_align"],
            ),
        )
        for index, header in enumerate(headers)
    ]


def _check_load(path: Path, load: Segment, file_size: int, rules: ElfRules) -> None:
    where = f"{path}: {_describe('PT_LOAD', load)}"
    if load.vaddr % PAGE_SIZE:
        raise ElfCheckError(f"{where}: vaddr is not page-aligned ({PAGE_SIZE})")
    if load.offset % PAGE_SIZE != load.vaddr % PAGE_SIZE:
        raise ElfCheckError(
            f"{where}: offset {load.offset:#x} is not congruent to vaddr modulo {PAGE_SIZE}"
        )
    if load.filesz > load.memsz:
        raise ElfCheckError(f"{where}: filesz {load.filesz:#x} exceeds memsz {load.memsz:#x}")
    # A segment of bss alone reads nothing, so its offset may lie past the end.
    if load.filesz and load.offset + load.filesz > file_size:
        raise ElfCheckError(
            f"{where}: file range [{load.offset:#x}, {load.offset + load.filesz:#x}) runs past "
            f"the end of the file ({file_size:#x} bytes)"
        )
    if load.flags & P_FLAGS.PF_W and load.flags & P_FLAGS.PF_X:
        raise ElfCheckError(f"{where}: writable and executable; a segment must be W^X")
    if load.vaddr < rules.start:
        raise ElfCheckError(
            f"{where}: starts below {rules.start:#x}; {rules.start_why} ({rules.program})"
        )
    if _round_up_to_page(load.end) > rules.end:
        raise ElfCheckError(
            f"{where}: memsz {load.memsz:#x} runs past {rules.end_what} ({rules.end:#x})"
        )


def _check_load_order(path: Path, previous: Segment, load: Segment) -> None:
    where = f"{path}: {_describe('PT_LOAD', load)}"
    if load.vaddr < previous.vaddr:
        raise ElfCheckError(
            f"{where}: comes after {_describe('PT_LOAD', previous)}; "
            "PT_LOAD segments must be sorted by vaddr"
        )
    # The loader maps whole pages, so two segments sharing a page would
    # overwrite each other's contents or permissions.
    if _round_up_to_page(previous.end) > load.vaddr:
        raise ElfCheckError(
            f"{where}: overlaps {_describe('PT_LOAD', previous)} "
            f"once rounded to {PAGE_SIZE}-byte pages"
        )


def _holds_tls_image(load: Segment, tls: Segment) -> bool:
    """The loader copies the TLS image (.tdata, filesz bytes) from the file bytes
    of the PT_LOAD that holds it; .tbss takes no room in the file, so memsz
    may run past every PT_LOAD."""
    at = tls.vaddr - load.vaddr
    if at < 0:
        return False
    if tls.filesz == 0:
        return at <= load.memsz
    return at + tls.filesz <= load.filesz and tls.offset - load.offset == at


def _check_tls(path: Path, tls: Segment, loads: Sequence[Segment]) -> None:
    where = f"{path}: {_describe('PT_TLS', tls)}"
    if tls.filesz > tls.memsz:
        raise ElfCheckError(f"{where}: filesz {tls.filesz:#x} exceeds memsz {tls.memsz:#x}")
    if not any(_holds_tls_image(load, tls) for load in loads):
        image_end = tls.vaddr + tls.filesz
        raise ElfCheckError(
            f"{where}: its image [{tls.vaddr:#x}, {image_end:#x}) lies in the file bytes "
            "of no PT_LOAD"
        )


def _check_entry(path: Path, entry: int, loads: Sequence[Segment]) -> None:
    home = next((load for load in loads if load.vaddr <= entry < load.end), None)
    if home is None:
        raise ElfCheckError(f"{path}: entry {entry:#x} lies inside no PT_LOAD")
    if not home.flags & P_FLAGS.PF_X:
        raise ElfCheckError(
            f"{path}: entry {entry:#x} lies in {_describe('PT_LOAD', home)}, "
            "which is not executable"
        )


def check_elf(path: Path, rules: ElfRules) -> CheckedElf:
    """Checks every rule the loader relies on; raises ElfCheckError on the first broken one."""
    try:
        return _check_elf(path, rules)
    except ElfCheckError as error:
        error.advice = rules.advice
        raise


def check_kernel_elf(path: Path) -> CheckedElf:
    return check_elf(path, KERNEL_RULES)


def check_user_elf(path: Path) -> CheckedElf:
    return check_elf(path, USER_RULES)


def _check_elf(path: Path, rules: ElfRules) -> CheckedElf:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ElfCheckError(f"{path}: cannot read: {error.strerror}") from error
    elf = _read_elf(path, data)
    _check_header(path, elf)

    loads: list[Segment] = []
    tls: Segment | None = None
    # Other program headers (PT_RISCV_ATTRIBUTES, PT_GNU_STACK, ...) describe
    # nothing that the loader maps, so they are not checked.
    for kind, segment in _read_segments(path, elf, len(data)):
        if kind in DYNAMIC_TYPES:
            raise ElfCheckError(
                f"{path}: {_describe(kind, segment)}: asks for a dynamic linker; "
                "only static executables load"
            )
        if kind == "PT_LOAD":
            _check_load(path, segment, len(data), rules)
            if loads:
                _check_load_order(path, loads[-1], segment)
            loads.append(segment)
        elif kind == "PT_TLS":
            if not rules.tls:
                raise ElfCheckError(
                    f"{path}: {_describe('PT_TLS', segment)}: a {rules.program} may have "
                    "no PT_TLS; nothing sets up its thread pointer"
                )
            if tls is not None:
                raise ElfCheckError(
                    f"{path}: {_describe('PT_TLS', segment)}: a second PT_TLS after "
                    f"segment {tls.index}; at most one is allowed"
                )
            tls = segment

    if not loads:
        raise ElfCheckError(f"{path}: no PT_LOAD segment; there is nothing to load")
    if len(loads) > MAX_LOADS:
        raise ElfCheckError(
            f"{path}: {len(loads)} PT_LOAD segments; the loader takes at most {MAX_LOADS}"
        )
    if tls is not None:
        _check_tls(path, tls, loads)
    entry = elf["e_entry"]
    _check_entry(path, entry, loads)
    return CheckedElf(path=path, entry=entry, loads=tuple(loads), tls=tls)


def summary(checked: CheckedElf) -> str:
    """One line: the entry point and each segment as `perm vaddr+memsz`."""
    loads = ", ".join(f"{load.perm} {load.vaddr:#x}+{load.memsz:#x}" for load in checked.loads)
    tls = (
        f"PT_TLS {checked.tls.vaddr:#x}+{checked.tls.memsz:#x}"
        if checked.tls is not None
        else "no PT_TLS"
    )
    return f"{checked.path}: entry {checked.entry:#x}; PT_LOAD {loads}; {tls}"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aubade.elfcheck",
        description="Check that an ELF is one the Aubade loader can load.",
    )
    parser.add_argument(
        "--user", action="store_true", help="check it as a user program, not as the kernel"
    )
    parser.add_argument("file", type=Path)
    arguments = parser.parse_args(argv)
    try:
        checked = check_elf(arguments.file, USER_RULES if arguments.user else KERNEL_RULES)
    except ElfCheckError as error:
        print(error, file=sys.stderr)
        return 1
    print(summary(checked))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
