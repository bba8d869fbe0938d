"""What the boot report is made of: the boots and the checks made on them.

Every process of a test session (each xdist worker, or the one process
without xdist) appends its records as JSON lines to a file of its own, as
they happen, so that a worker that dies keeps what it recorded so far. The
controller reads every file at the end and writes the page.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

OUTCOMES = ("failed", "skipped", "passed")
"""Worst first: a check's outcome is the worst of its phases (setup, call, teardown)."""


@dataclass(frozen=True)
class BootRecord:
    """One machine of the session, as it was when it was closed."""

    anchor: str
    """Its section's id in the page: its name, made unique within its process."""
    name: str
    process: str
    """The xdist worker (`gw0`) or `main` that booted it."""
    command: str
    """How to get the same machine by hand (the target's `describe()`)."""
    log_path: str
    lines: list[str]
    status: int | None
    failure: str | None
    """The harness's report of why a wait failed, None if none did."""
    failure_line: int
    """How many lines had been printed when the wait failed."""
    booted_by: str | None
    """The test during whose setup or call it ran (a session fixture's first user)."""


@dataclass(frozen=True)
class CheckRecord:
    """One phase of a test that used one boot or more."""

    nodeid: str
    process: str
    when: str
    outcome: str
    message: str | None
    anchors: list[str] = field(default_factory=list)


def append(path: Path, record: BootRecord | CheckRecord) -> None:
    kind = "boot" if isinstance(record, BootRecord) else "check"
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps({"kind": kind, **asdict(record)}) + "\n")


def read_all(directory: Path) -> tuple[list[BootRecord], list[CheckRecord]]:
    """Every record of every process, in each process's order."""
    boots: list[BootRecord] = []
    checks: list[CheckRecord] = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            # A process killed while writing leaves half a line: skip it.
            try:
                fields = json.loads(line)
            except json.JSONDecodeError:
                continue
            kind = fields.pop("kind")
            if kind == "boot":
                boots.append(BootRecord(**fields))
            else:
                checks.append(CheckRecord(**fields))
    return boots, checks
