"""Host tests of aubade.payload: two checked ELFs and a relocation table in, the same bytes out."""

from __future__ import annotations

import hashlib
import re
import stat
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from configurations import VIRT, built

from aubade import kreloc, payloadkey
from aubade.elfcheck import ElfCheckError, check_kernel_elf
from aubade.payload import (
    ALIGNMENT,
    HEADER_SIZE,
    SIGNATURE_SIZE,
    UNSIGNED,
    PayloadError,
    digest_of,
    pack,
    unpack,
    with_digest,
    with_signature,
    write_payload,
)
from tools.elfbuilder import ET_DYN, build_elf
from tools.test_elfcheck import ENTRY as KERNEL_ENTRY
from tools.test_elfcheck import kernel_headers
from tools.test_elfcheck_user import ENTRY as USER_ENTRY
from tools.test_elfcheck_user import user_headers

# The kernel as linked, with its relocations: write_payload's third input;
# and the ELFs the build embeds, which the table fits.
RELOCATABLE_KERNEL = built(VIRT, "kernel.elf")
BUILT_ELVES = (built(VIRT, "kernel.stripped.elf"), built(VIRT, "user/init.stripped.elf"))


def write_elves(tmp_path: Path, **kernel_fields: int) -> tuple[Path, Path]:
    kernel = tmp_path / "kernel.elf"
    kernel.write_bytes(build_elf(kernel_headers(), **{"entry": KERNEL_ENTRY, **kernel_fields}))
    user = tmp_path / "init.elf"
    user.write_bytes(build_elf(user_headers(), entry=USER_ENTRY))
    return kernel, user


def test_round_trip_gives_the_builds_elves_and_table_back_byte_for_byte(tmp_path: Path) -> None:
    kernel, user = BUILT_ELVES
    out = tmp_path / "payload.bin"

    checked_kernel, _ = write_payload(kernel, user, RELOCATABLE_KERNEL, out)

    unpacked = unpack(out.read_bytes())
    assert unpacked.kernel == kernel.read_bytes()
    assert unpacked.user == user.read_bytes()
    assert unpacked.relocations == kreloc.table(RELOCATABLE_KERNEL, checked_kernel.loads)
    assert unpacked.relocations, "the kernel has pointers in its data: the table is not empty"


def test_each_entry_starts_on_a_page(tmp_path: Path) -> None:
    unpacked = unpack(pack(b"k" * 5000, b"u" * 10, b"r" * 8))
    assert unpacked.kernel_offset % ALIGNMENT == 0
    assert unpacked.user_offset % ALIGNMENT == 0
    assert unpacked.user_offset >= unpacked.kernel_offset + 5000
    assert unpacked.relocations == b"r" * 8


def test_header_layout_is_the_loaders() -> None:
    """loader/payload_header.c reads these bytes as its struct payload_header."""
    data = pack(b"kernel", b"user", b"relocs")
    assert data[:16] == b"AUBPAYLD" + struct.pack("<II", 2, 3)
    assert data[16:48] == hashlib.sha256(data[:16] + data[112:]).digest()
    assert data[48:112] == bytes(64)
    entries = struct.unpack_from("<QQQQQQ", data, 112)
    assert entries == (ALIGNMENT, 6, 2 * ALIGNMENT, 4, 3 * ALIGNMENT, 6)
    assert HEADER_SIZE == 160


@pytest.mark.parametrize("bad", ["kernel", "user"])
def test_nothing_is_written_when_an_elf_is_bad(tmp_path: Path, bad: str) -> None:
    kernel, user = write_elves(tmp_path)
    broken = kernel if bad == "kernel" else user
    broken.write_bytes(broken.read_bytes()[:16])
    out = tmp_path / "payload.bin"
    with pytest.raises(ElfCheckError, match=str(broken)):
        write_payload(kernel, user, RELOCATABLE_KERNEL, out)
    assert not out.exists()


def test_the_kernel_is_checked_as_a_kernel_and_the_user_program_as_one(tmp_path: Path) -> None:
    kernel, user = write_elves(tmp_path)
    with pytest.raises(ElfCheckError, match="starts below 0xffffffc000000000"):
        write_payload(user, user, RELOCATABLE_KERNEL, tmp_path / "payload.bin")
    with pytest.raises(ElfCheckError, match="runs past the end of a user program's memory"):
        write_payload(kernel, kernel, RELOCATABLE_KERNEL, tmp_path / "payload.bin")
    kernel.write_bytes(build_elf(kernel_headers(), entry=KERNEL_ENTRY, elf_type=ET_DYN))
    with pytest.raises(ElfCheckError, match="ET_DYN"):
        write_payload(kernel, user, RELOCATABLE_KERNEL, tmp_path / "payload.bin")


def flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda data: data[:20], "too few for a payload header", id="truncated"),
        pytest.param(lambda data: b"X" + data[1:], "magic b'XUBPAYLD'", id="magic"),
        pytest.param(
            lambda data: data[:8] + struct.pack("<I", 3) + data[12:], "version 3", id="version"
        ),
        pytest.param(
            lambda data: data[:112] + struct.pack("<Q", 8) + data[120:],
            "the kernel entry at 0x8+0x6 is not page-aligned",
            id="misaligned",
        ),
        pytest.param(lambda data: data[: 2 * ALIGNMENT + 2], "the user entry", id="cut-short"),
    ],
)
def test_unpack_names_what_does_not_hold(edit: Callable[[bytes], bytes], message: str) -> None:
    """Each edit with the digest made to match again: the check after the digest's."""
    with pytest.raises(PayloadError, match=re.escape(message)):
        unpack(with_digest(edit(pack(b"kernel", b"user", b"relocs"))))


def part_offsets() -> dict[str, int]:
    """A byte in each part of a payload of two 5000-byte ELFs and a table."""
    data = pack(b"k" * 5000, b"u" * 5000, b"r" * 400)
    unpacked = unpack(data)
    return {
        "magic": 0,
        "version": 9,
        "count": 12,
        "digest": 20,
        "entry-table": 112 + 3,
        "padding": 1000,
        "kernel-first": unpacked.kernel_offset,
        "kernel-middle": unpacked.kernel_offset + 2500,
        "between-elves": unpacked.kernel_offset + 5000,
        "user-first": unpacked.user_offset,
        "user-last": unpacked.user_offset + 4999,
        "relocations": len(data) - 1,
    }


@pytest.mark.parametrize(("part", "offset"), part_offsets().items(), ids=part_offsets())
def test_unpack_refuses_a_flipped_byte_anywhere_as_a_digest_mismatch(
    part: str, offset: int
) -> None:
    data = pack(b"k" * 5000, b"u" * 5000, b"r" * 400)
    with pytest.raises(
        PayloadError, match=r"^digest mismatch: the header says sha256 [0-9a-f]{16}"
    ):
        unpack(flip(data, offset))


def test_the_signature_is_not_hashed_so_signing_keeps_the_digest() -> None:
    data = pack(b"kernel", b"user", b"relocs")
    signed = with_signature(data, b"s" * SIGNATURE_SIZE)
    assert unpack(signed).digest == unpack(data).digest == digest_of(data)
    assert unpack(signed).signature == b"s" * SIGNATURE_SIZE and unpack(signed).signed
    assert not unpack(data).signed


def test_a_signed_payload_verifies_with_its_key_and_not_another(tmp_path: Path) -> None:
    payloadkey.generate_key_pair(tmp_path / "a.key")
    payloadkey.generate_key_pair(tmp_path / "b.key")
    a = payloadkey.load_private_key(tmp_path / "a.key")
    b = payloadkey.load_private_key(tmp_path / "b.key")
    kernel, user = BUILT_ELVES
    out = tmp_path / "payload.bin"

    write_payload(
        kernel, user, RELOCATABLE_KERNEL, out, lambda digest: payloadkey.sign_digest(a, digest)
    )

    unpacked = unpack(out.read_bytes())
    public_a, public_b = payloadkey.raw_public_key(a), payloadkey.raw_public_key(b)
    assert payloadkey.verify_digest(public_a, unpacked.digest, unpacked.signature)
    assert not payloadkey.verify_digest(public_b, unpacked.digest, unpacked.signature)
    assert not payloadkey.verify_digest(public_a, unpacked.digest, UNSIGNED)
    other = digest_of(flip(out.read_bytes(), unpacked.user_offset))
    assert not payloadkey.verify_digest(public_a, other, unpacked.signature)


def test_the_fingerprint_is_sha256s_first_8_bytes_of_the_raw_public_key(tmp_path: Path) -> None:
    fingerprint = payloadkey.generate_key_pair(tmp_path / "a.key")
    public = payloadkey.raw_public_key(payloadkey.load_private_key(tmp_path / "a.key"))
    assert fingerprint == hashlib.sha256(public).hexdigest()[:16]
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint)
    assert f"Fingerprint {fingerprint}." in payloadkey.render_c(public)
    assert "payload_key_present = false" in payloadkey.render_c(None)


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    tmp_path: Path,
) -> None:
    private = tmp_path / "a.key"
    payloadkey.generate_key_pair(private)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "a.key.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    before = private.read_bytes()
    with pytest.raises(payloadkey.KeyFileError, match="exists: keygen never overwrites"):
        payloadkey.generate_key_pair(private)
    assert private.read_bytes() == before


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        pytest.param(None, "cannot read it", id="missing"),
        pytest.param(b"not a key\n", "not an unencrypted PEM private key", id="garbage"),
        pytest.param("rsa", "not an Ed25519 key", id="rsa"),
    ],
)
def test_a_key_file_that_cannot_sign_is_refused_saying_what_to_do(
    tmp_path: Path, contents: bytes | str | None, message: str
) -> None:
    path = tmp_path / "bad.key"
    if contents == "rsa":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        contents = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    if contents is not None:
        path.write_bytes(contents)
    with pytest.raises(payloadkey.KeyFileError, match=re.escape(message)) as error:
        payloadkey.load_private_key(path)
    assert str(path) in str(error.value)
    assert f"scons keygen key={path}" in str(error.value)


def test_a_table_entry_outside_the_kernels_file_bytes_is_refused(tmp_path: Path) -> None:
    """The table must name bytes the loader copies: the synthetic kernel's
    segments are not where the built kernel's pointers are."""
    kernel, user = write_elves(tmp_path)
    out = tmp_path / "payload.bin"
    with pytest.raises(kreloc.RelocationError, match="not in the bytes of a PT_LOAD segment"):
        write_payload(kernel, user, RELOCATABLE_KERNEL, out)
    assert not out.exists()
    assert check_kernel_elf(kernel).entry == KERNEL_ENTRY
