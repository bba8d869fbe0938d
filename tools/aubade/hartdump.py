"""Every hart of a running QEMU machine, read through its monitor and named
with the kernel's symbols: where each one is, and how it got there.

`dump_harts` stops the machine (so that all registers and stacks are of one
moment), reads `info registers -a`, and for each CPU walks its frame-pointer
chain through memory read with `cpu N` and `x /2gx ADDR`. The kernel is
built with -fno-omit-frame-pointer; GCC's RISC-V prologue saves ra at fp - 8
and the caller's fp at fp - 16, except in a leaf function that keeps ra in
its register and saves only the caller's fp, at fp - 8. The walk follows
kernel/debug/backtrace.c: at most `MAX_FRAMES` frames, a record read only on a
kernel stack, every caller's frame above its callee's, and a return address
named by the byte before it. A hart stopped on a function's first
instruction has saved nothing yet: its caller is in ra, and s0 is the
caller's frame.

An address is named `function+0xoff` from the kernel ELF's table (aubade.ksyms,
the one the kernel embeds), followed by its source line, `(file:line)`, when
the Labeller has the ELF's line table (aubade.srclines.describe, as
tools/symbolize writes it); outside the kernel it is labelled by where it
is: `firmware?` below the Image's load address in DRAM (OpenSBI), `user` in
the lower half (the user program), `?` anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aubade.ksyms import Function, lookup, name
from aubade.srclines import EMPTY, LineTable, describe

MAX_FRAMES = 16
KERNEL_STACKS = range(0xFFFFFFE000000000, 0xFFFFFFE800000000)
"""Where every kernel stack lies: the per-hart slots (stack, and the trap
stack in the TLS block) from PERCPU_BASE (loader/loader.h) and the task
stacks from STACK_WINDOW (kernel/sched/task.c), all below VM_SCRATCH_BASE
(kernel/mm/mm.h)."""
USER = range(0x1000, 0x4000000000)
"""Sv39's lower half but page 0, where the user program runs."""

_CPU_HEADER = re.compile(r"CPU#(?P<index>\d+)")
_SETTING = re.compile(r"(?P<name>\S+)\s*=\s*(?P<value>\S+)")
_WORDS = re.compile(r"[0-9a-f]+: 0x(?P<first>[0-9a-f]+) 0x(?P<second>[0-9a-f]+)")

ReadRecord = Callable[[int], tuple[int, int] | None]
"""The two 8-byte words at a virtual address, None if it cannot be read."""


@dataclass(frozen=True)
class HartRegisters:
    """One CPU of `info registers -a`: QEMU's index (for `cpu N`) and its values as shown."""

    cpu: int
    values: Mapping[str, str]
    """By every name QEMU prints: a register under both of its (`x1`, `ra`)."""

    def register(self, key: str) -> int | None:
        """A register's value, None if QEMU did not show it as a number."""
        try:
            return int(self.values[key], 16)
        except (KeyError, ValueError):
            return None

    @property
    def mode(self) -> str | None:
        """The privilege mode, where QEMU shows it (7.2 does not)."""
        return self.values.get("priv", self.values.get("mode"))


def parse_registers(text: str) -> list[HartRegisters]:
    """The CPUs of the monitor's answer to `info registers -a`, in its order.

    After each `CPU#N` line come lines of `NAME VALUE` pairs (`x1/ra` names a
    register twice) or `NAME = VALUE` settings (` V      =   0`).
    """
    harts: list[HartRegisters] = []
    index: int | None = None
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if header := _CPU_HEADER.fullmatch(line):
            if index is not None:
                harts.append(HartRegisters(index, values))
            index, values = int(header["index"]), {}
            continue
        if index is None or not line:
            continue
        if setting := _SETTING.fullmatch(line):
            values[setting["name"]] = setting["value"]
            continue
        words = line.split()
        for key, value in zip(words[::2], words[1::2], strict=False):
            for alias in key.split("/"):
                values[alias] = value
    if index is not None:
        harts.append(HartRegisters(index, values))
    return harts


def parse_record(answer: str) -> tuple[int, int] | None:
    """The two words of the monitor's answer to `x /2gx ADDR`, None if it
    could not read them (`Cannot access memory`)."""
    match = _WORDS.match(answer.strip())
    if match is None:
        return None
    return int(match["first"], 16), int(match["second"], 16)


@dataclass(frozen=True)
class Labeller:
    """Names addresses: the kernel's functions, else the region they lie in."""

    table: Sequence[Function]
    firmware: range
    """Where the firmware runs: DRAM below the Image's load address."""
    lines: LineTable = EMPTY
    """The kernel's source lines; without them, names only."""
    slide: int = 0
    """Where this boot's kernel runs less its link address (KASLR's slide,
    aubade.bootlog.boot_slide): the table has link addresses."""

    def label(self, address: int, return_address: bool = False) -> str:
        named = describe(self.table, self.lines, address - self.slide, return_address)
        if named is not None:
            return named
        if address in self.firmware:
            return "firmware?"
        if address in USER:
            return "user"
        return "?"

    def in_kernel(self, address: int) -> bool:
        return name(self.table, address - self.slide) is not None

    def at_entry(self, address: int) -> bool:
        """Whether `address` is the first instruction of a kernel function."""
        found = lookup(self.table, address - self.slide)
        return found is not None and found[1] == 0


@dataclass(frozen=True)
class Walk:
    return_addresses: tuple[int, ...]
    """Frame 1 onwards: each caller's return address, innermost first."""
    end: str
    """Why the walk stopped."""


def walk_frames(hart: HartRegisters, read: ReadRecord, at_entry: bool = False) -> Walk:
    """The return addresses of the hart's frame-pointer chain, from its s0.

    `at_entry`: the pc is a function's first instruction, which has saved
    nothing yet: ra is its return address, and s0 still its caller's frame.
    """
    fp, ra = hart.register("s0"), hart.register("ra")
    if fp is None or ra is None:
        return Walk((), "no s0 or ra in the registers")
    found: list[int] = []
    if at_entry:
        if ra == 0:
            return Walk((), "return address 0 (the entry code's)")
        found.append(ra)
    while True:
        if len(found) + 1 >= MAX_FRAMES:
            return Walk(tuple(found), f"{MAX_FRAMES} frames, the most walked")
        if fp == 0:
            return Walk(tuple(found), "fp is 0")
        if fp % 8 or fp not in KERNEL_STACKS or fp - 16 not in KERNEL_STACKS:
            return Walk(tuple(found), f"fp {fp:#x} is not on a kernel stack")
        record = read(fp - 16)
        if record is None:
            return Walk(tuple(found), f"the frame record at {fp - 16:#x} cannot be read")
        caller_fp, return_address = record
        # Only the innermost function can be a leaf that saved no ra: its
        # record's upper word is then the caller's fp, never a text address.
        if not found and return_address in KERNEL_STACKS:
            caller_fp, return_address = return_address, ra
        if return_address == 0:
            return Walk(tuple(found), "return address 0 (the entry code's)")
        found.append(return_address)
        if caller_fp == 0:
            return Walk(tuple(found), "the outermost frame (its caller's fp is 0)")
        # Stacks grow down: a caller's frame lies above its callee's, which
        # also ends a walk that a corrupt record would send in a loop.
        if caller_fp <= fp:
            return Walk(tuple(found), f"the caller's fp {caller_fp:#x} is not above {fp:#x}")
        fp = caller_fp


def format_hart(hart: HartRegisters, walk: Walk, labeller: Labeller) -> str:
    """A hart's lines of the dump: where it is, its registers, its frames."""
    pc = hart.register("pc")
    hart_id = hart.values.get("mhartid")
    heading = f"CPU#{hart.cpu}"
    if hart_id is not None:
        heading += f" hart {int(hart_id, 16)}"
    if hart.mode is not None:
        heading += f" mode {hart.mode}"
    if pc is None:
        return f"{heading}: no pc in the registers"
    lines = [f"{heading}: pc {pc:#018x} {labeller.label(pc)}"]
    registers = []
    for key in ("ra", "sp", "s0"):
        value = hart.register(key)
        if value is None:
            continue
        text = f"{'fp' if key == 's0' else key} {value:#018x}"
        if key == "ra":
            text += f" {labeller.label(value, return_address=True)}"
        registers.append(text)
    lines.append("  " + "  ".join(registers))
    mepc = hart.register("mepc")
    if not labeller.in_kernel(pc) and mepc is not None:
        # In the firmware, mepc is where S-mode trapped into it (an SBI call).
        lines.append(f"  mepc {mepc:#018x} {labeller.label(mepc)}")
    lines.append(f"  #0 {pc:#018x} {labeller.label(pc)}")
    for depth, address in enumerate(walk.return_addresses, start=1):
        lines.append(f"  #{depth} {address:#018x} {labeller.label(address, return_address=True)}")
    lines.append(f"  (walk ended: {walk.end})")
    return "\n".join(lines)


def dump_harts(ask: Callable[[str], str], labeller: Labeller) -> str:
    """Stop the machine, then every hart, named, and the raw registers.

    `ask` types a monitor command and returns its answer (Monitor.command).
    """
    ask("stop")
    raw = ask("info registers -a")
    harts = parse_registers(raw)
    sections = []
    for hart in harts:
        ask(f"cpu {hart.cpu}")

        def read(address: int) -> tuple[int, int] | None:
            return parse_record(ask(f"x /2gx {address:#x}"))

        pc = hart.register("pc")
        at_entry = pc is not None and labeller.at_entry(pc)
        sections.append(format_hart(hart, walk_frames(hart, read, at_entry), labeller))
    if not harts:
        sections.append("no CPU in the monitor's answer to `info registers -a`")
    return "\n\n".join(
        [
            "harts (machine stopped; frames walked through frame pointers):",
            *sections,
            "raw `info registers -a`:\n" + raw.strip("\n"),
        ]
    )
