"""QEMU's human monitor (HMP) on a unix socket: a command typed, its answer read.

QEMU listens for the monitor on a socket when started with `monitor_args()`
among its extra arguments; a tool connects only when it needs to look
inside the machine (the soak, at a hang), while the console stays on stdio.

The monitor answers a connection with a banner and its prompt `(qemu) `, and
every command with the echo of the line as its line editor redraws it (with
terminal escapes), a line end, the answer, and the prompt again. `command`
returns the answer alone, with `\\n` line ends.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from types import TracebackType

PROMPT = b"(qemu) "
_READ_SIZE = 65536


class MonitorError(Exception):
    """The monitor could not be reached or did not answer in time."""


def monitor_args(path: Path) -> tuple[str, ...]:
    """QEMU arguments for a monitor listening on a unix socket at `path`.

    With -nographic and no -monitor, QEMU multiplexes its monitor with the
    serial console on stdio (`mon:stdio`, Ctrl-A C switches); given -monitor,
    it puts the monitor there instead and the serial console alone on stdio,
    so the two go together (checked with QEMU 7.2). `wait=off`: QEMU does not
    wait for a client before it runs the machine.
    """
    # QEMU's option parser reads a doubled comma as a comma in a value.
    escaped = str(path).replace(",", ",,")
    return ("-monitor", f"unix:{escaped},server=on,wait=off")


class Monitor:
    """A connection to one QEMU's monitor; each answer awaited at most `timeout` seconds."""

    def __init__(self, path: Path, timeout: float) -> None:
        self._timeout = timeout
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._socket.settimeout(timeout)
            self._socket.connect(str(path))
            self._read_to_prompt("the monitor's banner")
        except OSError as error:
            self._socket.close()
            raise MonitorError(f"cannot reach QEMU's monitor at {path}: {error}") from error
        except MonitorError:
            self._socket.close()
            raise

    def __enter__(self) -> Monitor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._socket.close()

    def command(self, line: str) -> str:
        """The monitor's answer to `line`, without the echo and the prompt."""
        try:
            self._socket.sendall(line.encode() + b"\n")
        except OSError as error:
            raise MonitorError(f"monitor command {line!r}: {error}") from error
        return answer_of(self._read_to_prompt(f"the answer to {line!r}"))

    def _read_to_prompt(self, what: str) -> bytes:
        deadline = time.monotonic() + self._timeout
        data = b""
        while not data.endswith(PROMPT):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MonitorError(f"no {what} within {self._timeout:g} s")
            self._socket.settimeout(remaining)
            try:
                chunk = self._socket.recv(_READ_SIZE)
            except TimeoutError:
                continue
            except OSError as error:
                raise MonitorError(f"reading {what}: {error}") from error
            if not chunk:
                raise MonitorError(f"the monitor closed before {what}")
            data += chunk
        return data


def answer_of(output: bytes) -> str:
    """The answer in the monitor's output for one command: what follows the
    echo's line end and precedes the closing prompt."""
    text = output.removesuffix(PROMPT).decode(errors="replace")
    _echo, _, answer = text.partition("\r\n")
    return answer.replace("\r\n", "\n")
