"""When each hart did what during a boot, read from its console log.

The facts the timeline picture draws, apart from how it draws them: the
harts, the loader's span, the init calls with their start and end, the
barriers, the kernel's phases and the marks that end a boot. Reading never
raises: a line whose fields do not parse is left out, and what the log does
not say is named in `missing`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from aubade.bootlog import BootLogError, Event, parse_line

BARRIER_FN = "smp_barrier"
"""The init call that waits for every hart: its time is waiting, not work."""
TRACE_FN = "init_trace_start"
"""The init call that reports the calls made before the console existed."""
PROMPT = "aubade>"
MAX_LANES = 512
"""QEMU's most harts (and `smp=`'s): a garbled log naming more gets no more lanes."""

_AXIS_EVENTS = frozenset(
    {"loader: handoff", "kernel: early", "kernel: online", "kernel: late", "kernel: sched"}
)
"""Events the time axis reaches to, with the marks and the calls: not the
power-off, which can come long after the boot it ends."""

NO_INITCALLS = "no init: call lines: boot with initcall_debug to see the init calls"


@dataclass(frozen=True)
class Call:
    """One init call on one hart, in seconds since reset."""

    hart: int
    token: str
    fn: str
    start: float
    end: float
    reported_late: bool
    """Made before the console existed and reported by init_trace: its line's
    time is when it was reported, so the call is placed end to end with the
    others reported with it, just before init_trace."""

    @property
    def is_barrier(self) -> bool:
        return self.fn == BARRIER_FN


@dataclass(frozen=True)
class Barrier:
    """A point every hart waits at, `time` when the last one left it."""

    token: str
    time: float
    harts: int


@dataclass(frozen=True)
class Span:
    """A named stretch of time (a phase, the loader)."""

    name: str
    start: float
    end: float


@dataclass(frozen=True)
class Mark:
    """A moment worth a line: the init task, PID 1 entering U-mode, the prompt."""

    name: str
    time: float


@dataclass(frozen=True)
class BootTimes:
    harts: tuple[int, ...]
    boot_hart: int | None
    start: float
    """Where the time axis starts: `loader: start`, else the first event."""
    end: float
    loader: Span | None
    calls: tuple[Call, ...]
    barriers: tuple[Barrier, ...]
    phases: tuple[Span, ...]
    marks: tuple[Mark, ...]
    missing: tuple[str, ...]


def _last_boot(text: str) -> list[tuple[str, Event | None]]:
    """The lines of the log's last boot (from its last `loader: start`), each
    with its event; a log with several boots (a reset) is drawn for the last."""
    lines = [(line, parse_line(line)) for line in text.splitlines()]
    starts = [
        index
        for index, (_, event) in enumerate(lines)
        if event is not None and event.kind == "loader: start"
    ]
    return lines[starts[-1] :] if starts else lines


def _int(event: Event, key: str) -> int | None:
    try:
        return event.int_field(key) if key in event.fields else None
    except BootLogError:
        return None


def _harts(events: list[Event]) -> tuple[list[int], bool]:
    """Every hart a line names, and whether `loader: harts` listed them."""
    found: set[int] = set()
    listed = False
    for event in events:
        if event.kind == "loader: harts":
            try:
                found.update(event.int_list_field("ids"))
                listed = True
            except BootLogError:
                pass
        for key in ("cpu", "hart"):
            if (value := _int(event, key)) is not None:
                found.add(value)
    return sorted(found), listed


def _calls(events: list[Event]) -> list[Call]:
    """The init calls. A line is printed when its call ends; the calls made
    before the console existed are reported together by init_trace, so they
    are laid end to end, each hart's backwards from init_trace's start."""
    parsed: list[tuple[Event, int, int]] = []
    for event in events:
        if event.kind != "init: call":
            continue
        hart = _int(event, "hart")
        if hart is None:
            hart = _int(event, "cpu")
        us = _int(event, "us")
        if hart is None or us is None:
            continue
        parsed.append((event, hart, us))
    trace_index = next(
        (index for index, (event, _, _) in enumerate(parsed) if event.fields.get("fn") == TRACE_FN),
        None,
    )
    calls: list[Call] = []
    late: dict[int, list[tuple[Event, int]]] = defaultdict(list)
    for index, (event, hart, us) in enumerate(parsed):
        if trace_index is not None and index < trace_index:
            late[hart].append((event, us))
            continue
        calls.append(_call(event, hart, event.time - us / 1e6, event.time, False))
    if trace_index is not None:
        trace = parsed[trace_index]
        cursor_start = trace[0].time - trace[2] / 1e6
        for hart, reported in late.items():
            cursor = cursor_start
            placed = []
            for event, us in reversed(reported):
                placed.append(_call(event, hart, cursor - us / 1e6, cursor, True))
                cursor -= us / 1e6
            calls.extend(reversed(placed))
    return sorted(calls, key=lambda call: (call.hart, call.start, call.end))


def _call(event: Event, hart: int, start: float, end: float, late: bool) -> Call:
    token = event.fields.get("token", "?") or "?"
    fn = event.fields.get("fn", token) or token
    return Call(hart, token, fn, start, end, late)


def _barriers(calls: list[Call]) -> list[Barrier]:
    """A barrier per token and pass: the n-th time a hart waits at a token is
    the n-th barrier of that name, left when its last hart left it."""
    passes: dict[tuple[str, int], list[float]] = defaultdict(list)
    seen: dict[tuple[int, str], int] = defaultdict(int)
    for call in sorted(calls, key=lambda call: call.end):
        if not call.is_barrier:
            continue
        count = seen[call.hart, call.token]
        seen[call.hart, call.token] += 1
        passes[call.token, count].append(call.end)
    barriers = [Barrier(token, max(ends), len(ends)) for (token, _), ends in passes.items()]
    return sorted(barriers, key=lambda barrier: (barrier.time, barrier.token))


def _first(events: list[Event], kind: str) -> Event | None:
    return next((event for event in events if event.kind == kind), None)


def _last(events: list[Event], kind: str) -> Event | None:
    found = [event for event in events if event.kind == kind]
    return found[-1] if found else None


def _phases(events: list[Event], end: float, missing: list[str]) -> list[Span]:
    """Early from the first `kernel: early` to `kernel: online`, Main to the
    first `kernel: late`, Late to the last `kernel: sched`, then scheduling."""
    bounds = [
        _first(events, "kernel: early"),
        _first(events, "kernel: online"),
        _first(events, "kernel: late"),
        _last(events, "kernel: sched"),
    ]
    names = ["Early", "Main", "Late", "Scheduling"]
    kinds = ["kernel: early", "kernel: online", "kernel: late", "kernel: sched"]
    for kind, bound in zip(kinds, bounds, strict=True):
        if bound is None:
            missing.append(f"no `{kind}` line: the phases it bounds are not drawn")
    times = [None if bound is None else bound.time for bound in bounds] + [end]
    phases = []
    for index, name in enumerate(names):
        start, stop = times[index], times[index + 1]
        if start is not None and stop is not None and stop > start:
            phases.append(Span(name, start, stop))
    return phases


def _marks(lines: list[tuple[str, Event | None]]) -> list[Mark]:
    marks: list[Mark] = []
    last_time: float | None = None
    for line, event in lines:
        if event is not None:
            last_time = event.time
            if event.kind == "kernel: init":
                marks.append(Mark("kernel: init", event.time))
            elif event.kind == "proc: start" and not any(m.name == "proc: start" for m in marks):
                marks.append(Mark("proc: start", event.time))
        elif PROMPT in line and last_time is not None:
            # The prompt has no time of its own: the last line before it.
            marks.append(Mark(PROMPT, last_time))
            break
    return marks


def boot_times(text: str) -> BootTimes:
    """The facts of the log's last boot; never raises."""
    lines = _last_boot(text)
    events = [event for _, event in lines if event is not None]
    missing: list[str] = []
    if not events:
        missing.append("no boot log events: not a console log of an Aubade boot")
    harts, listed = _harts(events)
    if len(harts) > MAX_LANES:
        missing.append(f"{len(harts)} harts named: lanes for the first {MAX_LANES} only")
        harts = harts[:MAX_LANES]
    if events and not listed:
        missing.append("no `loader: harts` line: lanes only for the harts other lines name")
    start_event = _first(events, "loader: start")
    boot_hart = _int(start_event, "hart") if start_event is not None else None
    if events and start_event is None:
        missing.append("no `loader: start` line: the time axis starts at the first event")
    calls = _calls(events)
    if events and not any(event.kind == "init: call" for event in events):
        missing.append(NO_INITCALLS)
    marks = _marks(lines)
    if events and not any(mark.name == "kernel: init" for mark in marks):
        missing.append(
            "no `kernel: init` line: the boot did not reach the init task (log cut short?)"
        )

    start = (
        start_event.time if start_event is not None else min((e.time for e in events), default=0)
    )
    ends = [
        start,
        *(mark.time for mark in marks),
        *(call.end for call in calls),
        *(event.time for event in events if event.kind in _AXIS_EVENTS),
    ]
    end = max(ends)
    loader = None
    handoff = _first(events, "loader: handoff")
    if start_event is not None and handoff is not None and handoff.time >= start_event.time:
        loader = Span("loader", start_event.time, handoff.time)
    elif events:
        missing.append("no `loader: handoff` line: the loader's span is not drawn")
    phases = _phases(events, end, missing) if events else []
    return BootTimes(
        harts=tuple(harts),
        boot_hart=boot_hart,
        start=start,
        end=end,
        loader=loader,
        calls=tuple(calls),
        barriers=tuple(_barriers(calls)),
        phases=tuple(phases),
        marks=tuple(marks),
        missing=tuple(missing),
    )
