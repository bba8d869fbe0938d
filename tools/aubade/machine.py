"""A machine booting on a target: its console log, its events and the waits for them.

Every byte of the console goes to the log file as it is read, from power-on
to power-off. A wait is for an event of the boot log or for free text (a
prompt, a command's answer). Every wait also watches for `panic` events, and
fails at once with a report that says what was awaited, what the console last
said, where the whole log is and how to start the same machine by hand.

This is the one loop that reads a console: the boot tests (tests/harness)
wait on it for the boot log's events, the benchmarks (aubade.bench) time
what they await by the host's clock at its arrival, and the soak
(aubade.soak) reads through it to judge each boot.
"""

from __future__ import annotations

import bisect
import codecs
import enum
import fcntl
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ClassVar, NoReturn

from aubade.bootlog import Event, parse_line, select
from aubade.target import ConsoleClosed, Target, TargetError

_TAIL_LINES = 20
# After a panic the kernel prints its registers, then powers off; the report
# waits this long for them so that they are part of the last console lines.
_PANIC_REPORT_SECONDS = 3.0
# Closing a machine still running reads what it printed so far, but for no
# longer than this, in case it prints without end.
_DRAIN_SECONDS = 1.0
# A machine whose console does not close at power-off has said its last words
# (the power-off line, or a panic and its registers) once it has printed
# nothing for this long. Its lines come out microseconds apart.
_SILENCE_SECONDS = 0.5


_SHARED_LOG = (
    "another process is booting with this console log right now. Under pytest-xdist "
    "this means two workers boot the same configuration: its xdist_group is not in "
    "effect (pytest 9.2 with pytest-xdist 3.8 ignores the groups, pytest-xdist#1386)"
)


class BootFailure(Exception):
    """The machine did not do what a wait expected; the message is the whole report."""


@dataclass(frozen=True)
class ConsoleText:
    """What a wait for text found on the console."""

    match: re.Match[str]
    """The match, in the whole console text so far."""
    before: str
    """The console text from the end of the previous text wait's match (or
    power-on) to the start of this one, line ends as the console sent them."""
    arrived: float
    """Seconds from power-on to the read that brought the match's last character."""

    @property
    def lines(self) -> list[str]:
        """The complete lines of `before`, without their line ends."""
        return [line.rstrip("\r") for line in self.before.split("\n")[:-1]]


class _Read(enum.Enum):
    DATA = enum.auto()
    NOTHING = enum.auto()
    CLOSED = enum.auto()


class Machine:
    closed_observers: ClassVar[list[Callable[[Machine], None]]] = []
    """Called with every machine once it is closed: the test session's boot
    report (tests/harness/report.py) collects every boot here, whoever ran it."""

    def __init__(self, name: str, target: Target, log_path: Path, quiet: bool = False) -> None:
        """`quiet`: power_on does not print the target and the log path (a
        tool whose standard output is its result prints them its own way)."""
        self.name = name
        self.quiet = quiet
        self.target = target
        self.log_path = log_path
        self.lines: list[str] = []
        """Complete console lines so far, without line ends."""
        self.events: list[Event] = []
        self._event_arrivals: list[float] = []
        """Seconds from power-on to the read that ended each event's line."""
        self._text = ""
        """The whole console text so far, for the waits for text."""
        self._text_arrivals: list[tuple[int, float]] = []
        """Per read: where in `_text` it ended, and when it came."""
        self._text_awaited_to = 0
        """Where in `_text` the next wait for text starts looking."""
        self._unfinished_line = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._log: BinaryIO | None = None
        self._console_closed = False
        self._returned = Counter[str]()
        self._powered_on_at = 0.0
        self._last_output_at = 0.0
        self.failure: str | None = None
        """The report of the first BootFailure this machine raised, None if none."""
        self.failure_line = 0
        """How many of `lines` had been printed when it was raised."""

    def power_on(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if not self.quiet:
            print(
                f"{self.name}: {self.target.describe()}\n{self.name}: console log {self.log_path}"
            )
        self._powered_on_at = self._last_output_at = time.monotonic()
        # The log is open before the machine starts, so it has the first byte.
        # It is truncated only once this machine holds its lock: two machines
        # writing one log would interleave their lines into a log of neither.
        self._log = self.log_path.open("ab")
        try:
            fcntl.flock(self._log, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._console_closed = True
            raise self._failed(_SHARED_LOG) from None
        self._log.truncate(0)
        try:
            self.target.power_on()
        except TargetError as error:
            self._console_closed = True
            raise self._failed(str(error)) from error

    def wait_for(self, component: str, name: str, timeout: float) -> Event:
        """The next `component: name` event not returned by an earlier wait.

        Waits up to `timeout` seconds for it; raises BootFailure on a timeout,
        a console that closes first, or a panic printed before it, other than
        the one awaited (a panic a wait returned was expected: it fails no
        later wait).
        """
        kind = f"{component}: {name}"

        def arrived() -> bool:
            return len(self._printed_before_panic(component, name)) > self._returned[kind]

        self._wait_until(arrived, kind, timeout)
        event = self._printed_before_panic(component, name)[self._returned[kind]]
        self._returned[kind] += 1
        return event

    def wait_for_text(self, pattern: str | re.Pattern[str], timeout: float) -> ConsoleText:
        """The next text on the console that matches `pattern` (a str matches
        itself, a re.Pattern as a regular expression), after the previous
        text wait's match: a prompt, or a command's answer.

        The text is matched as it arrives, even a line not finished yet: a
        pattern that could match a prefix of what it is meant to find should
        end with what ends that (a line end, a prompt). Fails like wait_for,
        on a timeout, a console that closes first or any panic no wait_for
        has returned.
        """
        if isinstance(pattern, re.Pattern):
            regex, awaited = pattern, f"console text matching {pattern.pattern!r}"
        else:
            regex, awaited = re.compile(re.escape(pattern)), f"console text {pattern!r}"
        found: list[re.Match[str]] = []

        def arrived() -> bool:
            # Not even text printed before a panic in the same read: the
            # panic is what the wait reports.
            if self._unawaited_panic(None) is not None:
                return False
            match = regex.search(self._text, self._text_awaited_to)
            if match is not None:
                found.append(match)
            return match is not None

        self._wait_until(arrived, None, timeout, awaited)
        match = found[-1]
        before = self._text[self._text_awaited_to : match.start()]
        self._text_awaited_to = match.end()
        return ConsoleText(match, before, self._arrival_of_text(match.end()))

    def send(self, data: bytes) -> None:
        """Type `data` on the console; BootFailure if the machine has ended."""
        try:
            self.target.write_console(data)
        except ConsoleClosed:
            self._console_closed = True
            raise self._failed(f"the console closed before {data!r} was sent") from None

    def wait_exit(self, timeout: float) -> int | None:
        """Wait for the machine to finish, then return the target's exit status
        (None if the target cannot tell)."""
        self._wait_until(
            lambda: self._finished() and self._unawaited_panic(None) is None, None, timeout
        )
        return self.target.exit_status()

    @property
    def text(self) -> str:
        """The whole console text so far."""
        return self._text

    def elapsed(self) -> float:
        """Seconds on the host's clock since power-on (taken just before the
        target was switched on: for QEMU its own start-up counts)."""
        return time.monotonic() - self._powered_on_at

    def arrival_of(self, event: Event) -> float:
        """Seconds from power-on to the read that ended `event`'s line (one of `events`)."""
        for index, known in enumerate(self.events):
            if known is event:
                return self._event_arrivals[index]
        raise ValueError(f"not an event of {self.name}: {event.line}")

    def exit_status(self) -> int | None:
        """The target's exit status once its console has closed (see Target.exit_status)."""
        return self.target.exit_status()

    def read(self, timeout: float) -> bool:
        """Take what the console prints within `timeout` seconds, perhaps
        nothing, into `text`, `lines` and `events`; False once the console
        has closed. For a caller that judges the console itself (the soak):
        it neither waits for anything nor watches for panics."""
        return self._read(timeout) is not _Read.CLOSED

    def close(self) -> None:
        """Switch the machine off, keeping in the log what it printed until then."""
        if not self._console_closed and self._log is not None:
            deadline = time.monotonic() + _DRAIN_SECONDS
            while time.monotonic() < deadline and self._read(timeout=0) is _Read.DATA:
                pass
        self.target.power_off()
        if self._log is not None:
            self._log.close()
        for observer in Machine.closed_observers:
            observer(self)

    def report(self, headline: str) -> str:
        """A failure message a person can act on without rerunning anything."""
        # A line the machine has not finished may be the most telling one.
        tail = [*self.lines, self._unfinished_line] if self._unfinished_line else self.lines
        tail = tail[-_TAIL_LINES:]
        elapsed = time.monotonic() - self._powered_on_at
        return "\n".join(
            [
                f"{self.name}: {headline} ({elapsed:.1f} s after power-on)",
                f"last {len(tail)} console lines:",
                *(f"  | {line}" for line in tail),
                f"whole console log: {self.log_path}",
                self.target.describe(),
            ]
        )

    def _failed(self, headline: str) -> BootFailure:
        """The BootFailure to raise, remembered with where in the log it came."""
        report = self.report(headline)
        if self.failure is None:
            self.failure, self.failure_line = report, len(self.lines)
        return BootFailure(report)

    def _wait_until(
        self,
        condition: Callable[[], bool],
        awaited_kind: str | None,
        timeout: float,
        awaited: str | None = None,
    ) -> None:
        """Read the console until `condition` holds; `awaited_kind` is the
        event awaited (a panic of that kind fails no wait), None for the
        power-off; `awaited` names what is awaited in a failure instead of
        that event or the power-off."""
        if awaited is None and awaited_kind is not None:
            awaited = f"`{awaited_kind}`"
        elif awaited is None and self.target.closes_at_power_off:
            awaited = "the machine to power off"
        elif awaited is None:
            awaited = "the console to fall silent"
        deadline = time.monotonic() + timeout
        while True:
            if condition():
                return
            panic = self._unawaited_panic(awaited_kind)
            if panic is not None:
                self._fail_with_panic(self.events[panic], awaited)
            if self._console_closed:
                headline = f"the console closed ({self._exit_text()}) while awaiting {awaited}"
                raise self._failed(headline)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._failed(f"timed out after {timeout:g} s awaiting {awaited}")
            # Never longer than the silence that finishes a machine, so that
            # a condition waiting for it sees it in time.
            self._read(min(remaining, _SILENCE_SECONDS))

    def _unawaited_panic(self, awaited_kind: str | None) -> int | None:
        """Index in `events` of the first panic that no wait has returned,
        unless it is of the kind awaited."""
        seen = Counter[str]()
        for index, event in enumerate(self.events):
            if event.name != "panic":
                continue
            seen[event.kind] += 1
            if event.kind != awaited_kind and seen[event.kind] > self._returned[event.kind]:
                return index
        return None

    def _finished(self) -> bool:
        """The machine will print nothing more: its console closed or, on a
        target whose console stays open at power-off, it has fallen silent."""
        if self._console_closed:
            return True
        silent_for = time.monotonic() - self._last_output_at
        return not self.target.closes_at_power_off and silent_for >= _SILENCE_SECONDS

    def _printed_before_panic(self, component: str, name: str) -> list[Event]:
        """The `component: name` events printed before any panic that fails a wait for them."""
        panic = self._unawaited_panic(f"{component}: {name}")
        return select(self.events[:panic], component, name)

    def _fail_with_panic(self, panic: Event, awaited: str) -> NoReturn:
        deadline = time.monotonic() + _PANIC_REPORT_SECONDS
        while not self._finished() and (remaining := deadline - time.monotonic()) > 0:
            self._read(min(remaining, _SILENCE_SECONDS))
        headline = f"panicked while awaiting {awaited} ({self._exit_text()}): {panic.line}"
        raise self._failed(headline)

    def _read(self, timeout: float) -> _Read:
        """Take the console output that arrives within `timeout` seconds."""
        if self._console_closed:
            return _Read.CLOSED
        try:
            data = self.target.read_console(timeout)
        except ConsoleClosed:
            self._console_closed = True
            rest = self._decoder.decode(b"", final=True)
            if rest or self._unfinished_line:
                self._take_text(rest + "\n")
            return _Read.CLOSED
        if not data:
            return _Read.NOTHING
        self._last_output_at = time.monotonic()
        assert self._log is not None
        self._log.write(data)
        self._log.flush()
        self._take_text(self._decoder.decode(data))
        return _Read.DATA

    def _take_text(self, text: str) -> None:
        self._text += text
        arrived = self._last_output_at - self._powered_on_at
        self._text_arrivals.append((len(self._text), arrived))
        *complete, self._unfinished_line = (self._unfinished_line + text).split("\n")
        for line in complete:
            line = line.rstrip("\r")
            self.lines.append(line)
            event = parse_line(line)
            if event is not None:
                self.events.append(event)
                self._event_arrivals.append(arrived)

    def _arrival_of_text(self, end: int) -> float:
        """When the text up to `end` in `_text` had all arrived."""
        if end == 0:
            return 0.0  # an empty match at power-on waited for nothing
        index = bisect.bisect_left(self._text_arrivals, end, key=lambda read: read[0])
        return self._text_arrivals[index][1]

    def _exit_text(self) -> str:
        if not self._console_closed:
            return "still running"
        status = self.target.exit_status()
        return "exit status unknown" if status is None else f"exit status {status}"
