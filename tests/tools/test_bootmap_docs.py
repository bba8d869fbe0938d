"""The pictures docs/boot.md shows are what the code draws, from a boot of
the kernel built now.

docs/img/ keeps one `-smp 2` boot's log (boot-smp2.log) and the pictures
drawn from it (`scons bootmap-docs` boots and draws them again). They go
stale two ways, and either fails here, saying to run it:

  - the drawing code changed: the pictures drawn now from the committed
    log must be the committed files, byte for byte;
  - the kernel changed: the log's kernel must be the one build/virt/
    kernel.elf is, segment by segment. KASLR moves every address each
    boot, so the log's `loader: map` ranges are compared less the boot's
    slide (from its `loader: kaslr` line), and by their size and rights.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from configurations import REPO, VIRT, built
from elftools.elf.elffile import ELFFile

from aubade.bootlog import parse_events, select
from aubade.bootmap import draw

IMAGES = REPO / "docs" / "img"
LOG = IMAGES / "boot-smp2.log"
BOOT_DOC = REPO / "docs" / "boot.md"
PAGE = 0x1000
REGENERATE = "regenerate them: .venv/bin/scons -Q bootmap-docs (then commit docs/img/)"
PERMISSIONS = {"r": 4, "w": 2, "x": 1}
"""A `perm=rwx` letter and the ELF flag it stands for (PF_R, PF_W, PF_X)."""


def committed_pictures() -> list[Path]:
    return sorted(IMAGES.glob("*.svg"))


def test_the_pictures_are_what_the_code_draws_from_the_log(tmp_path: Path) -> None:
    drawn = draw(LOG.read_bytes().decode(errors="replace"), tmp_path)
    assert drawn.missing == (), f"the docs' log lacks facts: {drawn.missing}"
    assert [path.name for path in committed_pictures()] == sorted(
        path.name for path in drawn.files
    ), REGENERATE
    for path in drawn.files:
        committed = IMAGES / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale; {REGENERATE}"


def test_the_pictures_are_drawn_the_same_every_time(tmp_path: Path) -> None:
    text = LOG.read_text(errors="replace")
    first = draw(text, tmp_path / "first")
    second = draw(text, tmp_path / "second")
    for one, other in zip(first.files, second.files, strict=True):
        assert one.read_bytes() == other.read_bytes(), one.name


def _loads(elf: Path) -> list[tuple[int, int, int]]:
    """The kernel's PT_LOADs as the loader maps them: page-aligned start
    and size, and flags."""
    with elf.open("rb") as file:
        segments = [s for s in ELFFile(file).iter_segments() if s["p_type"] == "PT_LOAD"]
        loads = []
        for segment in segments:
            start = segment["p_vaddr"] & ~(PAGE - 1)
            end = (segment["p_vaddr"] + segment["p_memsz"] + PAGE - 1) & ~(PAGE - 1)
            loads.append((start, end - start, segment["p_flags"] & 7))
    return loads


def test_the_log_is_a_boot_of_the_kernel_built_now() -> None:
    events = parse_events(LOG.read_text(errors="replace"))
    (kernel,) = select(events, "loader", "kernel")
    (kaslr,) = select(events, "loader", "kaslr")
    slide = kaslr.int_field("slide")
    mapped = []
    for event in select(events, "loader", "map"):
        start, end = event.range_field("virt")
        flags = sum(PERMISSIONS.get(letter, 0) for letter in event.field("perm"))
        mapped.append((start - slide, end - start, flags))
    loads = _loads(built(VIRT, "kernel.elf"))
    assert kernel.int_field("segments") == len(loads), f"another kernel's log; {REGENERATE}"
    assert mapped == loads, f"the log's kernel segments are not kernel.elf's; {REGENERATE}"


@pytest.mark.parametrize("picture", committed_pictures(), ids=lambda path: path.name)
def test_boot_md_shows_every_picture(picture: Path) -> None:
    assert f"](img/{picture.name})" in BOOT_DOC.read_text()


def test_boot_md_names_the_log_the_pictures_are_drawn_from() -> None:
    assert f"img/{LOG.name}" in BOOT_DOC.read_text()
