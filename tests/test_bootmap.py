"""`scons bootmap smp=2`: one real boot with initcall_debug, its log kept
and every picture drawn from it, nothing missing; and a board QEMU cannot
boot, or bootmap-docs for another board, refused before anything is built."""

from __future__ import annotations

import subprocess
import sys

import pytest
from configurations import REPO

from aubade.bootlog import parse_events, select
from aubade.bootmap.boottimes import boot_times

BOOTMAP_DIR = REPO / "build" / "virt" / "bootmap"
PICTURES = [
    *(
        f"boot-{n}-{step}.svg"
        for n, step in enumerate(("loader", "mapping", "handoff", "reclaim", "running"), start=1)
    ),
    "timeline.svg",
]

pytestmark = pytest.mark.xdist_group("bootmap")


def scons(*arguments: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "SCons", "-Q", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_scons_bootmap_boots_once_and_draws_every_picture() -> None:
    result = scons("bootmap", "smp=2", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    wrote = [line for line in result.stdout.splitlines() if line.startswith("wrote ")]
    assert wrote == [f"wrote {BOOTMAP_DIR / name}" for name in PICTURES]
    assert "missing: " not in result.stdout
    log = (BOOTMAP_DIR / "boot.log").read_text(errors="replace")
    (harts,) = select(parse_events(log), "loader", "harts")
    assert harts.int_list_field("ids") == [0, 1]
    (cmdline,) = select(parse_events(log), "kernel", "cmdline")
    assert cmdline.list_field("args") == ["initcall_debug", "poweroff"]
    times = boot_times(log)
    assert {call.hart for call in times.calls} == {0, 1}
    assert select(parse_events(log), "kernel", "poweroff")


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["bootmap", "board=unmatched"], "cannot run"),
        (["bootmap-docs", "board=sifive_u"], "bootmap-docs draws a virt boot"),
    ],
)
def test_what_cannot_boot_is_refused_before_building(arguments: list[str], says: str) -> None:
    result = scons(*arguments, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stdout
