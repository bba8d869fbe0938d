"""The firmware floor's payload (floor.S): built for a board into a flat
binary that its firmware enters where it enters the Image, for `tools/bench
floor` to boot in the Image's place.

It is built on every run: one assembler run, well under a second, and a
payload that never goes stale as floor.S or the board's load address change.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from aubade.bench.errors import BenchError
from aubade.boards import Board
from aubade.toolchain import CROSS_PREFIX

SOURCE = Path(__file__).with_name("floor.S")
LINE = "floor: up"
"""The line the payload prints, the end of the floor's boot."""
LINE_PATTERN = re.compile(re.escape(LINE) + r"\r*\n")
"""LINE as the console shows it: QEMU's terminal may add a \\r to the line end."""
_BUILD_TIMEOUT_SECONDS = 60.0


def build_payload(board: Board, output: Path) -> Path:
    """floor.S linked at the board's load address, as a flat binary at
    `output` (its ELF beside it, for a debugger); BenchError if the
    toolchain fails."""
    output.parent.mkdir(parents=True, exist_ok=True)
    elf = output.with_suffix(".elf")
    steps = [
        [
            f"{CROSS_PREFIX}gcc",
            *("-march=rv64imac_zicsr", "-mabi=lp64", "-nostdlib", "-static"),
            f"-Wl,-Ttext={board.load_address:#x}",
            "-Wl,--build-id=none",
            *("-o", str(elf), str(SOURCE)),
        ],
        [f"{CROSS_PREFIX}objcopy", "-O", "binary", str(elf), str(output)],
    ]
    for command in steps:
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=_BUILD_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise BenchError(f"building the floor's payload: {error}") from None
        if result.returncode != 0:
            raise BenchError(
                f"building the floor's payload: {command[0]} exited with status "
                f"{result.returncode}:\n{result.stdout}{result.stderr}"
            )
    return output
