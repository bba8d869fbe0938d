"""gdb against a real boot: build/virt/gdbinit and tools/gdb/aubade.py's commands.

Each boot is one `scons debugserver` (QEMU held at reset, its gdb stub on a
free port) and one batch run of
gdb-multiarch that sources the gdbinit, connects, and runs a session driver
(SESSION_DRIVER, gdb Python): breakpoints with actions, in whatever order the
harts reach them. Every action prints a `@@ NAME` line and then what it
checks, so the tests read the sections of one transcript. The server is
killed when the boot's fixture ends, whatever happened.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from configurations import REPO, TEST_LOG_DIR, VIRT, built
from harness.gdb import debug_server, run_gdb

from aubade import gdbinit
from aubade.toolchain import CROSS_PREFIX, GDB

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
# The init task's first function: a task's backtrace ends where it began.
session.on("kernel_init", lambda: show("kernel-task", "bt"))
user_main = ("frame", "aubade-harts", "aubade-tasks", "aubade-log")
session.on("user/shell.c:main", lambda: show("user-main", *user_main))
session.run()
"""

# A boot with fault=null: the gdbinit's panic breakpoint.
PANIC_SESSION = """
gdb.execute("continue")
# scons debugserver waits for QEMU: it lives while QEMU runs.
alive = "shell kill -0 {server_pid} && echo qemu-still-running"
show("panic", "frame", "bt", alive, "aubade-harts")
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


def frame_names(section: str) -> list[str]:
    """The function of each frame of the backtraces in a section, innermost first."""
    return re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+)", section, re.M)


def _run_gdb(name: str, append: str, session: str) -> GdbRun:
    """`scons debugserver` for a 2-hart virt, and one gdb session driven by
    `session`; both transcripts are kept in build/test-logs/gdb-NAME.log."""
    options = ["smp=2", "mem=256M", *([f"append={append}"] if append else [])]
    with debug_server(*options) as server:
        driver = TEST_LOG_DIR / f"gdb-{name}.py"
        driver.write_text(SESSION_DRIVER + session.format(server_pid=server.pid, **_lines()))
        transcript = run_gdb(server, f"source {driver}")
        console = server.output()
    (TEST_LOG_DIR / f"gdb-{name}.log").write_text(f"{transcript}\n--- server ---\n{console}")
    return GdbRun(transcript, console)


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


def console_slide(console: str) -> int:
    """The KASLR slide the boot's loader chose, from its `loader: kaslr` line."""
    return int(re.search(r"loader: kaslr slide=0x([0-9a-f]+)", console)[1], 16)


def test_symbols_are_where_bootinfo_puts_the_kernel(boot_run: GdbRun) -> None:
    # The placement breakpoint reloaded them at the slide before kernel_main.
    section = boot_run.section("kernel-main")
    slide = console_slide(boot_run.console)
    assert slide > 0, boot_run.console
    running = 0xFFFFFFFF80000000 + slide
    expected = f"kernel at {slide:+#x} from its link address, {running:#x}: symbols are right"
    assert expected in section, section
    reloaded = f"places the kernel {slide:+#x} from its link address (KASLR)"
    assert reloaded in boot_run.transcript, boot_run.transcript


def test_log_shows_the_line_being_written(boot_run: GdbRun) -> None:
    section = boot_run.section("log-line")
    # The loader's first line: nothing is in the history before it is written.
    assert "nothing logged yet" in section, section
    match = re.search(r"^thread \d+ is writing: '(.+)'$", section, re.M)
    assert match, section
    assert match[1].endswith("\\n"), section
    assert match[1].rstrip("\\n") in boot_run.console.replace("\r", ""), section


def test_log_shows_the_kernels_lines_so_far(boot_run: GdbRun) -> None:
    section = boot_run.section("user-main")
    assert "the kernel's log, its last" in section, section
    history = section.split("the kernel's log, its last", 1)[1]
    # The lines before PID 1's main, as the console shows them.
    for line in ("kernel: sched", "kernel: init pid=1"):
        assert line in history, section
    last = next(line for line in history.splitlines() if "] kernel: init pid=1" in line)
    assert last in boot_run.console.replace("\r", ""), section


def test_backtrace_from_frames_init_reaches_kernel_main(boot_run: GdbRun) -> None:
    section = boot_run.section("frames-init")
    frames = frame_names(section)
    assert frames[0] == "frames_init", section
    assert "init_boot_hart" in frames, section
    assert "kernel_main" in frames, section


def test_a_tasks_backtrace_ends_where_the_task_began(boot_run: GdbRun) -> None:
    section = boot_run.section("kernel-task")
    frames = frame_names(section)
    assert frames[0] == "kernel_init" and frames[-1] == "context_first_entry", section
    assert "Backtrace stopped" not in section, section


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
    # The gdbinit's panic breakpoint (tools/gdb/aubade.py, PANIC_BREAKPOINT).
    stop = r"panic_breakpoint \(.*\) at kernel/debug/panic\.c:\d+"
    assert re.search(stop, section), section
    assert "qemu-still-running" in section, section
    assert "kernel: poweroff" not in panic_run.console, panic_run.console


def test_panic_backtrace_reaches_the_trap_handler(panic_run: GdbRun) -> None:
    section = panic_run.section("panic")
    frames = frame_names(section)
    assert "trap_handle" in frames, section


def test_panic_backtrace_shows_the_faulting_function(panic_run: GdbRun) -> None:
    # gdb unwinds through kernel/trap/entry.S (its CFI) into the code that
    # faulted: fault=null's load, in kernel/debug/fault.c.
    section = panic_run.section("panic")
    frames = [line for line in section.splitlines() if re.match(r"#\d+ ", line)]
    assert any(re.search(r" at kernel/debug/fault\.c:\d+", frame) for frame in frames), section


def test_symbols_follow_a_kernel_placed_away_from_its_link_address(tmp_path: Path) -> None:
    # A kernel.elf whose entry says 0x1000 higher than the loader jumps to:
    # to gdb, the loader places that kernel 0x1000 below its link address.
    kernel = tmp_path / "kernel.elf"
    data = bytearray(built(VIRT, "kernel.elf").read_bytes())
    entry = struct.unpack_from("<Q", data, 0x18)[0]
    struct.pack_into("<Q", data, 0x18, entry + 0x1000)
    kernel.write_bytes(data)
    names = subprocess.run(
        [f"{CROSS_PREFIX}nm", str(kernel)], capture_output=True, text=True, check=True
    ).stdout
    linked = int(re.findall(r"^([0-9a-f]+) T kernel_main$", names, re.M)[0], 16)
    # A boot that powers off: continue returns at its end, the symbols as
    # the placement breakpoint left them.
    with debug_server("smp=1", "append=poweroff") as server:
        moved = tmp_path / "gdbinit"
        moved.write_text(
            gdbinit.gdbinit_text(
                "virt",
                kernel,
                built(VIRT, "loader.elf"),
                built(VIRT, "user/init.elf"),
                gdbinit.GDB_SCRIPT,
                f"{CROSS_PREFIX}objcopy",
            )
        )
        output = run_gdb(replace(server, gdbinit=moved), "continue", "info address kernel_main")
        slide = console_slide(server.output())
    # Where the loader put the kernel (its slide), less the 0x1000 the ELF lies by.
    assert f"places the kernel {slide - 0x1000:+#x} from its link address" in output, output
    assert f"function at address {linked + slide - 0x1000:#x}." in output, output
