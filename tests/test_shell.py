"""The shell, PID 1, driven on its console and checked against the boot's own log.

virt boots once without `poweroff`, to the prompt. The fixture types a fixed
script of commands, some of them several in one write, and keeps each answer:
the lines between the echo of its command and the next prompt. It ends the
machine with the shell's own `poweroff`. The tests then read facts from that
one transcript and its boot log; a script that stops early (a timeout, a
panic) is recorded, and the tests of the answers it never got fail with the
harness report of why.

sifive_u boots once too, only to the prompt and `harts`: its boot hart is not
hart 0, the E51 the kernel leaves alone.

virt boots twice more: with the longest command line BootInfo holds, one
word, to read it back from `cmdline` and the kernel's log; and to type a
sleep of 58 years and watch that it does not come back, by the guest's own
clock, after which its shell never answers again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from configurations import CMDLINE_MAX, SIFIVE_U, TEST_LOG_DIR, VIRT, built, init_plan
from harness.boot import POWER_OFF_TIMEOUT, SHELL_BOOT, Boot

from aubade.bootlog import Event, parse_line
from aubade.machine import BootFailure, Machine
from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget

PROMPT = "aubade> "
SMP = 4
MEMORY = "256M"
# Not empty, so that `cmdline` has something to give back; no `poweroff`.
APPEND = "loglevel=info"
NAME = f"virt-smp{SMP}-{MEMORY}-shell"
virt_shell = pytest.mark.xdist_group(NAME)

PROMPT_TIMEOUT = 10.0
"""Seconds from the last boot step to the first prompt."""
ANSWER_TIMEOUT = 10.0
"""Seconds from typing a command to the prompt after its answer."""

SLEEP_MS = 100
# Past 200 characters, short of the shell's LINE_MAX (256), with runs of
# spaces and every kind of printable character.
LONG_TEXT = " ".join(
    f"{number:03d}:{chunk}"
    for number, chunk in enumerate(["abcXYZ", "!\"#$%&'()*+,-./", ":;<=>?@[\\]^_`{|}~", "m  n"] * 6)
)[:240]
assert 200 < len(LONG_TEXT) <= 256 and LONG_TEXT == LONG_TEXT.strip()
LONG_ECHO = f"echo {LONG_TEXT}"
# Typed in one write, longer than the shell's 64-byte reads.
BURST = (
    *("echo burst one", "pid", "echo burst two", "uptime"),
    *("echo burst three", "help", "echo burst four", "cmdline"),
)
assert len("".join(f"{command}\r" for command in BURST)) > 64
FAULTS = ("null", "illegal", "kaddr", "stack")
# Each write of the script: the shell's answer to every command in it is kept.
SCRIPT: tuple[tuple[str, ...], ...] = (
    ("help",),
    ("harts",),
    ("tasks",),
    ("mem",),
    ("initlist",),
    ("cmdline",),
    ("pid",),
    ("uptime",),
    (f"sleep {SLEEP_MS}",),
    ("uptime",),
    (LONG_ECHO,),
    BURST,
    *((f"fault {kind}",) for kind in FAULTS),
    ("pid",),
)
COMMANDS = "help harts tasks mem initlist uptime cmdline echo sleep pid fault poweroff exit".split()
# The longest command line BootInfo holds, in one word, which the kernel once
# logged as an empty `args=`. Numbered in threes: a byte lost or repeated shows.
LONGEST_WORD = "".join(f"{number:03d}" for number in range(CMDLINE_MAX))[:CMDLINE_MAX]
# 58 years: its microseconds times virt's 10 MHz are past 2^64, which the
# kernel once wrapped to 448 ticks, and the prompt came back within a tick.
LONG_SLEEP = "sleep 1844674407371"
LONG_SLEEP_WATCH = 0.5
"""Guest seconds the long sleep is watched for: fifty ticks."""


@dataclass(frozen=True)
class Answer:
    """The shell's answer to one command."""

    command: str
    """As typed."""
    echo: str
    """The line the shell echoed as the command was typed."""
    lines: tuple[str, ...]
    """The console lines after the echo, up to the next prompt."""
    at: float
    """Seconds from power-on to the next prompt."""

    @property
    def output(self) -> list[str]:
        """The shell's own lines: `lines` without the kernel's log lines."""
        return [line for line in self.lines if parse_line(line) is None]


@dataclass
class ShellRun:
    """The boot to the shell, the shell's answers and the power-off."""

    boot: Boot
    """The boot log; it ends with the power-off the shell asked for."""
    script: tuple[tuple[str, ...], ...]
    before_prompt: list[str]
    """Console lines from power-on to the first prompt."""
    answers: list[Answer]

    def answers_to(self, command: str, needed: int | None = None) -> list[Answer]:
        """The answers to `command`, failing the test unless the script got as
        far as the first `needed` of them (by default every one it types)."""
        if needed is None:
            needed = sum(typed.count(command) for typed in self.script)
        answers = [answer for answer in self.answers if answer.command == command]
        if len(answers) < needed:
            pytest.fail(
                f"{self.boot.name}: the shell never answered `{command}` "
                f"({len(answers)} of {needed} answers):\n{self.boot.failure}",
                pytrace=False,
            )
        return answers

    def answer(self, command: str) -> Answer:
        """The first answer to `command`."""
        return self.answers_to(command, needed=1)[0]

    def shown(self, *answers: Answer) -> str:
        """The answers as the console showed them, for a failure message."""
        shown = [
            f"{PROMPT}{answer.echo}\n" + "".join(f"  | {line}\n" for line in answer.lines)
            for answer in answers
        ]
        return "".join(shown) + f"whole console log: {self.boot.log_path}"


def _type(machine: Machine, commands: tuple[str, ...], powered_on_at: float) -> Iterator[Answer]:
    """Type the commands in one write, then wait for the prompt after each."""
    machine.send("".join(f"{command}\r" for command in commands).encode())
    for command in commands:
        text = machine.wait_for_text(PROMPT, ANSWER_TIMEOUT)
        echo, *lines = text.lines or [""]
        yield Answer(command, echo, tuple(lines), time.monotonic() - powered_on_at)


def run_shell(name: str, config: QemuConfig, script: tuple[tuple[str, ...], ...]) -> ShellRun:
    """Boot to the prompt, type the script, then `poweroff` (where QEMU
    exits at power-off: elsewhere the machine is switched off after the
    script). The machine is off when this returns, whatever happened."""
    target = QemuTarget(config)
    machine = Machine(name, target, TEST_LOG_DIR / f"{name}.log")
    reached = 0
    ended = False
    status = None
    failure = None
    before_prompt: list[str] = []
    answers: list[Answer] = []
    powered_on_at = time.monotonic()
    try:
        machine.power_on()
        for step in SHELL_BOOT:
            machine.wait_for(step.component, step.name, step.timeout)
            reached += 1
        before_prompt = machine.wait_for_text(PROMPT, PROMPT_TIMEOUT).lines
        for commands in script:
            for answer in _type(machine, commands, powered_on_at):
                answers.append(answer)
        if target.closes_at_power_off:
            machine.send(b"poweroff\r")
            machine.wait_for("kernel", "poweroff", ANSWER_TIMEOUT)
            status = machine.wait_exit(POWER_OFF_TIMEOUT)
            ended = True
    except BootFailure as error:
        failure = str(error)
    finally:
        machine.close()
    boot = Boot.of_machine(machine, SHELL_BOOT, reached, ended, status, failure)
    return ShellRun(boot, script, before_prompt, answers)


@pytest.fixture(scope="module")
def shell() -> ShellRun:
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=SMP, memory=MEMORY, append=APPEND)
    return run_shell(NAME, config, SCRIPT)


def _match(pattern: str, line: str, shown: str) -> re.Match[str]:
    match = re.fullmatch(pattern, line)
    assert match is not None, f"{line!r} is not /{pattern}/:\n{shown}"
    return match


def _output(answer: Answer, lines: int, shown: str) -> list[str]:
    """The shell's lines of the answer, failing the test unless there are at least `lines`."""
    assert len(answer.output) >= lines, f"expected {lines} lines or more:\n{shown}"
    return answer.output


def _ids(text: str) -> list[int]:
    return [int(hart) for hart in text.split(",")]


@virt_shell
def test_script_ran_to_the_power_off(shell: ShellRun) -> None:
    assert shell.boot.failure is None, shell.boot.failure
    typed = [command for commands in SCRIPT for command in commands]
    assert [answer.command for answer in shell.answers] == typed, shell.boot.log_path


@virt_shell
def test_shell_starts_once_every_online_hart_is_scheduled(shell: ShellRun) -> None:
    boot = shell.boot
    online = boot.event("kernel", "online").int_list_field("ids")
    scheduled = [event.int_field("hart") for event in boot.events_of("kernel", "sched")]
    assert sorted(scheduled) == sorted(online), f"scheduled {scheduled}: {boot.log_path}"
    init = boot.event("kernel", "init")
    assert init.int_field("pid") == 1, init.line
    last_sched = max(boot.events.index(event) for event in boot.events_of("kernel", "sched"))
    assert last_sched < boot.events.index(init), boot.log_path
    # The shell's first line, after the kernel's, then its prompt.
    lines = shell.before_prompt
    shown = "\n".join(f"  | {line}" for line in lines[-5:]) + f"\n{boot.log_path}"
    start = shell.boot.events_of("proc", "start")[0]
    assert (start.int_field("pid"), start.int_field("parent")) == (1, 0), shown
    assert init.line in lines and start.line in lines and "shell: pid=1" in lines, shown
    assert lines.index(init.line) < lines.index(start.line) < lines.index("shell: pid=1"), shown


@virt_shell
def test_help_lists_every_command(shell: ShellRun) -> None:
    answer = shell.answer("help")
    names = [line.split()[0] for line in answer.output]
    assert names == COMMANDS, shell.shown(answer)


@virt_shell
def test_harts_are_the_harts_the_loader_found(shell: ShellRun) -> None:
    answer = shell.answer("harts")
    shown = shell.shown(answer)
    loader = shell.boot.event("loader", "harts")
    summary, *rows = _output(answer, 1, shown)
    match = _match(r"harts count=(\d+) ids=([\d,]+)", summary, shown)
    ids = _ids(match[2])
    assert ids == loader.int_list_field("ids"), f"{loader.line}\n{shown}"
    assert int(match[1]) == len(ids) == loader.int_field("count"), f"{loader.line}\n{shown}"
    assert ids == shell.boot.event("kernel", "online").int_list_field("ids"), shown

    row = r"hart (\d+): ticks=(\d+) switches=(\d+) idle=(\d+)% runnable=(\d+) running=(\S+)( boot)?"
    matches = [_match(row, line, shown) for line in rows]
    assert [int(match[1]) for match in matches] == ids, shown
    boot_hart = shell.boot.event("loader", "start").int_field("hart")
    assert [int(match[1]) for match in matches if match[7]] == [boot_hart], shown
    assert all(0 <= int(match[4]) <= 100 for match in matches), shown
    # The shell asking is the init task, running on one hart; idle on the others.
    running = [(int(match[1]), match[6]) for match in matches]
    assert [name for _, name in running].count("init") == 1, shown
    assert all(name in ("init", f"idle{hart}") for hart, name in running), shown


@virt_shell
def test_mem_is_what_the_frame_allocator_took_in(shell: ShellRun) -> None:
    answer = shell.answer("mem")
    shown = shell.shown(answer)
    match = _match(
        r"mem total=(0x[0-9a-f]+) free=(0x[0-9a-f]+) allocated=(0x[0-9a-f]+) kernel=(0x[0-9a-f]+)",
        _output(answer, 1, shown)[0],
        shown,
    )
    total, free, allocated, kernel = (int(value, 16) for value in match.groups())
    frames = shell.boot.event("kernel", "frames")
    assert total == frames.int_field("total"), f"{frames.line}\n{shown}"
    assert free <= total, shown
    assert allocated > 0, shown
    kib = f"    total {total // 1024} KiB, free {free // 1024} KiB, "
    kib += f"allocated {allocated // 1024} KiB, kernel {kernel // 1024} KiB"
    assert answer.output[1:] == [kib], shown


@virt_shell
def test_mem_frames_are_neither_lost_nor_made_after_boot(shell: ShellRun) -> None:
    answer = shell.answer("mem")
    match = _match(
        r"mem total=\S+ free=(0x[0-9a-f]+) allocated=(0x[0-9a-f]+) kernel=\S+",
        _output(answer, 1, shell.shown(answer))[0],
        shell.shown(answer),
    )
    frames = shell.boot.event("kernel", "frames")
    at_boot = frames.int_field("free") + frames.int_field("allocated")
    assert int(match[1], 16) + int(match[2], 16) == at_boot, f"{frames.line}\n{shell.shown(answer)}"


@virt_shell
def test_mem_kernel_is_the_kernel_image_the_loader_placed(shell: ShellRun) -> None:
    answer = shell.answer("mem")
    shown = shell.shown(answer)
    kernel = int(_match(r"mem .* kernel=(0x[0-9a-f]+)", _output(answer, 1, shown)[0], shown)[1], 16)
    # The loader maps each segment of the kernel where it copied it.
    maps = shell.boot.events_of("loader", "map")
    placed = []
    for event in maps:
        start, end = event.range_field("virt")
        placed.append((event.int_field("phys"), event.int_field("phys") + end - start))
    span = max(end for _, end in placed) - min(start for start, _ in placed)
    map_lines = "\n".join(event.line for event in maps)
    assert kernel == span, f"{map_lines}\n{shown}"
    regions = [e for e in shell.boot.events_of("kernel", "region") if e.field("kind") == "kernel"]
    region_bytes = sum(end - start for start, end in (e.range_field("range") for e in regions))
    region_lines = "\n".join(event.line for event in regions)
    assert kernel == region_bytes, f"{region_lines}\n{shown}"


@virt_shell
def test_tasks_are_an_idle_task_per_hart_and_init(shell: ShellRun) -> None:
    answer = shell.answer("tasks")
    shown = shell.shown(answer)
    header, *rows, count = _output(answer, 2, shown)
    assert header == "  ID  PID HART STATE     SWITCHES NAME", shown
    assert int(_match(r"tasks count=(\d+)", count, shown)[1]) == len(rows), shown
    row = r" *(\d+) +(\d+) +(\d+) (running|runnable|sleeping|blocked|dead) +(\d+) (\S+)"
    tasks = [_match(row, line, shown) for line in rows]
    assert len({task[1] for task in tasks}) == len(tasks), f"task ids repeat:\n{shown}"
    online = shell.boot.event("kernel", "online").int_list_field("ids")
    idle = sorted((task[6], int(task[2]), int(task[3])) for task in tasks if task[6] != "init")
    assert idle == sorted((f"idle{hart}", 0, hart) for hart in online), shown
    init = [(int(task[2]), task[4]) for task in tasks if task[6] == "init"]
    # Init is the task asking.
    assert init == [(1, "running")], shown


@virt_shell
def test_initlist_is_the_boot_harts_init_calls_in_order(shell: ShellRun) -> None:
    answer = shell.answer("initlist")
    shown = shell.shown(answer)
    *rows, count = _output(answer, 1, shown)
    row = r" *(\d+)  (\S+) +(\S+) +(\d+) us"
    calls = [_match(row, line, shown) for line in rows]
    assert [int(call[1]) for call in calls] == list(range(1, len(calls) + 1)), shown
    expected = [(call.token, call.function) for call in init_plan(VIRT).boot_hart]
    assert [(call[2], call[3]) for call in calls] == expected, shown
    assert count == f"initlist count={len(expected)}", shown


@virt_shell
def test_cmdline_is_the_command_line_qemu_passed(shell: ShellRun) -> None:
    answer = shell.answer("cmdline")
    assert answer.output == [APPEND], shell.shown(answer)


@virt_shell
def test_pid_is_1(shell: ShellRun) -> None:
    answer = shell.answer("pid")
    assert answer.output == ["pid 1"], shell.shown(answer)


def _uptime(answer: Answer, shown: str) -> float:
    return float(_match(r"uptime (\d+\.\d{6}) s", _output(answer, 1, shown)[0], shown)[1])


@virt_shell
def test_uptime_grows_by_the_sleep_and_trails_the_wall_clock(shell: ShellRun) -> None:
    # The two typed alone, a sleep apart.
    first, second = shell.answers_to("uptime", needed=2)[:2]
    slept = shell.answer(f"sleep {SLEEP_MS}")
    shown = shell.shown(first, slept, second)
    assert slept.output == [f"slept {SLEEP_MS} ms"], shown
    before, after = _uptime(first, shown), _uptime(second, shown)
    assert after - before >= SLEEP_MS / 1000, shown
    # The guest's clock starts with QEMU, after the harness started it.
    assert 0 < before < first.at, f"{first.at:.3f} s after power-on:\n{shown}"
    assert after < second.at, f"{second.at:.3f} s after power-on:\n{shown}"


@virt_shell
def test_a_long_line_typed_at_once_comes_back_byte_for_byte(shell: ShellRun) -> None:
    answer = shell.answer(LONG_ECHO)
    assert answer.echo == LONG_ECHO, shell.shown(answer)
    assert answer.output == [LONG_TEXT], shell.shown(answer)


@virt_shell
def test_commands_typed_in_one_write_are_answered_in_order(shell: ShellRun) -> None:
    shell.answers_to(BURST[-1])
    start = [answer.command for answer in shell.answers].index(BURST[0])
    answers = shell.answers[start : start + len(BURST)]
    shown = shell.shown(*answers)
    assert [answer.echo for answer in answers] == list(BURST), shown
    outputs = {answer.command: answer.output for answer in answers}
    assert outputs["echo burst one"] == ["burst one"], shown
    assert outputs["pid"] == ["pid 1"], shown
    assert outputs["echo burst two"] == ["burst two"], shown
    assert len(outputs["uptime"]) == 1, shown
    _match(r"uptime \d+\.\d{6} s", outputs["uptime"][0], shown)
    assert outputs["echo burst three"] == ["burst three"], shown
    assert [line.split()[0] for line in outputs["help"]] == COMMANDS, shown
    assert outputs["echo burst four"] == ["burst four"], shown
    assert outputs["cmdline"] == [APPEND], shown


def _child(shell: ShellRun, answer: Answer) -> tuple[int, str, list[str]]:
    """The pid of the command's child, how it ended as the shell says, and
    the child's own lines. The child runs on any hart as soon as it is
    spawned, so its lines may come before the shell's `spawned` line."""
    shown = shell.shown(answer)
    spawned = [line for line in answer.output if line.startswith("spawned ")]
    assert len(spawned) == 1, shown
    pid = int(_match(r"spawned pid=(\d+)", spawned[0], shown)[1])
    # The shell says how it ended once the child has.
    end = _match(rf"pid {pid}: (.*)", answer.output[-1], shown)[1]
    return pid, end, [line for line in answer.output[:-1] if line != spawned[0]]


def _proc_events(shell: ShellRun, name: str, pid: int) -> list[Event]:
    return [
        event
        for event in shell.boot.events
        if event.kind == f"proc: {name}" and event.int_field("pid") == pid
    ]


def _child_events(
    shell: ShellRun, answer: Answer, pid: int
) -> tuple[list[Event], list[Event], list[Event], str]:
    """The child's `proc: start`, `fault` and `exit` lines, and what a failure shows."""
    starts, faults, exits = (_proc_events(shell, name, pid) for name in ("start", "fault", "exit"))
    kernel = "\n".join(event.line for event in starts + faults + exits)
    return starts, faults, exits, kernel + "\n" + shell.shown(answer)


@virt_shell
@pytest.mark.parametrize(
    ("kind", "reason", "cause"),
    [
        ("null", "load-page-fault", 13),
        ("illegal", "illegal-instruction", 2),
        ("stack", "stack-overflow", 15),
    ],
)
def test_faulting_child_is_killed_and_the_kernel_says_why(
    shell: ShellRun, kind: str, reason: str, cause: int
) -> None:
    answer = shell.answer(f"fault {kind}")
    pid, end, child_lines = _child(shell, answer)
    starts, faults, exits, shown = _child_events(shell, answer, pid)
    # A child of the shell's, which entered U-mode once.
    assert [event.int_field("parent") for event in starts] == [1], shown
    assert pid > 1, shown
    assert end == f"killed cause={cause}", shown
    assert child_lines == [], shown
    assert len(faults) == 1, shown
    assert (faults[0].field("reason"), faults[0].int_field("cause")) == (reason, cause), shown
    if kind == "null":
        assert faults[0].int_field("addr") == 0, shown
    assert [event.fields.get("killed") for event in exits] == [str(cause)], shown


@virt_shell
def test_kernel_address_is_refused_and_the_child_exits(shell: ShellRun) -> None:
    answer = shell.answer("fault kaddr")
    pid, end, child_lines = _child(shell, answer)
    starts, faults, exits, shown = _child_events(shell, answer, pid)
    # A child of the shell's, which entered U-mode once.
    assert [event.int_field("parent") for event in starts] == [1], shown
    assert child_lines == ["write(0xffffffc000000000) = -14"], shown
    assert end == "exit 0", shown
    assert faults == [], shown
    assert [event.fields.get("code") for event in exits] == ["0"], shown


@virt_shell
def test_every_child_has_its_own_pid(shell: ShellRun) -> None:
    answers = [shell.answer(f"fault {kind}") for kind in FAULTS]
    pids = [_child(shell, answer)[0] for answer in answers]
    assert len(set(pids)) == len(pids) and 1 not in pids, shell.shown(*answers)


@virt_shell
def test_shell_answers_after_every_fault_and_nothing_panicked(shell: ShellRun) -> None:
    last = shell.answers_to("pid")[-1]
    assert shell.answers[-1] is last, shell.shown(last)
    assert last.output == ["pid 1"], shell.shown(last)
    panics = [event.line for event in shell.boot.events if event.name == "panic"]
    assert panics == [], f"{panics}: {shell.boot.log_path}"


@virt_shell
def test_poweroff_ends_qemu_with_status_0(shell: ShellRun) -> None:
    poweroff = shell.boot.event("kernel", "poweroff")
    assert poweroff.field("status") == "ok", f"{poweroff.line}: {shell.boot.log_path}"
    assert shell.boot.exit_status() == 0, shell.boot.log_path


@pytest.mark.xdist_group("sifive_u-shell")
def test_sifive_u_shell_answers_harts_with_the_u54s() -> None:
    config = QemuConfig(SIFIVE_U, built(SIFIVE_U, "Image"), smp=3, memory=SIFIVE_U.qemu.memory)
    run = run_shell("sifive_u-smp3-shell", config, (("harts",),))
    answer = run.answer("harts")
    shown = run.shown(answer)
    match = _match(r"harts count=(\d+) ids=([\d,]+)", _output(answer, 1, shown)[0], shown)
    online = run.boot.event("kernel", "online").int_list_field("ids")
    assert _ids(match[2]) == online == [1, 2], shown
    assert int(match[1]) == 2, shown
    boot_hart = run.boot.event("loader", "start").int_field("hart")
    assert [line for line in answer.output if line.endswith(" boot")] == [
        line for line in answer.output if line.startswith(f"hart {boot_hart}: ")
    ], shown


@pytest.mark.xdist_group("virt-smp2-longest-cmdline-shell")
def test_the_longest_command_line_reaches_the_kernel_and_the_shell_whole() -> None:
    """Its `kernel: cmdline` line, twice the log's 256-byte line buffer, must
    still be one line on the console: split, it would not parse whole."""
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=2, memory=MEMORY, append=LONGEST_WORD)
    run = run_shell("virt-smp2-longest-cmdline-shell", config, (("cmdline",),))
    answer = run.answer("cmdline")
    assert answer.output == [LONGEST_WORD], run.shown(answer)
    cmdline = run.boot.event("kernel", "cmdline")
    assert cmdline.list_field("args") == [LONGEST_WORD], f"{cmdline.line}\n{run.boot.log_path}"
    assert run.boot.exit_status() == 0, run.boot.log_path


def _received(machine: Machine, count: int) -> Event:
    """The kernel's trace (`console: rx`, at loglevel=debug) of the receive
    interrupt that took the last of `count` more bytes typed: stamped by the
    guest's clock, and only printed by a kernel that still takes interrupts."""
    while True:
        trace = machine.wait_for("console", "rx", ANSWER_TIMEOUT)
        count -= trace.int_field("bytes")
        if count <= 0:
            return trace


def _shell_text(machine: Machine) -> str:
    """What the shell has printed from its first line on, the kernel's lines
    taken out, so that an echo they cut in two is whole again."""
    lines = [line for line in machine.lines if parse_line(line) is None]
    return "".join(lines[lines.index("shell: pid=1") :])


@pytest.mark.xdist_group("virt-smp2-long-sleep")
def test_a_sleep_of_58_years_does_not_come_back() -> None:
    """Watched by the guest's clock, not the host's: bytes typed while the
    shell sleeps are stamped as the kernel receives them, and until those
    stamps span the watch the shell must print nothing after the command's
    echo. A correct kernel passes on any host, however slow; a wrapped sleep
    fails unless the host holds the shell's hart still for fifty ticks."""
    name = "virt-smp2-long-sleep"
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=2, memory=MEMORY, append="loglevel=debug")
    machine = Machine(name, QemuTarget(config), TEST_LOG_DIR / f"{name}.log")
    echo = f"shell: pid=1{PROMPT}{LONG_SLEEP}"
    try:
        machine.power_on()
        machine.wait_for_text(PROMPT, sum(step.timeout for step in SHELL_BOOT) + PROMPT_TIMEOUT)
        typed = f"{LONG_SLEEP}\r"
        machine.send(typed.encode())
        _received(machine, len(typed))
        # The watch starts once the shell has taken the command.
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while not _shell_text(machine).startswith(echo) and time.monotonic() < deadline:
            machine.send(b" ")
            _received(machine, 1)
        machine.send(b" ")
        first = last = _received(machine, 1)
        while last.time - first.time < LONG_SLEEP_WATCH:
            time.sleep(LONG_SLEEP_WATCH / 10)
            machine.send(b" ")
            last = _received(machine, 1)
        report = machine.report(f"`{LONG_SLEEP}` watched from {first.line} to {last.line}")
    except BootFailure as error:
        pytest.fail(str(error), pytrace=False)
    finally:
        machine.close()
    assert _shell_text(machine) == echo, report
