"""What a boot's console and QEMU's end say about it: passed, failed, or not
decided yet. The soak (aubade.soak) asks after every read of the console.

A boot has a goal, from its kernel command line:

- KTEST (the word `ktest`, or `ktest=SUITES`): the report's
  `kernel: ktest passed=P failed=0 ...`, then `kernel: poweroff status=ok`;
- POWEROFF (anything else): `kernel: poweroff status=ok`;
- SHELL (a script typed into the shell, which ends it with `poweroff`):
  `kernel: poweroff status=ok`, as POWEROFF.

It has ended when QEMU has exited, or, on a board whose QEMU does not exit at
power-off, when the power-off line is printed (the soak then ends QEMU). An
ended boot passed if it reached its goal, printed no `kernel: panic`,
`loader: panic` or KTAP `not ok` line, and QEMU exited with status 0 (or had
nothing to exit with). Else it failed, and the reason is the first panic or
`not ok` line, or what else went wrong. Lines are searched for anywhere in
the console, not by the boot-log grammar: a panic line that another hart's
output broke into still fails the boot.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

_FAILURE = re.compile(r"^(?:.*?(?:kernel|loader): panic\b|[ \t]*not ok\b).*$", re.MULTILINE)
# Only whole words: the console is read as it arrives, and a line still
# arriving (`status=o` of `status=ok`) says nothing yet.
_POWEROFF = re.compile(r"kernel: poweroff status=(?P<status>\S+)(?=\s)")
_KTEST = re.compile(r"kernel: ktest passed=\d+ failed=(?P<failed>\d+)(?=\s)")
POWERED_OFF_OK = "kernel: poweroff status=ok"


class Goal(enum.Enum):
    POWEROFF = "poweroff"
    KTEST = "ktest"
    SHELL = "shell"


def goal_of(append: str, scripted: bool) -> Goal:
    """The goal of a boot with this kernel command line, driven by a script or not."""
    if scripted:
        return Goal.SHELL
    words = append.split()
    if any(word == "ktest" or word.startswith("ktest=") for word in words):
        return Goal.KTEST
    return Goal.POWEROFF


class Outcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    HUNG = "hung"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str = ""
    """Why it failed or hung; empty for a boot that passed."""


def _line_of(text: str, position: int) -> str:
    """The whole console line holding `position`, without its line end."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return text[start : len(text) if end < 0 else end].strip("\r")


def first_failure(text: str) -> str | None:
    """The first panic or `not ok` line of the console, None if there is none
    (a KTAP result without its indent)."""
    match = _FAILURE.search(text)
    return None if match is None else match[0].strip()


def last_line(text: str) -> str:
    """The console's last line with something on it (a prompt, QEMU's error)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(the console is empty)"


def judge(
    text: str, goal: Goal, exit_status: int | None, exits_on_poweroff: bool
) -> Verdict | None:
    """The verdict on a boot whose console shows `text` and whose QEMU exited
    with `exit_status` (None: still running); None until it has ended."""
    poweroff = _POWEROFF.search(text)
    if exit_status is None and (poweroff is None or exits_on_poweroff):
        return None
    failure = first_failure(text)
    if failure is not None:
        return Verdict(Outcome.FAILED, failure)
    if poweroff is not None and poweroff["status"] != "ok":
        return Verdict(Outcome.FAILED, _line_of(text, poweroff.start()))
    if goal is Goal.KTEST and poweroff is not None:
        report = _KTEST.search(text)
        if report is None:
            return Verdict(Outcome.FAILED, "powered off without the `kernel: ktest` report")
        if report["failed"] != "0":
            return Verdict(Outcome.FAILED, _line_of(text, report.start()))
    if exit_status not in (None, 0):
        after = "" if poweroff is None else f" after `{POWERED_OFF_OK}`"
        return Verdict(
            Outcome.FAILED,
            f"QEMU exited with status {exit_status}{after}; last line: {last_line(text)}",
        )
    if poweroff is None:
        return Verdict(
            Outcome.FAILED,
            f"QEMU exited with status {exit_status} before `{POWERED_OFF_OK}`; "
            f"last line: {last_line(text)}",
        )
    return Verdict(Outcome.PASSED)
