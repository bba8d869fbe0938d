"""gdb against a real boot: build/virt/gdbinit and tools/gdb/aubade.py's commands.

Each boot is one QEMU started halted (`-S -gdb tcp:...`) and one batch run of
gdb-multiarch that sources the gdbinit, connects, and runs a session driver
(SESSION_DRIVER, gdb Python): breakpoints with actions, in whatever order the
harts reach them. Every action prints a `@@ NAME` line and then what it
checks, so the tests read the sections of one transcript. QEMU is killed
when the boot's fixture ends, whatever happened.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from configurations import REPO, TEST_LOG_DIR, VIRT, built

from aubade.parentdeath import DIE_WITH_PARENT
from aubade.qemu import QemuConfig, format_command
from aubade.qemu_target import QemuTarget
from aubade.target import ConsoleClosed

GDB = "gdb-multiarch"
GDB_TIMEOUT_SECONDS = 180
QEMU_LISTEN_TIMEOUT_SECONDS = 20

pytestmark = [
    pytest.mark.xdist_group("gdb"),
    pytest.mark.skipif(
        shutil.which(GDB) is None,
        reason=f"{GDB} is not installed (tools/setup installs it)",
    ),
]

# Runs inside gdb. `session.on(LOCATION, action)` breaks at LOCATION and runs
# action() (then deletes the breakpoint) when a hart stops there;
# `session.run()` continues until every action ran, or gives up after `limit`
# stops. Actions may add breakpoints of their own.
SESSION_DRIVER = """
import gdb

_stops = []


def _on_stop(event):
    if isinstance(event, gdb.BreakpointEvent):
        _stops.append([breakpoint.number for breakpoint in event.breakpoints])


gdb.events.stop.connect(_on_stop)


def show(name, *commands):
    print(f"@@ {name}", flush=True)
    for command in commands:
        try:
            gdb.execute(command)
        except gdb.error as error:
            print(f"!! {command}: {error}", flush=True)


class Session:
    def __init__(self):
        self.actions = {}

    def on(self, location, action, thread=None):
        breakpoint = gdb.Breakpoint(location)
        if thread is not None:
            breakpoint.thread = thread
        self.actions[breakpoint.number] = action
        return breakpoint

    def on_number(self, number, action):
        self.actions[number] = action

    def run(self, limit=40):
        for _ in range(limit):
            if not self.actions:
                print("@@ done", flush=True)
                return
            _stops.clear()
            gdb.execute("continue")
            for number in _stops[-1] if _stops else []:
                action = self.actions.pop(number, None)
                if action is not None:
                    gdb.execute(f"delete {number}")
                    action()
        print(f"@@ unfinished {sorted(self.actions)}", flush=True)


session = Session()
"""

# The main boot: loader, kernel, a secondary hart, PID 1.
BOOT_SESSION = """
def at_secondary_entry():
    thread = gdb.selected_thread().num
    show("secondary-entry", "frame", "aubade-harts")
    # current_hart holds the hart id once percpu_init() has set it.
    session.on("kernel/boot/percpu.c:{percpu_line}", at_percpu_set, thread=thread)


def at_percpu_set():
    thread = gdb.selected_thread()
    print(f"@@ secondary-percpu cpu={{thread.ptid[1] - 1}}", flush=True)
    gdb.execute("aubade-percpu current_hart")


def at_kernel_main():
    show("kernel-main", "frame", "aubade-symbols")
    gdb.execute("aubade-break-secondary")
    session.on_number(gdb.breakpoints()[-1].number, at_secondary_entry)


# `_start` is in all three programs, on purpose; naming the file picks one.
show("start-locations", "break _start", "delete $bpnum", "break kernel/start.S:_start")
gdb.execute("delete $bpnum")
session.on("loader_main", lambda: show("loader-main", "frame"))
# The first line the kernel's log writes (lib/log.c, in the loader too).
session.on("line_flush", lambda: show("log-line", "aubade-log"))
session.on("kernel_main", at_kernel_main)
session.on("frames_init", lambda: show("frames-init", "bt"))
session.on("user/shell.c:main", lambda: show("user-main", "frame", "aubade-harts", "aubade-tasks"))
session.run()
"""

# A boot with fault=null: the gdbinit's panic breakpoint.
PANIC_SESSION = """
gdb.execute("continue")
show("panic", "frame", "bt", "shell kill -0 {qemu_pid} && echo qemu-still-running", "aubade-harts")
print("@@ done", flush=True)
"""


@dataclass
class GdbRun:
    transcript: str
    console: str

    def section(self, name: str) -> str:
        """The transcript from `@@ NAME` to the next `@@` line."""
        match = re.search(
            rf"^@@ {re.escape(name)}\b.*?$(.*?)(?=^@@ |\Z)", self.transcript, re.S | re.M
        )
        assert match is not None, f"no `@@ {name}` in the gdb transcript:\n{self.transcript}"
        return match[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    """Whether a socket listens on the port, from /proc: connecting to QEMU's
    stub to find out would be its one gdb connection."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                return True
    return False


def _drain(target: QemuTarget, output: bytearray, stop: threading.Event) -> None:
    """Reads the console while gdb runs: a full terminal would stall the UART."""
    while not stop.is_set():
        try:
            output += target.read_console(0.2)
        except ConsoleClosed:
            return


def _run_gdb(name: str, append: str, session: str) -> GdbRun:
    gdbinit = built(VIRT, "gdbinit")
    if not gdbinit.is_file():
        pytest.fail(f"{gdbinit} is missing: the build writes it (`scons`)", pytrace=False)
    port = _free_port()
    config = QemuConfig(
        VIRT,
        built(VIRT, "Image"),
        smp=2,
        memory="256M",
        append=append,
        extra_args=("-S", "-gdb", f"tcp:127.0.0.1:{port}"),
    )
    target = QemuTarget(config)
    console = bytearray()
    stop = threading.Event()
    TEST_LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = TEST_LOG_DIR / f"gdb-{name}.log"
    target.power_on()
    reader = threading.Thread(target=_drain, args=(target, console, stop), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + QEMU_LISTEN_TIMEOUT_SECONDS
        while not _listening(port):
            assert time.monotonic() < deadline, f"QEMU never listened on {port}"
            time.sleep(0.05)
        driver = TEST_LOG_DIR / f"gdb-{name}.py"
        driver.write_text(SESSION_DRIVER + session.format(qemu_pid=target.pid, **_lines()))
        command = [
            GDB,
            "-batch",
            "-nx",
            "-x",
            str(gdbinit),
            "-ex",
            f"target remote 127.0.0.1:{port}",
            "-x",
            str(driver),
        ]
        try:
            result = subprocess.run(
                command,
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=GDB_TIMEOUT_SECONDS,
                preexec_fn=DIE_WITH_PARENT,
            )
            transcript = result.stdout + result.stderr
        except subprocess.TimeoutExpired as error:
            transcript = f"gdb timed out after {GDB_TIMEOUT_SECONDS} s\n{error.stdout or ''}"
    finally:
        stop.set()
        reader.join()
        target.power_off()
    text = console.decode(errors="replace")
    log.write_text(
        f"QEMU: {format_command(config.command())}\ngdb: {format_command(command)}\n\n"
        f"{transcript}\n--- console ---\n{text}"
    )
    return GdbRun(transcript, text)


def _lines() -> dict[str, int]:
    """Source lines the session breaks at, found by their text."""
    source = (REPO / "kernel" / "boot" / "percpu.c").read_text().splitlines()
    (line,) = [
        number
        for number, text in enumerate(source, 1)
        if text.strip().startswith("trap_stack_floor = this_percpu")
    ]
    return {"percpu_line": line}


@pytest.fixture(scope="module")
def boot_run() -> Iterator[GdbRun]:
    yield _run_gdb("boot", "", BOOT_SESSION)


@pytest.fixture(scope="module")
def panic_run() -> Iterator[GdbRun]:
    yield _run_gdb("panic", "fault=null", PANIC_SESSION)


def test_every_planned_stop_is_reached(boot_run: GdbRun) -> None:
    assert "@@ done" in boot_run.transcript, boot_run.transcript


def test_loader_breakpoint_hits_with_source_line(boot_run: GdbRun) -> None:
    section = boot_run.section("loader-main")
    assert re.search(r"loader_main \(.*\) at loader/main\.c:\d+", section), section


def test_kernel_breakpoint_hits_with_source_line(boot_run: GdbRun) -> None:
    section = boot_run.section("kernel-main")
    assert re.search(r"kernel_main \(.*\) at kernel/main\.c:\d+", section), section


def test_start_is_in_each_program_and_a_file_picks_one(boot_run: GdbRun) -> None:
    section = boot_run.section("start-locations")
    assert re.search(r"Breakpoint \d+ at .*: _start\. \(3 locations\)", section), section
    assert re.search(r"Breakpoint \d+ at 0xffffffff80000000: file kernel/start\.S", section), (
        section
    )


def test_symbols_are_where_bootinfo_puts_the_kernel(boot_run: GdbRun) -> None:
    section = boot_run.section("kernel-main")
    assert "kernel at its link address 0xffffffff80000000: symbols are right" in section, section


def test_log_shows_the_line_being_written(boot_run: GdbRun) -> None:
    section = boot_run.section("log-line")
    assert "no log buffer in the kernel" in section, section
    match = re.search(r"^thread \d+ is writing: '(.+)'$", section, re.M)
    assert match, section
    assert match[1].endswith("\\n"), section
    assert match[1].rstrip("\\n") in boot_run.console.replace("\r", ""), section


def test_backtrace_from_frames_init_reaches_kernel_main(boot_run: GdbRun) -> None:
    section = boot_run.section("frames-init")
    frames = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+)", section, re.M)
    assert frames[0] == "frames_init", section
    assert "init_boot_hart" in frames, section
    assert "kernel_main" in frames, section


def test_secondary_hart_stops_at_secondary_entry(boot_run: GdbRun) -> None:
    section = boot_run.section("secondary-entry")
    assert re.search(r"in secondary_entry \(\)", section), section
    # Still at the physical alias: the MMU is off, the hart in S-mode.
    assert re.search(r"^\* thread \d+: cpu \d+ mode=S pc=0x8\w+ secondary_entry", section, re.M), (
        section
    )


def test_percpu_reads_the_secondary_harts_id(boot_run: GdbRun) -> None:
    section = boot_run.section("secondary-percpu")
    cpu = int(re.search(r"cpu=(\d+)", section)[1])
    match = re.search(r"current_hart@hart (\d+) \(at 0x[0-9a-f]+\) = (\d+)", section)
    assert match, section
    assert int(match[1]) == int(match[2]) == cpu, section


def test_user_main_breakpoint_hits_in_u_mode(boot_run: GdbRun) -> None:
    section = boot_run.section("user-main")
    assert re.search(r"main \(.*\) at user/shell\.c:\d+", section), section
    assert re.search(r"^\* thread \d+: hart \d+ mode=U pc=0x[0-9a-f]+ main ", section, re.M), (
        section
    )


def test_harts_lists_each_hart_and_its_task(boot_run: GdbRun) -> None:
    section = boot_run.section("user-main")
    harts = re.findall(
        r"^[* ] thread \d+: hart (\d+) mode=(\w).* task '(\w+)' id=\d+", section, re.M
    )
    assert sorted(int(hart) for hart, _mode, _task in harts) == [0, 1], section
    assert ("U", "init") in [(mode, task) for _hart, mode, task in harts], section


def test_tasks_lists_idle_tasks_and_init(boot_run: GdbRun) -> None:
    section = boot_run.section("user-main")
    tasks = dict(
        re.findall(r"^\s*\d+ (\w+)\s+(running|runnable|sleeping|blocked|dead)", section, re.M)
    )
    assert tasks.get("init") == "running", section
    assert {"idle0", "idle1"} <= tasks.keys(), section


def test_panic_breakpoint_stops_before_power_off(panic_run: GdbRun) -> None:
    section = panic_run.section("panic")
    # The gdbinit's panic breakpoint: panic_breakpoint(), or panic_end() in a
    # kernel without it (tools/gdb/aubade.py, PANIC_BREAKPOINTS).
    stop = r"(panic_breakpoint|panic_end) \(.*\) at kernel/debug/panic\.c:\d+"
    assert re.search(stop, section), section
    assert "qemu-still-running" in section, section
    assert "kernel: poweroff" not in panic_run.console, panic_run.console


def test_panic_backtrace_reaches_the_trap_handler(panic_run: GdbRun) -> None:
    section = panic_run.section("panic")
    frames = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+)", section, re.M)
    assert "trap_handle" in frames, section


@pytest.mark.xfail(reason="needs entry.S CFI: gdb's unwind stops at the trap entry", strict=False)
def test_panic_backtrace_shows_the_faulting_function(panic_run: GdbRun) -> None:
    # needs entry.S CFI: gdb unwinds through kernel/trap/entry.S into the code
    # that faulted (fault=null's load, in kernel/debug/fault.c) only once the
    # entry describes its frame; then drop the xfail (strict: it must pass).
    section = panic_run.section("panic")
    frames = [line for line in section.splitlines() if re.match(r"#\d+ ", line)]
    assert any(re.search(r" at kernel/debug/fault\.c:\d+", frame) for frame in frames), section
