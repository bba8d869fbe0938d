"""What a boot log says about memory, read so that no log can stop a picture.

Each event the memory pictures need is read into plain numbers here; a
line whose fields cannot be read is left out and named in `missing`, and an
event the log lacks altogether (a boot that stopped early, a log cut short)
is named there too, so that a picture with a hole says why. Only the last
boot of the log counts: a console log may hold a reset and a second boot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aubade.bootlog import BootLogError, Event, parse_events

PAGE = 4096


@dataclass(frozen=True)
class Range:
    """[start, end) with what the log calls it."""

    start: int
    end: int
    kind: str
    note: str = ""

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Mapping:
    """A kernel segment: its virtual range, where its bytes are, its rights."""

    virt: Range
    phys: int
    perm: str


@dataclass(frozen=True)
class PerCpu:
    hart: int
    stack: Range
    tls: int


@dataclass
class BootFacts:
    """The memory facts of one boot, each None or empty when the log lacks it."""

    boot_hart: int | None = None
    dtb: int | None = None
    banks: list[Range] = field(default_factory=list)
    reserved: list[Range] = field(default_factory=list)
    kernel_tls: int | None = None
    slide: int | None = None
    kaslr_note: str = ""
    identity: list[Range] = field(default_factory=list)
    maps: list[Mapping] = field(default_factory=list)
    percpu: list[PerCpu] = field(default_factory=list)
    entry: int | None = None
    bootinfo: int | None = None
    reclaim: tuple[int, int] | None = None
    regions: list[Range] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def tls_size(self) -> int:
        """A TLS block's mapped size: the template rounded up to pages."""
        return -(-(self.kernel_tls or 0) // PAGE) * PAGE or PAGE


def last_boot(text: str) -> list[Event]:
    """The events from the log's last `loader: start` on (all, if none)."""
    events = parse_events(text)
    starts = [index for index, event in enumerate(events) if event.kind == "loader: start"]
    return events[starts[-1] :] if starts else events


def read_facts(text: str) -> BootFacts:
    """The memory facts of the log's last boot; never raises on any text."""
    facts = BootFacts()
    events = last_boot(text)
    seen = {event.kind for event in events}
    for event in events:
        reader = _READERS.get(event.kind)
        if reader is None:
            continue
        try:
            reader(event, facts)
        except (BootLogError, ValueError):
            facts.missing.append(f"a `{event.kind}` line could not be read and is left out")
    for kind, consequence in _CONSEQUENCES.items():
        if kind not in seen:
            facts.missing.append(f"no `{kind}` line: {consequence}")
    return facts


def _start(event: Event, facts: BootFacts) -> None:
    facts.boot_hart = event.int_field("hart")
    facts.dtb = event.int_field("dtb")


def _memory(event: Event, facts: BootFacts) -> None:
    base, size = event.int_field("base"), event.int_field("size")
    facts.banks.append(Range(base, base + size, "free", "DRAM bank"))


def _reserved(event: Event, facts: BootFacts) -> None:
    start, end = event.range_field("range")
    what = event.field("what")
    node = event.fields.get("node", "")
    kind = {"dtb": "dtb", "loader": "loader"}.get(what, "reserved")
    facts.reserved.append(Range(start, end, kind, f"{what} {node}".strip()))


def _kernel(event: Event, facts: BootFacts) -> None:
    facts.kernel_tls = event.int_field("tls")


def _kaslr(event: Event, facts: BootFacts) -> None:
    facts.slide = event.int_field("slide")
    source = event.fields.get("source", "?")
    why = event.fields.get("why")
    facts.kaslr_note = f"source {source}" + (f", {why}" if why else "")


def _identity(event: Event, facts: BootFacts) -> None:
    start, end = event.range_field("range")
    perm = event.field("perm")
    facts.identity.append(Range(start, end, "identity", f"loader identity {perm}"))


def _map(event: Event, facts: BootFacts) -> None:
    start, end = event.range_field("virt")
    perm = event.field("perm")
    virt = Range(start, end, f"kernel {perm}", f"kernel {perm}")
    facts.maps.append(Mapping(virt, event.int_field("phys"), perm))


def _percpu(event: Event, facts: BootFacts) -> None:
    start, end = event.range_field("stack")
    hart = event.int_field("hart")
    stack = Range(start, end, "stack", f"hart {hart} stack")
    facts.percpu.append(PerCpu(hart, stack, event.int_field("tls")))


def _handoff(event: Event, facts: BootFacts) -> None:
    facts.entry = event.int_field("entry")
    facts.bootinfo = event.int_field("bootinfo")


def _reclaim(event: Event, facts: BootFacts) -> None:
    facts.reclaim = (event.int_field("bytes"), event.int_field("ranges"))


def _region(event: Event, facts: BootFacts) -> None:
    start, end = event.range_field("range")
    kind = event.field("kind")
    facts.regions.append(Range(start, end, kind, kind))


_READERS: dict[str, Callable[[Event, BootFacts], None]] = {
    "loader: start": _start,
    "loader: memory": _memory,
    "loader: reserved": _reserved,
    "loader: kernel": _kernel,
    "loader: kaslr": _kaslr,
    "loader: identity": _identity,
    "loader: map": _map,
    "loader: percpu": _percpu,
    "loader: handoff": _handoff,
    "kernel: reclaim": _reclaim,
    "kernel: region": _region,
}

_CONSEQUENCES: dict[str, str] = {
    "loader: start": "the boot hart and the device tree's address are not named",
    "loader: memory": "no DRAM bank is drawn, nor the direct map derived from the banks",
    "loader: reserved": "no firmware, device-tree or loader range is drawn",
    "loader: kernel": "the TLS blocks' size is unknown and each is drawn as one page",
    "loader: kaslr": "the kernel's slide is not labelled",
    "loader: identity": "the loader's identity map is not drawn",
    "loader: map": "the kernel's segments are not drawn",
    "loader: percpu": "no hart's guard page, stack or TLS block is drawn",
    "loader: handoff": "the entry point and BootInfo are not marked",
    "kernel: reclaim": "the reclaimed bytes are not given",
    "kernel: region": "the physical memory after the reclaim is not drawn",
}
