"""Facts about one `-append poweroff` boot per QEMU configuration.

Each configuration boots once (the `boot` fixture); every test reads one fact
from that boot's log and compares it with kernel.elf or with the device tree
QEMU hands over, never with the log alone where another source exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import pairwise

import pytest
from configurations import AnyConfig, BootConfig, built
from harness.boot import Boot

from aubade.boards import Board
from aubade.bootlog import Event
from aubade.devicetree import DeviceTree
from aubade.elfcheck import PAGE_SIZE, CheckedElf
from aubade.payload import unpack

# The phase tests: they read only the boot log, the build and the device
# tree, so they run on a board at the end of a serial port as on QEMU.
pytestmark = pytest.mark.any_target

Span = tuple[int, int]

# OpenSBI v1.1 (QEMU 7.2's `-bios default`, the boards' firmware) keeps the
# first 512 KiB of DRAM and reports it in /reserved-memory of the tree it
# passes on; QEMU's own tree (the `device_tree` fixture) has no such node.
OPENSBI_SIZE = 0x80000
# The start of an event line; the rest of such a line must follow the grammar.
TIMESTAMP = re.compile(r"\[[ \d]{5}\.\d{6}\] ")
# `allocated`: frames the kernel took before it printed the map (its page tables).
REGION_KINDS = {
    "free",
    "kernel",
    "reserved",
    "dtb",
    "bootinfo",
    "pagetables",
    "percpu",
    "allocated",
}


def opensbi_range(board: Board) -> Span:
    return (board.dram_base, board.dram_base + OPENSBI_SIZE)


def overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def merged(spans: Iterable[Span]) -> list[Span]:
    """The spans with touching and overlapping ones joined, by address."""
    result: list[Span] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def covers(spans: Iterable[Span], target: Span) -> bool:
    return any(start <= target[0] and target[1] <= end for start, end in merged(spans))


def regions(boot: Boot, kind: str | None = None) -> list[Span]:
    return [
        event.range_field("range")
        for event in boot.events_of("kernel", "region")
        if kind is None or event.field("kind") == kind
    ]


def reserved_by_loader(boot: Boot, *whats: str) -> list[Span]:
    return [
        event.range_field("range")
        for event in boot.events_of("loader", "reserved")
        if event.field("what") in whats
    ]


def kernel_phys_spans(boot: Boot) -> list[Span]:
    """Where the loader copied each kernel segment: phys start, size of its virt range."""
    spans = []
    for event in boot.events_of("loader", "map"):
        virt_start, virt_end = event.range_field("virt")
        phys = event.int_field("phys")
        spans.append((phys, phys + virt_end - virt_start))
    return spans


def free_regions_overlapping(boot: Boot, spans: list[Span]) -> list[Span]:
    return [free for free in regions(boot, "free") if any(overlaps(free, span) for span in spans)]


def lines_of(events: Iterable[Event]) -> str:
    return "\n".join(event.line for event in events)


# The order and form of the log.


def test_required_events_appear_in_boot_order(boot: Boot) -> None:
    required = [step.kind for step in boot.steps]
    printed = [event.kind for event in boot.all_events() if event.kind in required]
    # Repeated events (one per bank, segment, hart...) count once per run.
    runs = [kind for index, kind in enumerate(printed) if index == 0 or printed[index - 1] != kind]
    assert runs == required, f"printed in this order: {', '.join(runs)}"


def test_every_timestamped_line_follows_the_grammar(boot: Boot) -> None:
    event_lines = {event.line for event in boot.all_events()}
    malformed = [
        line for line in boot.all_lines() if TIMESTAMP.match(line) and line not in event_lines
    ]
    assert malformed == []


def test_timestamps_never_decrease(boot: Boot) -> None:
    events = boot.all_events()
    backwards = [
        f"{earlier.line}\n{later.line}"
        for earlier, later in pairwise(events)
        if later.time < earlier.time
    ]
    assert backwards == []


def test_every_kernel_line_names_the_online_hart_that_printed_it(boot: Boot) -> None:
    # The loader runs on the boot hart alone; every line after it says whose it is.
    online = set(boot.event("kernel", "online").list_field("ids"))
    kernel_events = [event for event in boot.all_events() if event.component != "loader"]
    assert kernel_events
    assert [event.line for event in kernel_events if event.fields.get("cpu") not in online] == []


def test_debug_traces_are_off_at_the_default_loglevel(boot: Boot) -> None:
    assert [event.line for event in boot.all_events() if event.kind == "init: group"] == []


def test_init_calls_are_traced_only_when_asked(boot: Boot) -> None:
    assert [event.line for event in boot.all_events() if event.kind == "init: call"] == []


# The kernel ELF and how the loader maps it.


def test_kernel_entry_equals_elf_entry(boot: Boot, kernel_elf: CheckedElf) -> None:
    assert boot.event("loader", "kernel").int_field("entry") == kernel_elf.entry


def test_kernel_tls_equals_elf_tls_size(boot: Boot, kernel_elf: CheckedElf) -> None:
    tls_size = 0 if kernel_elf.tls is None else kernel_elf.tls.memsz
    assert boot.event("loader", "kernel").int_field("tls") == tls_size


def test_kernel_segments_equals_elf_load_count(boot: Boot, kernel_elf: CheckedElf) -> None:
    assert boot.event("loader", "kernel").int_field("segments") == len(kernel_elf.loads)


def test_one_map_line_per_segment(boot: Boot) -> None:
    segments = boot.event("loader", "kernel").int_field("segments")
    assert len(boot.events_of("loader", "map")) == segments


def kaslr_slide(boot: Boot) -> int:
    """What the loader added to the kernel's every address this boot."""
    return boot.event("loader", "kaslr").int_field("slide")


def test_map_virtual_ranges_match_elf_load_segments(boot: Boot, kernel_elf: CheckedElf) -> None:
    mapped = [event.range_field("virt") for event in boot.events_of("loader", "map")]
    # The loader maps whole pages: from p_vaddr to p_vaddr + p_memsz rounded
    # up, each moved by the slide.
    slide = kaslr_slide(boot)
    pages = [
        (load.vaddr + slide, -(-load.end // PAGE_SIZE) * PAGE_SIZE + slide)
        for load in kernel_elf.loads
    ]
    assert sorted(mapped) == sorted(pages)


def test_map_permissions_match_elf_load_flags(boot: Boot, kernel_elf: CheckedElf) -> None:
    mapped = {
        event.range_field("virt")[0]: event.field("perm")
        for event in boot.events_of("loader", "map")
    }
    slide = kaslr_slide(boot)
    assert mapped == {segment.vaddr + slide: segment.perm for segment in kernel_elf.loads}


def test_map_lines_are_write_xor_execute(boot: Boot) -> None:
    writable_code = [
        event
        for event in boot.events_of("loader", "map")
        if "w" in event.field("perm") and "x" in event.field("perm")
    ]
    assert not writable_code, lines_of(writable_code)


def test_handoff_entry_equals_elf_entry_moved_by_the_slide(
    boot: Boot, kernel_elf: CheckedElf
) -> None:
    assert boot.event("loader", "kernel").int_field("entry") == kernel_elf.entry
    handoff = boot.event("loader", "handoff").int_field("entry")
    assert handoff == kernel_elf.entry + kaslr_slide(boot)


def test_the_payload_digest_is_checked_first_and_is_the_builds(
    boot: Boot, boot_config: AnyConfig
) -> None:
    """`loader: payload` names the digest the build wrote, before any ELF is read."""
    data = built(boot_config.board, "payload.bin").read_bytes()
    checked = boot.event("loader", "payload")
    assert checked.field("sha256") == unpack(data).digest.hex()[:16]
    assert checked.int_field("bytes") == len(data)
    assert checked.int_field("us") >= 0
    kinds = [event.kind for event in boot.all_events()]
    assert kinds.index("loader: payload") < kinds.index("loader: kernel")


# The user program the loader carries beside the kernel, and the kernel's copy.


def test_user_entry_equals_elf_entry(boot: Boot, user_elf: CheckedElf) -> None:
    assert boot.event("loader", "user").int_field("entry") == user_elf.entry


def test_user_segments_equals_elf_load_count(boot: Boot, user_elf: CheckedElf) -> None:
    assert boot.event("loader", "user").int_field("segments") == len(user_elf.loads)


def test_user_size_is_the_embedded_elfs(boot: Boot, boot_config: BootConfig) -> None:
    # The payload carries the ELF without its debug information.
    stripped = built(boot_config.board, "user/init.stripped.elf")
    assert boot.event("loader", "user").int_field("size") == stripped.stat().st_size


def test_kernel_keeps_the_program_the_loader_checked(boot: Boot) -> None:
    user = boot.event("loader", "user")
    program = boot.event("kernel", "program")
    assert program.int_field("entry") == user.int_field("entry")
    assert program.int_field("segments") == user.int_field("segments")
    assert program.int_field("bytes") == user.int_field("size")


# Memory and reserved ranges as the loader found them.


def test_memory_banks_match_device_tree(boot: Boot, device_tree: DeviceTree) -> None:
    reported = [
        (event.int_field("base"), event.int_field("size"))
        for event in boot.events_of("loader", "memory")
    ]
    assert sorted(reported) == [(bank.base, bank.size) for bank in device_tree.memory]


def test_dtb_address_starts_a_reserved_dtb_range(boot: Boot) -> None:
    dtb = boot.event("loader", "start").int_field("dtb")
    assert [start for start, end in reserved_by_loader(boot, "dtb") if end > start] == [dtb]


def test_opensbi_firmware_range_is_reserved_by_loader(boot: Boot, boot_config: BootConfig) -> None:
    assert covers(reserved_by_loader(boot, "reserved-memory"), opensbi_range(boot_config.board))


# The kernel's physical memory map.


def test_region_kinds_are_known(boot: Boot) -> None:
    unknown = [
        event
        for event in boot.events_of("kernel", "region")
        if event.field("kind") not in REGION_KINDS
    ]
    assert not unknown, lines_of(unknown)


def test_regions_are_in_address_order_without_overlap(boot: Boot) -> None:
    spans = regions(boot)
    out_of_order = [(a, b) for a, b in pairwise(spans) if b[0] < a[1]]
    assert out_of_order == []


def test_regions_cover_exactly_the_memory_banks(boot: Boot, device_tree: DeviceTree) -> None:
    assert merged(regions(boot)) == merged((bank.base, bank.end) for bank in device_tree.memory)


def test_opensbi_firmware_range_is_a_reserved_region(boot: Boot, boot_config: BootConfig) -> None:
    assert covers(regions(boot, "reserved"), opensbi_range(boot_config.board))


def test_loader_page_tables_are_reclaimed(boot: Boot) -> None:
    # Every hart runs on the kernel's own tables by then.
    assert regions(boot, "pagetables") == []


def test_free_regions_avoid_the_dtb(boot: Boot) -> None:
    assert free_regions_overlapping(boot, reserved_by_loader(boot, "dtb")) == []


def test_free_regions_avoid_reserved_ranges(boot: Boot) -> None:
    # Not what=loader: the kernel reclaims the loader's image once it runs.
    reserved = reserved_by_loader(boot, "reserved-memory", "memreserve")
    assert free_regions_overlapping(boot, reserved) == []


def test_free_regions_avoid_kernel_segments(boot: Boot) -> None:
    assert free_regions_overlapping(boot, kernel_phys_spans(boot)) == []


def test_frames_free_and_allocated_add_up_to_the_free_regions(boot: Boot) -> None:
    # `free` regions are the memory the allocator manages; by the time they
    # are listed, Main has taken some of it (page tables, heap slabs).
    free_bytes = sum(end - start for start, end in regions(boot, "free"))
    frames = boot.event("kernel", "frames")
    assert frames.int_field("free") + frames.int_field("allocated") == free_bytes
    assert frames.int_field("allocated") > 0


def test_frames_free_is_at_most_total(boot: Boot) -> None:
    frames = boot.event("kernel", "frames")
    assert frames.int_field("free") <= frames.int_field("total")


def test_frames_total_is_at_most_dram(boot: Boot, device_tree: DeviceTree) -> None:
    dram = sum(bank.size for bank in device_tree.memory)
    assert boot.event("kernel", "frames").int_field("total") <= dram


# Harts. Which of QEMU's harts can run the kernel is the device tree's to
# say: all of them on virt, all but the E51 monitor core on sifive_u.


def test_device_tree_has_a_cpu_per_qemu_hart(
    device_tree: DeviceTree, boot_config: BootConfig
) -> None:
    if boot_config.smp is None:
        pytest.skip("a board's harts are its own, not a QEMU option")
    assert len(device_tree.cpus) == boot_config.smp


def test_harts_count_equals_device_tree_kernel_harts(boot: Boot, kernel_harts: list[int]) -> None:
    assert boot.event("loader", "harts").int_field("count") == len(kernel_harts)


def test_harts_ids_equal_device_tree_kernel_harts(boot: Boot, kernel_harts: list[int]) -> None:
    assert sorted(boot.event("loader", "harts").int_list_field("ids")) == kernel_harts


def test_harts_count_equals_number_of_ids(boot: Boot) -> None:
    harts = boot.event("loader", "harts")
    assert harts.int_field("count") == len(harts.int_list_field("ids"))


def test_one_percpu_line_per_hart(boot: Boot) -> None:
    percpu_harts = [event.int_field("hart") for event in boot.events_of("loader", "percpu")]
    assert sorted(percpu_harts) == sorted(boot.event("loader", "harts").int_list_field("ids"))


def test_every_other_hart_is_parked_in_the_loaders_pen(boot: Boot, kernel_harts: list[int]) -> None:
    parked = boot.events_of("loader", "parked")
    if len(kernel_harts) == 1:
        assert parked == []
        return
    (event,) = parked
    assert event.int_field("of") == len(kernel_harts) - 1
    # QEMU's OpenSBI has every other hart STOPPED by the time the loader runs.
    assert event.int_field("harts") == event.int_field("of")


def test_start_hart_is_one_of_the_harts(boot: Boot) -> None:
    start_hart = boot.event("loader", "start").int_field("hart")
    assert start_hart in boot.event("loader", "harts").int_list_field("ids")


# The command line and the end of the boot.


def test_cmdline_args_equal_what_the_firmware_was_given(boot: Boot, firmware_bootargs: str) -> None:
    assert boot.event("kernel", "cmdline").list_field("args") == firmware_bootargs.split()


def test_poweroff_status_is_ok(boot: Boot) -> None:
    assert boot.event("kernel", "poweroff").field("status") == "ok"


def test_exit_status_shows_a_clean_poweroff(boot: Boot, boot_config: BootConfig) -> None:
    if boot_config.exits_on_poweroff:
        assert boot.exit_status() == 0
        return
    # The target does not end at power-off (QEMU's sifive_u has no test
    # finisher; a board on a serial port has no exit status at all): the
    # harness switches it off. What it can show is the kernel's own word,
    # and that QEMU was still running, as its board file says.
    assert boot.exit_status() is None, "the target ended although it says it cannot"
    assert boot.event("kernel", "poweroff").field("status") == "ok"


def test_a_poweroff_that_cannot_power_off_says_so_and_halts(
    boot: Boot, boot_config: AnyConfig
) -> None:
    """A `kernel: halt` comes only as the last line, after `kernel: poweroff`.
    On QEMU, where whether the firmware can power the machine off is known,
    it comes exactly where no way works (sifive_u: no finisher, and
    OpenSBI's System Reset says `not-supported`), naming what each way did."""
    events = boot.all_events()
    halts = [event for event in events if event.kind == "kernel: halt"]
    assert all(event == events[-1] for event in halts), lines_of(halts)
    assert not halts or events[-2].kind == "kernel: poweroff", lines_of(events[-2:])
    if not isinstance(boot_config, BootConfig):
        return
    if not boot_config.board.qemu.poweroff_fails:
        assert not halts, lines_of(halts)
        return
    assert len(halts) == 1, boot.log_path
    assert halts[0].fields == {
        "reason": "poweroff-failed",
        "finisher": "none",
        "srst": "not-supported",
        "legacy": "not-tried",
        "cpu": boot.event("kernel", "poweroff").field("cpu"),
    }


# The tick: which timer each hart uses.

# OpenSBI's banner (v1.1 and later) lists the extensions it found on the boot
# hart and enabled for S-mode: `Boot HART ISA Extensions  : time,sstc`.
OPENSBI_EXTENSIONS = re.compile(r"^Boot HART ISA Extensions\s*: (\S+)\s*$")


def test_each_hart_ticks_by_sstc_only_where_its_firmware_enabled_it(boot: Boot) -> None:
    """The tree's ISA string is a claim (QEMU's spike names Sstc, and its
    OpenSBI leaves stimecmp closed to S-mode): the kernel's probe must agree
    with the firmware's own word, for every hart (these machines' harts are
    alike)."""
    banner = [match for line in boot.all_lines() if (match := OPENSBI_EXTENSIONS.match(line))]
    if not banner:
        pytest.skip("the firmware did not list the extensions it enabled (not OpenSBI 1.1+)")
    enabled = "sstc" in banner[0][1].split(",")
    timers = {
        event.int_field("hart"): event.field("timer") for event in boot.events_of("kernel", "late")
    }
    assert set(timers.values()) == {"sstc" if enabled else "sbi"}, timers
