"""The kernel's unwind information (.debug_frame), which gdb's `bt` follows.

entry.S describes a trap from the kernel as a signal frame whose caller is
the interrupted code, resumed at the sepc saved in the trap frame; a trap
from U-mode, trap_return and the entries in start.S end a backtrace.

pyelftools reads only CIE augmentations that start with "z", and entry.S's
is "S", so these tests read binutils' dump of the section and play its
rules forward themselves.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from configurations import VIRT, built

from aubade.toolchain import CROSS_PREFIX

REPO = Path(__file__).resolve().parents[2]
KERNEL_ELF = built(VIRT, "kernel.elf")
DWARF_SEPC = 4096 + 0x141
"""The psABI's DWARF number of a CSR is 4096 + its number."""
SP, RA, S0 = 2, 1, 8


def _trap_h(name: str) -> int:
    text = (REPO / "kernel" / "trap" / "trap.h").read_text()
    match = re.search(rf"^#define {name} \((\d+) \* 8\)$", text, re.MULTILINE)
    if match is None:
        raise LookupError(f"trap.h: no `#define {name} (N * 8)`")
    return int(match[1]) * 8


TRAP_FRAME_SIZE = _trap_h("TRAP_FRAME_SIZE")
TRAP_FRAME_SEPC = _trap_h("TRAP_FRAME_SEPC")


@dataclass
class Cie:
    augmentation: str = ""
    return_column: int = -1
    instructions: list[str] = field(default_factory=list)


@dataclass
class Fde:
    start: int
    end: int
    cie: Cie
    instructions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    """From `pc` on: the CFA as (register, offset) and each register's rule:
    ("offset", n) saved at CFA + n, ("register", r), "undefined" or "same"."""

    pc: int
    cfa: tuple[int, int]
    rules: dict[int, object]

    def rule(self, register: int) -> object:
        return self.rules.get(register, "unspecified")


CIE_LINE = re.compile(r"^([0-9a-f]{8}) [0-9a-f]+ [0-9a-f]+ CIE")
FDE_LINE = re.compile(r"^[0-9a-f]{8} .* FDE cie=([0-9a-f]{8}) pc=([0-9a-f]+)\.\.([0-9a-f]+)")
AUGMENTATION = re.compile(r'^  Augmentation: +"(.*)"')
RETURN_COLUMN = re.compile(r"^  Return address column: (\d+)")


def _entries(path: Path) -> list[Fde]:
    dump = subprocess.run(
        [f"{CROSS_PREFIX}readelf", "--debug-dump=frames", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cies: dict[str, Cie] = {}
    fdes: list[Fde] = []
    current: Cie | Fde | None = None
    for line in dump.splitlines():
        if match := CIE_LINE.match(line):
            current = cies[match[1]] = Cie()
        elif match := FDE_LINE.match(line):
            current = Fde(int(match[2], 16), int(match[3], 16), cies[match[1]])
            fdes.append(current)
        elif isinstance(current, Cie) and (match := AUGMENTATION.match(line)):
            current.augmentation = match[1]
        elif isinstance(current, Cie) and (match := RETURN_COLUMN.match(line)):
            current.return_column = int(match[1])
        elif current is not None and line.strip().startswith("DW_CFA_"):
            current.instructions.append(line.strip())
    return fdes


def _register(text: str) -> int:
    return int(re.match(r"r(\d+)", text)[1])


def rows(fde: Fde) -> list[Row]:
    """The table the CIE's and the FDE's instructions build, one row per change."""
    cfa = (SP, 0)
    rules: dict[int, object] = {}
    initial: dict[int, object] = {}
    saved: list[tuple[tuple[int, int], dict[int, object]]] = []
    table: list[Row] = []
    pc = fde.start
    for index, instruction in enumerate([*fde.cie.instructions, *fde.instructions]):
        if index == len(fde.cie.instructions):
            initial = dict(rules)
        op, _, operands = instruction.partition(":")
        words = operands.split()
        if op.startswith("DW_CFA_advance_loc"):
            table.append(Row(pc, cfa, dict(rules)))
            pc = int(words[-1], 16)
        elif op == "DW_CFA_def_cfa":
            cfa = (_register(words[0]), int(words[-1]))
        elif op == "DW_CFA_def_cfa_register":
            cfa = (_register(words[0]), cfa[1])
        elif op == "DW_CFA_def_cfa_offset":
            cfa = (cfa[0], int(words[0]))
        elif op in ("DW_CFA_offset", "DW_CFA_offset_extended", "DW_CFA_offset_extended_sf"):
            rules[_register(words[0])] = ("offset", int(words[-1].removeprefix("cfa")))
        elif op == "DW_CFA_register":
            rules[_register(words[0])] = ("register", _register(words[3]))
        elif op == "DW_CFA_same_value":
            rules[_register(words[0])] = "same"
        elif op == "DW_CFA_undefined":
            rules[_register(words[0])] = "undefined"
        elif op == "DW_CFA_restore":
            register = _register(words[0])
            rules.pop(register, None)
            if register in initial:
                rules[register] = initial[register]
        elif op == "DW_CFA_remember_state":
            saved.append((cfa, dict(rules)))
        elif op == "DW_CFA_restore_state":
            cfa, rules = saved.pop()
        elif op != "DW_CFA_nop":
            raise ValueError(f"{instruction}: an instruction these tests do not play")
    table.append(Row(pc, cfa, dict(rules)))
    # Several instructions at one address: the last row there is the one.
    return list({row.pc: row for row in table}.values())


def row_at(fde: Fde, address: int) -> Row:
    return [row for row in rows(fde) if row.pc <= address][-1]


@pytest.fixture(scope="module")
def symbols() -> dict[str, int]:
    output = subprocess.run(
        [f"{CROSS_PREFIX}nm", str(KERNEL_ELF)], capture_output=True, text=True, check=True
    ).stdout
    lines = (line.split() for line in output.splitlines())
    return {name: int(address, 16) for address, _, name in lines}


@pytest.fixture(scope="module")
def entries() -> list[Fde]:
    return _entries(KERNEL_ELF)


def covering(entries: list[Fde], address: int) -> Fde:
    found = [fde for fde in entries if fde.start <= address < fde.end]
    assert len(found) == 1, f"{len(found)} FDEs cover {address:#x}"
    return found[0]


def test_trap_entry_is_a_signal_frame_that_returns_to_the_saved_sepc(
    entries: list[Fde], symbols: dict[str, int]
) -> None:
    fde = covering(entries, symbols["trap_entry"])
    assert fde.start == symbols["trap_entry"]
    assert "S" in fde.cie.augmentation
    assert fde.cie.return_column == DWARF_SEPC


def test_a_trap_from_the_kernel_restores_every_register_from_its_frame(
    entries: list[Fde], symbols: dict[str, int]
) -> None:
    """Where trap_handle returns to (the call and the jump to trap_return
    end the kernel's path, just before from_user): the caller's pc is the
    saved sepc and its registers are the frame's slots; the CFA is the top
    of the frame."""
    fde = covering(entries, symbols["trap_entry"])
    return_address = symbols["from_user"] - 2
    row = row_at(fde, return_address - 4)
    assert row_at(fde, return_address) == row, "the call and its return share the rules"
    assert row.cfa == (SP, TRAP_FRAME_SIZE)
    assert row.rule(DWARF_SEPC) == ("offset", TRAP_FRAME_SEPC - TRAP_FRAME_SIZE)
    for register in range(1, 32):
        assert row.rule(register) == ("offset", register * 8 - TRAP_FRAME_SIZE), f"x{register}"
    assert {RA, SP, S0} <= row.rules.keys()


def test_a_trap_from_user_mode_ends_the_backtrace(
    entries: list[Fde], symbols: dict[str, int]
) -> None:
    """From from_user to the FDE's end, and in trap_entry's first
    instructions, which do not know yet where the trap came from."""
    fde = covering(entries, symbols["trap_entry"])
    assert rows(fde)[0].rule(DWARF_SEPC) == "undefined"
    user = [row for row in rows(fde) if row.pc >= symbols["from_user"]]
    assert user and all(row.rule(DWARF_SEPC) == "undefined" for row in user)


@pytest.mark.parametrize(
    "name", ["trap_return", "user_enter", "_start", "secondary_continue", "context_first_entry"]
)
def test_code_with_no_caller_ends_the_backtrace(
    entries: list[Fde], symbols: dict[str, int], name: str
) -> None:
    fde = covering(entries, symbols[name])
    assert all(row.rule(fde.cie.return_column) == "undefined" for row in rows(fde))
