"""Parse the serial boot log into events (see the boot-log contract).

An event line is `[SSSSS.UUUUUU] component: event key=value ...`. Any line
that does not follow that grammar exactly is free text (the firmware's
banner, register dumps, a line garbled by two harts printing at once) and
yields no event, so a test that looks for an event never matches half a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

_EVENT_LINE = re.compile(
    r"\[(?P<seconds>[ \d]{5})\.(?P<micros>\d{6})\] "
    r"(?P<component>[a-z][a-z0-9]*): "
    r"(?P<name>[a-z]+)"
    r"(?P<fields>(?: [a-z][a-z0-9_]*=\S*)*)"
)
_NUMBER = re.compile(r"0x[0-9a-fA-F]+|[0-9]+")

KNOWN_EVENTS: frozenset[str] = frozenset(
    {
        # The contract's required events, in boot order.
        "loader: start",
        "loader: memory",
        "loader: reserved",
        "loader: kernel",
        "loader: map",
        "loader: harts",
        "loader: percpu",
        "loader: handoff",
        "kernel: early",
        "kernel: reclaim",
        "kernel: frames",
        "kernel: region",
        "kernel: late",
        "kernel: sched",
        "kernel: init",
        "init: call",
        "kernel: poweroff",
        "loader: panic",
        "kernel: panic",
        # Events added since, which the contract allows.
        "loader: identity",
        "loader: user",
        "loader: kaslr",
        "loader: payload",
        "loader: verified",
        "loader: parked",
        "loader: halt",
        "kernel: cmdline",
        "kernel: online",
        "kernel: offline",
        "kernel: program",
        "kernel: ktest",
        "kernel: halt",
        "mm: check",
        "proc: start",
        "proc: exit",
        "proc: fault",
    }
)
"""Every `component: name` the loader, the kernel and the user program print,
for a tool to check an event it is asked for before it boots anything.
tests/tools/test_bootlog.py holds it to the sources' log_event calls."""

_Value = TypeVar("_Value")


class BootLogError(Exception):
    """An event lacks a field, or a field does not have the contract's format."""


def parse_number(text: str) -> int:
    """Read `0x`-prefixed hex (addresses, sizes) or decimal (counts, ids)."""
    # int(text, 0) would also take "0o17", "0b1" and "1_000", which the
    # contract does not allow.
    if not _NUMBER.fullmatch(text):
        raise BootLogError(f"not a hex (0x...) or decimal number: {text!r}")
    return int(text, 16) if text.startswith("0x") else int(text)


def parse_range(text: str) -> tuple[int, int]:
    """Read `0xSTART-0xEND` (end exclusive) as (start, end)."""
    start_text, dash, end_text = text.partition("-")
    if not dash:
        raise BootLogError(f"not a range START-END: {text!r}")
    start, end = parse_number(start_text), parse_number(end_text)
    if end < start:
        raise BootLogError(f"range ends before it starts: {text!r}")
    return start, end


def parse_number_list(text: str) -> list[int]:
    """Read a comma-separated list of numbers; an empty text is an empty list."""
    return [parse_number(item) for item in text.split(",")] if text else []


@dataclass(frozen=True)
class Event:
    """One event line of the boot log."""

    time: float
    component: str
    name: str
    fields: Mapping[str, str]
    line: str

    @property
    def kind(self) -> str:
        """`component: name`, as the contract and the messages spell it."""
        return f"{self.component}: {self.name}"

    def field(self, key: str) -> str:
        try:
            return self.fields[key]
        except KeyError:
            raise BootLogError(f"no field {key!r} in line: {self.line}") from None

    def int_field(self, key: str) -> int:
        return self._converted(key, parse_number)

    def range_field(self, key: str) -> tuple[int, int]:
        return self._converted(key, parse_range)

    def list_field(self, key: str) -> list[str]:
        """A comma-separated list; an empty value is an empty list."""
        value = self.field(key)
        return value.split(",") if value else []

    def int_list_field(self, key: str) -> list[int]:
        return self._converted(key, parse_number_list)

    def _converted(self, key: str, convert: Callable[[str], _Value]) -> _Value:
        try:
            return convert(self.field(key))
        except BootLogError as error:
            raise BootLogError(f"field {key!r}: {error} in line: {self.line}") from None


def parse_line(line: str) -> Event | None:
    """The event on this line, or None if the line is free text."""
    line = line.rstrip("\r\n")
    match = _EVENT_LINE.fullmatch(line)
    if match is None or not match["seconds"].lstrip(" ").isdigit():
        return None
    fields: dict[str, str] = {}
    for pair in match["fields"].split():
        key, _, value = pair.partition("=")
        if key in fields:
            # Two values for one key is no line the contract allows; taking
            # either one would hide the bug that printed it.
            return None
        fields[key] = value
    return Event(
        time=int(match["seconds"]) + int(match["micros"]) / 1_000_000,
        component=match["component"],
        name=match["name"],
        fields=fields,
        line=line,
    )


def parse_events(text: str) -> list[Event]:
    """All events of a console log, in the order they were printed."""
    return [event for event in map(parse_line, text.splitlines()) if event is not None]


def select(events: Iterable[Event], component: str, name: str) -> list[Event]:
    """The events of one kind, in log order."""
    return [event for event in events if event.component == component and event.name == name]


def kaslr_slide(event: Event | None) -> int:
    """What the loader added to every kernel address, from its `loader:
    kaslr` event: names from kernel.elf fit an address less this. 0 for
    a log without the event (a boot stopped before it, an older loader)."""
    return event.int_field("slide") if event is not None and event.kind == "loader: kaslr" else 0


def boot_slide(text: str) -> int:
    """kaslr_slide of the last boot in a console log."""
    found = select(parse_events(text), "loader", "kaslr")
    return kaslr_slide(found[-1] if found else None)
