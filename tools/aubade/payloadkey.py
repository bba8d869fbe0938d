"""The key that signs a payload (`scons keygen key=PATH`, `scons key=PATH`).

An Ed25519 key pair: the private key, PEM PKCS#8, in PATH (mode 0600); the
public key, PEM SubjectPublicKeyInfo, in PATH.pub. The build signs the
payload's SHA-256 digest (the 32 bytes of the header's digest field,
aubade.payload) with the private key, and builds the loader with the raw
32 bytes of the public key, which then refuses a payload that is unsigned or
signed by another key.

A key is named by its fingerprint: the first 8 bytes of the SHA-256 of its
raw 32-byte public key, as 16 lowercase hex digits. loader/payload_header.c
computes the same, and the loader's lines say it (`loader: verified
key=...`). Private keys are never committed: .gitignore keeps out `*.key`
and `*.key.pub`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PUBLIC_KEY_SIZE = 32
FINGERPRINT_BYTES = 8


class KeyFileError(Exception):
    """A key file that cannot be written or used; the message says what to do."""


def public_path(private: Path) -> Path:
    """Where `scons keygen key=PATH` writes the public key: PATH.pub."""
    return private.with_name(private.name + ".pub")


def fingerprint(public_key: bytes) -> str:
    """The name of a raw 32-byte public key: SHA-256's first 8 bytes, in hex."""
    return hashlib.sha256(public_key).digest()[:FINGERPRINT_BYTES].hex()


def raw_public_key(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def generate_key_pair(private: Path) -> str:
    """Writes a new key pair to `private` (0600) and its .pub; returns the
    fingerprint. Refuses (KeyFileError) if either file exists."""
    public = public_path(private)
    for path in (private, public):
        if path.exists() or path.is_symlink():
            raise KeyFileError(
                f"{path} exists: keygen never overwrites a key (a payload signed by the "
                "old one would no longer boot); remove it, or give another key=PATH"
            )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        private.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: created here, by us, with its mode from the start.
        descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(pem)
        os.chmod(private, 0o600)  # whatever the umask
        with public.open("xb") as stream:
            stream.write(public_pem)
    except OSError as error:
        raise KeyFileError(f"cannot write the key pair: {error}") from error
    return fingerprint(raw_public_key(key))


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in `path` (PEM PKCS#8, unencrypted)."""
    advice = f"make a key pair with `scons keygen key={path}`"
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise KeyFileError(f"key={path}: cannot read it ({reason}); {advice}") from error
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise KeyFileError(
            f"key={path}: not an unencrypted PEM private key ({error}); {advice}"
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"key={path}: a {type(key).__name__}, not an Ed25519 key; {advice}")
    return key


def sign_digest(key: Ed25519PrivateKey, digest: bytes) -> bytes:
    """The payload's signature field: Ed25519 over the 32 digest bytes."""
    return key.sign(digest)


def verify_digest(public_key: bytes, digest: bytes, signature: bytes) -> bool:
    """Whether `signature` is `public_key`'s over `digest`, as the loader checks it."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, digest)
    except InvalidSignature:
        return False
    return True


def render_c(public_key: bytes | None) -> str:
    """build/BOARD/loader/payload_key.c: the public key a loader requires, or
    none. Only a loader with a key calls Ed25519, so only it links it in
    (4 KiB of code a loader without one does not carry)."""
    lines = [
        "/* Written by the build (tools/aubade/payloadkey.py): the key the loader",
        " * requires of the payload's signature, from `scons key=PATH`. */",
        "#include <aubade/ed25519.h>",
        "#include <stdbool.h>",
        "#include <stdint.h>",
        "",
        "bool payload_signature_holds(const uint8_t signature[64], const uint8_t digest[32]);",
        "",
    ]
    if public_key is None:
        lines += [
            "/* No key= given: any payload whose digest holds is accepted. */",
            "const bool payload_key_present = false;",
            "const uint8_t payload_public_key[32] = {0};",
            "",
            "bool payload_signature_holds(const uint8_t signature[64], const uint8_t digest[32])",
            "{",
            "    (void)signature;",
            "    (void)digest;",
            "    return false;",
            "}",
        ]
    else:
        if len(public_key) != PUBLIC_KEY_SIZE:
            raise ValueError(f"an Ed25519 public key is 32 bytes, not {len(public_key)}")
        octets = ", ".join(f"0x{byte:02x}" for byte in public_key)
        lines += [
            f"/* Fingerprint {fingerprint(public_key)}. */",
            "const bool payload_key_present = true;",
            f"const uint8_t payload_public_key[32] = {{{octets}}};",
            "",
            "bool payload_signature_holds(const uint8_t signature[64], const uint8_t digest[32])",
            "{",
            "    return ed25519_verify(signature, digest, 32, payload_public_key);",
            "}",
        ]
    return "\n".join(lines) + "\n"
