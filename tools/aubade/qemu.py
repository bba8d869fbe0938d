"""QEMU command lines for a board, shared by `scons run`, the tests and the benchmarks.

Every user of QEMU builds its command here, so the command a test prints is
exactly the one a person can paste into a shell to boot the same machine.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aubade.boards import Board

QEMU_SYSTEM = "qemu-system-riscv64"
# QEMU writes the DTB and exits before running the guest, so this only
# guards against a QEMU that hangs.
_DUMPDTB_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class QemuConfig:
    """One QEMU machine: board, image, harts, memory and kernel command line."""

    board: Board
    image: Path
    smp: int | None = None
    """Number of harts; None takes the board's default."""
    memory: str | None = None
    """RAM size in QEMU's syntax (`128M`, `2G`); None takes the board's default."""
    append: str = ""
    """Kernel command line, passed with -append (left out when empty)."""
    extra_args: tuple[str, ...] = ()

    def command(self) -> list[str]:
        """The command that boots this machine with its console on stdio."""
        return self._command(self.board.qemu_machine)

    def dumpdtb_command(self, dtb: Path) -> list[str]:
        """The command that writes the device tree this machine's guest gets to `dtb`."""
        # QEMU's option parser reads a doubled comma as a comma in a value.
        escaped_path = str(dtb).replace(",", ",,")
        return self._command(f"{self.board.qemu_machine},dumpdtb={escaped_path}")

    def _command(self, machine_option: str) -> list[str]:
        smp = self.board.qemu_smp if self.smp is None else self.smp
        memory = self.board.qemu_memory if self.memory is None else self.memory
        append = ["-append", self.append] if self.append else []
        return [
            QEMU_SYSTEM,
            "-machine",
            machine_option,
            *self.board.qemu_firmware,
            "-nographic",
            # A guest reset ends QEMU instead of booting again, so a kernel
            # that resets on a fatal error cannot loop until a test times out.
            "-no-reboot",
            "-smp",
            str(smp),
            "-m",
            memory,
            "-kernel",
            str(self.image),
            *append,
            *self.extra_args,
        ]


def format_command(command: Sequence[str]) -> str:
    """The command as a shell line that a person can copy and run."""
    return shlex.join(command)


class QemuError(Exception):
    """QEMU failed to do what a tool asked of it."""


def dump_device_tree(config: QemuConfig, dtb: Path) -> Path:
    """Write the device tree QEMU would hand this machine's guest to `dtb`.

    OpenSBI edits the tree before the loader sees it (it adds its own
    /reserved-memory node, for one), so this is QEMU's tree, not OpenSBI's.
    """
    command = config.dumpdtb_command(dtb)
    dtb.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=_DUMPDTB_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0 or not dtb.is_file():
        raise QemuError(
            f"dumping the device tree failed (exit status {result.returncode}):\n"
            f"  {format_command(command)}\n{result.stdout}{result.stderr}"
        )
    return dtb


def run_interactive(board: Board, image: Path, append: str = "") -> int:
    """Boot `image` with the board's default harts and memory, its console on
    the terminal (`scons run`), and return QEMU's exit status.

    QEMU runs as a child rather than replacing the process, so that SCons
    still records what it built before the run."""
    command = QemuConfig(board, image, append=append).command()
    print(format_command(command), file=sys.stderr)
    print("QEMU console: quit with Ctrl-A X, Ctrl-A H for help", file=sys.stderr, flush=True)
    sys.stdout.flush()
    return subprocess.call(command)
