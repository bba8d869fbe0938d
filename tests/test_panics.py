"""Fatal errors: each must say what went wrong and power off with a failure status.

The build never embeds a bad kernel ELF (tools/aubade/elfcheck.py refuses
it), so the loader tests corrupt the payload inside a built Image, as flash
might, and boot that (with the payload's digest made to hold again, or the
digest check would stop them first): each ends in `loader: panic reason=...` and a non-zero
QEMU exit status, never a hang; so do a device tree without memory and a
command line longer than BootInfo holds. The kernel tests make the kernel fault on
purpose (`fault=...` on the command line) and check the trap report, on
every board; where QEMU does not exit at power-off (sifive_u) there is no
exit status to check, and the report is all the board can show.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import fdt
import pytest
from configurations import CMDLINE_MAX, REPO, SIFIVE_U, SPIKE, TEST_LOG_DIR, VIRT, built
from elftools.elf.elffile import ELFFile
from harness.image_payload import ImagePayload

from aubade.boards import Board
from aubade.bootlog import Event, select
from aubade.elfcheck import PAGE_SIZE
from aubade.machine import Machine
from aubade.qemu import QemuConfig, dump_device_tree
from aubade.qemu_target import QemuTarget

# The loader's checks do not depend on the board: one board is enough.
IMAGE = built(VIRT, "Image")
LOADER_ELF = built(VIRT, "loader.elf")
ELF64_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
PT_LOAD = 1
PF_W = 2
# `  #2 0xffffffff80000bc6 kernel_main+0x140` under `  backtrace:`.
BACKTRACE_FRAME = re.compile(r"^  #(\d+) 0x([0-9a-f]{16}) (\S+)$")
# What tools/symbolize adds after a name: ` (kernel/debug/fault.c:42)`.
SOURCE_LINE = re.compile(r" \((?P<path>[^ ()]+):(?P<line>\d+)\)$")
# The 32-bit unimp that fault=illegal executes: csrrw zero, cycle, zero.
UNIMP = 0xC0001073


def load_headers(elf: bytearray) -> list[int]:
    """Offsets in `elf` of its PT_LOAD program headers."""
    header = ELF64_HEADER.unpack_from(elf)
    phoff, phnum = header[5], header[10]
    offsets = [phoff + i * PROGRAM_HEADER.size for i in range(phnum)]
    return [offset for offset in offsets if PROGRAM_HEADER.unpack_from(elf, offset)[0] == PT_LOAD]


def bad_magic(elf: bytearray) -> None:
    elf[0:4] = b"\x7fELV"


def bad_machine(elf: bytearray) -> None:
    struct.pack_into("<H", elf, 18, 62)  # EM_X86_64


def bad_phoff(elf: bytearray) -> None:
    struct.pack_into("<Q", elf, 32, 0xFFFF_FF00)


def overlapping_segments(elf: bytearray) -> None:
    """The second PT_LOAD starts one page into the first (kernel text is longer)."""
    first, second = load_headers(elf)[:2]
    first_vaddr = PROGRAM_HEADER.unpack_from(elf, first)[3]
    struct.pack_into("<Q", elf, second + 16, first_vaddr + 0x1000)


def writable_text(elf: bytearray) -> None:
    text = load_headers(elf)[0]
    flags = PROGRAM_HEADER.unpack_from(elf, text)[1]
    struct.pack_into("<I", elf, text + 4, flags | PF_W)


CORRUPTIONS: dict[str, tuple[Callable[[bytearray], None], str]] = {
    "bad-magic": (bad_magic, "elf-magic"),
    "bad-machine": (bad_machine, "elf-machine"),
    "bad-phoff": (bad_phoff, "elf-phoff"),
    "overlapping-segments": (overlapping_segments, "elf-overlap"),
    "writable-text": (writable_text, "elf-wx"),
}


def corrupted_image(
    corrupt: Callable[[bytearray], None], path: Path, *, user: bool = False
) -> Path:
    """The Image with its kernel ELF (or its user ELF) corrupted, and the
    payload's digest made to hold again: these tests are of the ELF checks,
    which come after the digest's (tests/test_payload_integrity.py)."""
    image = ImagePayload.read(IMAGE, LOADER_ELF, VIRT)
    unpacked = image.unpacked()
    data = bytearray(image.data)
    start = unpacked.user_offset if user else unpacked.kernel_offset
    elf = data[start:]
    corrupt(elf)
    data[start:] = elf
    image.replace(bytes(data))
    image.redigest()
    return image.write(path)


def boot_until_panic(
    name: str, config: QemuConfig, component: str, panic_timeout: float = 10
) -> tuple[Machine, Event]:
    """Boot until `component: panic` (within `panic_timeout` seconds of the
    loader's start), then until the machine has finished: a failure exit
    status where the board's QEMU exits at power-off, silence where it does
    not. The machine is off after."""
    machine = Machine(name, QemuTarget(config), TEST_LOG_DIR / f"{name}.log")
    try:
        machine.power_on()
        machine.wait_for("loader", "start", timeout=30)
        panic = machine.wait_for(component, "panic", timeout=panic_timeout)
        status = machine.wait_exit(timeout=10)
    finally:
        machine.close()
    if config.board.qemu.exits_on_poweroff:
        assert status not in (0, None), machine.report(f"exit status {status} after the panic")
    else:
        headline = f"QEMU exited ({status}) although its board says it cannot"
        assert status is None, machine.report(headline)
    return machine, panic


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corrupted_payload_panics_and_powers_off_failed(corruption: str, tmp_path: Path) -> None:
    corrupt, reason = CORRUPTIONS[corruption]
    image = corrupted_image(corrupt, tmp_path / "Image")
    config = QemuConfig(VIRT, image, smp=1, memory="128M", append="poweroff")
    machine, panic = boot_until_panic(f"payload-{corruption}", config, "loader")
    assert panic.fields["reason"] == reason, machine.report("panicked for another reason")
    assert not any(event.component == "kernel" for event in machine.events)


@pytest.mark.parametrize("corruption", ["bad-machine", "writable-text"])
def test_corrupted_user_program_panics_before_the_kernel_starts(
    corruption: str, tmp_path: Path
) -> None:
    """The user ELF is checked with the same code: the same reasons, after `loader: kernel`."""
    corrupt, reason = CORRUPTIONS[corruption]
    image = corrupted_image(corrupt, tmp_path / "Image", user=True)
    config = QemuConfig(VIRT, image, smp=1, memory="128M", append="poweroff")
    machine, panic = boot_until_panic(f"payload-user-{corruption}", config, "loader")
    assert panic.fields["reason"] == reason, machine.report("panicked for another reason")
    assert select(machine.events, "loader", "kernel"), machine.report("no `loader: kernel`")
    assert not select(machine.events, "loader", "user"), machine.report("the user ELF passed")
    assert not any(event.component == "kernel" for event in machine.events)


def test_device_tree_without_memory_panics_and_powers_off_failed(tmp_path: Path) -> None:
    """QEMU's own tree for the machine, less its memory node, handed over with -dtb."""
    config = QemuConfig(VIRT, IMAGE, smp=1, memory="128M", append="poweroff")
    tree = fdt.parse_dtb(dump_device_tree(config, tmp_path / "qemu.dtb").read_bytes())
    memory_nodes = [node for node in tree.root.nodes if node.name.startswith("memory@")]
    assert memory_nodes, "QEMU's tree has no memory node to take out"
    for node in memory_nodes:
        tree.remove_node(node.name)
    without_memory = tmp_path / "no-memory.dtb"
    without_memory.write_bytes(tree.to_dtb(version=17))

    config = replace(config, extra_args=("-dtb", str(without_memory)))
    machine, panic = boot_until_panic("dtb-no-memory", config, "loader")
    assert panic.fields["reason"] == "dtb-no-memory", machine.report("panicked for another reason")


def test_command_line_longer_than_bootinfo_holds_panics_naming_the_limit() -> None:
    """One byte too many: cut to fit, it would lose the `poweroff` at its end."""
    too_long = "x" * (CMDLINE_MAX - len(" poweroff") + 1) + " poweroff"
    config = QemuConfig(VIRT, IMAGE, smp=1, memory="128M", append=too_long)
    machine, panic = boot_until_panic("cmdline-too-long", config, "loader")
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "bad-cmdline", report
    detail = detail_after(machine, panic)
    assert f"{len(too_long)} bytes" in detail and f"at most {CMDLINE_MAX}" in detail, report
    assert not any(event.component == "kernel" for event in machine.events), report


def machines(*shapes: tuple[Board, int]) -> list[object]:
    """Parameters `board, smp` for each (board, -smp) given."""
    return [pytest.param(board, smp, id=f"{board.name}-smp{smp}") for board, smp in shapes]


# One hart runs the kernel: sifive_u's smallest machine is its E51 monitor
# core and one U54.
ONE_HART = machines((VIRT, 1), (SIFIVE_U, 2))
SEVERAL_HARTS = machines((VIRT, 4), (SIFIVE_U, 4))


def boot_with_fault(
    fault: str, board: Board, smp: int, panic_timeout: float = 10
) -> tuple[Machine, Event]:
    """Boot the board with `fault=FAULT` until the kernel's panic."""
    config = QemuConfig(board, built(board, "Image"), smp=smp, append=f"fault={fault}")
    name = f"kernel-fault-{fault}-{board.name}-smp{smp}"
    return boot_until_panic(name, config, "kernel", panic_timeout)


def first_event(machine: Machine, component: str, name: str) -> Event:
    """The first `component: name` line the machine printed."""
    events = select(machine.events, component, name)
    assert events, machine.report(f"no `{component}: {name}` line")
    return events[0]


def in_kernel_text(machine: Machine, address: int) -> bool:
    """Whether the address is in a kernel segment the loader mapped r-x."""
    return any(
        start <= address < end
        for start, end in (
            event.range_field("virt")
            for event in select(machine.events, "loader", "map")
            if event.field("perm") == "r-x"
        )
    )


def backtrace(machine: Machine, panic: Event) -> list[str]:
    """The backtrace lines under the panic, as the kernel printed them."""
    after = machine.lines[machine.lines.index(panic.line) + 1 :]
    assert "  backtrace:" in after, machine.report("no backtrace after the panic")
    frames = []
    for line in after[after.index("  backtrace:") + 1 :]:
        if not BACKTRACE_FRAME.match(line):
            break
        frames.append(line)
    assert frames, machine.report("an empty backtrace")
    return frames


def called_functions(frames: list[str]) -> list[str]:
    """The function names of the frames, innermost first."""
    return [BACKTRACE_FRAME.match(frame)[3].split("+")[0] for frame in frames]


def symbolized(board: Board, frames: list[str], slide: int) -> list[str]:
    """The frames with the kernel's names taken off, named again by tools/symbolize,
    told the boot's KASLR slide as a person with the report alone would."""
    unnamed = "".join(frame.rsplit(" ", 1)[0] + "\n" for frame in frames)
    command = [
        sys.executable,
        str(REPO / "tools" / "symbolize"),
        "--elf",
        str(built(board, "kernel.elf")),
        "--slide",
        hex(slide),
    ]
    result = subprocess.run(command, input=unnamed, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


@pytest.mark.parametrize(("board", "smp"), ONE_HART)
def test_kernel_trap_reports_cause_address_registers_and_backtrace(board: Board, smp: int) -> None:
    machine, panic = boot_with_fault("null", board, smp)
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "load-page-fault", report
    assert panic.int_field("cause") == 13, report
    assert panic.int_field("addr") == 0, report
    assert in_kernel_text(machine, panic.int_field("pc")), report
    register_lines = machine.lines[machine.lines.index(panic.line) + 1 :]
    dumped = " ".join(register_lines).split()
    for register in ("sepc", "scause", "stval", "ra", "sp", "tp", "a0", "t6"):
        assert register in dumped, report
    assert not any(event.name == "poweroff" for event in machine.events), report

    frames = backtrace(machine, panic)
    assert int(BACKTRACE_FRAME.match(frames[0])[2], 16) == panic.int_field("pc"), report
    assert called_functions(frames)[:3] == [
        "fault_inject_here",
        "init_boot_hart",
        "kernel_main",
    ], report
    named = symbolized(board, frames, kaslr_slide(machine))
    places = [SOURCE_LINE.search(frame) for frame in named]
    unplaced = [SOURCE_LINE.sub("", frame) for frame in named]
    assert unplaced == frames, machine.report("symbolize named them otherwise")
    for place in places[:3]:
        assert place is not None, machine.report(f"symbolize gave no source line: {named}")
        assert (REPO / place["path"]).is_file(), machine.report(f"not a repository path: {named}")


def kaslr_slide(machine: Machine) -> int:
    """Where this boot's kernel runs, less where it was linked."""
    return next(e for e in machine.events if e.kind == "loader: kaslr").int_field("slide")


def kernel_symbol(board: Board, name: str, machine: Machine) -> int:
    """The symbol's address in the boot `machine` ran."""
    with built(board, "kernel.elf").open("rb") as stream:
        (symbol,) = ELFFile(stream).get_section_by_name(".symtab").get_symbol_by_name(name)
        return symbol["st_value"] + kaslr_slide(machine)


@pytest.mark.parametrize(("board", "smp"), ONE_HART)
def test_illegal_instruction_reports_its_bits(board: Board, smp: int) -> None:
    machine, panic = boot_with_fault("illegal", board, smp)
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "illegal-instruction", report
    assert panic.int_field("insn") == UNIMP, report
    assert in_kernel_text(machine, panic.int_field("pc")), report
    assert called_functions(backtrace(machine, panic))[0] == "fault_inject_here", report


@pytest.mark.parametrize(("board", "smp"), ONE_HART)
def test_misaligned_atomic_reports_the_odd_address(board: Board, smp: int) -> None:
    """The AMO's read or its write may fault first: either is a misaligned report."""
    machine, panic = boot_with_fault("misaligned", board, smp)
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] in ("load-misaligned", "store-misaligned"), report
    assert panic.int_field("addr") == kernel_symbol(board, "misaligned_target", machine) + 1, report
    assert in_kernel_text(machine, panic.int_field("pc")), report
    assert called_functions(backtrace(machine, panic))[0] == "fault_inject_here", report


# A secondary hart overflows its stack if there is one, else the boot hart.
@pytest.mark.parametrize(("board", "smp"), ONE_HART + SEVERAL_HARTS)
def test_stack_overflow_panics_in_the_harts_guard_page(board: Board, smp: int) -> None:
    machine, panic = boot_with_fault("stack-overflow", board, smp)
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "stack-overflow", report
    boot_hart = first_event(machine, "loader", "start").int_field("hart")
    secondaries = set(first_event(machine, "loader", "harts").int_list_field("ids")) - {boot_hart}
    hart = panic.int_field("hart")
    assert hart in (secondaries or {boot_hart}), report
    stacks = {
        event.int_field("hart"): event.range_field("stack")
        for event in select(machine.events, "loader", "percpu")
    }
    stack_start = stacks[hart][0]
    guard = panic.range_field("guard")
    assert guard == (stack_start - PAGE_SIZE, stack_start), report
    assert guard[0] <= panic.int_field("addr") < guard[1], report
    assert in_kernel_text(machine, panic.int_field("pc")), report


@pytest.mark.parametrize(("board", "smp"), ONE_HART)
def test_write_to_kernel_text_panics_as_readonly_write(board: Board, smp: int) -> None:
    machine, panic = boot_with_fault("wx", board, smp)
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "kernel-readonly-write", report
    harts = first_event(machine, "loader", "harts").int_list_field("ids")
    assert panic.int_field("hart") in harts, report
    assert in_kernel_text(machine, panic.int_field("addr")), report
    assert in_kernel_text(machine, panic.int_field("pc")), report


@pytest.mark.parametrize(("board", "smp"), machines((VIRT, 2), (SIFIVE_U, 2)))
def test_writable_executable_page_fails_the_page_table_check(board: Board, smp: int) -> None:
    # fault=vm-wx plants the page behind vm_map's back; `debug` runs the check.
    config = QemuConfig(board, built(board, "Image"), smp=smp, append="debug fault=vm-wx")
    name = f"kernel-fault-vm-wx-{board.name}-smp{smp}"
    machine, panic = boot_until_panic(name, config, "kernel")
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "vm-wx", report
    detail = machine.lines[machine.lines.index(panic.line) + 1]
    assert re.search(r"range=0x[0-9a-f]+-0x[0-9a-f]+", detail), report
    assert not select(machine.events, "mm", "check"), report


def detail_after(machine: Machine, panic: Event) -> str:
    """The free-text line that says why, just under the panic line."""
    return machine.lines[machine.lines.index(panic.line) + 1]


# The heap's checks are in the default build (`scons debug=1`); they do not
# depend on the board or the number of harts.
@pytest.mark.parametrize(("board", "smp"), machines((VIRT, 2)))
def test_heap_overflow_panics_at_kfree_naming_the_object(board: Board, smp: int) -> None:
    machine, panic = boot_with_fault("heap-overflow", board, smp)
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "heap-overflow", report
    detail = detail_after(machine, panic)
    assert "object=0x" in detail, report
    assert "size=24" in detail, report
    assert "(+24)" in detail, report


@pytest.mark.parametrize(("board", "smp"), machines((VIRT, 2)))
def test_heap_double_free_panics(board: Board, smp: int) -> None:
    machine, panic = boot_with_fault("heap-double-free", board, smp)
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "heap-double-free", report
    assert "size=24" in detail_after(machine, panic), report


# The last line of every kernel panic report: what became of the other harts.
OTHER_HARTS = re.compile(
    r"^  other harts: stopped (?P<stopped>\S+); panicked too (?P<panicked>\S+); "
    r"did not stop (?P<running>\S+)$"
)


def other_harts(machine: Machine) -> dict[str, set[int]]:
    """The panic report's last line, as the harts in each state; it must be
    the last line the machine printed, and the only one of its kind."""
    found = [match for line in machine.lines if (match := OTHER_HARTS.match(line))]
    report = machine.report("the report does not end with one `other harts:` line")
    assert len(found) == 1, report
    assert machine.lines[-1] == found[0][0], report
    return {
        state: set() if found[0][state] == "none" else {int(i) for i in found[0][state].split(",")}
        for state in ("stopped", "panicked", "running")
    }


def online_harts(machine: Machine) -> set[int]:
    return set(first_event(machine, "kernel", "online").int_list_field("ids"))


@pytest.mark.parametrize(("board", "smp"), machines((VIRT, 4), (VIRT, 8)))
def test_every_hart_panicking_at_once_ends_in_one_report(board: Board, smp: int) -> None:
    """Every hart panics at the same instant: one owns the report, the others
    stop without a word, and the machine powers off failed."""
    machine, panic = boot_with_fault("panic-every-hart", board, smp)
    report = machine.report("not one whole report")
    assert panic.fields["reason"] == "panic-every-hart", report
    assert len(select(machine.events, "kernel", "panic")) == 1, report
    assert called_functions(backtrace(machine, panic))[0] == "kernel_panic", report
    harts = other_harts(machine)
    assert harts["running"] == set(), report
    assert harts["stopped"] | harts["panicked"] == online_harts(machine) - {panic.int_field("hart")}
    assert harts["panicked"], machine.report("no other hart got as far as its own panic")


def test_harts_trapping_together_on_spike_give_one_report() -> None:
    """QEMU's spike machine (console and power-off through SBI): its harts
    panic together at fault=panic-every-hart. One report. Its firmware
    (OpenSBI 1.1) cannot end QEMU: the test does."""
    config = QemuConfig(SPIKE, built(SPIKE, "Image"), smp=4, append="fault=panic-every-hart")
    machine, panic = boot_until_panic("kernel-spike-smp4", config, "kernel")
    report = machine.report("not one whole report")
    assert panic.fields["reason"] == "panic-every-hart", report
    assert len(select(machine.events, "kernel", "panic")) == 1, report
    assert other_harts(machine)["running"] == set(), report


def test_a_loader_panic_that_cannot_power_off_says_it_halts() -> None:
    """sifive_u has no finisher and OpenSBI no device that shuts it down:
    after the loader's panic, the loader says that powering off failed, and
    how, rather than leave a silent machine."""
    too_long = "x" * (CMDLINE_MAX + 1)
    config = QemuConfig(SIFIVE_U, built(SIFIVE_U, "Image"), smp=2, append=too_long)
    machine, panic = boot_until_panic("loader-halt-sifive_u", config, "loader")
    report = machine.report("no halt after the panic")
    assert panic.fields["reason"] == "bad-cmdline", report
    halts = select(machine.events, "loader", "halt")
    assert len(halts) == 1 and machine.events[-1] == halts[0], report
    assert halts[0].fields == {
        "reason": "poweroff-failed",
        "finisher": "none",
        "srst": "not-supported",
        "legacy": "not-tried",
    }, report


def test_a_hart_spinning_with_interrupts_off_is_reported_as_locked_up() -> None:
    """fault=lockup: a secondary hart spins with interrupts off; the hart that
    watches it sees its ticks stand still for 10 s of its own and reports it."""
    machine, panic = boot_with_fault("lockup", VIRT, 2, panic_timeout=120)
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "lockup", report
    boot_hart = first_event(machine, "loader", "start").int_field("hart")
    assert panic.int_field("hart") in online_harts(machine) - {boot_hart}, report
    assert panic.fields["cpu"] != panic.fields["hart"], report
    assert "(10 s at 100 Hz)" in detail_after(machine, panic), report
    assert other_harts(machine)["running"] == {panic.int_field("hart")}, report


def test_taking_a_held_lock_panics_naming_the_lock_and_both_places() -> None:
    machine, panic = boot_with_fault("lock-recursion", VIRT, 2)
    report = machine.report("unexpected panic report")
    assert panic.fields["reason"] == "lock-recursion", report
    detail = detail_after(machine, panic)
    sites = re.findall(r"fault_inject_here\+0x[0-9a-f]+", detail)
    assert detail.startswith("  lock fault: "), report
    assert len(set(sites)) == 2, report
