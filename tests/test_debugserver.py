"""`scons debugserver`: QEMU held at reset with gdb's stub on the port asked
for, the machine the options say, and the gdb command that attaches printed;
a port another program listens on refused before anything is built."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from configurations import REPO
from harness.gdb import GDB, debug_server, free_port, run_gdb

from aubade.toolchain import QEMU

pytestmark = [
    pytest.mark.xdist_group("debugserver"),
    pytest.mark.skipif(shutil.which(GDB) is None, reason=f"no {GDB}: run tools/setup"),
]


def test_a_port_another_program_listens_on_is_refused_before_building() -> None:
    with socket.socket() as listener:
        listener.bind(("", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "SCons", "-Q", "debugserver", f"port={port}"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"port={port}: another program listens there" in result.stdout
    assert "qemu-system" not in result.stdout + result.stderr


def test_qemu_waits_at_reset_with_the_harts_and_memory_asked_for() -> None:
    with debug_server("smp=3", "mem=512M") as server:
        printed = server.output()
        assert "-S -gdb tcp::" in printed and "-smp 3 -m 512M" in printed, printed
        attach = f"gdb-multiarch -q -x {server.gdbinit} -ex 'target remote :{server.port}'"
        assert attach in printed
        output = run_gdb(server, "info threads", "print/x $pc")
    # Three harts, every one still at QEMU's reset vector: nothing has run.
    assert output.count("Thread 1.") == 3, output
    assert "$1 = 0x1000" in output, output


def test_debug_without_tmux_says_what_to_install(tmp_path: Path) -> None:
    # A PATH with QEMU and gdb but no tmux.
    for tool in (QEMU, GDB):
        (tmp_path / tool).symlink_to(shutil.which(tool))
    result = subprocess.run(
        [sys.executable, "-m", "SCons", "-Q", "debug", f"port={free_port()}"],
        cwd=REPO,
        env={**os.environ, "PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "tmux not found on PATH; run tools/setup" in result.stdout
