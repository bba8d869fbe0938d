"""The SD-card image: a partition table and a FAT file system that other
tools read back as U-Boot's distro boot expects them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from aubade import sdimage
from aubade.sdimage import PARTITION_OFFSET, PARTITION_SIZE, SdImageError

SECTOR = 512


@pytest.fixture(scope="module")
def image_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in Image: the SD image does not look inside it, but must copy every byte."""
    path = tmp_path_factory.mktemp("kernel") / "Image"
    path.write_bytes(bytes(range(256)) * 700 + b"end")
    return path


@pytest.fixture(scope="module")
def written(image_file: Path, tmp_path_factory: pytest.TempPathFactory) -> sdimage.SdImage:
    output = tmp_path_factory.mktemp("card") / "sdcard.img"
    return sdimage.write_sd_image(image_file, output, "virt", "poweroff loglevel=debug")


def partitions(path: Path) -> dict:
    dump = subprocess.run(["sfdisk", "--json", str(path)], capture_output=True, check=True)
    return json.loads(dump.stdout)["partitiontable"]


def copy_out(card: Path, name: str, destination: Path) -> bytes:
    subprocess.run(
        ["mcopy", "-i", f"{card}@@{PARTITION_OFFSET}", f"::/{name}", str(destination)],
        check=True,
        capture_output=True,
        env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"},
    )
    return destination.read_bytes()


def test_the_card_has_one_bootable_fat_partition_at_1_mib(written: sdimage.SdImage) -> None:
    table = partitions(written.path)
    assert table["label"] == "dos"
    (partition,) = table["partitions"]
    assert partition["start"] * SECTOR == PARTITION_OFFSET
    assert partition["size"] * SECTOR == PARTITION_SIZE
    assert partition["bootable"] is True
    assert partition["type"] == "e"
    assert written.size == written.path.stat().st_size == PARTITION_OFFSET + PARTITION_SIZE


def test_the_partition_holds_a_fat16_file_system_labelled_aubade(written: sdimage.SdImage) -> None:
    # The boot sector of the partition: the file system type and label strings of a FAT12/16 BPB.
    with written.path.open("rb") as card:
        card.seek(PARTITION_OFFSET)
        boot_sector = card.read(SECTOR)
    assert boot_sector[0x36:0x3E] == b"FAT16   "
    assert boot_sector[0x2B:0x36] == b"AUBADE     "
    assert boot_sector[0x1FE:] == b"\x55\xaa"


def test_the_image_is_copied_byte_for_byte(
    written: sdimage.SdImage, image_file: Path, tmp_path: Path
) -> None:
    assert copy_out(written.path, "Image", tmp_path / "Image") == image_file.read_bytes()


def test_extlinux_conf_boots_the_image_with_the_command_line(written: sdimage.SdImage) -> None:
    conf = sdimage.read_file(written.path, "extlinux/extlinux.conf")
    assert conf == sdimage.extlinux_conf("virt", "poweroff loglevel=debug")
    assert "    kernel /Image\n" in conf
    assert "fdt" not in conf
    assert sdimage.extlinux_append(written.path) == "poweroff loglevel=debug"


def test_the_description_names_every_file_and_its_size(
    written: sdimage.SdImage, image_file: Path
) -> None:
    assert f"Image ({image_file.stat().st_size} bytes)" in written.describe()
    assert "extlinux/extlinux.conf" in written.describe()
    assert f"{written.size} bytes" in written.describe()


def test_a_device_tree_is_copied_and_named_by_an_fdt_line(image_file: Path, tmp_path: Path) -> None:
    dtb = tmp_path / "board.dtb"
    dtb.write_bytes(b"\xd0\x0d\xfe\xed" + bytes(100))
    card = sdimage.write_sd_image(image_file, tmp_path / "sd.img", "virt", "", dtb)
    assert "    fdt /dtb/board.dtb\n" in sdimage.read_file(card.path, "extlinux/extlinux.conf")
    assert copy_out(card.path, "dtb/board.dtb", tmp_path / "copy.dtb") == dtb.read_bytes()
    # No append words: no append line, which U-Boot 2023.01 would crash on.
    assert sdimage.extlinux_append(card.path) is None


@pytest.mark.parametrize("append", ["", "   "])
def test_no_command_line_writes_no_append_line(append: str) -> None:
    conf = sdimage.extlinux_conf("virt", append)
    assert "append" not in conf
    assert conf.endswith("    kernel /Image\n")


def test_the_longest_append_u_boot_holds_is_written_whole() -> None:
    append = "x" * sdimage.U_BOOT_BOOTARGS_MAX
    assert f"    append {append}\n" in sdimage.extlinux_conf("virt", append)


def test_an_append_u_boot_cannot_hold_is_refused_with_its_length(
    image_file: Path, tmp_path: Path
) -> None:
    append = "y" * (sdimage.U_BOOT_BOOTARGS_MAX + 1)
    with pytest.raises(SdImageError, match=r"append= is 256 characters.*at most 255.*overflow"):
        sdimage.write_sd_image(image_file, tmp_path / "sd.img", "virt", append)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("append", ["poweroff\nloglevel=debug", "poweroff\r", "\n"])
def test_an_append_with_a_line_break_is_refused(append: str) -> None:
    with pytest.raises(SdImageError, match=r"has a line break.*join the words with spaces"):
        sdimage.extlinux_conf("virt", append)


def test_a_missing_image_is_named_and_the_previous_card_is_kept(tmp_path: Path) -> None:
    output = tmp_path / "sdcard.img"
    output.write_bytes(b"the previous image")
    with pytest.raises(SdImageError, match=r"nothing/Image does not exist \(wanted as /Image"):
        sdimage.write_sd_image(tmp_path / "nothing" / "Image", output, "virt")
    assert output.read_bytes() == b"the previous image"
    assert list(tmp_path.iterdir()) == [output]


def test_missing_tools_name_their_packages_and_the_setup_command(
    image_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SdImageError) as error:
        sdimage.write_sd_image(image_file, tmp_path / "sd.img", "virt")
    assert "dosfstools, fdisk, mtools" in str(error.value)
    assert "tools/setup" in str(error.value)
