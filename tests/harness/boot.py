"""One boot, awaited phase by phase, kept for the tests that read facts from it.

A boot that stops early (a panic, a timeout, QEMU exiting) is recorded, not
raised: every test still runs, those whose lines were all printed pass or
fail on their facts, and those that need a line the boot never reached fail
with the harness report of why the boot stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from aubade.bootlog import Event, select
from aubade.machine import BootFailure, Machine
from aubade.target import Target


@dataclass(frozen=True)
class BootStep:
    """A required event of the boot-log contract, in boot order."""

    component: str
    name: str
    timeout: float
    """Seconds allowed between the previous step's first line and this step's first line."""
    repeats: bool = False
    """Printed once per bank, range, segment or hart: one line or more, in a row."""

    @property
    def kind(self) -> str:
        return f"{self.component}: {self.name}"


# The boot of `-append poweroff`: the init task powers off before it turns
# into PID 1.
POWEROFF_BOOT: tuple[BootStep, ...] = (
    # QEMU's start-up and OpenSBI come first, slow on a loaded machine.
    BootStep("loader", "start", timeout=30),
    BootStep("loader", "memory", timeout=5, repeats=True),
    BootStep("loader", "reserved", timeout=5, repeats=True),
    # The payload's digest holds (a board's slow hash may take a while).
    BootStep("loader", "payload", timeout=10),
    BootStep("loader", "kernel", timeout=5),
    BootStep("loader", "user", timeout=5),
    BootStep("loader", "kaslr", timeout=5),
    BootStep("loader", "map", timeout=5, repeats=True),
    BootStep("loader", "harts", timeout=5),
    BootStep("loader", "percpu", timeout=5, repeats=True),
    BootStep("loader", "handoff", timeout=5),
    # Every hart that starts prints its own line, the boot hart first; the
    # boot hart waits for the others before it reports who is online.
    BootStep("kernel", "early", timeout=5, repeats=True),
    BootStep("kernel", "online", timeout=10),
    # The user program, copied out of the loader's image before it is reclaimed.
    BootStep("kernel", "program", timeout=10),
    BootStep("kernel", "reclaim", timeout=10),
    # The frame allocator takes in all of DRAM: 2 GiB is half a million frames.
    BootStep("kernel", "frames", timeout=30),
    BootStep("kernel", "region", timeout=5, repeats=True),
    # Every online hart, once its traps, timer and interrupts are set up.
    BootStep("kernel", "late", timeout=10, repeats=True),
    # Each hart's boot context becomes its idle task; the boot hart's runs
    # the init task, which powers off.
    BootStep("kernel", "sched", timeout=10, repeats=True),
    BootStep("kernel", "init", timeout=10),
    BootStep("kernel", "poweroff", timeout=10),
)
# The boot to the shell: the init task becomes PID 1 in U-mode, whose first
# line and prompt follow.
SHELL_BOOT: tuple[BootStep, ...] = (
    *POWEROFF_BOOT[:-1],
    BootStep("proc", "start", timeout=10),
)
_REGION = [step.kind for step in POWEROFF_BOOT].index("kernel: region")
# The boot of `-append ktest`: once every hart is up, the boot hart runs the
# kernel's test cases, prints their KTAP report and powers off.
KTEST_BOOT: tuple[BootStep, ...] = (
    *POWEROFF_BOOT[: _REGION + 1],
    BootStep("kernel", "late", timeout=10, repeats=True),
    BootStep("kernel", "sched", timeout=10, repeats=True),
    BootStep("kernel", "init", timeout=10),
    # Every case of every suite, on QEMU's emulated harts, run by the init task.
    BootStep("kernel", "ktest", timeout=120),
    BootStep("kernel", "poweroff", timeout=10),
)
POWER_OFF_TIMEOUT = 10.0
"""Seconds from the last step to the machine's end (QEMU's exit, or silence
where QEMU does not exit at power-off)."""


@dataclass(frozen=True, repr=False)
class Boot:
    name: str
    steps: tuple[BootStep, ...]
    reached: int
    """How many steps had their first line printed, in order."""
    ended: bool
    """The machine powered off after the last step."""
    status: int | None
    """The target's exit status once ended; None if the target cannot tell
    (QEMU still running after the power-off, on a board whose QEMU does not
    exit at power-off)."""
    events: tuple[Event, ...]
    lines: tuple[str, ...]
    log_path: Path
    failure: str | None
    """The harness report of why the boot stopped early, None if it did not."""

    def __repr__(self) -> str:
        # Short, because pytest prints fixture values in every failure.
        outcome = "ended" if self.ended else f"stopped after {self.reached} steps"
        return f"<Boot {self.name}: {outcome}, console log {self.log_path}>"

    @classmethod
    def of_machine(
        cls,
        machine: Machine,
        steps: tuple[BootStep, ...],
        reached: int,
        ended: bool,
        status: int | None,
        failure: str | None,
    ) -> Boot:
        """What a machine printed, once it is closed, with how far its boot got."""
        return cls(
            name=machine.name,
            steps=steps,
            reached=reached,
            ended=ended,
            status=status,
            events=tuple(machine.events),
            lines=tuple(machine.lines),
            log_path=machine.log_path,
            failure=failure,
        )

    def events_of(self, component: str, name: str) -> list[Event]:
        """Every `component: name` event, failing the test unless the boot went
        far enough for all of them to have been printed."""
        self.require_complete(component, name)
        return select(self.events, component, name)

    def event(self, component: str, name: str) -> Event:
        """The one `component: name` event of the boot."""
        events = self.events_of(component, name)
        if len(events) != 1:
            lines = "\n".join(f"  {event.line}" for event in events)
            pytest.fail(
                f"{self.name}: {len(events)} `{component}: {name}` lines, expected one:\n{lines}",
                pytrace=False,
            )
        return events[0]

    def all_events(self) -> tuple[Event, ...]:
        """Every event, failing the test unless the boot ran to its end."""
        self._require(self.ended, "the end of the boot")
        return self.events

    def all_lines(self) -> tuple[str, ...]:
        """Every console line, failing the test unless the boot ran to its end."""
        self._require(self.ended, "the end of the boot")
        return self.lines

    def exit_status(self) -> int | None:
        self._require(self.ended, "the end of the boot")
        return self.status

    def require_complete(self, component: str, name: str) -> None:
        """Fail the test unless every `component: name` line has been printed.

        A step printed once is complete when it is reached; a repeated step
        when the step after it is reached (or the boot ended, for the last);
        an event that is no step when the boot ended.
        """
        kind = f"{component}: {name}"
        kinds = [step.kind for step in self.steps]
        if kind not in kinds:
            self._require(self.ended, f"the end of the boot (for every `{kind}` line)")
            return
        index = kinds.index(kind)
        if not self.steps[index].repeats:
            complete = self.reached > index
        elif index + 1 == len(kinds):
            complete = self.ended
        else:
            complete = self.reached > index + 1
        self._require(
            complete, f"every `{kind}` line" if self.steps[index].repeats else f"`{kind}`"
        )

    def _require(self, reached: bool, what: str) -> None:
        if not reached:
            headline = f"{self.name}: this test needs {what}, which the boot never reached"
            pytest.fail(f"{headline}:\n{self.failure}", pytrace=False)


def run_boot(
    name: str,
    target: Target,
    log_path: Path,
    steps: tuple[BootStep, ...] = POWEROFF_BOOT,
) -> Boot:
    """Boot the target once, waiting for each step in turn, then for the power-off.

    The target is off when this returns, whatever happened.
    """
    machine = Machine(name, target, log_path)
    reached = 0
    ended = False
    status = None
    failure = None
    try:
        machine.power_on()
        for step in steps:
            machine.wait_for(step.component, step.name, step.timeout)
            reached += 1
        status = machine.wait_exit(POWER_OFF_TIMEOUT)
        ended = True
    except BootFailure as error:
        failure = str(error)
    finally:
        machine.close()
    return Boot.of_machine(machine, steps, reached, ended, status, failure)
