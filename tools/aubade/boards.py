"""Board descriptions: one small TOML file per board under boards/.

A board is data, not code: the build reads the load address and the QEMU
machine from its file, and nothing else in the build branches on its name.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

BOARDS_DIR = Path(__file__).resolve().parents[2] / "boards"


class UnknownBoardError(Exception):
    """The requested board has no description file."""


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    dram_base: int
    text_offset: int
    qemu_machine: str
    qemu_firmware: tuple[str, ...]
    qemu_memory: str
    qemu_smp: int
    qemu_exits_on_poweroff: bool
    """QEMU ends when the kernel powers the machine off. Without a device that
    ends it (virt's `sifive,test0`), an SBI shutdown only stops the harts and
    whoever runs QEMU must end it; its exit status then tells nothing."""

    @property
    def load_address(self) -> int:
        """Physical address where firmware loads and enters the Image."""
        return self.dram_base + self.text_offset


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
    image, qemu = data["image"], data["qemu"]
    return Board(
        name=name,
        description=data["description"],
        dram_base=image["dram_base"],
        text_offset=image["text_offset"],
        qemu_machine=qemu["machine"],
        qemu_firmware=tuple(qemu["firmware"]),
        qemu_memory=qemu["memory"],
        qemu_smp=qemu["smp"],
        # A board file says so only when its machine has no device that ends QEMU.
        qemu_exits_on_poweroff=qemu.get("exits_on_poweroff", True),
    )
