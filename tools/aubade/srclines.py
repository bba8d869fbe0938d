"""Where in the sources a kernel address is, from the ELF's DWARF line table.

The kernel is built with -g, so its ELF maps every instruction to a file and
a line. `line_table` reads that map once into sorted, disjoint address
ranges; `LineTable.lookup` then finds an address by bisection. The answer is
the line table's, as `addr2line -e kernel.elf ADDR` gives it without -i: for
code inlined from a header, the header's line.

`describe` is the one way the tools name a kernel address with its line
(`kmalloc+0x24 (kernel/mm/heap.c:123)`): tools/symbolize uses it, and so does
the soak's hart dump (aubade.hartdump).
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import DWARFError, ELFError
from elftools.construct import ConstructError
from elftools.dwarf.compileunit import CompileUnit
from elftools.dwarf.lineprogram import LineProgram
from elftools.elf.elffile import ELFFile

from aubade.ksyms import Function, name

ELF_ERRORS = (ELFError, DWARFError, ConstructError)
"""What pyelftools raises on a file that is no ELF, or a broken one."""


class LinesError(Exception):
    """The file is not an ELF that pyelftools can read."""


@dataclass(frozen=True)
class SourceLine:
    path: str
    """Relative to the directory the compiler ran in (the repository, for
    SCons runs it at the top), or absolute outside it (a toolchain header)."""
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class LineTable:
    """Address ranges [start, end) with their source lines, sorted and disjoint."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    places: tuple[SourceLine, ...]

    def lookup(self, address: int) -> SourceLine | None:
        index = bisect.bisect_right(self.starts, address) - 1
        if index < 0 or address >= self.ends[index]:
            return None
        return self.places[index]

    def __len__(self) -> int:
        return len(self.starts)


EMPTY = LineTable((), (), ())
"""The table of an ELF without DWARF: it knows no line."""


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _file_paths(unit: CompileUnit, program: LineProgram) -> dict[int, str]:
    """The program's file numbers, as paths relative to the unit's comp_dir.

    DWARF 5 counts files and directories from 0, directory 0 being comp_dir;
    DWARF 4 counts files from 1 and means comp_dir by directory 0.
    """
    header = program.header
    attribute = unit.get_top_DIE().attributes.get("DW_AT_comp_dir")
    comp_dir = _text(attribute.value) if attribute is not None else ""
    directories = [_text(directory) for directory in header["include_directory"]]
    version = header["version"]
    first_file = 0 if version >= 5 else 1
    paths = {}
    for number, entry in enumerate(header["file_entry"], start=first_file):
        index = entry["dir_index"]
        if version >= 5:
            directory = directories[index] if index < len(directories) else ""
        else:
            directory = directories[index - 1] if 0 < index <= len(directories) else ""
        # join keeps the later part when it is absolute.
        full = posixpath.normpath(posixpath.join(comp_dir, directory, _text(entry["name"])))
        if comp_dir and full.startswith(comp_dir.rstrip("/") + "/"):
            full = posixpath.relpath(full, comp_dir)
        paths[number] = full
    return paths


def line_table(path: Path) -> LineTable:
    """The ELF's line table; EMPTY if it has no DWARF (stripped, or built without -g).

    Raises OSError if the file cannot be read, LinesError if it is no ELF.
    Rows at one address keep the last (as addr2line does); line 0, the
    compiler's code of no line, gives a range without a place, so dropped.
    """
    ranges: list[tuple[int, int, SourceLine]] = []
    with path.open("rb") as stream:
        try:
            elf = ELFFile(stream)
            if not elf.has_dwarf_info():
                return EMPTY
            # Linked: the debug sections hold final addresses. The relocations
            # kept beside them (the kernel links with --emit-relocs, for KASLR)
            # are the link's record, not work left to do.
            dwarf = elf.get_dwarf_info(relocate_dwarf_sections=False)
            for unit in dwarf.iter_CUs():
                program = dwarf.line_program_for_CU(unit)
                if program is None:
                    continue
                paths = _file_paths(unit, program)
                previous = None
                for entry in program.get_entries():
                    state = entry.state
                    if state is None:
                        continue
                    if previous is not None and state.address > previous.address:
                        if previous.line > 0 and previous.file in paths:
                            place = SourceLine(paths[previous.file], previous.line)
                            ranges.append((previous.address, state.address, place))
                    previous = None if state.end_sequence else state
        except ELF_ERRORS as error:
            raise LinesError(f"{path}: not an ELF that pyelftools can read ({error})") from error
    ranges.sort(key=lambda found: found[0])
    starts: list[int] = []
    ends: list[int] = []
    places: list[SourceLine] = []
    for start, end, place in ranges:
        # Sequences of code that --gc-sections dropped all start at 0 and overlap.
        if ends and start < ends[-1]:
            continue
        if ends and start == ends[-1] and places[-1] == place:
            ends[-1] = end
            continue
        starts.append(start)
        ends.append(end)
        places.append(place)
    return LineTable(tuple(starts), tuple(ends), tuple(places))


def describe(
    table: Sequence[Function], lines: LineTable, address: int, return_address: bool = False
) -> str | None:
    """`function+0xoff (file:line)` for `address`, None outside every function.

    A return address takes the line of the byte before it, which is the
    call's, as its name does (aubade.ksyms.name). Without a line (no DWARF,
    or code of no line), only the name.
    """
    named = name(table, address, return_address)
    if named is None:
        return None
    place = lines.lookup(address - 1 if return_address else address)
    return named if place is None else f"{named} ({place})"
