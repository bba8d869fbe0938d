"""The five boot steps' memory pictures, drawn from a real boot log.

`draw_boot_steps(text, out_dir)` writes `boot-1-loader.svg` (physical
memory at reset), `boot-2-mapping.svg` (the loader's page tables: physical
memory beside the virtual address space), `boot-3-handoff.svg` (the same,
with the entry point, BootInfo and the boot hart's stack marked),
`boot-4-reclaim.svg` (physical memory once the kernel took back the
loader's) and `boot-5-running.svg` (the running kernel's address space).

Every address is the log's (KASLR moves the kernel and the harts' stacks
each boot); what the log does not print comes from the design and is said
so in the picture:

- the direct map: the log has no line for it (no `loader: direct` was
  added, so that every log the loader prints today can be drawn), so it
  is derived from the DRAM banks, at `DIRECT_MAP` + physical
  (`DIRECT_MAP_OFFSET`, loader/loader.h), without the holes the loader
  leaves for `no-map` reserved ranges, which the log does not mark;
- the device window and the scratch gigabyte, constants of kernel/mm/mm.h;
- a hart's guard page is the page below its stack, its TLS block the
  kernel's TLS template (`loader: kernel tls=`) rounded up to pages;
- where the harts' stacks are in physical memory the loader does not say,
  so they get no band (the reclaim's `percpu` regions show it afterwards).

Scale: logarithmic, see aubade.bootmap.column: a range's height grows
with log2 of its size, and unmapped space is a broken-axis mark with its
size. The pictures never fail on a log: what it lacks is listed in
`Drawn.missing` and left out of the drawing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aubade.bootmap.bootfacts import PAGE, BootFacts, Range, read_facts
from aubade.bootmap.column import Column, human_size
from aubade.bootmap.labels import LabelBox
from aubade.bootmap.picture import Picture

GIB = 1 << 30
DIRECT_MAP = 0xFFFFFFC000000000
"""loader/loader.h DIRECT_MAP_OFFSET: virtual = physical + this."""
SCRATCH = Range(0xFFFFFFE800000000, 0xFFFFFFE800000000 + GIB, "scratch", "scratch gigabyte")
"""kernel/mm/mm.h VM_SCRATCH_BASE, VM_SCRATCH_SIZE."""
DEVICE_WINDOW = Range(
    0xFFFFFFF000000000, 0xFFFFFFF000000000 + 62 * GIB, "device", "device window (reserved)"
)
"""kernel/mm/mm.h DEVICE_WINDOW, DEVICE_WINDOW_SIZE."""

SCALE_NOTE = (
    "Heights grow with log2 of each range's size (a 4 KiB page is the smallest); "
    "⋮ marks space not drawn to scale. Addresses hex, sizes in binary units."
)
HEADINGS = ("physical memory", "virtual address space (Sv39)")


@dataclass(frozen=True)
class Drawn:
    """What draw_boot_steps wrote, what the log lacked, and every label's box."""

    files: tuple[Path, ...]
    missing: tuple[str, ...]
    labels: tuple[LabelBox, ...]


def draw_boot_steps(text: str, out_dir: Path) -> Drawn:
    """Draw the five boot steps of the log's last boot into out_dir."""
    facts = read_facts(text)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    labels: list[LabelBox] = []
    missing = list(facts.missing)
    steps: list[
        tuple[str, Callable[[BootFacts, str, list[str]], tuple[Picture, list[Column | None]]]]
    ] = [
        ("boot-1-loader.svg", _loader),
        ("boot-2-mapping.svg", _mapping),
        ("boot-3-handoff.svg", _handoff),
        ("boot-4-reclaim.svg", _reclaim),
        ("boot-5-running.svg", _running),
    ]
    for name, step in steps:
        picture, columns = step(facts, name, missing)
        path = out_dir / name
        labels += picture.save(path, columns)
        files.append(path)
    return Drawn(tuple(files), tuple(dict.fromkeys(missing)), tuple(labels))


def _partition(banks: list[Range], taken: list[Range]) -> list[Range]:
    """The taken ranges, and the free memory of the banks around them."""
    areas = list(taken)
    ordered = sorted(taken, key=lambda area: area.start)
    for bank in banks:
        cursor = bank.start
        for area in ordered:
            if area.end <= cursor or area.start >= bank.end:
                continue
            if area.start > cursor:
                areas.append(Range(cursor, area.start, "free", "free"))
            cursor = max(cursor, area.end)
        if cursor < bank.end:
            areas.append(Range(cursor, bank.end, "free", "free"))
    return areas


def _kernel_physical(facts: BootFacts) -> list[Range]:
    return [
        Range(m.phys, m.phys + m.virt.size, m.virt.kind, f"kernel {m.perm}") for m in facts.maps
    ]


def _percpu_areas(facts: BootFacts) -> list[Range]:
    areas: list[Range] = []
    for cpu in facts.percpu:
        guard = max(cpu.stack.start - PAGE, 0)
        areas.append(Range(guard, cpu.stack.start, "guard", f"hart {cpu.hart} guard page"))
        areas.append(cpu.stack)
        tls_note = f"hart {cpu.hart} TLS block"
        areas.append(Range(cpu.tls, cpu.tls + facts.tls_size, "tls", tls_note))
    return areas


def _direct_map(facts: BootFacts) -> list[Range]:
    return [
        Range(DIRECT_MAP + bank.start, DIRECT_MAP + bank.end, "direct", "direct map rw-")
        for bank in facts.banks
    ]


def _bank_captions(facts: BootFacts) -> list[str]:
    return [f"DRAM bank {bank.start:#x} · {human_size(bank.size)}" for bank in facts.banks]


def _kaslr_caption(facts: BootFacts) -> list[str]:
    if facts.slide is None:
        return []
    return [
        f"KASLR slide {facts.slide:#x} ({facts.kaslr_note}): the kernel runs at "
        f"0xffffffff80000000 + slide, the harts' stacks at a random page too."
    ]


def _loader(facts: BootFacts, name: str, missing: list[str]) -> tuple[Picture, list[Column | None]]:
    start = (
        f"hart {facts.boot_hart} runs the loader, MMU off; device tree at {facts.dtb:#x}."
        if facts.boot_hart is not None and facts.dtb is not None
        else "The loader runs with the MMU off."
    )
    captions = [start, *_bank_captions(facts), SCALE_NOTE]
    picture = Picture(name, "Boot step 1: the loader reads physical memory at reset", captions)
    areas = _partition(facts.banks, facts.reserved)
    _, column = picture.columns(None, areas, ("", "physical memory"))
    for area in facts.reserved:
        if area.kind == "loader":
            # Firmware jumped to the loader's first byte (its _start).
            picture.marker(column, area.start, "firmware jumps here, to the loader", "right")
    return picture, [column]


def _virtual_loader(facts: BootFacts) -> list[Range]:
    return [
        *facts.identity,
        *(mapping.virt for mapping in facts.maps),
        *_percpu_areas(facts),
        *_direct_map(facts),
        DEVICE_WINDOW,
    ]


def _mapping_picture(
    facts: BootFacts, name: str, title: str, extra: list[str]
) -> tuple[Picture, Column | None, Column]:
    captions = [
        "The loader builds the page tables: each band joins a virtual range to the "
        "physical memory it maps.",
        *_kaslr_caption(facts),
        "The direct map is derived from the DRAM banks (the log has no line for it): "
        "0xffffffc000000000 + physical.",
        *extra,
        SCALE_NOTE,
    ]
    picture = Picture(name, title, captions)
    physical = _partition(facts.banks, facts.reserved + _kernel_physical(facts))
    left, right = picture.columns(physical, _virtual_loader(facts), HEADINGS)
    for area in facts.identity:
        picture.band(left, (area.start, area.end), right, (area.start, area.end), "identity")
    _kernel_bands(picture, facts, left, right)
    _direct_bands(picture, facts, left, right)
    return picture, left, right


def _kernel_bands(picture: Picture, facts: BootFacts, left: Column | None, right: Column) -> None:
    for mapping in facts.maps:
        phys = (mapping.phys, mapping.phys + mapping.virt.size)
        picture.band(left, phys, right, (mapping.virt.start, mapping.virt.end), mapping.virt.kind)


def _direct_bands(picture: Picture, facts: BootFacts, left: Column | None, right: Column) -> None:
    for bank in facts.banks:
        virt = (DIRECT_MAP + bank.start, DIRECT_MAP + bank.end)
        picture.band(left, (bank.start, bank.end), right, virt, "direct")


def _mapping(
    facts: BootFacts, name: str, missing: list[str]
) -> tuple[Picture, list[Column | None]]:
    title = "Boot step 2: the loader maps itself, the kernel, the harts and DRAM"
    picture, left, right = _mapping_picture(facts, name, title, [])
    return picture, [left, right]


def _handoff(
    facts: BootFacts, name: str, missing: list[str]
) -> tuple[Picture, list[Column | None]]:
    boot = [cpu for cpu in facts.percpu if cpu.hart == facts.boot_hart]
    extra = [
        "satp on, then a jump to the kernel's entry with a0 = BootInfo (in the direct map), "
        "sp = the boot hart's stack top, tp = its TLS block."
    ]
    title = "Boot step 3: the loader hands off to the kernel"
    picture, left, right = _mapping_picture(facts, name, title, extra)
    if facts.entry is not None and not picture.marker(
        right, facts.entry, f"entry {facts.entry:#x}", "right"
    ):
        missing.append(f"the entry {facts.entry:#x} is in no mapped kernel segment of the log")
    if facts.bootinfo is not None:
        picture.marker(right, facts.bootinfo, f"BootInfo {facts.bootinfo:#x}", "right")
        physical = facts.bootinfo - DIRECT_MAP
        if left is not None:
            picture.marker(left, physical, f"BootInfo {physical:#x}", "left")
    for cpu in boot:
        # The stack grows down from its end: the first sp is the end, which
        # belongs to the stack's row (not the TLS block's above it).
        picture.marker(
            right, cpu.stack.end - 1, f"sp of hart {cpu.hart}: {cpu.stack.end:#x}", "right"
        )
    if facts.percpu and not boot:
        missing.append("the boot hart has no `loader: percpu` line: its stack is not marked")
    return picture, [left, right]


def _reclaim_caption(facts: BootFacts) -> str:
    if facts.reclaim is None:
        return (
            "The kernel's frame allocator took the loader's memory; the log does not say how much."
        )
    size, ranges = facts.reclaim
    return (
        f"The kernel reclaimed {size:#x} bytes ({human_size(size)}) in {ranges} ranges: "
        "the loader's image and page tables. The kernel image stays."
    )


def _reclaim(
    facts: BootFacts, name: str, missing: list[str]
) -> tuple[Picture, list[Column | None]]:
    captions = [_reclaim_caption(facts), *_bank_captions(facts), SCALE_NOTE]
    picture = Picture(name, "Boot step 4: the kernel reclaims the loader's memory", captions)
    _, column = picture.columns(None, facts.regions, ("", "physical memory"))
    for area in facts.reserved:
        if area.kind == "loader":
            # Free now: the one part of the reclaim the regions do not name.
            text = f"the loader was here: {area.start:#x} · {human_size(area.size)}"
            picture.marker(column, area.start, text, "right")
    return picture, [column]


def _running(
    facts: BootFacts, name: str, missing: list[str]
) -> tuple[Picture, list[Column | None]]:
    captions = [
        "The kernel's own page tables: no identity map, nothing in the lower half.",
        *_kaslr_caption(facts),
        "The direct map is derived from the DRAM banks (the log has no line for it); "
        "the device window fills as drivers map registers.",
        SCALE_NOTE,
    ]
    picture = Picture(name, "Boot step 5: the kernel runs", captions)
    virtual = [
        *(mapping.virt for mapping in facts.maps),
        *_percpu_areas(facts),
        *_direct_map(facts),
        SCRATCH,
        DEVICE_WINDOW,
    ]
    left, right = picture.columns(facts.regions, virtual, HEADINGS)
    _kernel_bands(picture, facts, left, right)
    _direct_bands(picture, facts, left, right)
    return picture, [left, right]
