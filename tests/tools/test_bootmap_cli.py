"""tools/bootmap: the files it writes, the facts it says are missing, and
its exit status: 0 whenever it could draw, 2 with one line when it could not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aubade.bootmap.boottimes import NO_INITCALLS

REPO = Path(__file__).resolve().parents[2]
BOOTMAP = REPO / "tools" / "bootmap"
LOG = Path(__file__).parent / "data" / "bootmap" / "smp2-initcall.log"
PICTURES = [
    f"boot-{n}-{step}.svg"
    for n, step in enumerate(("loader", "mapping", "handoff", "reclaim", "running"), start=1)
] + ["timeline.svg"]


def run(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BOOTMAP), *map(str, arguments)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_full_log_draws_every_picture_and_misses_nothing(tmp_path: Path) -> None:
    result = run(LOG, "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"wrote {tmp_path / name}" for name in PICTURES]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(PICTURES)
    assert result.stderr == ""


def test_missing_facts_are_printed_and_still_exit_0(tmp_path: Path) -> None:
    log = tmp_path / "boot.log"
    log.write_text(
        "\n".join(line for line in LOG.read_text().splitlines() if "init: call" not in line)
    )
    result = run(log, "--output", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert f"missing: {NO_INITCALLS}" in result.stdout.splitlines()
    assert (tmp_path / "out" / "timeline.svg").is_file()


def test_a_log_that_is_not_text_still_draws(tmp_path: Path) -> None:
    log = tmp_path / "noise.log"
    log.write_bytes(bytes(range(256)) * 4)
    result = run(log, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("missing: ") for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["no-such.log"], "no-such.log: no such log file"),
        (["."], ".: cannot read the log"),
        ([], "the following arguments are required: log"),
        ([str(LOG), "--colour"], "unrecognized arguments: --colour"),
        ([str(LOG), "-o", "/proc/no/such/folder"], "cannot write the pictures there"),
    ],
)
def test_what_cannot_be_done_is_one_line_and_exit_2(arguments: list[str], says: str) -> None:
    result = run(*arguments)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("bootmap: ") and says in line
