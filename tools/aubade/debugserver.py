"""`scons debugserver` and `scons debug`: QEMU stopped before its first
instruction with gdb's stub on a TCP port, alone or with gdb attached.

debugserver runs QEMU on the terminal, as `scons run` does, and prints the
one gdb command that attaches from another. debug puts both in one terminal
with tmux: gdb where you typed, QEMU's console (the shell of PID 1 included)
in a second pane. Inside tmux the window is split; outside it, a tmux
session is made for the two and attached. Quitting gdb ends QEMU and the
pane.
"""

from __future__ import annotations

import errno
import os
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from aubade.qemu import QemuConfig, format_command
from aubade.toolchain import GDB, TMUX

# QEMU listens within a second of starting; far longer means it did not.
LISTEN_TIMEOUT_SECONDS = 30.0


def port_problem(port: int) -> str | None:
    """Why QEMU could not listen on `port`, or None if it can.

    QEMU binds its stub to every address with SO_REUSEADDR; so does this
    check, so only a listener (another QEMU, say) makes the port busy."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"port={port}: another program listens there (another debugserver?); "
                    "end it or choose another port, e.g. port=1235"
                )
            return f"port={port}: cannot listen there: {error.strerror}"
    return None


def stopped(config: QemuConfig, port: int) -> QemuConfig:
    """The machine with its harts held at reset (-S) and the stub on `port`."""
    return replace(config, extra_args=(*config.extra_args, "-S", "-gdb", f"tcp::{port}"))


def gdb_command(gdbinit: Path, port: int) -> list[str]:
    """The gdb that loads every stage's symbols and Aubade's commands, attached."""
    return [GDB, "-q", "-x", str(gdbinit), "-ex", f"target remote :{port}"]


def serve(config: QemuConfig, port: int, gdbinit: Path) -> int:
    """QEMU on this terminal, waiting for gdb; returns QEMU's exit status."""
    command = stopped(config, port).command()
    print(format_command(command), file=sys.stderr)
    print(
        f"QEMU waits for gdb on port {port}; attach from another terminal with\n"
        f"    {format_command(gdb_command(gdbinit, port))}\n"
        "QEMU console: quit with Ctrl-A X",
        file=sys.stderr,
        flush=True,
    )
    return subprocess.call(command)


def debug(config: QemuConfig, port: int, gdbinit: Path) -> int:
    """QEMU in a second tmux pane, gdb attached in this one; gdb's exit status."""
    qemu = format_command(stopped(config, port).command())
    # The pane's shell ends QEMU when gdb quits: -S and the stub would
    # otherwise keep it, waiting, after its pane is gone from view.
    gdb = format_command(gdb_command(gdbinit, port))
    if os.environ.get("TMUX"):
        pane = _tmux_output("split-window", "-h", "-d", "-P", "-F", "#{pane_id}", qemu)
        try:
            _wait_for_listener(port)
            return subprocess.call(gdb_command(gdbinit, port))
        finally:
            subprocess.call([TMUX, "kill-pane", "-t", pane])
    session = f"aubade-debug-{port}"
    subprocess.run([TMUX, "new-session", "-d", "-s", session, qemu], check=True)
    try:
        _wait_for_listener(port)
        _tmux_output(
            "split-window", "-h", "-b", "-t", session, f"{gdb}; {TMUX} kill-session -t {session}"
        )
        return subprocess.call([TMUX, "attach-session", "-t", session])
    finally:
        subprocess.call([TMUX, "kill-session", "-t", session], stderr=subprocess.DEVNULL)


def _tmux_output(*arguments: str) -> str:
    return subprocess.run(
        [TMUX, *arguments], check=True, capture_output=True, text=True
    ).stdout.strip()


def _wait_for_listener(port: int) -> None:
    """Until QEMU's stub accepts a connection; gdb would fail to attach sooner."""
    deadline = time.monotonic() + LISTEN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if port_problem(port) is not None:
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"QEMU did not listen on port {port} within {LISTEN_TIMEOUT_SECONDS:.0f} s; "
        f"run it alone to see why: {shlex.join(['scons', 'debugserver', f'port={port}'])}"
    )
