"""A board at the end of a serial port as a harness target.

The port is a terminal device (`/dev/ttyUSB0` for a USB serial adapter; a
pseudo-terminal in CI, see tools/qemu_board.py) set to raw 8N1 at the given
speed. The harness cannot switch a board on by itself: a power hook, a
command the user gives, is run with the argument `on` to power-cycle or
reset the board (a script that drives a relay, or one that asks a person to
press reset, like tools/power_hook_ask) and with `off` once the boot is
over. The port is opened before the hook runs and read while it runs, so
the console is captured from the board's first byte even when the hook
waits for a person.
"""

from __future__ import annotations

import errno
import os
import select
import shlex
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass

from aubade.target import ConsoleClosed, Target, TargetError

_READ_SIZE = 65536
# A hook that drives a relay returns in a second; one that asks a person
# waits for them, but not for ever.
_HOOK_TIMEOUT_SECONDS = 300
# How often a running hook is checked on while the port is read.
_HOOK_POLL_SECONDS = 0.05
_PREFIX = "serial:"


class SerialSpecError(ValueError):
    """A `--target serial:...` value that does not say DEVICE,BAUD."""


@dataclass(frozen=True)
class SerialPort:
    device: str
    baud: int
    power_hook: str
    """The command run as `HOOK on` and `HOOK off` (split like a shell would)."""

    @classmethod
    def parse(cls, spec: str, power_hook: str | None) -> SerialPort:
        """The port of `serial:DEVICE,BAUD` (`serial:/dev/ttyUSB0,115200`)."""
        device, _, baud = spec.removeprefix(_PREFIX).rpartition(",")
        if not spec.startswith(_PREFIX) or not device or not baud.isdigit():
            raise SerialSpecError(
                f"--target {spec}: expected serial:DEVICE,BAUD, e.g. serial:/dev/ttyUSB0,115200"
            )
        if not hasattr(termios, f"B{baud}"):
            raise SerialSpecError(f"--target {spec}: {baud} is not a speed this host's termios has")
        if not power_hook:
            raise SerialSpecError(
                f"--target {spec} needs --power-hook CMD: the command that resets the board "
                "(`CMD on`) and switches it off (`CMD off`); tools/power_hook_ask asks a person"
            )
        return cls(device, int(baud), power_hook)


class SerialTarget(Target):
    def __init__(self, port: SerialPort) -> None:
        self.port = port
        self._fd: int | None = None
        # What the board printed while the power-on hook ran, not yet read.
        self._pending = b""

    @property
    def closes_at_power_off(self) -> bool:
        # A serial port stays open whatever the board does.
        return False

    def describe(self) -> str:
        return (
            f"serial console {self.port.device} at {self.port.baud} baud, 8N1; "
            f"power hook: {self.port.power_hook} on|off"
        )

    def power_on(self) -> None:
        try:
            self._fd = os.open(self.port.device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            self._configure(self._fd)
            # What the board said before this boot (or a previous test left
            # unread) is not this boot's.
            termios.tcflush(self._fd, termios.TCIOFLUSH)
        except OSError as error:
            self._close()
            raise TargetError(f"cannot open the serial port {self.port.device}: {error}") from error
        # The terminal's buffer holds a few KiB: read it while the hook runs,
        # or the start of a boot is lost while a person finds the reset button.
        self._run_hook("on", while_waiting=self._keep_pending)

    def read_console(self, timeout: float) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        return self._read_port(timeout)

    def _read_port(self, timeout: float) -> bytes:
        fd = self._require_open()
        readable, _, _ = select.select([fd], [], [], max(timeout, 0))
        if not readable:
            return b""
        try:
            return os.read(fd, _READ_SIZE)
        except BlockingIOError:
            return b""
        except OSError as error:
            # The adapter was unplugged: nothing more will come.
            if error.errno in (errno.EIO, errno.ENXIO, errno.ENODEV):
                raise ConsoleClosed from error
            raise

    def write_console(self, data: bytes) -> None:
        fd = self._require_open()
        while data:
            select.select([], [fd], [])
            try:
                data = data[os.write(fd, data) :]
            except BlockingIOError:
                continue
            except OSError as error:
                raise ConsoleClosed from error

    def exit_status(self) -> int | None:
        # A board has no exit status; its power-off line is its word.
        return None

    def power_off(self) -> None:
        if self._fd is None:
            return
        try:
            self._run_hook("off")
        except TargetError as error:
            # Switching off runs after the boot's facts are recorded, often
            # from a `finally`: a board left on is worth a warning, not a
            # failure that hides the boot's own.
            print(f"warning: {error}", file=sys.stderr)
        finally:
            self._close()

    def _configure(self, fd: int) -> None:
        """Raw 8N1 at the port's speed, no flow control, modem lines ignored."""
        iflag, oflag, cflag, lflag, _, _, cc = termios.tcgetattr(fd)
        speed = getattr(termios, f"B{self.port.baud}")
        iflag &= ~(
            termios.IGNBRK
            | termios.BRKINT
            | termios.PARMRK
            | termios.ISTRIP
            | termios.INLCR
            | termios.IGNCR
            | termios.ICRNL
            | termios.IXON
            | termios.IXOFF
        )
        oflag &= ~termios.OPOST
        lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
        cflag &= ~(termios.CSIZE | termios.PARENB | termios.CSTOPB | termios.CRTSCTS)
        cflag |= termios.CS8 | termios.CREAD | termios.CLOCAL
        cc[termios.VMIN], cc[termios.VTIME] = 1, 0
        termios.tcsetattr(fd, termios.TCSANOW, [iflag, oflag, cflag, lflag, speed, speed, cc])

    def _keep_pending(self) -> None:
        self._pending += self._read_port(_HOOK_POLL_SECONDS)

    def _run_hook(self, state: str, while_waiting: Callable[[], None] | None = None) -> None:
        """Run `HOOK state`; TargetError if it fails. Until it ends,
        `while_waiting` is called over and over (it must block for a moment)."""
        command = [*shlex.split(self.port.power_hook), state]
        with tempfile.TemporaryFile("w+") as output:
            try:
                hook = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
                )
            except OSError as error:
                raise TargetError(f"power hook `{shlex.join(command)}`: {error}") from error
            deadline = time.monotonic() + _HOOK_TIMEOUT_SECONDS
            while hook.poll() is None:
                if time.monotonic() > deadline:
                    hook.kill()
                    hook.wait()
                    raise TargetError(
                        f"power hook `{shlex.join(command)}` still ran after "
                        f"{_HOOK_TIMEOUT_SECONDS} s"
                    )
                if while_waiting is None:
                    time.sleep(_HOOK_POLL_SECONDS)
                else:
                    while_waiting()
            if hook.returncode != 0:
                output.seek(0)
                raise TargetError(
                    f"power hook `{shlex.join(command)}` exited with status {hook.returncode}:\n"
                    f"{output.read()}".rstrip()
                )

    def _require_open(self) -> int:
        if self._fd is None:
            raise ConsoleClosed
        return self._fd

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
