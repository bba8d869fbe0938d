"""A board at the end of a serial port as a harness target.

The port is opened with pyserial: a terminal device (`/dev/ttyUSB0` for a USB
serial adapter; a pseudo-terminal in CI, see tools/qemu_board.py), or any URL
pyserial opens (`socket://HOST:PORT` for a port served over the network by
ser2net, `loop://` in the tests), set to raw 8N1 at the given speed without
flow control. The harness cannot switch a board on by itself: a power hook, a
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
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from aubade.target import ConsoleClosed, Target, TargetError

# A hook that drives a relay returns in a second; one that asks a person
# waits for them, but not for ever.
_HOOK_TIMEOUT_SECONDS = 300
# How often a running hook is checked on while the port is read.
_HOOK_POLL_SECONDS = 0.05
_PREFIX = "serial:"
TARGET_FORMS = (
    "qemu (the default: QEMU's machines) or serial:DEVICE,BAUD (a board on a serial port: "
    "DEVICE a path or a pyserial URL such as socket://HOST:PORT), e.g. serial:/dev/ttyUSB0,115200"
)
"""Every value `--target` takes, for its error messages."""
BAUD_RATES: tuple[int, ...] = serial.Serial.BAUDRATES
"""The speeds `serial:DEVICE,BAUD` accepts: pyserial's standard ones, 50 to
4000000. pyserial could ask Linux for any other, but a board's console runs
at a standard speed, and a speed off the list is much likelier a typo
(115201) that would read as garbage than a board's."""
# What to try when opening fails for the commonest reasons.
_OPEN_HINTS = {
    errno.ENOENT: "is the adapter plugged in? `ls /dev/serial/by-id/` lists them",
    errno.EACCES: "is this user in the port's group (`dialout` on Debian)?",
    errno.EBUSY: "does another program hold the port?",
}


class SerialSpecError(ValueError):
    """A `--target` value that is not one of TARGET_FORMS, or a serial target
    without its power hook."""


@dataclass(frozen=True)
class SerialPort:
    device: str
    baud: int
    power_hook: str
    """The command run as `HOOK on` and `HOOK off` (split like a shell would)."""

    @classmethod
    def parse(cls, spec: str, power_hook: str | None) -> SerialPort:
        """The port of `serial:DEVICE,BAUD` (`serial:/dev/ttyUSB0,115200`).

        DEVICE is a path or a pyserial URL, and may hold commas itself
        (/dev/serial/by-id/ names do): BAUD is after the last one.
        """
        device, _, baud = spec.removeprefix(_PREFIX).rpartition(",")
        if not spec.startswith(_PREFIX) or not device or not baud.isdigit():
            raise SerialSpecError(f"--target {spec}: expected {TARGET_FORMS}")
        if int(baud) not in BAUD_RATES:
            raise SerialSpecError(
                f"--target {spec}: {baud} is not a speed pyserial knows; BAUD is one of "
                + ", ".join(str(rate) for rate in BAUD_RATES)
            )
        if not power_hook:
            raise SerialSpecError(
                f"--target {spec} needs --power-hook CMD: the command that resets the board "
                "(`CMD on`) and switches it off (`CMD off`); tools/power_hook_ask asks a person"
            )
        return cls(device, int(baud), power_hook)


class SerialTarget(Target):
    def __init__(self, port: SerialPort) -> None:
        self.port = port
        self._serial: serial.SerialBase | None = None
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
            # serial_for_url opens a device path as serial.Serial does, and
            # also the URLs of pyserial's protocol handlers (socket://).
            self._serial = serial.serial_for_url(
                self.port.device, baudrate=self.port.baud, timeout=0
            )
            # What the board said before this boot (or a previous test left
            # unread) is not this boot's.
            self._serial.reset_input_buffer()
            self._serial.reset_output_buffer()
        except (serial.SerialException, ValueError) as error:
            self._close()
            raise TargetError(
                f"cannot open the serial port {self.port.device}: {_open_failure(error)}"
            ) from error
        # The terminal's buffer holds a few KiB: read it while the hook runs,
        # or the start of a boot is lost while a person finds the reset button.
        self._run_hook("on", while_waiting=self._keep_pending)

    def read_console(self, timeout: float) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        return self._read_port(timeout)

    def _read_port(self, timeout: float) -> bytes:
        port = self._require_open()
        try:
            # The first byte is waited for; then whatever else has arrived.
            # Setting the timeout is cheap: pyserial waits with select and
            # rewrites the terminal's settings only when they differ.
            port.timeout = max(timeout, 0)
            data = port.read(1)
            if data:
                data += port.read(port.in_waiting)
        except serial.SerialException as error:
            # pyserial says "read failed" (EIO) or "readiness to read but
            # returned no data" when the adapter is unplugged or the other
            # end of a pseudo-terminal closes: nothing more will come.
            raise ConsoleClosed from error
        return bytes(data)

    def write_console(self, data: bytes) -> None:
        port = self._require_open()
        try:
            port.write(data)
        except serial.SerialException as error:
            raise ConsoleClosed from error

    def exit_status(self) -> int | None:
        # A board has no exit status; its power-off line is its word.
        return None

    def power_off(self) -> None:
        if self._serial is None:
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

    def _require_open(self) -> serial.SerialBase:
        if self._serial is None:
            raise ConsoleClosed
        return self._serial

    def _close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None


def _open_failure(error: serial.SerialException | ValueError) -> str:
    """Why the port did not open, without pyserial repeating the port's name,
    and what to try for the common reasons."""
    code = error.errno if isinstance(error, OSError) else None
    if code is None:
        return str(error)
    reason = os.strerror(code)
    hint = _OPEN_HINTS.get(code)
    return reason if hint is None else f"{reason}; {hint}"
