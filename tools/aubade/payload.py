"""The payload: what the loader carries (`.incbin`) and unpacks at boot.

It holds two ELF files, each checked first by aubade.elfcheck with its own
rules: the kernel, and the first user program (PID 1, `user/init.elf`); and
the kernel's relocation table (aubade.kreloc), which lets the loader move the
kernel. The format, version 1, integers little-endian:

    offset  size  field
    0       8     magic: the bytes "AUBPAYLD"
    8       4     version: 1
    12      4     count: the number of entries that follow, 3
    16      16    entry 0, the kernel: offset, size (u64 each)
    32      16    entry 1, the user program: offset, size
    48      16    entry 2, the kernel's relocations: offset, size
    64      ...   zeros up to the first ELF; each entry starts at a multiple of
                  4096 from the payload's start (the loader places the payload
                  page-aligned), with zeros between them

Offsets count from the payload's first byte. Page alignment lets the kernel
name the user ELF's bytes as whole pages, and keeps the ELFs' 8-byte fields
aligned for the loader, which reads them in place. loader/payload_header.c
reads the header and refuses one that does not hold (`loader: panic
reason=payload-...`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from aubade import kreloc
from aubade.elfcheck import CheckedElf, check_kernel_elf, check_user_elf

MAGIC = b"AUBPAYLD"
VERSION = 1
ALIGNMENT = 4096
_HEADER = struct.Struct("<8sII")
_ENTRY = struct.Struct("<QQ")
_ENTRY_COUNT = 3
_ENTRY_NAMES = ("kernel", "user", "relocations")


class PayloadError(Exception):
    """Bytes that are not a payload of this version."""


@dataclass(frozen=True)
class Payload:
    kernel: bytes
    user: bytes
    relocations: bytes
    """The kernel's relocation table (aubade.kreloc)."""
    kernel_offset: int
    """Where the kernel ELF starts, from the payload's first byte."""
    user_offset: int


def _aligned(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT


def pack(kernel: bytes, user: bytes, relocations: bytes) -> bytes:
    """The payload of these two ELFs' bytes and the kernel's relocation table."""
    entries = (kernel, user, relocations)
    offsets = []
    end = _HEADER.size + len(entries) * _ENTRY.size
    for entry in entries:
        offsets.append(_aligned(end))
        end = offsets[-1] + len(entry)
    payload = bytearray(end)
    _HEADER.pack_into(payload, 0, MAGIC, VERSION, len(entries))
    for index, (offset, entry) in enumerate(zip(offsets, entries, strict=True)):
        _ENTRY.pack_into(payload, _HEADER.size + index * _ENTRY.size, offset, len(entry))
        payload[offset : offset + len(entry)] = entry
    return bytes(payload)


def unpack(data: bytes) -> Payload:
    """The two ELFs of a payload; PayloadError names what does not hold."""
    if len(data) < _HEADER.size + _ENTRY_COUNT * _ENTRY.size:
        raise PayloadError(f"{len(data)} bytes are too few for a payload header")
    magic, version, count = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise PayloadError(f"magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION or count != _ENTRY_COUNT:
        raise PayloadError(
            f"version {version} with {count} entries, expected version {VERSION} "
            f"with {_ENTRY_COUNT}"
        )
    spans = [
        _ENTRY.unpack_from(data, _HEADER.size + index * _ENTRY.size)
        for index in range(_ENTRY_COUNT)
    ]
    for name, (offset, size) in zip(_ENTRY_NAMES, spans, strict=True):
        if offset % ALIGNMENT or offset + size > len(data):
            raise PayloadError(
                f"the {name} entry at {offset:#x}+{size:#x} is not page-aligned inside "
                f"the {len(data):#x} bytes"
            )
    kernel, user, relocations = (data[offset : offset + size] for offset, size in spans)
    (kernel_offset, _), (user_offset, _), _ = spans
    return Payload(
        kernel=kernel,
        user=user,
        relocations=relocations,
        kernel_offset=kernel_offset,
        user_offset=user_offset,
    )


def write_payload(
    kernel: Path, user: Path, relocatable_kernel: Path, out: Path
) -> tuple[CheckedElf, CheckedElf]:
    """Checks both ELFs, then writes the payload; nothing is written if a check fails.

    `relocatable_kernel` is the kernel as linked, with its relocations
    (`kernel` is the same without them nor debug information); the table
    counts from its first loaded byte.
    """
    checked = (check_kernel_elf(kernel), check_user_elf(user))
    relocations = kreloc.table(relocatable_kernel, checked[0].loads)
    out.write_bytes(pack(kernel.read_bytes(), user.read_bytes(), relocations))
    return checked
