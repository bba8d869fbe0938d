"""The payload: what the loader carries (`.incbin`) and unpacks at boot.

It holds two ELF files, each checked first by aubade.elfcheck with its own
rules: the kernel, and the first user program (PID 1, `user/init.elf`); and
the kernel's relocation table (aubade.kreloc), with which the loader moves
the kernel (KASLR). The format, version 2, integers little-endian:

    offset  size  field
    0       8     magic: the bytes "AUBPAYLD"
    8       4     version: 2
    12      4     count: the number of entries that follow, 3
    16      32    digest: SHA-256 of every byte of the payload but this field
                  and the signature's (bytes 0-15, then 112 to the end)
    48      64    signature: Ed25519 over the 32 bytes of the digest, by the
                  key the build was given (`scons key=PATH`); all zeros when
                  the payload is unsigned
    112     16    entry 0, the kernel: offset, size (u64 each)
    128     16    entry 1, the user program: offset, size
    144     16    entry 2, the kernel's relocation table: offset, size
    160     ...   zeros up to the first entry; each entry starts at a multiple
                  of 4096 from the payload's start (the loader places the
                  payload page-aligned), with zeros between them

Offsets count from the payload's first byte. The digest and the signature
sit at fixed offsets ahead of everything they vouch for, so the loader finds
them without trusting any other byte: it hashes the payload first, and only
then reads the magic, the version and the entries. Everything else is hashed,
the padding and the header's own magic included, so that any flipped byte is
a digest mismatch. Page alignment lets the kernel name the user ELF's bytes
as whole pages, and keeps the ELFs' 8-byte fields aligned for the loader,
which reads them in place. loader/payload_header.c reads the header and
refuses one that does not hold (`loader: panic reason=payload-...`,
`payload-digest` for a digest that does not match, `payload-signature` for a
loader built with a key and a payload that is unsigned or signed by another).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aubade import kreloc
from aubade.elfcheck import CheckedElf, check_kernel_elf, check_user_elf

MAGIC = b"AUBPAYLD"
VERSION = 2
ALIGNMENT = 4096
_HEADER = struct.Struct("<8sII")
DIGEST_OFFSET = _HEADER.size
DIGEST_SIZE = 32
SIGNATURE_OFFSET = DIGEST_OFFSET + DIGEST_SIZE
SIGNATURE_SIZE = 64
UNSIGNED = bytes(SIGNATURE_SIZE)
"""The signature field of a payload nobody signed."""
ENTRIES_OFFSET = SIGNATURE_OFFSET + SIGNATURE_SIZE
_ENTRY = struct.Struct("<QQ")
_ENTRY_NAMES = ("kernel", "user", "relocations")
_ENTRY_COUNT = len(_ENTRY_NAMES)
HEADER_SIZE = ENTRIES_OFFSET + _ENTRY_COUNT * _ENTRY.size


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
    digest: bytes
    """The SHA-256 the header holds (and that the bytes have: unpack checks)."""
    signature: bytes
    """The Ed25519 signature of the digest, or UNSIGNED."""

    @property
    def signed(self) -> bool:
        return self.signature != UNSIGNED


def _aligned(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT


def digest_of(data: bytes) -> bytes:
    """The SHA-256 the payload `data` should carry: of all its bytes but the
    digest and signature fields (whatever they hold now)."""
    if len(data) < ENTRIES_OFFSET:
        raise PayloadError(f"{len(data)} bytes are too few for a payload header")
    hashed = hashlib.sha256(data[:DIGEST_OFFSET])
    hashed.update(data[ENTRIES_OFFSET:])
    return hashed.digest()


def with_signature(data: bytes, signature: bytes) -> bytes:
    """`data` with its signature field replaced: the digest still holds, since
    the signature is not hashed."""
    if len(signature) != SIGNATURE_SIZE:
        raise PayloadError(f"a signature is {SIGNATURE_SIZE} bytes, not {len(signature)}")
    return data[:SIGNATURE_OFFSET] + signature + data[ENTRIES_OFFSET:]


def with_digest(data: bytes) -> bytes:
    """`data` with its digest field made to match its other bytes again (for
    a test that edits a payload on purpose and wants the next check to see it)."""
    return data[:DIGEST_OFFSET] + digest_of(data) + data[SIGNATURE_OFFSET:]


def pack(kernel: bytes, user: bytes, relocations: bytes, signature: bytes = UNSIGNED) -> bytes:
    """The payload of these two ELFs' bytes and the kernel's relocation table,
    with its digest, unsigned unless `signature` is given (sign it with
    aubade.payloadkey.sign_payload)."""
    entries = (kernel, user, relocations)
    offsets = []
    end = HEADER_SIZE
    for entry in entries:
        offsets.append(_aligned(end))
        end = offsets[-1] + len(entry)
    payload = bytearray(end)
    _HEADER.pack_into(payload, 0, MAGIC, VERSION, len(entries))
    for index, (offset, entry) in enumerate(zip(offsets, entries, strict=True)):
        _ENTRY.pack_into(payload, ENTRIES_OFFSET + index * _ENTRY.size, offset, len(entry))
        payload[offset : offset + len(entry)] = entry
    return with_signature(with_digest(bytes(payload)), signature)


def unpack(data: bytes) -> Payload:
    """The entries of a payload whose digest holds; PayloadError names what
    does not hold. The signature is read, not checked: that needs the key
    (aubade.payloadkey.verify_payload)."""
    if len(data) < HEADER_SIZE:
        raise PayloadError(f"{len(data)} bytes are too few for a payload header")
    carried = data[DIGEST_OFFSET:SIGNATURE_OFFSET]
    computed = digest_of(data)
    if carried != computed:
        raise PayloadError(
            f"digest mismatch: the header says sha256 {carried.hex()[:16]}..., "
            f"the bytes hash to {computed.hex()[:16]}..."
        )
    magic, version, count = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise PayloadError(f"magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION or count != _ENTRY_COUNT:
        raise PayloadError(
            f"version {version} with {count} entries, expected version {VERSION} "
            f"with {_ENTRY_COUNT}"
        )
    spans = [
        _ENTRY.unpack_from(data, ENTRIES_OFFSET + index * _ENTRY.size)
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
        digest=carried,
        signature=data[SIGNATURE_OFFSET:ENTRIES_OFFSET],
    )


def write_payload(
    kernel: Path,
    user: Path,
    relocatable_kernel: Path,
    out: Path,
    sign: Callable[[bytes], bytes] | None = None,
) -> tuple[CheckedElf, CheckedElf]:
    """Checks both ELFs, then writes the payload, its digest signed by `sign`
    (digest in, 64-byte signature out) if given; nothing is written if a
    check fails.

    `relocatable_kernel` is the kernel as linked, with its relocations
    (`kernel` is the same without them, its symbols or debug information);
    the table counts from its first loaded byte.
    """
    checked = (check_kernel_elf(kernel), check_user_elf(user))
    relocations = kreloc.table(relocatable_kernel, checked[0].loads)
    data = pack(kernel.read_bytes(), user.read_bytes(), relocations)
    if sign is not None:
        data = with_signature(data, sign(data[DIGEST_OFFSET:SIGNATURE_OFFSET]))
    out.write_bytes(data)
    return checked
