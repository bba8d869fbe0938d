"""The five boot-step memory pictures, drawn from real boot logs.

Each picture renders (rsvg-convert) to something that is not blank; every
range the log names has its address in a text of the picture it belongs
to, kernel segments with their rights; no two labels cover each other at
-smp 8; and no log, cut short, panicked, empty or garbage, stops the
drawing: what the log lacks is listed instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ElementTree
from functools import cache
from pathlib import Path

import pytest
from configurations import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from aubade.bootlog import parse_events, select
from aubade.bootmap import memory
from aubade.bootmap.labels import LabelBox, Placer, overlaps
from aubade.bootmap.memory import Drawn, draw_boot_steps
from tools.pngpixels import pixels

DATA = Path(__file__).parent / "data" / "bootmap"
LOGS = {"smp2": DATA / "smp2-initcall.log", "smp8": DATA / "smp8-initcall.log"}
STEPS = ("loader", "mapping", "handoff", "reclaim", "running")
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


@cache
def drawn(name: str) -> Drawn:
    """Each sample log drawn once for the whole module."""
    out = Path(tempfile.mkdtemp(prefix=f"bootmap-{name}-"))
    return draw_boot_steps(LOGS[name].read_text(), out)


def picture(name: str, step: str) -> Path:
    return drawn(name).files[STEPS.index(step)]


def texts(svg: Path) -> list[str]:
    return ["".join(text.itertext()) for text in ElementTree.parse(svg).iter(SVG_TEXT)]


def labelled(svg: Path, *parts: str) -> bool:
    """Whether one text of the picture holds all these parts."""
    return any(all(part in text for part in parts) for text in texts(svg))


def events(name: str, kind: str) -> list:
    component, _, event = kind.partition(": ")
    return select(parse_events(LOGS[name].read_text()), component, event)


def test_the_five_steps_are_written_in_order() -> None:
    files = drawn("smp2").files
    assert [file.name for file in files] == [
        f"boot-{number}-{step}.svg" for number, step in enumerate(STEPS, 1)
    ]
    assert drawn("smp2").missing == ()


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="no rsvg-convert")
@pytest.mark.parametrize("name", sorted(LOGS))
def test_every_picture_renders_to_something_not_blank(name: str, tmp_path: Path) -> None:
    for svg in drawn(name).files:
        png = tmp_path / f"{svg.stem}.png"
        # A third of the size: enough for colours and text, fast to decode.
        subprocess.run(["rsvg-convert", "-z", "0.3", "-o", str(png), str(svg)], check=True)
        found = pixels(png)
        inked = [pixel for pixel in found if pixel[:3] != (255, 255, 255)]
        # A blank page is all white; the pictures' rectangles, bands and
        # text ink a good part of it in many colours.
        assert len(inked) > len(found) // 10, svg.name
        assert len(set(found)) > 20, svg.name


@pytest.mark.parametrize("name", sorted(LOGS))
def test_physical_memory_at_reset_shows_banks_and_reserved_ranges(name: str) -> None:
    svg = picture(name, "loader")
    for bank in events(name, "loader: memory"):
        assert labelled(svg, bank.field("base")), bank.line
    for reserved in events(name, "loader: reserved"):
        start = reserved.field("range").split("-")[0]
        assert labelled(svg, start, reserved.field("what")), reserved.line


@pytest.mark.parametrize("name", sorted(LOGS))
@pytest.mark.parametrize("step", ["mapping", "handoff"])
def test_the_loader_maps_are_all_drawn(name: str, step: str) -> None:
    svg = picture(name, step)
    for identity in events(name, "loader: identity"):
        start = identity.field("range").split("-")[0]
        assert labelled(svg, start, identity.field("perm")), identity.line
    for segment in events(name, "loader: map"):
        virt = segment.field("virt").split("-")[0]
        assert labelled(svg, virt, segment.field("perm")), segment.line
        assert labelled(svg, segment.field("phys"), segment.field("perm")), segment.line
    (kernel,) = events(name, "loader: kernel")
    tls_pages = -(-kernel.int_field("tls") // 4096)
    for cpu in events(name, "loader: percpu"):
        hart = f"hart {cpu.field('hart')} "
        start, _ = cpu.range_field("stack")
        assert labelled(svg, f"{start:#x}", hart + "stack"), cpu.line
        assert labelled(svg, f"{start - 4096:#x}", hart + "guard"), cpu.line
        assert labelled(svg, cpu.field("tls"), f"{tls_pages * 4} KiB", hart + "TLS"), cpu.line
    for bank in events(name, "loader: memory"):
        assert labelled(svg, f"{memory.DIRECT_MAP + bank.int_field('base'):#x}", "direct map")
    assert labelled(svg, "0xfffffff000000000", "62 GiB", "device window")
    (kaslr,) = events(name, "loader: kaslr")
    assert labelled(svg, f"KASLR slide {kaslr.field('slide')}")


@pytest.mark.parametrize("name", sorted(LOGS))
def test_the_handoff_marks_entry_bootinfo_and_the_boot_harts_stack(name: str) -> None:
    svg = picture(name, "handoff")
    (handoff,) = events(name, "loader: handoff")
    assert labelled(svg, "entry", handoff.field("entry"))
    assert labelled(svg, "BootInfo", handoff.field("bootinfo"))
    (start,) = events(name, "loader: start")
    (boot,) = [
        cpu for cpu in events(name, "loader: percpu") if cpu.field("hart") == start.field("hart")
    ]
    assert labelled(svg, f"sp of hart {start.field('hart')}", f"{boot.range_field('stack')[1]:#x}")


@pytest.mark.parametrize("name", sorted(LOGS))
def test_the_reclaim_shows_every_region_and_what_came_back(name: str) -> None:
    svg = picture(name, "reclaim")
    for region in events(name, "kernel: region"):
        start = region.field("range").split("-")[0]
        assert labelled(svg, start, region.field("kind")), region.line
    (reclaim,) = events(name, "kernel: reclaim")
    assert labelled(svg, reclaim.field("bytes"), f"{reclaim.field('ranges')} ranges")


@pytest.mark.parametrize("name", sorted(LOGS))
def test_the_running_kernel_has_no_identity_map(name: str) -> None:
    svg = picture(name, "running")
    for region in events(name, "kernel: region"):
        assert labelled(svg, region.field("range").split("-")[0], region.field("kind"))
    for segment in events(name, "loader: map"):
        assert labelled(svg, segment.field("virt").split("-")[0], segment.field("perm"))
    for cpu in events(name, "loader: percpu"):
        assert labelled(svg, cpu.field("stack").split("-")[0], "stack")
    assert labelled(svg, "0xffffffe800000000", "1 GiB", "scratch")
    assert labelled(svg, "0xfffffff000000000", "device window")
    assert not labelled(svg, "loader identity")


@pytest.mark.parametrize("name", sorted(LOGS))
def test_no_label_covers_another(name: str) -> None:
    boxes = drawn(name).labels
    assert {box.file for box in boxes} == {file.name for file in drawn(name).files}
    assert overlaps(boxes) == []


def test_overlaps_and_placement() -> None:
    first = LabelBox("a.svg", "one", 0, 0, 50, 10)
    assert overlaps([first, LabelBox("a.svg", "two", 40, 5, 50, 10)]) != []
    assert overlaps([first, LabelBox("b.svg", "two", 40, 5, 50, 10)]) == []
    assert overlaps([first, LabelBox("a.svg", "two", 0, 10, 50, 10)]) == []
    placer = Placer("a.svg")
    placed = [placer.place("0x80000000 · 4 KiB", 10, 100, 11) for _ in range(5)]
    assert overlaps(placed) == []
    assert [box.y for box in placed] == sorted(box.y for box in placed)


def test_constants_are_the_sources() -> None:
    """The addresses the log has no line for are the C headers' own."""
    headers = (REPO / "kernel/mm/mm.h").read_text() + (REPO / "loader/loader.h").read_text()

    def define(name: str) -> int:
        found = re.search(rf"#define {name} (0x[0-9a-f]+)ul", headers)
        assert found, name
        return int(found[1], 16)

    assert memory.DIRECT_MAP == define("DIRECT_MAP_OFFSET")
    assert memory.SCRATCH.start == define("VM_SCRATCH_BASE")
    assert memory.DEVICE_WINDOW.start == define("DEVICE_WINDOW")
    assert "(62 * SV39_GIGAPAGE_SIZE)" in headers
    assert memory.DEVICE_WINDOW.size == 62 << 30


def cut_after(kind: str) -> str:
    """The smp 2 log up to and with its first line of this kind."""
    lines = LOGS["smp2"].read_text().splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if f"] {kind} " in line][:1]
    return "".join(lines[: index + 1])


def test_a_log_cut_after_the_kernel_check_draws_what_it_has(tmp_path: Path) -> None:
    result = draw_boot_steps(cut_after("loader: kernel"), tmp_path)
    assert len(result.files) == 5 and all(file.exists() for file in result.files)
    assert any("`loader: map`" in line for line in result.missing)
    assert any("`kernel: region`" in line for line in result.missing)
    assert not any("`loader: memory`" in line for line in result.missing)
    assert labelled(result.files[0], "0x8fe00000", "dtb")


def test_a_loader_panic_draws_physical_memory(tmp_path: Path) -> None:
    text = cut_after("loader: reserved") + "[    0.063319] loader: panic reason=payload-digest\n"
    result = draw_boot_steps(text, tmp_path)
    assert any("`loader: kernel`" in line for line in result.missing)
    assert labelled(result.files[0], "0x80000000", "reserved-memory")


def test_an_empty_log_lists_everything_missing(tmp_path: Path) -> None:
    result = draw_boot_steps("", tmp_path)
    assert len(result.files) == 5
    for kind in ("loader: memory", "loader: map", "loader: percpu", "kernel: region"):
        assert any(f"`{kind}`" in line for line in result.missing), kind
    assert overlaps(result.labels) == []


_NUMBER = st.one_of(
    st.integers(0, 2**64).map(hex), st.integers(0, 2**70).map(str), st.text(max_size=6)
)
_FIELD_VALUE = st.one_of(
    _NUMBER, st.tuples(_NUMBER, _NUMBER).map("-".join), st.sampled_from(["r-x", "rw-", "dtb"])
)
_EVENT_LINE = st.builds(
    lambda kind, fields: f"[    0.000001] {kind} " + " ".join(f"{k}={v}" for k, v in fields),
    st.sampled_from(
        [
            "loader: start",
            "loader: memory",
            "loader: reserved",
            "loader: kernel",
            "loader: kaslr",
            "loader: identity",
            "loader: map",
            "loader: percpu",
            "loader: handoff",
            "kernel: reclaim",
            "kernel: region",
        ]
    ),
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "base",
                    "size",
                    "range",
                    "what",
                    "tls",
                    "slide",
                    "virt",
                    "phys",
                    "perm",
                    "hart",
                    "stack",
                    "entry",
                    "bootinfo",
                    "bytes",
                    "ranges",
                    "kind",
                    "dtb",
                ]
            ),
            _FIELD_VALUE,
        ),
        max_size=5,
    ),
)


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.binary().map(lambda data: data.decode("latin-1")),
        st.lists(_EVENT_LINE, max_size=12).map("\n".join),
    )
)
def test_no_text_stops_the_drawing(text: str) -> None:
    with tempfile.TemporaryDirectory() as out:
        result = draw_boot_steps(text, Path(out))
        assert len(result.files) == 5
        for svg in result.files:
            ElementTree.parse(svg)  # well-formed XML, whatever the log held
