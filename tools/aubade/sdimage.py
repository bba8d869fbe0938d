"""The SD-card image that U-Boot's standard distro boot finds on its own.

Layout (`scons sdimage`, docs/boards.md):

    0       MBR partition table (sfdisk), one partition, marked bootable
    1 MiB   partition 1: FAT16 (mkfs.vfat), label AUBADE
              /Image                     the build's Image (booti header first)
              /extlinux/extlinux.conf    one label: `kernel /Image`, the
                                         `append` line, and `fdt` if given
              /dtb/NAME                  only with a device tree file

U-Boot's distro boot scans the bootable partitions of every disk for
`/extlinux/extlinux.conf`, loads what the chosen label names and runs
`booti`, which moves the Image to DRAM base + text_offset and enters it with
a1 = the device tree (the `fdt` file's, else the one U-Boot got from the
firmware), its /chosen/bootargs set from `append`.

Real tools write the table and the file system, nothing here writes a byte
of either: sfdisk (fdisk), mkfs.vfat (dosfstools), mmd and mcopy (mtools),
all of which work on a plain file, without root or loop devices.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PARTITION_OFFSET = 1 << 20
"""Where the boot partition starts: 1 MiB, the alignment every partitioning
tool uses, leaving the space after the MBR to boards whose boot ROM wants its
own data there."""
PARTITION_SIZE = 8 << 20
"""Room for the Image (about 200 KiB), a device tree, and later kernels."""
VOLUME_LABEL = "AUBADE"
# FAT16 with type 0x0e (FAT16, LBA addressing): 8 MiB is too small for FAT32
# and FAT12 is the one some firmware reads worst. FAT16 needs at least 4085
# clusters: 1 KiB clusters (2 sectors) give 8 MiB about 8000.
_FAT_BITS = "16"
_SECTORS_PER_CLUSTER = "2"
_PARTITION_TYPE = "e"
_SECTOR = 512
# The volume serial number and the disk identifier, fixed rather than random
# so that two builds of the same Image differ only in the files' timestamps.
_VOLUME_ID = "41554244"
_DISK_ID = "0x41554244"
_LABEL = "aubade"
_TOOLS = {"sfdisk": "fdisk", "mkfs.vfat": "dosfstools", "mmd": "mtools", "mcopy": "mtools"}


class SdImageError(Exception):
    """The image could not be written; the message says why and what to do."""


@dataclass(frozen=True)
class SdImage:
    """What `write_sd_image` wrote."""

    path: Path
    size: int
    """Bytes of the whole image, as `dd` writes them to the card."""
    files: tuple[tuple[str, int], ...]
    """Each file of the boot partition and its size in bytes."""

    def describe(self) -> str:
        files = ", ".join(f"{name} ({size} bytes)" for name, size in self.files)
        return (
            f"{self.path}: {self.size} bytes; partition 1 (FAT{_FAT_BITS}, "
            f"{PARTITION_SIZE >> 20} MiB at {PARTITION_OFFSET >> 20} MiB, bootable): {files}"
        )


U_BOOT_BOOTARGS_MAX = 255
"""The longest `append` U-Boot takes: its extlinux code copies the line into
a buffer of CONFIG_SYS_CBSIZE bytes, 256 unless a board's configuration says
otherwise (RISC-V boards and QEMU's keep the default), less the NUL. Longer,
U-Boot prints "bootarg overflow" and "EXTLINUX FAILED" at boot."""


def check_append(append: str) -> None:
    """Refuse, with the reason, a command line that extlinux.conf cannot carry
    to the kernel as it is."""
    if "\n" in append or "\r" in append:
        raise SdImageError(
            f"append={append!r} has a line break: extlinux.conf takes the command line "
            "as one `append` line, and the rest would become a line of its own; "
            "join the words with spaces"
        )
    if len(append) > U_BOOT_BOOTARGS_MAX:
        raise SdImageError(
            f"append= is {len(append)} characters, and U-Boot's extlinux holds at most "
            f"{U_BOOT_BOOTARGS_MAX} (CONFIG_SYS_CBSIZE 256, less its NUL): it would stop "
            "with `bootarg overflow`; shorten the command line"
        )


def extlinux_conf(board_name: str, append: str, fdt: str | None = None) -> str:
    """The extlinux.conf that boots /Image with `append` as its command line."""
    check_append(append)
    lines = [
        "# Aubade's boot menu for U-Boot's distro boot, written by `scons sdimage`.",
        f"default {_LABEL}",
        f"label {_LABEL}",
        f"    menu label Aubade ({board_name})",
        "    kernel /Image",
    ]
    if fdt is not None:
        lines.append(f"    fdt /dtb/{fdt}")
    # An `append` line with nothing after it is a syntax error to U-Boot
    # 2023.01, which then crashes (a load access fault). Without the line
    # U-Boot leaves `bootargs` as they are: unset on QEMU's U-Boot, whatever
    # a board's environment holds (often Linux's words, which the kernel
    # logs and ignores). extlinux has no way to say "an empty command line".
    if append.strip():
        lines.append(f"    append {append.strip()}")
    return "\n".join(lines) + "\n"


def write_sd_image(
    image: Path, output: Path, board_name: str, append: str = "", dtb: Path | None = None
) -> SdImage:
    """Write the SD-card image that boots `image` through U-Boot to `output`.

    It is written beside `output` and renamed into place once complete, so a
    failure leaves the previous image, if any, as it was.
    """
    _require_tools()
    sources = [("Image", image)] + ([(f"dtb/{dtb.name}", dtb)] if dtb is not None else [])
    for name, source in sources:
        if not source.is_file():
            raise SdImageError(f"{source} does not exist (wanted as /{name} of the SD image)")
    size = PARTITION_OFFSET + PARTITION_SIZE
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sdimage-", dir=output.parent) as scratch:
        disk = Path(scratch) / output.name
        conf = Path(scratch) / "extlinux.conf"
        conf.write_text(extlinux_conf(board_name, append, None if dtb is None else dtb.name))
        sources.append(("extlinux/extlinux.conf", conf))

        # 1. A zeroed file of the card's size: the partition table's sectors
        #    and the file system's must read as zero where nothing is written.
        with disk.open("wb") as file:
            file.truncate(size)
        # 2. The partition table.
        start, sectors = PARTITION_OFFSET // _SECTOR, PARTITION_SIZE // _SECTOR
        table = (
            f"label: dos\nlabel-id: {_DISK_ID}\n"
            f"start={start}, size={sectors}, type={_PARTITION_TYPE}, bootable\n"
        )
        _run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", str(disk)], table)
        # 3. The file system, inside the partition (mkfs.vfat counts 1 KiB blocks).
        _run(
            [
                *("mkfs.vfat", "-F", _FAT_BITS, "-s", _SECTORS_PER_CLUSTER),
                *("-n", VOLUME_LABEL, "-i", _VOLUME_ID),
                *("--offset", str(start), str(disk), str(PARTITION_SIZE // 1024)),
            ]
        )
        # 4. The files, through mtools' view of the partition at its offset.
        partition = f"{disk}@@{PARTITION_OFFSET}"
        _run(["mmd", "-i", partition, "::/extlinux"] + (["::/dtb"] if dtb is not None else []))
        for name, source in sources:
            _run(["mcopy", "-i", partition, str(source), f"::/{name}"])
        files = tuple((name, source.stat().st_size) for name, source in sources)
        os.replace(disk, output)
    return SdImage(output, size, files)


def read_file(sd_image: Path, name: str) -> str:
    """A text file of the image's boot partition, read with mtools (`extlinux/extlinux.conf`)."""
    _require_tools()
    return _run(["mtype", "-i", f"{sd_image}@@{PARTITION_OFFSET}", f"::/{name}"])


def extlinux_append(sd_image: Path) -> str | None:
    """The command line the image's extlinux.conf gives the kernel; None
    without an `append` line, when the kernel gets U-Boot's own `bootargs`."""
    for line in read_file(sd_image, "extlinux/extlinux.conf").splitlines():
        words = line.split(maxsplit=1)
        if words and words[0] == "append":
            return words[1] if len(words) > 1 else ""
    return None


def _require_tools() -> None:
    missing = sorted({package for tool, package in _TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise SdImageError(
            f"writing an SD image needs {', '.join(sorted(_TOOLS))}, and the Debian "
            f"packages {', '.join(missing)} are not installed: run tools/setup"
        )


def _run(command: list[str], stdin: str | None = None) -> str:
    # mtools refuses a FAT whose geometry it cannot match to a floppy unless told not to check.
    environment = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    result = subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=environment, check=False
    )
    if result.returncode != 0:
        raise SdImageError(
            f"`{' '.join(command)}` failed (exit status {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()}"
        )
    return result.stdout
