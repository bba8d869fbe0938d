"""The machines the boot tests run on, and where the build puts what they boot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aubade.boards import load_board
from aubade.qemu import QemuConfig

REPO = Path(__file__).resolve().parents[1]
BOARD = load_board("virt")
BUILD_DIR = REPO / "build" / BOARD.name
IMAGE = BUILD_DIR / "Image"
KERNEL_ELF = BUILD_DIR / "kernel.elf"
TEST_LOG_DIR = REPO / "build" / "test-logs"


@dataclass(frozen=True)
class BootConfig:
    """A QEMU configuration the boot tests run on."""

    smp: int
    memory: str
    append: str = "poweroff"

    @property
    def id(self) -> str:
        return f"smp{self.smp}-{self.memory}"

    def qemu(self) -> QemuConfig:
        return QemuConfig(BOARD, IMAGE, smp=self.smp, memory=self.memory, append=self.append)


BOOT_CONFIGS = tuple(BootConfig(smp, memory) for smp in (1, 4) for memory in ("128M", "2G"))
