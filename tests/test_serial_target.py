"""The serial target, run for real against a pretend board (tools/qemu_board.py):
a pseudo-terminal for the serial adapter, QEMU started by the power hook.

The phase tests run in a pytest of their own with `--target serial:...`,
exactly as a person runs them against a board, so the serial code path is
the one CI checks: opening and setting up the terminal, the hook, reading
the console, switching off.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from configurations import REPO, TEST_LOG_DIR, VIRT, built
from harness.phase_run import assert_phase_tests_pass
from harness.serial_target import SerialPort, SerialSpecError, SerialTarget

from aubade import sdimage
from aubade.machine import BootFailure, Machine
from aubade.qemu import QemuConfig, dump_device_tree
from aubade.target import ConsoleClosed, TargetError

pytestmark = pytest.mark.xdist_group("serial-board")

QEMU_BOARD = [sys.executable, str(REPO / "tools" / "qemu_board.py")]
# The pretend board: virt with four harts, booting through U-Boot from an SD
# image with `poweroff`, as a dev board set up for the phase tests would.
SMP, MEMORY = 4, "256M"
_SERVE_READY_SECONDS = 10


@pytest.fixture(scope="module")
def board_dir() -> Iterator[Path]:
    """A directory for the adapter's terminal link and socket; a short path,
    because a unix socket's path must fit in 108 bytes."""
    with tempfile.TemporaryDirectory(prefix="aubade-board-") as path:
        yield Path(path)


@pytest.fixture(scope="module")
def adapter(board_dir: Path) -> Iterator[Path]:
    """The pretend board's serial adapter (`qemu_board.py serve`); yields its terminal."""
    serve = subprocess.Popen(
        [*QEMU_BOARD, "serve", str(board_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert serve.stdout is not None
        # Its first line says the terminal is linked and the socket listens.
        ready = serve.stdout.readline()
        assert ready.startswith("serial port"), f"qemu_board.py serve said {ready!r}"
        yield board_dir / "tty"
    finally:
        subprocess.run([*QEMU_BOARD, "power", str(board_dir), "off"], check=False)
        serve.terminate()
        serve.wait(_SERVE_READY_SECONDS)


@pytest.fixture(scope="module")
def card(board_dir: Path) -> Path:
    return sdimage.write_sd_image(
        built(VIRT, "Image"), board_dir / "sdcard.img", VIRT.name, "poweroff"
    ).path


def power_hook(board_dir: Path, card: Path) -> str:
    return shlex.join(
        [
            *QEMU_BOARD,
            *("power", str(board_dir), "--smp", str(SMP), "--memory", MEMORY),
            *("--sd-image", str(card)),
        ]
    )


def test_phase_tests_pass_on_a_board_at_the_end_of_a_serial_port(
    adapter: Path, board_dir: Path, card: Path
) -> None:
    dtb = dump_device_tree(
        QemuConfig(VIRT, built(VIRT, "Image"), smp=SMP, memory=MEMORY, sd_image=card),
        board_dir / "board.dtb",
    )
    assert_phase_tests_pass(
        "virt-serial",
        board_dir / "report.xml",
        *("--target", f"serial:{adapter},115200", "--power-hook", power_hook(board_dir, card)),
        *(f"--dtb={dtb}", f"--sd-image={card}"),
    )


def test_console_is_read_while_the_power_hook_runs(adapter: Path, board_dir: Path) -> None:
    """A hook that waits (for a person, say) while the board prints more than
    a terminal's buffer holds loses none of it."""
    lines = [f"line {n:05} of the boot" for n in range(1000)]
    # Switched on, it prints 35 KB at once through the adapter, then keeps
    # the harness waiting for a second.
    board = (
        "import socket, sys, time\n"
        "if sys.argv[-1] == 'on':\n"
        "    board = socket.socket(socket.AF_UNIX)\n"
        f"    board.connect({str(board_dir / 'console.sock')!r})\n"
        "    board.sendall(b''.join(b'line %05d of the boot\\r\\n' % n for n in range(1000)))\n"
        "    time.sleep(1)\n"
    )
    hook = shlex.join([sys.executable, "-c", board])
    machine = Machine(
        "serial-hook",
        SerialTarget(SerialPort(str(adapter), 115200, hook)),
        TEST_LOG_DIR / "serial-hook.log",
    )
    try:
        machine.power_on()
        machine.wait_for_text("line 00999 of the boot", 10)
    finally:
        machine.close()
    assert machine.lines == lines


def test_a_failing_power_hook_fails_the_boot_with_its_output(adapter: Path) -> None:
    hook = "sh -c 'echo the relay is not plugged in >&2; exit 3' hook"
    machine = Machine(
        "serial-bad-hook",
        SerialTarget(SerialPort(str(adapter), 115200, hook)),
        TEST_LOG_DIR / "serial-bad-hook.log",
    )
    with pytest.raises(
        BootFailure, match=r"(?s)exited with status 3:\nthe relay is not plugged in"
    ):
        machine.power_on()
    machine.close()


def test_a_missing_serial_port_is_named(tmp_path: Path) -> None:
    machine = Machine(
        "serial-no-port",
        SerialTarget(SerialPort(str(tmp_path / "ttyUSB9"), 115200, "true")),
        TEST_LOG_DIR / "serial-no-port.log",
    )
    with pytest.raises(BootFailure, match=r"cannot open the serial port .*ttyUSB9"):
        machine.power_on()
    machine.close()


@pytest.mark.parametrize(
    ("spec", "hook", "message"),
    [
        ("serial:/dev/ttyUSB0", "true", "expected qemu .* or serial:DEVICE,BAUD"),
        ("usb:/dev/ttyUSB0,115200", "true", "expected qemu .* or serial:DEVICE,BAUD"),
        ("serial:/dev/ttyUSB0,fast", "true", "expected qemu .* or serial:DEVICE,BAUD"),
        ("serial:/dev/ttyUSB0,115201", "true", "115201 is not a speed .* 115200, 230400"),
        ("serial:/dev/ttyUSB0,0", "true", "0 is not a speed"),
        ("serial:/dev/ttyUSB0,115200", None, "needs --power-hook CMD"),
    ],
)
def test_a_bad_serial_target_says_what_is_expected(
    spec: str, hook: str | None, message: str
) -> None:
    with pytest.raises(SerialSpecError, match=message):
        SerialPort.parse(spec, hook)


def test_a_serial_target_spec_gives_its_port() -> None:
    port = SerialPort.parse("serial:/dev/serial/by-id/usb-FTDI,x,115200", "hook --x")
    assert port == SerialPort("/dev/serial/by-id/usb-FTDI,x", 115200, "hook --x")
    port = SerialPort.parse("serial:socket://lab-host:7000,1500000", "hook")
    assert port == SerialPort("socket://lab-host:7000", 1500000, "hook")


# The tests below open the port through pyserial directly, with no pretend
# board: a pseudo-terminal pair (the test holds the adapter's end) or
# pyserial's loop:// URL, which reads back what is written.


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    """The adapter's end of a pseudo-terminal, and the path of the port's end."""
    adapter_end, port_end = os.openpty()
    path = os.ttyname(port_end)
    os.close(port_end)
    try:
        yield adapter_end, path
    finally:
        with contextlib.suppress(OSError):
            os.close(adapter_end)


def read_until(target: SerialTarget, size: int, timeout: float = 5) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < size and time.monotonic() < deadline:
        data += target.read_console(0.1)
    return data


def test_the_console_is_raw_both_ways(pty_pair: tuple[int, str]) -> None:
    """No byte is translated or eaten: CR, ^C, XON/XOFF, 8-bit bytes."""
    adapter_end, path = pty_pair
    target = SerialTarget(SerialPort(path, 115200, "true"))
    target.power_on()
    try:
        sent = b"OpenSBI\r\n\x03\x11\x13\xff\x00end"
        os.write(adapter_end, sent)
        assert read_until(target, len(sent)) == sent
        target.write_console(b"help\r")
        assert os.read(adapter_end, 100) == b"help\r"
    finally:
        target.power_off()


def test_the_console_ends_when_the_adapter_goes(pty_pair: tuple[int, str]) -> None:
    """What came before the end is read, then ConsoleClosed, as an unplugged adapter gives."""
    adapter_end, path = pty_pair
    target = SerialTarget(SerialPort(path, 115200, "true"))
    target.power_on()
    try:
        os.write(adapter_end, b"last words\r\n")
        assert read_until(target, 12) == b"last words\r\n"
        os.close(adapter_end)
        with pytest.raises(ConsoleClosed):
            read_until(target, 1)
    finally:
        target.power_off()
    with pytest.raises(ConsoleClosed):
        target.read_console(0)


def test_a_quiet_console_returns_nothing_after_the_timeout() -> None:
    target = SerialTarget(SerialPort("loop://", 115200, "true"))
    target.power_on()
    try:
        started = time.monotonic()
        assert target.read_console(0.2) == b""
        assert 0.15 < time.monotonic() - started < 2
        target.write_console(b"echo")
        assert read_until(target, 4) == b"echo"
    finally:
        target.power_off()


def test_a_missing_port_is_a_target_error_naming_it(tmp_path: Path) -> None:
    port = tmp_path / "ttyUSB9"
    with pytest.raises(TargetError) as raised:
        SerialTarget(SerialPort(str(port), 115200, "true")).power_on()
    assert str(raised.value) == (
        f"cannot open the serial port {port}: No such file or directory; "
        "is the adapter plugged in? `ls /dev/serial/by-id/` lists them"
    )


def test_a_file_that_is_no_terminal_is_a_target_error_naming_it(tmp_path: Path) -> None:
    port = tmp_path / "console.log"
    port.write_text("")
    with pytest.raises(TargetError, match=f"^cannot open the serial port {port}: "):
        SerialTarget(SerialPort(str(port), 115200, "true")).power_on()


def test_the_power_hook_does_not_run_when_the_port_does_not_open(tmp_path: Path) -> None:
    """A board switched on with nobody listening would boot unrecorded."""
    ran = tmp_path / "ran"
    hook = shlex.join(["touch", str(ran)])
    with pytest.raises(TargetError):
        SerialTarget(SerialPort(str(tmp_path / "ttyUSB9"), 115200, hook)).power_on()
    assert not ran.exists()
