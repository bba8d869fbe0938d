"""Run build/host/boardcheck (host/boardcheck.c) and read what it says.

The program runs the loader's and the kernel's own C code on a device tree:
which harts the kernel runs on, its memory, console, interrupt controller
and timers, and whether it boots at all. Python asks it rather than reading
the tree again, so that each of those decisions is made by one piece of code.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROGRAM = REPO / "build" / "host" / "boardcheck"
# Reading a tree takes milliseconds; this only stops one that hangs.
_TIMEOUT_SECONDS = 60
# `board: EVENT key=value key="quoted value" ...`
_LINE = re.compile(r"board: (?P<event>[a-z]+)(?P<fields>(?: [a-z][a-z0-9_-]*=(?:\"[^\"]*\"|\S+))*)")
_FIELD = re.compile(r" (?P<key>[a-z][a-z0-9_-]*)=(?:\"(?P<quoted>[^\"]*)\"|(?P<bare>\S+))")


class BoardCheckError(Exception):
    """The program could not be built or run, or said something unreadable."""


@dataclass(frozen=True)
class Line:
    event: str
    fields: dict[str, str]

    def int_field(self, key: str) -> int:
        value = self.fields[key]
        return int(value, 16) if value.startswith("0x") else int(value)


@dataclass(frozen=True)
class Verdict:
    """What boardcheck said about one device tree."""

    file: str
    lines: tuple[Line, ...]

    def events(self, event: str) -> list[Line]:
        return [line for line in self.lines if line.event == event]

    @property
    def supported(self) -> bool:
        return bool(self.events("supported"))

    @property
    def reasons(self) -> list[str]:
        """The reason word of each `unsupported` line, in order."""
        return [line.fields["reason"] for line in self.events("unsupported")]

    @property
    def hart_ids(self) -> list[int]:
        """The harts the kernel runs on, as the loader lists them."""
        harts = self.events("harts")
        if not harts:
            raise BoardCheckError(f"{self.file}: boardcheck names no harts the kernel runs on")
        return [int(hart) for hart in harts[0].fields["ids"].split(",")]


def build() -> Path:
    """Builds the program with scons (quick when it is up to date)."""
    # The venv's, whichever Python runs us: tools/boardcheck may be started
    # by the system's python3.
    candidates = (REPO / ".venv" / "bin" / "scons", Path(sys.executable).with_name("scons"))
    scons = next((path for path in candidates if path.exists()), None)
    if scons is None:
        raise BoardCheckError("scons not found in .venv; run tools/setup")
    result = subprocess.run(
        [str(scons), "-Q", "boardcheck"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise BoardCheckError(f"building boardcheck failed:\n{result.stdout}{result.stderr}")
    return PROGRAM


def parse(output: str) -> list[Verdict]:
    """The verdicts in the program's output, one per file, in order."""
    verdicts: list[Verdict] = []
    for text in output.splitlines():
        if not text:
            continue
        match = _LINE.fullmatch(text)
        if match is None:
            raise BoardCheckError(f"not a boardcheck line: {text!r}")
        fields = {
            found["key"]: found["bare"] if found["bare"] is not None else found["quoted"]
            for found in _FIELD.finditer(match["fields"])
        }
        line = Line(match["event"], fields)
        if line.event == "check":
            verdicts.append(Verdict(fields["file"], ()))
        elif not verdicts:
            raise BoardCheckError(f"a line before the first file's: {text!r}")
        else:
            last = verdicts[-1]
            verdicts[-1] = Verdict(last.file, (*last.lines, line))
    return verdicts


def run(dtbs: Sequence[Path], program: Path = PROGRAM) -> subprocess.CompletedProcess[str]:
    """Runs the built program on the files."""
    if not program.is_file():
        raise BoardCheckError(f"{program} does not exist: build it with `scons boardcheck`")
    return subprocess.run(
        [str(program), *map(str, dtbs)],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )


def check(dtb: Path) -> Verdict:
    """The verdict on one readable device tree (the program must be built)."""
    result = run([dtb])
    if result.returncode not in (0, 1):
        raise BoardCheckError(
            f"boardcheck {dtb} failed (exit status {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    (verdict,) = parse(result.stdout)
    return verdict


def kernel_harts(dtb: Path) -> list[int]:
    """The harts the kernel runs on, by the loader's own rule."""
    return check(dtb).hart_ids
