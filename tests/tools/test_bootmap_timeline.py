"""timeline.svg from real smp 2 and smp 8 initcall_debug logs, and from logs
that are not: without initcall_debug, cut short, empty, garbage.

The picture is rendered by rsvg-convert, as a browser or the docs would
show it, and its pixels read: a blank SVG renders and must still fail.
What a reader needs is checked in the SVG's text: a lane per hart, every
init call named or counted in a callout, every barrier, no two labels on
top of each other.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aubade.bootlog import parse_events, select
from aubade.bootmap.boottimes import NO_INITCALLS, boot_times
from aubade.bootmap.labels import overlaps
from aubade.bootmap.timeline import FILE_NAME, draw_timeline
from tools.pngpixels import pixels

DATA = Path(__file__).parent / "data" / "bootmap"
LOGS = {smp: (DATA / f"smp{smp}-initcall.log").read_text() for smp in (2, 8)}
SVG = "{http://www.w3.org/2000/svg}"
CALLOUT = re.compile(r"(?P<fn>\S+) \+(?P<more>\d+)")
logs = pytest.mark.parametrize("smp", sorted(LOGS))


def texts(svg: Path) -> list[str]:
    """Every <text> of the SVG: what a reader sees written."""
    root = ElementTree.parse(svg).getroot()
    return [(element.text or "").strip() for element in root.iter(f"{SVG}text")]


def titles(svg: Path) -> list[str]:
    root = ElementTree.parse(svg).getroot()
    return [element.text or "" for element in root.iter(f"{SVG}title")]


@logs
def test_renders_to_a_picture_that_is_not_blank(smp: int, tmp_path: Path) -> None:
    drawn = draw_timeline(LOGS[smp], tmp_path)
    assert drawn.files == (tmp_path / FILE_NAME,)
    png = tmp_path / "timeline.png"
    result = subprocess.run(
        ["rsvg-convert", "--zoom", "0.25", "--output", str(png), str(drawn.files[0])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = pixels(png)
    colours = Counter(seen)
    background, most = colours.most_common(1)[0]
    # The bars, phases and text cover a good part of it, in many colours.
    assert len(seen) - most > len(seen) // 10, f"mostly {background}: blank?"
    assert len(colours) >= 8


@logs
def test_every_hart_has_a_lane(smp: int, tmp_path: Path) -> None:
    (harts,) = select(parse_events(LOGS[smp]), "loader", "harts")
    written = texts(draw_timeline(LOGS[smp], tmp_path).files[0])
    ids = harts.int_list_field("ids")
    assert len(ids) == smp
    for hart in ids:
        assert any(re.fullmatch(rf"hart {hart}( \(boot\))?", text) for text in written), hart


@logs
def test_every_init_call_is_named_or_counted(smp: int, tmp_path: Path) -> None:
    times = boot_times(LOGS[smp])
    calls = [call for call in times.calls if not call.is_barrier]
    assert len(calls) > 40
    svg = draw_timeline(LOGS[smp], tmp_path).files[0]
    names = {call.fn for call in calls} | {call.token for call in calls}
    counted = 0
    for text in texts(svg):
        if text in names:
            counted += 1
        elif (callout := CALLOUT.fullmatch(text)) and callout["fn"] in names:
            counted += 1 + int(callout["more"])
    assert counted == len(calls)
    # A callout's tooltip names each call it counts.
    written = "\n".join(texts(svg) + titles(svg))
    for call in calls:
        assert call.fn in written


@logs
def test_barriers_are_lines_named_by_their_token(smp: int, tmp_path: Path) -> None:
    log_tokens = {
        event.fields["token"]
        for event in select(parse_events(LOGS[smp]), "init", "call")
        if event.fields["fn"] == "smp_barrier"
    }
    svg = draw_timeline(LOGS[smp], tmp_path).files[0]
    lines = [title for title in titles(svg) if title.startswith("barrier ")]
    assert {line.split()[1].rstrip(":") for line in lines} == log_tokens
    assert log_tokens <= set(texts(svg))


@logs
def test_no_two_labels_overlap(smp: int, tmp_path: Path) -> None:
    drawn = draw_timeline(LOGS[smp], tmp_path)
    assert len(drawn.labels) > 50
    assert overlaps(drawn.labels) == []


def test_the_same_log_draws_the_same_bytes(tmp_path: Path) -> None:
    first = draw_timeline(LOGS[8], tmp_path / "first").files[0].read_bytes()
    second = draw_timeline(LOGS[8], tmp_path / "second").files[0].read_bytes()
    assert first == second


def test_calls_reported_late_end_where_init_trace_starts() -> None:
    times = boot_times(LOGS[2])
    (trace,) = [call for call in times.calls if call.fn == "init_trace_start"]
    late = [call for call in times.calls if call.reported_late]
    assert late and max(call.end for call in late) == pytest.approx(trace.start)
    assert min(call.start for call in late) >= times.loader.end - 0.002


def test_without_initcall_debug_the_lanes_and_phases_are_drawn(tmp_path: Path) -> None:
    log = "\n".join(line for line in LOGS[2].splitlines() if "init: call" not in line)
    drawn = draw_timeline(log, tmp_path)
    assert NO_INITCALLS in drawn.missing
    written = texts(drawn.files[0])
    assert {"hart 0 (boot)", "hart 1", "Early", "Main", "Late", "loader"} <= set(written)
    assert f"not in this log: {NO_INITCALLS}" in written


def test_a_log_cut_short_says_what_it_lacks(tmp_path: Path) -> None:
    lines = LOGS[8].splitlines()
    drawn = draw_timeline("\n".join(lines[: len(lines) // 2]), tmp_path)
    assert any("kernel: init" in fact for fact in drawn.missing)
    assert overlaps(drawn.labels) == []


@pytest.mark.parametrize("log", ["", "\n\n", "OpenSBI v1.1\n", "[    0.1] loader: start"])
def test_a_log_without_a_boot_draws_and_says_so(log: str, tmp_path: Path) -> None:
    drawn = draw_timeline(log, tmp_path)
    assert drawn.files[0].is_file()
    assert drawn.missing


EVENT_LINES = [line for line in LOGS[8].splitlines() if line.startswith("[")]


@st.composite
def mangled_logs(draw: st.DrawFn) -> str:
    """Lines of a real log, some dropped, reordered or with a field changed."""
    lines = draw(st.lists(st.sampled_from(EVENT_LINES), max_size=60))
    mangled = []
    for line in lines:
        if draw(st.booleans()):
            key = draw(st.sampled_from(["us", "hart", "cpu", "ids", "token", "fn"]))
            value = draw(st.text(alphabet="0123456789x,abf-", max_size=12))
            line = re.sub(rf"\b{key}=\S*", f"{key}={value}", line)
        mangled.append(line)
    return "\n".join(mangled)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=400), mangled_logs()))
def test_garbage_never_raises(log: str) -> None:
    with tempfile.TemporaryDirectory() as out_dir:
        drawn = draw_timeline(log, Path(out_dir))
        assert drawn.files[0].is_file()
        assert overlaps(drawn.labels) == []


def test_a_log_naming_more_harts_than_qemu_has_gets_512_lanes(tmp_path: Path) -> None:
    ids = ",".join(map(str, range(600)))
    log = f"[    0.010000] loader: start hart=3 dtb=0x1\n[    0.020000] loader: harts ids={ids}\n"
    drawn = draw_timeline(log, tmp_path)
    written = texts(drawn.files[0])
    assert "hart 511" in written and "hart 512" not in written
    assert "600 harts named: lanes for the first 512 only" in drawn.missing


def test_the_axis_reaches_to_pid_1_and_the_prompt(tmp_path: Path) -> None:
    poweroff = "[    0.110580] kernel: poweroff status=ok cpu=0"
    shell = "[    0.118000] proc: start pid=1 parent=0 entry=0x10000 sp=0x3fff cpu=0\naubade> "
    log = LOGS[2].replace(poweroff, shell)
    times = boot_times(log)
    assert [mark.name for mark in times.marks] == ["kernel: init", "proc: start", "aubade>"]
    assert times.end == pytest.approx(0.118)
    written = texts(draw_timeline(log, tmp_path).files[0])
    assert {"kernel: init", "proc: start", "aubade>"} <= set(written)
