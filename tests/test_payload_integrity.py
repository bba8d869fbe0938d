"""The payload's digest and signature, checked by the loader before anything else.

A byte flipped anywhere in the payload of a built Image, in its header (the
magic, the entry table, the digest itself), in the kernel's code or data or
in the user program, is `loader: panic reason=payload-digest` and a failure
exit, never a hang and never an ELF check that reads bytes nobody vouches
for. A loader built with a key (`scons key=PATH`, in a copy of the tree so
that build/virt stays the other tests') boots its own signed payload,
saying `loader: verified key=FINGERPRINT`, and refuses one signed by
another key or not signed at all (`reason=payload-signature`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from configurations import TEST_LOG_DIR, VIRT, built
from elftools.elf.elffile import ELFFile
from harness.image_payload import ImagePayload
from tools.test_build import copy_sources, scons

from aubade import payloadkey
from aubade.bootlog import Event, select
from aubade.machine import Machine
from aubade.payload import DIGEST_OFFSET, ENTRIES_OFFSET, SIGNATURE_OFFSET, UNSIGNED, Payload
from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget

IMAGE = built(VIRT, "Image")
LOADER_ELF = built(VIRT, "loader.elf")
PF_X = 1
PF_W = 2


def segment_middle(elf: bytes, wanted: int) -> int:
    """The offset in `elf` of the middle of the file bytes of its largest
    PT_LOAD segment whose flags include `wanted`."""
    segments = [
        segment
        for segment in ELFFile(io.BytesIO(elf)).iter_segments()
        if segment["p_type"] == "PT_LOAD"
        and segment["p_flags"] & wanted
        and segment["p_filesz"] > 0
    ]
    largest = max(segments, key=lambda segment: segment["p_filesz"])
    return largest["p_offset"] + largest["p_filesz"] // 2


FLIPS: dict[str, Callable[[Payload], int]] = {
    "header-magic": lambda _: 0,
    "header-digest": lambda _: DIGEST_OFFSET + 5,
    "header-entry-table": lambda _: ENTRIES_OFFSET + 17,
    "header-padding": lambda _: ENTRIES_OFFSET + 1000,
    "kernel-code": lambda unpacked: unpacked.kernel_offset + segment_middle(unpacked.kernel, PF_X),
    "kernel-data": lambda unpacked: unpacked.kernel_offset + segment_middle(unpacked.kernel, PF_W),
    "user-program": lambda unpacked: unpacked.user_offset + len(unpacked.user) // 2,
}
"""Where each boot flips one byte, from the payload's first."""


def boot_to_panic(name: str, image: Path) -> tuple[Machine, Event]:
    """Boots `image` until `loader: panic`, then until QEMU exits, which it
    must with a failure status; QEMU is ended whatever happens."""
    config = QemuConfig(VIRT, image, smp=1, memory="128M", append="poweroff")
    machine = Machine(name, QemuTarget(config), TEST_LOG_DIR / f"{name}.log")
    try:
        machine.power_on()
        machine.wait_for("loader", "start", timeout=30)
        panic = machine.wait_for("loader", "panic", timeout=20)
        status = machine.wait_exit(timeout=10)
    finally:
        machine.close()
    assert status not in (0, None), machine.report(f"exit status {status} after the panic")
    assert not any(event.component == "kernel" for event in machine.events), machine.report(
        "the kernel ran"
    )
    return machine, panic


def detail_after(machine: Machine, panic: Event) -> str:
    return machine.lines[machine.lines.index(panic.line) + 1]


@pytest.mark.xdist_group("payload-digest")
@pytest.mark.parametrize("part", FLIPS)
def test_a_flipped_byte_anywhere_in_the_payload_is_a_digest_mismatch(
    part: str, tmp_path: Path
) -> None:
    image = ImagePayload.read(IMAGE, LOADER_ELF, VIRT)
    offset = FLIPS[part](image.unpacked())
    assert not SIGNATURE_OFFSET <= offset < ENTRIES_OFFSET, "the signature is not hashed"
    assert 0 <= offset < image.end - image.start
    image.flip(offset)

    machine, panic = boot_to_panic(f"payload-flip-{part}", image.write(tmp_path / "Image"))

    report = machine.report(f"a flip at payload+{offset:#x} ({part})")
    assert panic.fields["reason"] == "payload-digest", report
    detail = detail_after(machine, panic)
    assert re.search(r"says sha256 [0-9a-f]{16}\.\.\..* hash to [0-9a-f]{16}\.\.\.", detail), report
    assert not select(machine.events, "loader", "payload"), report
    assert not select(machine.events, "loader", "kernel"), report


# A loader built with a key, in a copy of the tree.


class SignedBuild:
    def __init__(self, tree: Path, fingerprints: dict[str, str]) -> None:
        self.tree = tree
        self.fingerprints = fingerprints

    def image(self) -> ImagePayload:
        build = self.tree / "build" / VIRT.name
        return ImagePayload.read(build / "Image", build / "loader.elf", VIRT)


@pytest.fixture(scope="module")
def signed_build(tmp_path_factory: pytest.TempPathFactory) -> SignedBuild:
    """A copy of the tree, keys tmp/a.key and tmp/b.key, built with key=tmp/a.key."""
    tree = copy_sources(tmp_path_factory.mktemp("signed-tree"))
    fingerprints = {}
    for name in ("a", "b"):
        result = scons(tree, "keygen", f"key=tmp/{name}.key")
        assert result.returncode == 0, result.stdout + result.stderr
        (fingerprint,) = re.findall(r"Ed25519 private key ([0-9a-f]{16})", result.stdout)
        fingerprints[name] = fingerprint
    result = scons(tree, "key=tmp/a.key")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"signing the payload with key {fingerprints['a']}" in result.stdout
    return SignedBuild(tree, fingerprints)


@pytest.mark.xdist_group("payload-signed")
def test_a_loader_with_a_key_boots_the_payload_that_key_signed(
    signed_build: SignedBuild,
) -> None:
    image = signed_build.image()
    assert image.unpacked().signed
    config = QemuConfig(VIRT, signed_build.tree / "build/virt/Image", smp=1, append="poweroff")
    machine = Machine("payload-signed", QemuTarget(config), TEST_LOG_DIR / "payload-signed.log")
    try:
        machine.power_on()
        machine.wait_for("loader", "start", timeout=30)
        digest = machine.wait_for("loader", "payload", timeout=20)
        verified = machine.wait_for("loader", "verified", timeout=20)
        machine.wait_for("loader", "handoff", timeout=20)
        machine.wait_for("kernel", "poweroff", timeout=60)
        status = machine.wait_exit(timeout=10)
    finally:
        machine.close()
    report = machine.report("the signed boot")
    assert verified.fields["key"] == signed_build.fingerprints["a"], report
    assert int(verified.fields["us"]) >= 0, report
    assert digest.fields["sha256"] == image.unpacked().digest.hex()[:16], report
    assert int(digest.fields["bytes"], 16) == image.end - image.start, report
    assert status == 0, report


def signature_by(tree: Path, name: str, digest: bytes) -> bytes:
    key = payloadkey.load_private_key(tree / "tmp" / f"{name}.key")
    return payloadkey.sign_digest(key, digest)


@pytest.mark.xdist_group("payload-signed")
@pytest.mark.parametrize("signer", ["b", "nobody"])
def test_a_loader_with_a_key_refuses_a_payload_another_key_or_nobody_signed(
    signed_build: SignedBuild, signer: str, tmp_path: Path
) -> None:
    image = signed_build.image()
    unpacked = image.unpacked()
    signature = (
        UNSIGNED if signer == "nobody" else signature_by(signed_build.tree, signer, unpacked.digest)
    )
    data = bytearray(image.data)
    data[SIGNATURE_OFFSET:ENTRIES_OFFSET] = signature
    image.replace(bytes(data))
    assert image.unpacked().digest == unpacked.digest, "the digest still holds"

    machine, panic = boot_to_panic(f"payload-signed-by-{signer}", image.write(tmp_path / "Image"))

    report = machine.report(f"a payload signed by {signer}")
    assert panic.fields["reason"] == "payload-signature", report
    assert select(machine.events, "loader", "payload"), report
    assert not select(machine.events, "loader", "verified"), report
    detail = detail_after(machine, panic)
    assert signed_build.fingerprints["a"] in detail, report
    if signer == "nobody":
        assert "payload is unsigned; this loader requires a signature by key" in detail, report
