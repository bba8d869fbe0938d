"""The machines the boot tests run on, and where the build puts what they boot.

A configuration is a QEMU machine (`BootConfig`, the default target), the
board at the end of a serial port (`SerialBootConfig`, `--target serial:...`)
or labgrid's target (`LabgridBootConfig`, `--lg-env ENV.yaml`). All give the
boot fixtures the same things: an id, the board whose build they boot, a
harness target, and how the firmware's inputs can be checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.serial_target import SerialPort, SerialTarget
from labgrid import Environment

from aubade import inittokens, sdimage
from aubade.boards import Board, load_board
from aubade.labgrid_target import LabgridTarget, qemu_device_tree
from aubade.qemu import QemuConfig, dump_device_tree
from aubade.qemu_target import QemuTarget
from aubade.target import Target

REPO = Path(__file__).resolve().parents[1]
TEST_LOG_DIR = REPO / "build" / "test-logs"
TEST_IMAGE_DIR = REPO / "build" / "test-images"
"""The SD-card images of the boots through U-Boot, one per configuration."""
VIRT = load_board("virt")
SIFIVE_U = load_board("sifive_u")
SPIKE = load_board("spike")
BOARDS = (VIRT, SIFIVE_U, SPIKE)
"""Every board the tests boot: the session builds each of them first."""


def _bootinfo_cmdline_max() -> int:
    header = REPO / "lib" / "include" / "aubade" / "bootinfo.h"
    match = re.search(r"^#define BOOTINFO_CMDLINE_MAX (\d+)$", header.read_text(), re.MULTILINE)
    if match is None:
        raise LookupError(f"{header}: no `#define BOOTINFO_CMDLINE_MAX N`")
    return int(match[1])


CMDLINE_MAX = _bootinfo_cmdline_max() - 1
"""The longest command line the loader hands over: BootInfo's
BOOTINFO_CMDLINE_MAX bytes, less the NUL that ends it."""


def built(board: Board, name: str) -> Path:
    """A build output of the board: `kernel.elf`, `loader.elf` or `Image`."""
    return REPO / "build" / board.name / name


@dataclass(frozen=True)
class MachineVariant:
    """A QEMU machine built otherwise than the board's plain one: another
    interrupt controller, NUMA sockets. Its name goes into the ids."""

    name: str
    machine_options: tuple[str, ...] = ()
    """Options of `-machine` (`aia=aplic`)."""
    extra_args: tuple[str, ...] = ()
    """More QEMU arguments (memory backends and `-numa` nodes)."""


@dataclass(frozen=True)
class BootConfig:
    """A QEMU configuration the boot tests run on."""

    board: Board
    smp: int
    memory: str
    run: int = 1
    """Which boot of the same machine this is: some facts vary from boot to boot."""
    append: str = "poweroff"
    via_u_boot: bool = False
    """Firmware enters the board's U-Boot, whose distro boot finds the Image
    and the command line (`append`) on an SD image, as on a dev board."""
    variant: MachineVariant | None = None
    firmware: Path | None = None
    """The file QEMU runs as `-bios` instead of the board's firmware; its
    name goes into the id."""

    @property
    def id(self) -> str:
        machine = f"{self.board.name}-smp{self.smp}-{self.memory}"
        if self.variant is not None:
            machine += f"-{self.variant.name}"
        if self.firmware is not None:
            machine += f"-{self.firmware.stem}"
        if self.via_u_boot:
            machine += "-uboot"
        # Named for another command line, so that its log is not the boot tests' log.
        elif self.append != "poweroff":
            machine += "-" + "-".join(self.append.split())
        return machine if self.run == 1 else f"{machine}-run{self.run}"

    @property
    def sd_image(self) -> Path | None:
        """The SD image a boot through U-Boot reads (`write_boot_media` writes it)."""
        return TEST_IMAGE_DIR / f"{self.id}.img" if self.via_u_boot else None

    def write_boot_media(self) -> None:
        """Write what firmware needs beyond the build: the SD image of a boot through U-Boot."""
        if self.sd_image is not None:
            sdimage.write_sd_image(
                built(self.board, "Image"), self.sd_image, self.board.name, self.append
            )

    @property
    def exits_on_poweroff(self) -> bool:
        """Whether the target ends, with an exit status, when the kernel powers off."""
        return self.board.qemu.exits_on_poweroff

    def qemu(self) -> QemuConfig:
        return QemuConfig(
            self.board,
            built(self.board, "Image"),
            smp=self.smp,
            memory=self.memory,
            append="" if self.via_u_boot else self.append,
            sd_image=self.sd_image,
            machine_options=() if self.variant is None else self.variant.machine_options,
            extra_args=() if self.variant is None else self.variant.extra_args,
            firmware=None if self.firmware is None else ("-bios", str(self.firmware)),
        )

    def target(self) -> Target:
        return QemuTarget(self.qemu())

    def device_tree_file(self, path: Path) -> Path | None:
        """The device tree QEMU hands this machine's firmware, written to `path`."""
        return dump_device_tree(self.qemu(), path)


@dataclass(frozen=True)
class SerialBootConfig:
    """The board at the end of a serial port, booting what its SD card holds."""

    board: Board
    """The board whose build it boots: the tests compare its log with that build."""
    port: SerialPort
    dtb: Path | None
    """The device tree the board's firmware hands over (`--dtb`), if the user has it."""
    sd_image: Path | None
    """The SD image the board boots (`--sd-image`), for the command line it gives."""
    smp = None
    """The board's harts are its own, not a choice of the tests."""
    exits_on_poweroff = False

    @property
    def id(self) -> str:
        return f"{self.board.name}-serial"

    def write_boot_media(self) -> None:
        """Nothing: the user has written the SD card and put it in the board."""

    def target(self) -> Target:
        return SerialTarget(self.port)

    def device_tree_file(self, path: Path) -> Path | None:
        return self.dtb


@dataclass(frozen=True)
class LabgridBootConfig:
    """labgrid's target `main` of an environment file, booted through its
    AubadeStrategy with `append` as the command line."""

    board: Board
    environment: Callable[[], Environment]
    """labgrid's Environment of the file (made once pytest is configured)."""
    dtb: Path | None
    """The device tree the board's firmware hands over (`--dtb`), if the user has it."""
    append: str = "poweroff"
    smp = None
    """The target's harts are its own, not a choice of the tests."""
    exits_on_poweroff = False

    @property
    def id(self) -> str:
        return f"{self.board.name}-labgrid"

    def write_boot_media(self) -> None:
        """Nothing: the strategy writes the SD image on its way to `flashed`."""

    def target(self) -> Target:
        return LabgridTarget(self.environment(), self.append)

    def device_tree_file(self, path: Path) -> Path | None:
        """`--dtb`, or QEMU's own when the target is labgrid's QEMU."""
        return self.dtb or qemu_device_tree(self.environment(), path)


AnyConfig = BootConfig | SerialBootConfig | LabgridBootConfig
"""A boot test's configuration, whichever the target."""


# virt: every -smp and every memory size at least once, not their product.
VIRT_CONFIGS = tuple(
    BootConfig(VIRT, smp, memory)
    for smp, memory in (
        (1, "128M"),
        (1, "8G"),
        (2, "512M"),
        (4, "128M"),
        (4, "2G"),
        (8, "8G"),
    )
)
# With -smp 8 OpenSBI picks the boot hart at random (not 0 in about one boot
# in five), so the same machine boots three more times.
REPEATED_CONFIGS = tuple(BootConfig(VIRT, 8, "8G", run) for run in (2, 3, 4))
# sifive_u's -smp counts its E51 monitor hart too: 2 is one hart that can run
# the kernel, 5 all four U54s. Its memory is the board's, as on the real one.
SIFIVE_U_CONFIGS = tuple(BootConfig(SIFIVE_U, smp, SIFIVE_U.qemu.memory) for smp in (2, 5))
# The path of a dev board: OpenSBI, then U-Boot's distro boot from a disk,
# with a word in extlinux.conf's `append` that the kernel must receive.
EXTLINUX_WORD = "extlinux"
U_BOOT_CONFIGS = tuple(
    BootConfig(VIRT, smp, "256M", append=f"poweroff {EXTLINUX_WORD}", via_u_boot=True)
    for smp in (1, 4)
)

# Interrupt controllers (issue 15): virt with the AIA's APLIC in direct
# mode, the APLIC with IMSICs (MSIs), and two NUMA sockets, each with a PLIC
# of its own that reaches only its own harts.
APLIC = MachineVariant("aplic", machine_options=("aia=aplic",))
APLIC_IMSIC = MachineVariant("aplic-imsic", machine_options=("aia=aplic-imsic",))
NUMA_SOCKETS = MachineVariant(
    "numa2",
    extra_args=(
        *("-object", "memory-backend-ram,id=m0,size=256M"),
        *("-object", "memory-backend-ram,id=m1,size=256M"),
        *("-numa", "node,memdev=m0,cpus=0-1"),
        *("-numa", "node,memdev=m1,cpus=2-3"),
    ),
)
IRQ_CONFIGS = (
    BootConfig(VIRT, 4, "256M", variant=APLIC),
    BootConfig(VIRT, 4, "256M", variant=APLIC_IMSIC),
    BootConfig(VIRT, 4, "512M", variant=NUMA_SOCKETS),
)
# Other machines and firmware (issue 15): QEMU's spike, whose console and
# power-off are SBI's (HTIF underneath) and whose harts refuse the Sstc their
# ISA string names; virt under Debian's OpenSBI fw_jump.bin, which copies
# the device tree to a fixed address (0x82200000) instead of where QEMU put it.
FW_JUMP = Path("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin")
FIRMWARE_CONFIGS = (
    BootConfig(SPIKE, 4, SPIKE.qemu.memory),
    BootConfig(VIRT, 4, "512M", firmware=FW_JUMP),
)
BOOT_CONFIGS = (
    VIRT_CONFIGS
    + REPEATED_CONFIGS
    + SIFIVE_U_CONFIGS
    + U_BOOT_CONFIGS
    + IRQ_CONFIGS
    + FIRMWARE_CONFIGS
)
# The kernel's own test cases (`ktest`): on several harts, and on both boards.
KTEST_CONFIGS = (
    BootConfig(VIRT, 4, "512M", append="ktest"),
    BootConfig(SIFIVE_U, 5, SIFIVE_U.qemu.memory, append="ktest"),
    # The device-tree cases read the console's interrupt controller: an APLIC
    # sending MSIs to IMSICs here.
    BootConfig(VIRT, 4, "256M", append="ktest", variant=APLIC_IMSIC),
    # No UART: the console is SBI's, and the console's cases are skipped.
    BootConfig(SPIKE, 2, SPIKE.qemu.memory, append="ktest"),
)


def init_plan(board: Board) -> inittokens.InitPlan:
    """The init calls the tests' build of `board` makes (`scons listinit`)."""
    declarations = inittokens.load(inittokens.find_declarations(REPO / "kernel"), REPO)
    return inittokens.plan(declarations, {"board": board.name, "debug": "1"})
