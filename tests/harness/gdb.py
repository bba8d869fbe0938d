"""`scons debugserver` as a person starts it, and gdb-multiarch driven in
batch mode against it, for the tests of the debugging support.

The server's whole output (scons, QEMU's command, its console) goes to a log
file: a pipe nobody reads would fill and stop QEMU. Every server is killed,
with its process group (scons and the QEMU it started), when its block ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from configurations import REPO, TEST_LOG_DIR

from aubade.parentdeath import DIE_WITH_PARENT
from aubade.toolchain import GDB

WAITING = "QEMU waits for gdb on port"
# scons has nothing to build (the session built it): it starts QEMU at once.
START_TIMEOUT_SECONDS = 60.0
GDB_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class DebugServer:
    port: int
    log: Path
    gdbinit: Path
    pid: int
    """scons's, which lives as long as the QEMU it waits for."""

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice for port 0)."""
    with socket.socket() as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


@contextmanager
def debug_server(*options: str, board: str = "virt") -> Iterator[DebugServer]:
    """`scons debugserver port=P OPTIONS`, once QEMU waits for gdb."""
    port = free_port()
    log = TEST_LOG_DIR / f"debugserver-{board}-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "SCons", "-Q", "debugserver", f"board={board}"]
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*command, f"port={port}", *options],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while WAITING not in log.read_text(errors="replace"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"scons debugserver did not start QEMU (exit status {server.poll()}):\n"
                    + log.read_text(errors="replace")
                )
            time.sleep(0.1)
        yield DebugServer(port, log, REPO / "build" / board / "gdbinit", server.pid)
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def run_gdb(server: DebugServer, *commands: str) -> str:
    """gdb-multiarch with the build's gdbinit, attached, running `commands`
    in batch mode; its whole output, ending with a line that says so if it
    ran out of time."""
    command = [GDB, "-q", "-batch", "-nx", "-x", str(server.gdbinit)]
    command += ["-ex", f"target remote :{server.port}"]
    for line in commands:
        command += ["-ex", line]
    try:
        result = subprocess.run(
            command,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=GDB_TIMEOUT_SECONDS,
            preexec_fn=DIE_WITH_PARENT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        output = error.stdout.decode(errors="replace") if error.stdout else ""
        return f"{output}\ngdb ran out of its {GDB_TIMEOUT_SECONDS:.0f} s"
    return result.stdout + result.stderr
