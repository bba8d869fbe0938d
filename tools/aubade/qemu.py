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
    sd_image: Path | None = None
    """Boot through the board's U-Boot from this disk image (`scons sdimage`)
    instead of handing `image` to the firmware. The command line is then the
    one in the image's extlinux.conf, so `append` must be empty."""
    console_socket: Path | None = None
    """Connect the console to the unix socket listening at this path, as a
    board's UART is wired to a serial adapter, instead of to stdio."""
    machine_options: tuple[str, ...] = ()
    """Options of the board's QEMU machine (`aia=aplic` makes `-machine virt,aia=aplic`)."""
    firmware: tuple[str, ...] | None = None
    """The firmware options (`-bios FILE`) instead of the board's."""
    extra_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Reading them raises NotEmulatedError now, not when QEMU is started.
        _ = self.board.qemu
        if self.sd_image is not None:
            _ = self.board.u_boot
            if self.append:
                raise ValueError(
                    "a machine booting through U-Boot takes its command line from the "
                    "SD image's extlinux.conf, not from -append"
                )

    def command(self) -> list[str]:
        """The command that boots this machine with its console on stdio."""
        return self._command(self._machine())

    def dumpdtb_command(self, dtb: Path) -> list[str]:
        """The command that writes the device tree this machine's guest gets to `dtb`."""
        return self._command(f"{self._machine()},{dumpdtb_option(dtb)}")

    def _machine(self) -> str:
        return ",".join((self.board.qemu.machine, *self.machine_options))

    def _command(self, machine_option: str) -> list[str]:
        qemu = self.board.qemu
        return [
            QEMU_SYSTEM,
            "-machine",
            machine_option,
            *(qemu.firmware if self.firmware is None else self.firmware),
            *self._console(),
            # A guest reset ends QEMU instead of booting again, so a kernel
            # that resets on a fatal error cannot loop until a test times out.
            "-no-reboot",
            "-smp",
            str(qemu.smp if self.smp is None else self.smp),
            "-m",
            qemu.memory if self.memory is None else self.memory,
            *self._next_stage(),
            *self.extra_args,
        ]

    def _console(self) -> list[str]:
        if self.console_socket is None:
            return ["-nographic"]
        # QEMU connects as a client: the socket's listener stands for the
        # serial adapter and outlives every power cycle of the machine.
        socket = str(self.console_socket).replace(",", ",,")
        return [
            *("-display", "none", "-monitor", "none"),
            *("-chardev", f"socket,id=console,path={socket}"),
            *("-serial", "chardev:console"),
        ]

    def _next_stage(self) -> list[str]:
        """What the firmware enters: the Image with its command line, or
        U-Boot with the SD image as a read-only virtio disk."""
        if self.sd_image is None:
            append = ["-append", self.append] if self.append else []
            return ["-kernel", str(self.image), *append]
        disk = str(self.sd_image).replace(",", ",,")
        return [
            *("-kernel", str(self.board.u_boot)),
            *("-drive", f"file={disk},format=raw,if=none,id=sdcard,readonly=on"),
            *("-device", "virtio-blk-device,drive=sdcard"),
        ]


def format_command(command: Sequence[str]) -> str:
    """The command as a shell line that a person can copy and run."""
    return shlex.join(command)


class QemuError(Exception):
    """QEMU failed to do what a tool asked of it."""


def dumpdtb_option(dtb: Path) -> str:
    """The `-machine` option that makes QEMU write its guest's device tree to `dtb` and exit."""
    # QEMU's option parser reads a doubled comma as a comma in a value.
    return "dumpdtb=" + str(dtb).replace(",", ",,")


def dump_device_tree(config: QemuConfig, dtb: Path) -> Path:
    """Write the device tree QEMU would hand this machine's guest to `dtb`.

    OpenSBI edits the tree before the loader sees it (it adds its own
    /reserved-memory node, for one), so this is QEMU's tree, not OpenSBI's.
    """
    return run_dumpdtb(config.dumpdtb_command(dtb), dtb)


def run_dumpdtb(command: list[str], dtb: Path) -> Path:
    """Run a QEMU command line that has `dumpdtb_option(dtb)`; QemuError if
    it fails or writes nothing."""
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


def run_interactive(config: QemuConfig) -> int:
    """Boot the machine with its console on the terminal (`scons run`) and
    return QEMU's exit status.

    QEMU runs as a child rather than replacing the process, so that SCons
    still records what it built before the run."""
    command = config.command()
    print(format_command(command), file=sys.stderr)
    print("QEMU console: quit with Ctrl-A X, Ctrl-A H for help", file=sys.stderr, flush=True)
    sys.stdout.flush()
    return subprocess.call(command)
