"""Boot configurations many times, several at once, each with a timeout, to
show that the kernel neither hangs nor fails under load.

    tools/soak [-n RUNS] [-j JOBS] [--timeout SECONDS] [--logs DIR] CONFIG [CONFIG ...]

CONFIG is BOARD[:smp=N][:mem=SIZE][:machine=OPTS][:script=FILE][:append=TEXT]:

  smp=N         QEMU -smp (default: the board's, boards/BOARD.toml)
  mem=SIZE      QEMU -m, as 512M or 2G (default: the board's)
  machine=OPTS  options of the board's QEMU machine, comma-separated:
                virt:machine=aia=aplic-imsic is -machine virt,aia=aplic-imsic
  script=FILE   drive the shell: FILE's lines typed one by one (below)
  append=TEXT   the kernel command line; it must come last and takes the rest
                of CONFIG, so TEXT may hold ':', ',' and '='

It boots build/BOARD/Image (build it first) RUNS times per CONFIG, JOBS at once
(the CONFIGs' boots interleaved), and judges each boot from its console:

  append with `ktest`  passed: `kernel: ktest passed=P failed=0 ...`, then
                       `kernel: poweroff status=ok` and QEMU's exit status 0
  script=FILE          at each prompt `aubade> ` the next non-empty line of
                       FILE is typed, then `poweroff` unless FILE ended with
                       it; passed: `kernel: poweroff status=ok`, exit status 0
  anything else        passed: `kernel: poweroff status=ok`, exit status 0
                       (without `poweroff` in append the kernel waits at the
                       shell's prompt, and every boot hangs)

On a board whose QEMU does not exit at power-off (sifive_u) the tool ends it
after the power-off line. A boot that prints a `kernel: panic`, `loader: panic`
or `not ok` line, exits with another status, or exits before it passes
FAILED (the reason: the first panic or `not ok` line, or what went wrong); one
with no end within --timeout seconds of QEMU's start HUNG. For a hung boot
the tool stops the machine and, through QEMU's monitor (a unix socket), reads
every hart's registers and walks its frame pointers, naming addresses with
build/BOARD/kernel.elf. For each boot that did not pass it prints one line
with the reason, then the paths of what it wrote under the logs directory
(default build/soak/YYYYmmdd-HHMMSS/): N.console.log, the whole console, and
for a hang N.hang.txt, the hart dump and the raw `info registers -a`; then the
exact QEMU command (its -monitor socket's directory is removed at exit).

At the end a table: per CONFIG, its boots, how many passed, failed and hung,
and the median and the longest time of the boots that passed, in seconds from
QEMU's start to its end. Exit status 0 if every boot passed, 1 if not, 2 for
a bad command line, 130 after Ctrl-C (which kills every QEMU; none outlives
the tool, however it ends).

  tools/soak -n 500 -j 3 virt:smp=4:mem=512M:append=ktest virt:smp=8:append=poweroff
  tools/soak -n 100 -j 3 sifive_u:smp=5:append=ktest
  tools/soak -n 20 virt:smp=2:script=tools/soak-scripts/shell.txt
  tools/soak -n 50 virt:smp=4:machine=aia=aplic-imsic:append=ktest
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

from aubade.boards import Board, NotEmulatedError, UnknownBoardError, load_board
from aubade.bootlog import boot_slide
from aubade.hartdump import Labeller, dump_harts
from aubade.ksyms import Function, KsymsError, functions
from aubade.machine import BootFailure, Machine
from aubade.monitor import Monitor, MonitorError, monitor_args
from aubade.qemu import QemuConfig, format_command
from aubade.qemu_target import QemuTarget
from aubade.srclines import LinesError, line_table
from aubade.verdict import Goal, Outcome, Verdict, first_failure, goal_of, judge, last_line

REPO = Path(__file__).resolve().parents[2]
PROMPT = "aubade> "
DEFAULT_TIMEOUT = 60.0
FAILURE_GRACE = 2.0
"""Seconds of console silence after a failure line before the boot is judged
without its end: after a panic the kernel prints its report in one go, then
stops, and on sifive_u QEMU does not exit."""
MONITOR_TIMEOUT = 10.0
"""Seconds allowed for each answer of the monitor."""
_KEYS = ("smp", "mem", "machine", "script")
_SIZE = re.compile(r"[1-9][0-9]*[KMGT]?", re.IGNORECASE)
_DOTS_PER_LINE = 50


class SoakUsageError(Exception):
    """The command line asks for something the tool cannot do; the message says what to do."""


@dataclass(frozen=True)
class SoakConfig:
    """One CONFIG of the command line."""

    text: str
    """As typed: the table's row names it so."""
    board: Board
    smp: int | None
    memory: str | None
    machine_options: tuple[str, ...]
    append: str
    script: tuple[str, ...] | None
    """The lines to type at the shell's prompts (with the final `poweroff`), or None."""
    kernel_elf: Path

    @property
    def goal(self) -> Goal:
        return goal_of(self.append, self.script is not None)

    def qemu(self, extra_args: tuple[str, ...]) -> QemuConfig:
        return QemuConfig(
            self.board,
            self.kernel_elf.with_name("Image"),
            smp=self.smp,
            memory=self.memory,
            append=self.append,
            machine_options=self.machine_options,
            extra_args=extra_args,
        )


def _script_lines(path: Path) -> tuple[str, ...]:
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not lines or lines[-1] != "poweroff":
        lines.append("poweroff")
    return tuple(lines)


def parse_config(text: str, build: Path = REPO / "build") -> SoakConfig:
    """A CONFIG (`BOARD[:smp=N][:mem=SIZE][:machine=OPTS][:script=FILE][:append=TEXT]`) read and
    checked: its board exists and is built; SoakUsageError says what is wrong."""

    def fail(problem: str) -> NoReturn:
        raise SoakUsageError(f"{text}: {problem}")

    head, _, append = text.partition(":append=")
    board_name, *items = head.split(":")
    try:
        board = load_board(board_name)
        _ = board.qemu
    except (UnknownBoardError, NotEmulatedError) as error:
        fail(str(error))
    values: dict[str, str] = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals:
            fail(f"{item!r} is not KEY=VALUE (keys: smp, mem, machine, script, and append last)")
        if key not in _KEYS:
            fail(f"unknown key {key!r} (keys: smp, mem, machine, script, and append last)")
        if key in values:
            fail(f"{key}= given twice")
        values[key] = value
    smp = values.get("smp")
    if smp is not None and not (smp.isdecimal() and int(smp) > 0):
        fail(f"smp={smp} is not a number of harts (a whole number from 1)")
    memory = values.get("mem")
    if memory is not None and not _SIZE.fullmatch(memory):
        fail(f"mem={memory} is not a memory size (a number and K, M, G or T: 512M, 2G)")
    script = None
    if "script" in values:
        path = Path(values["script"])
        if not path.is_file():
            fail(f"script={path}: no such file")
        if goal_of(append, scripted=False) is Goal.KTEST or "poweroff" in append.split():
            fail("script= drives the shell, which a command line with `ktest` or `poweroff` ends")
        script = _script_lines(path)
    for output in ("Image", "kernel.elf"):
        if not (build / board.name / output).is_file():
            fail(
                f"no {build / board.name / output}: run `.venv/bin/scons board={board.name}` first"
            )
    return SoakConfig(
        text=text,
        board=board,
        smp=None if smp is None else int(smp),
        memory=memory,
        machine_options=tuple(filter(None, values.get("machine", "").split(","))),
        append=append,
        script=script,
        kernel_elf=build / board.name / "kernel.elf",
    )


@dataclass(frozen=True)
class BootResult:
    number: int
    """Its place among the run's boots, from 1: its log files are named by it."""
    config: SoakConfig
    verdict: Verdict
    seconds: float
    """From QEMU's start to the verdict (the timeout, for a hang)."""
    command: tuple[str, ...]
    console: str
    """The whole console; empty for a boot that passed (not kept)."""
    hart_dump: str | None
    """What the monitor showed of the harts of a boot whose end never came."""


class Interrupted(Exception):
    """The soak is stopping (Ctrl-C): no QEMU may start."""


class Fleet:
    """The running QEMUs, so that Ctrl-C can end every one of them at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._targets: set[QemuTarget] = set()
        self._stopping = False

    @contextmanager
    def started(self, name: str, config: QemuConfig, log: Path) -> Iterator[Machine]:
        """QEMU started on a machine logging to `log`, unless the fleet is
        stopping; `stop` kills it, and leaving the block does."""
        if self._stopping:
            raise Interrupted
        target = QemuTarget(config)
        machine = Machine(name, target, log, quiet=True)
        try:
            machine.power_on()
            with self._lock:
                # Started after `stop` killed the others: kill it too.
                if self._stopping:
                    raise Interrupted
                self._targets.add(target)
            yield machine
        finally:
            with self._lock:
                self._targets.discard(target)
            machine.close()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            for target in self._targets:
                target.kill()


def _watch(
    console: Machine,
    config: SoakConfig,
    deadline: float,
    timeout: float,
    until: Callable[[str], bool] | None = None,
) -> Verdict | None:
    """Read the console until `until(text)` (then None), or until the boot's
    verdict: its end, a failure line followed by silence, or the deadline."""
    exit_status: int | None = None
    heard_at = time.monotonic()
    while True:
        failure = first_failure(console.text)
        if until is not None and exit_status is None and failure is None and until(console.text):
            return None
        verdict = judge(console.text, config.goal, exit_status, config.board.qemu.exits_on_poweroff)
        if verdict is not None:
            return verdict
        now = time.monotonic()
        if failure is not None and now - heard_at >= FAILURE_GRACE:
            return Verdict(Outcome.FAILED, failure)
        if now >= deadline:
            if failure is not None:
                return Verdict(Outcome.FAILED, failure)
            return Verdict(
                Outcome.HUNG,
                f"no end within {timeout:g} s; last line: {last_line(console.text)}",
            )
        wait = deadline - now
        if failure is not None:
            wait = min(wait, heard_at + FAILURE_GRACE - now)
        length = len(console.text)
        if not console.read(wait):
            # QEMU has exited: its console closed, and the target reaped it.
            exit_status = console.exit_status()
        elif len(console.text) > length:
            heard_at = time.monotonic()


def _drive(console: Machine, config: SoakConfig, deadline: float, timeout: float) -> Verdict:
    """Type the script, if any, at the shell's prompts; then the boot's verdict."""
    for typed, line in enumerate(config.script or ()):
        prompts = typed + 1

        def prompted(text: str, prompts: int = prompts) -> bool:
            return text.count(PROMPT) >= prompts

        verdict = _watch(console, config, deadline, timeout, prompted)
        if verdict is not None:
            return verdict
        try:
            console.send(f"{line}\n".encode())
        except BootFailure:
            break  # QEMU has exited: the watch below reads why.
    verdict = _watch(console, config, deadline, timeout)
    assert verdict is not None
    return verdict


def _hart_dump(monitor_path: Path, labeller: Labeller) -> str:
    try:
        with Monitor(monitor_path, MONITOR_TIMEOUT) as monitor:
            return dump_harts(monitor.command, labeller)
    except MonitorError as error:
        return f"no hart dump: {error}"


def run_boot(
    number: int,
    config: SoakConfig,
    timeout: float,
    monitor_dir: Path,
    labeller: Labeller,
    fleet: Fleet,
) -> BootResult:
    """Boot once and judge it; a boot whose end never came has its harts dumped."""
    monitor_path = monitor_dir / f"{number}.monitor"
    qemu = config.qemu(monitor_args(monitor_path))
    command = tuple(qemu.command())
    log = monitor_dir / f"{number}.console.log"
    try:
        with fleet.started(f"soak #{number}", qemu, log) as console:
            deadline = time.monotonic() - console.elapsed() + timeout
            verdict = _drive(console, config, deadline, timeout)
            seconds = console.elapsed()
            dump = None
            # No end by the deadline, and QEMU still runs (a read finds no end
            # of the console): look inside before leaving the block kills it.
            if time.monotonic() >= deadline and console.read(0):
                slid = replace(labeller, slide=boot_slide(console.text))
                dump = _hart_dump(monitor_path, slid)
            text = console.text
    except BootFailure as error:
        # Only power-on raises it here (no wait is made): its report's first
        # line says why QEMU did not start.
        verdict = Verdict(Outcome.FAILED, str(error).splitlines()[0])
        seconds, dump, text = 0.0, None, ""
    if verdict.outcome is Outcome.PASSED:
        text = ""
    return BootResult(number, config, verdict, seconds, command, text, dump)


@dataclass
class Tally:
    """One row of the table."""

    config: str
    boots: int = 0
    passed: int = 0
    failed: int = 0
    hung: int = 0
    seconds: tuple[float, ...] = ()
    """The times of the boots that passed."""

    def add(self, result: BootResult) -> None:
        self.boots += 1
        outcome = result.verdict.outcome
        if outcome is Outcome.PASSED:
            self.passed += 1
            self.seconds += (result.seconds,)
        elif outcome is Outcome.FAILED:
            self.failed += 1
        else:
            self.hung += 1


_COLUMNS = ("boots", "passed", "failed", "hung", "median s", "max s")


def format_table(tallies: Sequence[Tally]) -> str:
    """A row per configuration: its counts, and the median and the longest
    time of the boots that passed (`-` if none did)."""
    width = max(len("configuration"), *(len(tally.config) for tally in tallies))
    lines = ["  ".join([f"{'configuration':<{width}}", *_COLUMNS])]
    for tally in tallies:
        times = (
            (f"{statistics.median(tally.seconds):.2f}", f"{max(tally.seconds):.2f}")
            if tally.seconds
            else ("-", "-")
        )
        cells = [tally.boots, tally.passed, tally.failed, tally.hung, *times]
        lines.append(
            "  ".join(
                [
                    f"{tally.config:<{width}}",
                    *(f"{cell:>{len(name)}}" for cell, name in zip(cells, _COLUMNS, strict=True)),
                ]
            )
        )
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """The path relative to the working directory where it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def write_logs(result: BootResult, logs: Path) -> list[Path]:
    """The console, and the hart dump of a boot whose end never came."""
    logs.mkdir(parents=True, exist_ok=True)
    console = logs / f"{result.number}.console.log"
    console.write_text(result.console)
    written = [console]
    if result.hart_dump is not None:
        dump = logs / f"{result.number}.hang.txt"
        dump.write_text(
            f"boot {result.number} of {result.config.text}: "
            f"{result.verdict.outcome.value}: {result.verdict.reason}\n"
            f"QEMU command: {format_command(result.command)}\n\n{result.hart_dump}\n"
        )
        written.append(dump)
    return written


class _Progress:
    """A dot per boot that passed, a report per boot that did not."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._done = 0
        self._dots = 0

    def passed(self) -> None:
        self._done += 1
        self._dots += 1
        print(".", end="", flush=True)
        if self._dots == _DOTS_PER_LINE:
            self._end_dots()

    def did_not_pass(self, result: BootResult, written: Sequence[Path]) -> None:
        self._done += 1
        if self._dots:
            self._end_dots()
        verdict = result.verdict
        print(f"#{result.number} {result.config.text}: {verdict.outcome.value}: {verdict.reason}")
        for path in written:
            print(f"  {_shown(path)}")
        print(f"  QEMU command: {format_command(result.command)}", flush=True)

    def finish(self) -> None:
        if self._dots:
            self._end_dots()

    def _end_dots(self) -> None:
        print(f" {self._done}/{self._total}", flush=True)
        self._dots = 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, not the usage, and exit status 2."""
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def convert(text: str) -> float:
        value = kind(text)
        if value <= 0:
            raise ValueError(text)
        return value

    convert.__name__ = f"positive {kind.__name__}"
    return convert


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = _Parser(
        prog="soak", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-n", "--runs", type=_positive(int), default=1, help="boots per CONFIG (default: 1)"
    )
    parser.add_argument(
        "-j", "--jobs", type=_positive(int), default=1, help="boots at once (default: 1)"
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_positive(float),
        default=DEFAULT_TIMEOUT,
        help=f"seconds from QEMU's start for one boot to end (default: {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--logs",
        metavar="DIR",
        type=Path,
        help="where to write logs (default: build/soak/YYYYmmdd-HHMMSS)",
    )
    parser.add_argument("configs", nargs="+", metavar="CONFIG", help="what to boot (above)")
    return parser.parse_args(argv)


def _labellers(configs: Sequence[SoakConfig]) -> dict[str, Labeller]:
    """Per board, the names and source lines of its kernel's functions and
    where its firmware runs."""
    labellers = {}
    for config in configs:
        board = config.board
        if board.name not in labellers:
            table: Sequence[Function] = functions(config.kernel_elf)
            firmware = range(board.dram_base, board.load_address)
            labellers[board.name] = Labeller(table, firmware, line_table(config.kernel_elf))
    return labellers


def main(argv: Sequence[str]) -> int:
    arguments = _arguments(argv)
    try:
        configs = [parse_config(text) for text in arguments.configs]
        labellers = _labellers(configs)
    except (SoakUsageError, KsymsError, LinesError) as error:
        print(f"soak: {error}", file=sys.stderr)
        return 2
    logs = arguments.logs or REPO / "build" / "soak" / time.strftime("%Y%m%d-%H%M%S")
    boots = [config for _ in range(arguments.runs) for config in configs]
    tallies = {config.text: Tally(config.text) for config in configs}
    progress = _Progress(len(boots))
    fleet = Fleet()
    # Ctrl-C stops the fleet from its handler and lets the boots end, rather
    # than raise KeyboardInterrupt wherever the main thread is: raised inside
    # concurrent.futures while it holds a future's lock, it would leave that
    # lock held, and every worker finishing a boot would wait on it forever.
    interrupted = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        interrupted.set()
        fleet.stop()

    previous_handler = signal.signal(signal.SIGINT, on_interrupt)
    with (
        tempfile.TemporaryDirectory(prefix="aubade-soak-") as monitor_dir,
        ThreadPoolExecutor(arguments.jobs) as pool,
    ):
        try:
            futures = [
                pool.submit(
                    run_boot,
                    number,
                    config,
                    arguments.timeout,
                    Path(monitor_dir),
                    labellers[config.board.name],
                    fleet,
                )
                for number, config in enumerate(boots, start=1)
            ]
            for future in as_completed(futures):
                if interrupted.is_set():
                    break
                result = future.result()
                tallies[result.config.text].add(result)
                if result.verdict.outcome is Outcome.PASSED:
                    progress.passed()
                else:
                    progress.did_not_pass(result, write_logs(result, logs))
        finally:
            fleet.stop()
            signal.signal(signal.SIGINT, previous_handler)
        if interrupted.is_set():
            pool.shutdown(cancel_futures=True)
            progress.finish()
            print("soak: interrupted; every QEMU killed", file=sys.stderr)
            return 130
    progress.finish()
    print(format_table(list(tallies.values())))
    if any(tally.passed < tally.boots for tally in tallies.values()):
        print(f"logs: {_shown(logs)}")
        return 1
    return 0
