"""The boot-log parser: what it takes as an event, what it leaves as free text."""

from __future__ import annotations

import re

import pytest
from configurations import REPO
from harness.boot import KTEST_BOOT, POWEROFF_BOOT, SHELL_BOOT
from hypothesis import given
from hypothesis import strategies as st

from aubade.bootlog import (
    KNOWN_EVENTS,
    BootLogError,
    parse_events,
    parse_line,
    parse_number,
    parse_range,
)

MAP_LINE = (
    "[    0.082446] loader: map virt=0xffffffff80000000-0xffffffff80003000 phys=0x80085000 perm=r-x"
)


def test_event_line_gives_its_time_kind_and_fields() -> None:
    event = parse_line(MAP_LINE)
    assert event is not None
    assert (event.time, event.kind, event.line) == (0.082446, "loader: map", MAP_LINE)
    assert event.fields == {
        "virt": "0xffffffff80000000-0xffffffff80003000",
        "phys": "0x80085000",
        "perm": "r-x",
    }


def test_fields_convert_to_numbers_ranges_and_lists() -> None:
    harts = parse_line("[    0.079756] loader: harts count=4 ids=0,1,2,3")
    mapping = parse_line(MAP_LINE)
    assert harts is not None and mapping is not None
    assert harts.int_field("count") == 4
    assert harts.int_list_field("ids") == [0, 1, 2, 3]
    assert mapping.int_field("phys") == 0x80085000
    assert mapping.range_field("virt") == (0xFFFFFFFF80000000, 0xFFFFFFFF80003000)
    assert mapping.list_field("perm") == ["r-x"]


def test_event_without_fields_is_an_event() -> None:
    event = parse_line("[12345.000001] kernel: idle")
    assert event is not None and event.fields == {} and event.time == 12345.000001


def test_line_end_is_not_part_of_the_event() -> None:
    event = parse_line("[    0.091653] kernel: early hart=0\r\n")
    assert event is not None and event.line == "[    0.091653] kernel: early hart=0"


@pytest.mark.parametrize(
    "line",
    [
        "OpenSBI v1.1",
        "Boot HART ID              : 0",
        "loader: start hart=0 dtb=0x87e00000",
        "[0.072403] loader: start hart=0",
        "[     0.072403] loader: start hart=0",
        "[  1 2.072403] loader: start hart=0",
        "[    0.0724] loader: start hart=0",
        "[    0.072403] loader start hart=0",
        "[    0.072403] Loader: start hart=0",
        "[    0.072403] loader: Start hart=0",
        "[    0.072403] loader: start hart=0 ",
        "[    0.072403] loader: start hart",
        "[    0.072403] loader: start hart=0  dtb=0x87e00000",
        "[    0.072403] loader: start hart=0 hart=1",
        "[    0.072403] loader: start hart=0[    0.072500] kernel: early hart=1",
    ],
)
def test_line_off_the_grammar_is_free_text(line: str) -> None:
    assert parse_line(line) is None


def test_an_empty_value_is_an_empty_list_and_no_number() -> None:
    # The kernel's line for an empty command line, as U-Boot gives one.
    event = parse_line("[    2.384686] kernel: cmdline args= cpu=0")
    assert event is not None
    assert event.list_field("args") == []
    with pytest.raises(BootLogError, match="'args'"):
        event.int_field("args")


def test_parse_events_skips_free_text() -> None:
    text = f"OpenSBI v1.1\r\n{MAP_LINE}\r\nra: 0x80200000\r\n[    0.1] kernel: early hart=0\r\n"
    assert [event.line for event in parse_events(text)] == [MAP_LINE]


@pytest.mark.parametrize("text", ["0o17", "0b1", "1_000", "-1", "0x", "ff", "0X10", " 1", ""])
def test_number_outside_the_contract_is_an_error(text: str) -> None:
    with pytest.raises(BootLogError):
        parse_number(text)


@pytest.mark.parametrize("text", ["0x10", "0x10-", "0x20-0x10", "0x10-0x20-0x30", "0x10..0x20"])
def test_malformed_range_is_an_error(text: str) -> None:
    with pytest.raises(BootLogError):
        parse_range(text)


def test_missing_or_malformed_field_names_the_line() -> None:
    event = parse_line("[    0.079756] loader: harts count=four")
    assert event is not None
    with pytest.raises(BootLogError, match="harts count=four"):
        event.int_field("count")
    with pytest.raises(BootLogError, match="'ids'"):
        event.int_list_field("ids")


words = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True)
values = st.one_of(
    st.integers(0, 2**64 - 1).map(hex),
    st.integers(0, 10**6).map(str),
    st.from_regex(r"[!-~]{1,12}", fullmatch=True),
)


@given(
    seconds=st.integers(0, 99999),
    micros=st.integers(0, 999999),
    component=words,
    name=st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    fields=st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True), values),
)
def test_any_line_of_the_grammar_parses_back(
    seconds: int, micros: int, component: str, name: str, fields: dict[str, str]
) -> None:
    pairs = "".join(f" {key}={value}" for key, value in fields.items())
    line = f"[{seconds:5d}.{micros:06d}] {component}: {name}{pairs}"
    event = parse_line(line)
    assert event is not None
    assert (event.component, event.name, dict(event.fields)) == (component, name, fields)
    assert event.time == pytest.approx(seconds + micros / 1e6, abs=1e-7)


# `log_event("kernel", "frames", ...)`: an event whose names the call spells out.
_LOG_EVENT_CALL = re.compile(r'\blog_event\("([a-z][a-z0-9]*)", "([a-z]+)"')
# machine_poweroff's halt line: `log_event(component, "halt", ...)`, for the
# component of each caller.
_HALTS = {"loader: halt", "kernel: halt"}


def test_the_known_events_are_those_the_sources_print() -> None:
    printed = {
        f"{component}: {name}"
        for root in ("loader", "kernel", "lib", "user")
        for source in (REPO / root).rglob("*.c")
        for component, name in _LOG_EVENT_CALL.findall(source.read_text())
    }
    assert "kernel: frames" in printed  # the search reads the sources at all
    assert printed | _HALTS == KNOWN_EVENTS


def test_every_step_the_harness_awaits_is_a_known_event() -> None:
    for step in (*POWEROFF_BOOT, *SHELL_BOOT, *KTEST_BOOT):
        assert step.kind in KNOWN_EVENTS
