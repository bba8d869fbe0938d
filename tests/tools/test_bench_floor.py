"""tools/bench floor: the firmware floor's payload boots on its own, the
table reads right from fixed numbers, and the command runs end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from configurations import REPO

from aubade.bench.floor_payload import LINE, build_payload
from aubade.bench.floor_table import Row, format_floor_table, target_cell
from aubade.boards import load_board
from aubade.qemu import QemuConfig

pytestmark = pytest.mark.xdist_group("bench-floor")


def test_the_payload_prints_its_line_and_powers_off(tmp_path: Path) -> None:
    board = load_board("virt")
    payload = build_payload(board, tmp_path / "floor.bin")
    assert 0 < payload.stat().st_size < 4096
    command = QemuConfig(board, payload, smp=1, memory="128M").command()
    result = subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert LINE.encode() in result.stdout


def test_the_table_from_fixed_numbers() -> None:
    rows = [
        Row("QEMU start → floor: up (floor)", "host", 1, "256M", [100.0, 90.0, 110.0]),
        Row("QEMU start → kernel: init", "host", 1, "256M", [120.0, 130.0], "floor", 100.0, 1.15),
        Row("loader: start → kernel: init", "guest", 1, "8G", [10.0], "128M", 10.0, 1.25),
    ]
    assert format_floor_table(rows).splitlines() == [
        "| measure                        | clock | smp | -m   | median ms |  min ms |  max ms "
        "| ratio | to    | target               |",
        "|--------------------------------|-------|----:|------|----------:|--------:|--------:"
        "|------:|-------|----------------------|",
        "| QEMU start → floor: up (floor) | host  |   1 | 256M |   100.000 |  90.000 | 110.000 "
        "|       |       |                      |",
        "| QEMU start → kernel: init      | host  |   1 | 256M |   125.000 | 120.000 | 130.000 "
        "| 1.25x | floor | target 1.15x not met |",
        "| loader: start → kernel: init   | guest |   1 | 8G   |    10.000 |  10.000 |  10.000 "
        "| 1.00x | 128M  | target 1.25x met     |",
    ]


def test_a_target_is_met_at_the_target_itself() -> None:
    assert target_cell(1.15, 1.15) == "target 1.15x met"
    assert target_cell(1.16, 1.15) == "target 1.15x not met"
    assert target_cell(None, 1.15) == "" and target_cell(1.5, None) == ""


def test_the_command_runs_end_to_end(tmp_path: Path) -> None:
    if not (REPO / "build" / "virt" / "Image").is_file():
        pytest.skip("no build/virt/Image: run scons first")
    result = subprocess.run(
        [
            *(sys.executable, str(REPO / "tools" / "bench"), "floor", "--runs", "1", "--smp", "1"),
            *("--scaling-smp", "1", "2", "--scaling-memory", "128M", "256M"),
            *("--logs", str(tmp_path / "logs")),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("floor: up" in line and "| host" in line for line in lines), result.stdout
    (init,) = [line for line in lines if "QEMU start → kernel: init" in line]
    assert "floor" in init and "x |" in init and "target 1.15x" in init
    assert sum("loader: start → kernel: init" in line for line in lines) == 4
