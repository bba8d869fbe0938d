"""Board descriptions: one small TOML file per board under boards/.

A board is data, not code: the build reads the load address and the QEMU
machine from its file, and nothing else in the build branches on its name.
A board that QEMU does not model (a dev board on the desk) has no `[qemu]`
table; it is built and written to an SD card, and tested over its serial
port (docs/boards.md).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

BOARDS_DIR = Path(__file__).resolve().parents[2] / "boards"


class UnknownBoardError(Exception):
    """The requested board has no description file."""


class NotEmulatedError(Exception):
    """Something asked QEMU to boot a board it does not model, or through a
    U-Boot the board's file does not name."""


@dataclass(frozen=True)
class QemuMachine:
    """How QEMU runs a board."""

    machine: str
    firmware: tuple[str, ...]
    memory: str
    smp: int
    exits_on_poweroff: bool
    """QEMU ends when the kernel powers the machine off. Without a device that
    ends it (virt's `sifive,test0`), an SBI shutdown only stops the harts and
    whoever runs QEMU must end it; its exit status then tells nothing."""
    poweroff_fails: bool
    """No way of powering off works: no finisher, and the firmware's System
    Reset returns an error (OpenSBI has no device that shuts QEMU's sifive_u
    down). The kernel then says `kernel: halt reason=poweroff-failed`."""
    u_boot: Path | None
    """U-Boot built to run after the firmware in S-mode on this machine, booting
    from a virtio disk; None where there is none to boot through."""


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    dram_base: int
    text_offset: int
    emulated: QemuMachine | None
    """None for a board QEMU does not model."""

    @property
    def load_address(self) -> int:
        """Physical address where firmware loads and enters the Image."""
        return self.dram_base + self.text_offset

    @property
    def qemu(self) -> QemuMachine:
        """How QEMU runs this board; NotEmulatedError for a board it does not model."""
        if self.emulated is None:
            raise NotEmulatedError(
                f"board '{self.name}' has no QEMU machine: boot it on the board itself "
                f"(`scons sdimage board={self.name}`, docs/boards.md)"
            )
        return self.emulated

    @property
    def u_boot(self) -> Path:
        """The U-Boot QEMU boots before the kernel on this board; NotEmulatedError if none."""
        u_boot = self.qemu.u_boot
        if u_boot is None:
            raise NotEmulatedError(
                f"board '{self.name}' names no U-Boot for QEMU ([qemu] u_boot in "
                f"boards/{self.name}.toml): boot its Image directly"
            )
        if not u_boot.is_file():
            raise NotEmulatedError(
                f"board '{self.name}': no U-Boot at {u_boot}: run tools/setup "
                "(it installs Debian's u-boot-qemu)"
            )
        return u_boot


def known_boards(boards_dir: Path = BOARDS_DIR) -> list[str]:
    return sorted(path.stem for path in boards_dir.glob("*.toml"))


def board_file(name: str, boards_dir: Path = BOARDS_DIR) -> Path:
    path = boards_dir / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(known_boards(boards_dir)) or "none"
        raise UnknownBoardError(f"unknown board '{name}'; known boards: {known}")
    return path


def load_board(name: str, boards_dir: Path = BOARDS_DIR) -> Board:
    with board_file(name, boards_dir).open("rb") as description:
        data = tomllib.load(description)
    image = data["image"]
    return Board(
        name=name,
        description=data["description"],
        dram_base=image["dram_base"],
        text_offset=image["text_offset"],
        emulated=_qemu_machine(data["qemu"]) if "qemu" in data else None,
    )


def _qemu_machine(qemu: dict) -> QemuMachine:
    return QemuMachine(
        machine=qemu["machine"],
        firmware=tuple(qemu["firmware"]),
        memory=qemu["memory"],
        smp=qemu["smp"],
        # A board file says so only when its machine has no device that ends QEMU.
        exits_on_poweroff=qemu.get("exits_on_poweroff", True),
        poweroff_fails=qemu.get("poweroff_fails", False),
        u_boot=Path(qemu["u_boot"]) if "u_boot" in qemu else None,
    )
