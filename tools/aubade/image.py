"""The RISC-V Linux image header at the start of `Image`, as U-Boot's booti reads it."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

# code0, code1, text_offset, image_size, flags, version, res1, res2, magic, magic2, res3
HEADER = struct.Struct("<IIQQQIIQ8s4sI")
MAGIC = b"RISCV\0\0\0"
MAGIC2 = b"RSC\x05"


class ImageHeaderError(Exception):
    """The Image does not start with a header that booti would accept."""


@dataclass(frozen=True)
class ImageHeader:
    text_offset: int
    image_size: int
    flags: int
    version: int


def read_header(path: Path) -> ImageHeader:
    data = path.read_bytes()[: HEADER.size]
    if len(data) < HEADER.size:
        raise ImageHeaderError(f"{path}: {len(data)} bytes, shorter than the image header")
    _, _, text_offset, image_size, flags, version, _, _, magic, magic2, _ = HEADER.unpack(data)
    if magic != MAGIC or magic2 != MAGIC2:
        raise ImageHeaderError(f"{path}: no RISC-V image magic (got {magic!r}, {magic2!r})")
    if image_size == 0:
        raise ImageHeaderError(f"{path}: image_size is 0; booti rejects that")
    return ImageHeader(text_offset, image_size, flags, version)
