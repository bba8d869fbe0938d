"""The harness itself, on a scripted console and on a QEMU that boots nothing."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from harness.boot import BootStep, run_boot

from aubade.boards import load_board
from aubade.machine import BootFailure, Machine
from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget
from aubade.target import ConsoleClosed, Target

STEPS = (
    BootStep("loader", "start", timeout=5),
    BootStep("loader", "map", timeout=5, repeats=True),
    BootStep("kernel", "poweroff", timeout=5),
)
START = b"[    0.000100] loader: start hart=0 dtb=0x87e00000\r\n"
MAPS = (
    b"[    0.000200] loader: map virt=0x1000-0x2000 phys=0x80085000 perm=r-x\r\n"
    b"[    0.000300] loader: map virt=0x2000-0x3000 phys=0x80086000 perm=rw-\r\n"
)
POWEROFF = b"[    0.000400] kernel: poweroff status=ok\r\n"
PANIC = b"[    0.000250] loader: panic reason=elf\r\nepc: 0x80200042\r\nra: 0x80200010\r\n"


class ScriptedTarget(Target):
    """A console that prints the given pieces, then closes or falls silent,
    like QEMU with and without a device that ends it at power-off."""

    def __init__(self, pieces: list[bytes], closes: bool, status: int = 0) -> None:
        self._pieces = list(pieces)
        self._closes = closes
        self._status = status
        self.powered_off = False
        self.typed = b""

    @property
    def closes_at_power_off(self) -> bool:
        return self._closes

    def describe(self) -> str:
        return "scripted target"

    def power_on(self) -> None:
        pass

    def read_console(self, timeout: float) -> bytes:
        if self._pieces:
            return self._pieces.pop(0)
        if self._closes:
            raise ConsoleClosed
        time.sleep(timeout)
        return b""

    def write_console(self, data: bytes) -> None:
        if self._closes and not self._pieces:
            raise ConsoleClosed
        self.typed += data

    def exit_status(self) -> int | None:
        return self._status if self._closes and not self._pieces else None

    def power_off(self) -> None:
        self.powered_off = True


class SlowTarget(ScriptedTarget):
    """A scripted console whose every piece after the first arrives `delay` seconds late."""

    def __init__(self, pieces: list[bytes], delay: float) -> None:
        super().__init__(pieces, closes=True)
        self._delay = delay
        self._reads = 0

    def read_console(self, timeout: float) -> bytes:
        self._reads += 1
        if self._reads > 1:
            time.sleep(self._delay)
        return super().read_console(timeout)


def started(target: Target, log: Path) -> Machine:
    machine = Machine("fake", target, log)
    machine.power_on()
    return machine


def test_waits_return_successive_events_and_log_every_byte(tmp_path: Path) -> None:
    # A line cut across reads, and a last line without a line end.
    pieces = [START[:20], START[20:] + MAPS, POWEROFF.rstrip()]
    machine = started(ScriptedTarget(pieces, closes=True), tmp_path / "console.log")
    assert machine.wait_for("loader", "start", 1).line == START.decode().rstrip()
    first_map = machine.wait_for("loader", "map", 1)
    second_map = machine.wait_for("loader", "map", 1)
    assert (first_map.field("perm"), second_map.field("perm")) == ("r-x", "rw-")
    assert machine.wait_for("kernel", "poweroff", 1).field("status") == "ok"
    assert machine.wait_exit(1) == 0
    machine.close()
    assert (tmp_path / "console.log").read_bytes() == b"".join(pieces)


def test_panic_fails_the_wait_at_once_with_the_registers(tmp_path: Path) -> None:
    machine = started(ScriptedTarget([START, PANIC], closes=True, status=3), tmp_path / "c.log")
    began = time.monotonic()
    with pytest.raises(BootFailure) as failure:
        machine.wait_for("kernel", "poweroff", timeout=60)
    assert time.monotonic() - began < 5
    report = str(failure.value)
    assert "panicked while awaiting `kernel: poweroff` (exit status 3)" in report
    assert "loader: panic reason=elf" in report and "ra: 0x80200010" in report
    assert str(tmp_path / "c.log") in report and "scripted target" in report


def test_awaited_panic_is_returned_and_fails_no_later_wait(tmp_path: Path) -> None:
    machine = started(ScriptedTarget([START, PANIC], closes=True, status=3), tmp_path / "c.log")
    assert machine.wait_for("loader", "panic", timeout=5).field("reason") == "elf"
    assert machine.wait_exit(timeout=5) == 3


def test_events_printed_before_a_panic_can_still_be_awaited(tmp_path: Path) -> None:
    machine = started(ScriptedTarget([START + PANIC + POWEROFF], closes=True), tmp_path / "c.log")
    assert machine.wait_for("loader", "start", timeout=5).int_field("hart") == 0
    with pytest.raises(BootFailure, match="panicked while awaiting `kernel: poweroff`"):
        machine.wait_for("kernel", "poweroff", timeout=5)


def test_timeout_says_what_was_awaited_and_what_the_console_said(tmp_path: Path) -> None:
    machine = started(
        ScriptedTarget([START, b"loader: half a li"], closes=False), tmp_path / "c.log"
    )
    with pytest.raises(BootFailure) as failure:
        machine.wait_for("kernel", "frames", timeout=0.3)
    report = str(failure.value)
    assert "timed out after 0.3 s awaiting `kernel: frames`" in report
    assert "last 2 console lines:\n  | [    0.000100] loader: start" in report
    assert report.count("  | ") == 2 and "  | loader: half a li\n" in report


def test_text_waits_find_a_prompt_without_line_end_and_return_the_text_between(
    tmp_path: Path,
) -> None:
    # The prompt is cut across reads, and nothing ends its line.
    pieces = [START + b"shell: pid=1\r\nsh> ", b"pid\r\npid 1\r\n", b"s", b"h> "]
    machine = started(ScriptedTarget(pieces, closes=False), tmp_path / "c.log")
    first = machine.wait_for_text("sh> ", timeout=5)
    assert first.lines == [START.decode().rstrip(), "shell: pid=1"]
    # A literal text: `.` and `>` are no regular expression.
    second = machine.wait_for_text("sh> ", timeout=5)
    assert (second.before, second.lines) == ("pid\r\npid 1\r\n", ["pid", "pid 1"])
    # Text and events are awaited apart: the event is still there to wait for.
    assert machine.wait_for("loader", "start", timeout=1).int_field("hart") == 0


def test_text_waits_take_a_regular_expression_and_fail_on_a_timeout(tmp_path: Path) -> None:
    pieces = [b"uptime 1.250000 s\r\n", b"> "]
    machine = started(ScriptedTarget(pieces, closes=False), tmp_path / "c.log")
    assert machine.wait_for_text(re.compile(r"uptime (\d+\.\d+) s\r?\n"), 5).match[1] == "1.250000"
    with pytest.raises(BootFailure) as failure:
        machine.wait_for_text("uptime", timeout=0.3)
    report = str(failure.value)
    assert "timed out after 0.3 s awaiting console text 'uptime'" in report
    assert "  | > " in report and str(tmp_path / "c.log") in report


def test_text_wait_fails_on_a_panic_even_with_the_text_printed(tmp_path: Path) -> None:
    machine = started(
        ScriptedTarget([START + b"sh> \r\n" + PANIC], closes=True, status=3), tmp_path / "c.log"
    )
    with pytest.raises(BootFailure) as failure:
        machine.wait_for_text("sh> ", timeout=5)
    report = str(failure.value)
    assert "panicked while awaiting console text 'sh> ' (exit status 3)" in report
    assert "ra: 0x80200010" in report


def test_sent_bytes_reach_the_console_of_a_running_machine(tmp_path: Path) -> None:
    target = ScriptedTarget([START, POWEROFF], closes=True)
    machine = started(target, tmp_path / "c.log")
    machine.wait_for("loader", "start", timeout=1)
    machine.send(b"hello\r")
    assert target.typed == b"hello\r"


def test_sending_to_a_machine_that_ended_fails_with_a_report(tmp_path: Path) -> None:
    machine = started(ScriptedTarget([START], closes=True), tmp_path / "c.log")
    with pytest.raises(BootFailure):
        machine.wait_for("kernel", "poweroff", timeout=1)
    with pytest.raises(BootFailure, match="closed before b'x' was sent") as failure:
        machine.send(b"x")
    assert "whole console log" in str(failure.value)


def test_console_closing_early_fails_the_wait_with_the_exit_status(tmp_path: Path) -> None:
    machine = started(ScriptedTarget([START], closes=True, status=1), tmp_path / "c.log")
    with pytest.raises(BootFailure, match=r"console closed \(exit status 1\) while awaiting"):
        machine.wait_for("loader", "map", timeout=60)


def test_last_twenty_lines_are_reported(tmp_path: Path) -> None:
    lines = [f"line {number}\n".encode() for number in range(30)]
    machine = started(ScriptedTarget(lines, closes=True), tmp_path / "c.log")
    with pytest.raises(BootFailure) as failure:
        machine.wait_for("loader", "start", timeout=60)
    shown = [line for line in str(failure.value).splitlines() if line.startswith("  | ")]
    assert shown == [f"  | line {number}" for number in range(10, 30)]


def test_waits_tell_when_on_the_host_what_they_awaited_arrived(tmp_path: Path) -> None:
    # The prompt is cut across reads: it has arrived with its last piece.
    pieces = [START, b"sh", b"> \r\n", POWEROFF]
    machine = started(SlowTarget(pieces, delay=0.2), tmp_path / "c.log")
    start = machine.wait_for("loader", "start", timeout=5)
    prompt = machine.wait_for_text("sh> ", timeout=5)
    poweroff = machine.wait_for("kernel", "poweroff", timeout=5)
    assert 0 <= machine.arrival_of(start) < 0.2
    assert 0.4 <= prompt.arrived < 0.6
    assert 0.6 <= machine.arrival_of(poweroff) <= machine.elapsed()
    # An equal event that is not the machine's own has no arrival.
    with pytest.raises(ValueError, match="not an event of fake"):
        machine.arrival_of(dataclasses.replace(start))


def test_a_plain_read_takes_the_text_until_the_console_closes(tmp_path: Path) -> None:
    machine = started(ScriptedTarget([START, PANIC], closes=True, status=3), tmp_path / "c.log")
    assert machine.read(timeout=1) and machine.text == START.decode()
    # A panic fails no plain read: the reader judges the console itself.
    assert machine.read(timeout=1) and machine.text.endswith("ra: 0x80200010\r\n")
    assert not machine.read(timeout=1)
    assert machine.exit_status() == 3
    assert [event.kind for event in machine.events] == ["loader: start", "loader: panic"]


def test_a_quiet_machine_prints_nothing_at_power_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Machine("fake", ScriptedTarget([START], closes=True), tmp_path / "c.log").power_on()
    assert "scripted target" in capsys.readouterr().out
    Machine("fake", ScriptedTarget([START], closes=True), tmp_path / "d.log", quiet=True).power_on()
    assert capsys.readouterr().out == ""


def test_full_boot_ends_with_every_step_complete(tmp_path: Path) -> None:
    target = ScriptedTarget([START, MAPS, POWEROFF], closes=True)
    boot = run_boot("fake", target, tmp_path / "c.log", STEPS)
    assert target.powered_off
    assert (boot.ended, boot.failure, boot.exit_status()) == (True, None, 0)
    assert len(boot.events_of("loader", "map")) == 2


def test_boot_on_a_console_that_stays_open_ends_once_it_falls_silent(tmp_path: Path) -> None:
    target = ScriptedTarget([START, MAPS, POWEROFF], closes=False)
    began = time.monotonic()
    boot = run_boot("fake", target, tmp_path / "c.log", STEPS)
    assert time.monotonic() - began < 3
    assert target.powered_off
    assert (boot.ended, boot.failure, boot.exit_status()) == (True, None, None)


def test_panic_on_a_console_that_stays_open_is_reported_once_silent(tmp_path: Path) -> None:
    machine = started(ScriptedTarget([START, PANIC], closes=False), tmp_path / "c.log")
    began = time.monotonic()
    with pytest.raises(BootFailure) as failure:
        machine.wait_for("kernel", "poweroff", timeout=60)
    # Sooner than a console that closes is given to print its registers.
    assert time.monotonic() - began < 2
    report = str(failure.value)
    assert "panicked while awaiting `kernel: poweroff` (still running)" in report
    assert "ra: 0x80200010" in report


def test_stopped_boot_fails_only_the_tests_of_steps_not_reached(tmp_path: Path) -> None:
    target = ScriptedTarget([START, PANIC], closes=True, status=3)
    boot = run_boot("fake", target, tmp_path / "c.log", STEPS)
    assert target.powered_off and not boot.ended
    assert boot.event("loader", "start").int_field("hart") == 0
    # The map lines are not known to be complete: `kernel: poweroff` never came.
    with pytest.raises(pytest.fail.Exception) as failure:
        boot.events_of("loader", "map")
    message = str(failure.value)
    assert "this test needs every `loader: map` line, which the boot never reached" in message
    assert "panicked while awaiting `loader: map`" in message
    with pytest.raises(pytest.fail.Exception, match="needs the end of the boot"):
        boot.exit_status()


# A real QEMU: OpenSBI runs, then enters an image of zeros that prints nothing.


def is_running(pid: int) -> bool:
    """The process exists and is not a zombie (an orphan may wait long to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    # The state follows the command name, which is in parentheses.
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.fixture
def silent_qemu(tmp_path: Path) -> QemuTarget:
    image = tmp_path / "Image"
    image.write_bytes(bytes(4096))
    return QemuTarget(QemuConfig(load_board("virt"), image, smp=1, memory="128M"))


def test_qemu_timeout_report_shows_opensbi_and_the_command(
    silent_qemu: QemuTarget, tmp_path: Path
) -> None:
    machine = started(silent_qemu, tmp_path / "qemu.log")
    try:
        with pytest.raises(BootFailure) as failure:
            machine.wait_for("loader", "start", timeout=3)
    finally:
        machine.close()
    report = str(failure.value)
    assert "Boot HART" in report
    assert "QEMU command: qemu-system-riscv64 -machine virt -bios default" in report
    assert (tmp_path / "qemu.log").read_bytes().lstrip().startswith(b"OpenSBI")


def test_qemu_is_gone_after_power_off(silent_qemu: QemuTarget) -> None:
    silent_qemu.power_on()
    pid = silent_qemu.pid
    assert pid is not None and is_running(pid)
    silent_qemu.power_off()
    assert not is_running(pid)


def test_qemu_killed_from_another_thread_ends_its_console(
    silent_qemu: QemuTarget, tmp_path: Path
) -> None:
    machine = started(silent_qemu, tmp_path / "qemu.log")
    pid = silent_qemu.pid
    assert pid is not None
    try:
        # As Ctrl-C in tools/soak kills the QEMUs its worker threads read.
        threading.Timer(0.5, silent_qemu.kill).start()
        deadline = time.monotonic() + 10
        while machine.read(timeout=0.5):
            assert time.monotonic() < deadline, "the console stayed open"
        assert machine.exit_status() == -signal.SIGKILL
    finally:
        machine.close()
    assert not is_running(pid)


KILLED_HARNESS = """
import os, signal, sys
from pathlib import Path
from aubade.boards import load_board
from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget
target = QemuTarget(QemuConfig(load_board("virt"), Path(sys.argv[1]), smp=1, memory="128M"))
target.power_on()
print(target.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_qemu_dies_with_a_harness_killed_by_sigkill(silent_qemu: QemuTarget) -> None:
    # No teardown and no atexit hook runs in a process killed by SIGKILL.
    harness = subprocess.run(
        [sys.executable, "-c", KILLED_HARNESS, str(silent_qemu.config.image)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert harness.returncode == -signal.SIGKILL, harness.stderr
    qemu_pid = int(harness.stdout)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and is_running(qemu_pid):
        time.sleep(0.05)
    assert not is_running(qemu_pid)
