"""Facts about every hart, from the same `-append poweroff` boots as test_boot.py.

The loader gives each hart a stack with an unmapped guard page below it and
a TLS block; the kernel starts the other harts, each says `kernel: early`
(or the boot hart reports it `offline`), the boot hart sums up who is
`online`, and every online hart says `kernel: late` once Main is done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import pytest
from harness.boot import Boot

from aubade.elfcheck import PAGE_SIZE

STACK_SIZE = 64 * 1024
# `reason=WORD`: lowercase words joined by hyphens, like `start-failed`.
REASON_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")

# Phase tests too: they run on a board at the end of a serial port.
pytestmark = pytest.mark.any_target

Span = tuple[int, int]


@dataclass(frozen=True)
class PerCpu:
    """A `loader: percpu` line: one hart's stack and TLS block."""

    hart: int
    stack: Span
    tls: Span


def percpus(boot: Boot) -> list[PerCpu]:
    tls_size = boot.event("loader", "kernel").int_field("tls")
    return [
        PerCpu(
            hart=event.int_field("hart"),
            stack=event.range_field("stack"),
            tls=(event.int_field("tls"), event.int_field("tls") + tls_size),
        )
        for event in boot.events_of("loader", "percpu")
    ]


def whole_pages(span: Span) -> Span:
    """The pages a mapping of `span` takes."""
    start, end = span
    return (start // PAGE_SIZE * PAGE_SIZE, -(-end // PAGE_SIZE) * PAGE_SIZE)


def hart_ids(boot: Boot, name: str) -> list[int]:
    """The harts of every `kernel: name` line, in log order."""
    return [event.int_field("hart") for event in boot.events_of("kernel", name)]


def describe(span: Span) -> str:
    return f"{span[0]:#x}-{span[1]:#x}"


# Stacks and TLS blocks, as the loader reports them.


def test_percpu_stacks_are_64_kib(boot: Boot) -> None:
    sizes = {cpu.hart: cpu.stack[1] - cpu.stack[0] for cpu in percpus(boot)}
    assert sizes == dict.fromkeys(sizes, STACK_SIZE)


def test_percpu_stacks_and_tls_blocks_do_not_overlap(boot: Boot) -> None:
    blocks = sorted(
        (span, f"hart {cpu.hart} {what}")
        for cpu in percpus(boot)
        for span, what in ((cpu.stack, "stack"), (cpu.tls, "tls"))
    )
    overlapping = [
        f"{lower_what} {describe(lower)} and {upper_what} {describe(upper)}"
        for (lower, lower_what), (upper, upper_what) in pairwise(blocks)
        if upper[0] < lower[1]
    ]
    assert overlapping == []


def test_percpu_tls_addresses_are_distinct_and_outside_every_stack(boot: Boot) -> None:
    # Apart from the blocks: an empty TLS template leaves no block to overlap.
    cpus = percpus(boot)
    addresses = [cpu.tls[0] for cpu in cpus]
    assert len(set(addresses)) == len(addresses), [f"{address:#x}" for address in addresses]
    inside = [
        f"hart {cpu.hart} tls {cpu.tls[0]:#x} in hart {other.hart} stack {describe(other.stack)}"
        for cpu in cpus
        for other in cpus
        if other.stack[0] <= cpu.tls[0] < other.stack[1]
    ]
    assert inside == []


def test_percpu_stacks_have_an_unmapped_guard_page_below(boot: Boot) -> None:
    # Whatever the loader maps in the upper half: stacks, the pages of the
    # TLS blocks and the kernel's segments. A stack that overflows must run
    # into an unmapped page, not into the next lower one of them.
    cpus = percpus(boot)
    mapped = [
        *(cpu.stack for cpu in cpus),
        *(whole_pages(cpu.tls) for cpu in cpus if cpu.tls[1] > cpu.tls[0]),
        *(event.range_field("virt") for event in boot.events_of("loader", "map")),
    ]
    crowded = []
    for cpu in cpus:
        guard_start = cpu.stack[0] - PAGE_SIZE
        below = [span for span in mapped if span[0] < cpu.stack[0]]
        nearest = max(below, key=lambda span: span[1], default=None)
        if nearest is not None and nearest[1] > guard_start:
            crowded.append(f"hart {cpu.hart} stack {describe(cpu.stack)} over {describe(nearest)}")
    assert crowded == []


# Starting the other harts.


def test_boot_hart_is_early_first(boot: Boot) -> None:
    assert hart_ids(boot, "early")[0] == boot.event("loader", "start").int_field("hart")


def test_every_hart_reaches_early_exactly_once(boot: Boot) -> None:
    harts = boot.event("loader", "harts").int_list_field("ids")
    assert sorted(hart_ids(boot, "early")) == sorted(harts)


def test_every_hart_is_early_or_offline_exactly_once(boot: Boot) -> None:
    harts = boot.event("loader", "harts").int_list_field("ids")
    assert sorted(hart_ids(boot, "early") + hart_ids(boot, "offline")) == sorted(harts)


def test_offline_reasons_are_words(boot: Boot) -> None:
    reasons = {event.line: event.field("reason") for event in boot.events_of("kernel", "offline")}
    assert [line for line, reason in reasons.items() if not REASON_WORD.fullmatch(reason)] == []


def test_online_lists_the_harts_that_reached_early(boot: Boot) -> None:
    online = boot.event("kernel", "online")
    early = hart_ids(boot, "early")
    assert online.int_field("count") == len(early)
    assert sorted(online.int_list_field("ids")) == sorted(early)


# Late, on every hart.


def test_every_online_hart_reaches_late_exactly_once(boot: Boot) -> None:
    online = boot.event("kernel", "online").int_list_field("ids")
    assert sorted(hart_ids(boot, "late")) == sorted(online)


def test_each_hart_prints_its_own_early_and_late(boot: Boot) -> None:
    # `cpu=` is the hart that printed the line: for these two, the hart the
    # line is about.
    events = boot.events_of("kernel", "early") + boot.events_of("kernel", "late")
    assert [event.line for event in events if event.field("cpu") != event.field("hart")] == []


def test_late_comes_after_the_memory_map_on_every_hart(boot: Boot) -> None:
    kinds = [event.kind for event in boot.all_events()]
    last_region = len(kinds) - 1 - kinds[::-1].index("kernel: region")
    assert "kernel: late" not in kinds[:last_region]


# The scheduler, on every hart.


def test_every_online_hart_enters_its_scheduling_loop_exactly_once(boot: Boot) -> None:
    online = boot.event("kernel", "online").int_list_field("ids")
    assert sorted(hart_ids(boot, "sched")) == sorted(online)


def test_each_hart_prints_its_own_sched_after_its_late(boot: Boot) -> None:
    events = boot.all_events()
    for hart in boot.event("kernel", "online").list_field("ids"):
        kinds = [e.kind for e in events if e.fields.get("cpu") == hart]
        assert "kernel: sched" in kinds, f"hart {hart}: {boot.log_path}"
        assert kinds.index("kernel: late") < kinds.index("kernel: sched"), boot.log_path
    sched = boot.events_of("kernel", "sched")
    assert [event.line for event in sched if event.field("cpu") != event.field("hart")] == []
