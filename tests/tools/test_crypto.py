"""lib/'s SHA-256 and SHA-512, built for the host and called through ctypes.

The same C files the loader links (lib/sha256.c, lib/sha512.c and the
blocking they share, lib/sha2_blocks.c) are compiled with clang into a
shared library; the host's libc stands in for lib/string.c, whose functions
have libc's prototypes.
Each hash is checked against the published example vectors, against itself
fed in pieces, and against Python's hashlib on random messages.
"""

from __future__ import annotations

import ctypes
import hashlib
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("lib/sha2_blocks.c", "lib/sha256.c", "lib/sha512.c")
CLANG = "clang-14"
# Larger than struct sha256: the tests hand the C code an opaque state.
STATE_SIZE = 512


@pytest.fixture(scope="session")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    library = tmp_path_factory.mktemp("crypto") / "libcrypto_host.so"
    subprocess.run(
        [
            CLANG,
            "-std=gnu11",
            "-shared",
            "-fPIC",
            "-O1",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{REPO / 'lib' / 'include'}",
            "-o",
            str(library),
            *(str(REPO / source) for source in SOURCES),
        ],
        check=True,
        timeout=120,
    )
    return ctypes.CDLL(str(library))


def one_shot(lib: ctypes.CDLL, name: str, message: bytes) -> bytes:
    size = hashlib.new(name).digest_size
    digest = ctypes.create_string_buffer(size)
    getattr(lib, name)(message, ctypes.c_size_t(len(message)), digest)
    return digest.raw


def in_pieces(lib: ctypes.CDLL, name: str, pieces: list[bytes]) -> bytes:
    size = hashlib.new(name).digest_size
    state = ctypes.create_string_buffer(STATE_SIZE)
    digest = ctypes.create_string_buffer(size)
    getattr(lib, f"{name}_init")(state)
    for piece in pieces:
        getattr(lib, f"{name}_update")(state, piece, ctypes.c_size_t(len(piece)))
    getattr(lib, f"{name}_final")(state, digest)
    return digest.raw


# ---------------------------------------------------------------- SHA-2

# The example messages of FIPS 180-4, with the digests NIST publishes for
# them (csrc.nist.gov, "Examples with Intermediate Values", SHA-256 and
# SHA-512), and the million 'a's of FIPS 180-2's appendices.
ABC = b"abc"
MESSAGE_448 = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
MILLION_A = b"a" * 1_000_000
SHA256_VECTORS = {
    b"": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ABC: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    MESSAGE_448: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    MILLION_A: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
}
MESSAGE_896 = (
    b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
    b"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
)
SHA512_VECTORS = {
    b"": "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    ABC: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    MESSAGE_448: "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
    "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445",
    MESSAGE_896: "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
    "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
    MILLION_A: "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
    "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
}
VECTORS = {"sha256": SHA256_VECTORS, "sha512": SHA512_VECTORS}


def vector_cases() -> list[tuple[str, bytes, str]]:
    return [
        (name, message, digest)
        for name, vectors in VECTORS.items()
        for message, digest in vectors.items()
    ]


def vector_id(case: tuple[str, bytes, str]) -> str:
    name, message, _ = case
    return f"{name}-{len(message)}-bytes"


@pytest.mark.parametrize("case", vector_cases(), ids=vector_id)
def test_published_vectors(lib: ctypes.CDLL, case: tuple[str, bytes, str]) -> None:
    name, message, digest = case
    assert one_shot(lib, name, message).hex() == digest


@pytest.mark.parametrize("name", VECTORS)
def test_updates_split_anywhere_give_the_one_shot_digest(lib: ctypes.CDLL, name: str) -> None:
    message = bytes(range(200))
    whole = one_shot(lib, name, message)
    for cut in range(len(message) + 1):
        assert in_pieces(lib, name, [message[:cut], message[cut:]]) == whole, f"cut at {cut}"


@pytest.mark.parametrize("name", VECTORS)
def test_byte_at_a_time_gives_the_one_shot_digest(lib: ctypes.CDLL, name: str) -> None:
    message = bytes(range(256)) * 2
    assert in_pieces(lib, name, [bytes([b]) for b in message]) == one_shot(lib, name, message)


@pytest.mark.parametrize("name", VECTORS)
@settings(max_examples=300, deadline=None)
@given(message=st.binary(max_size=300))
def test_random_messages_match_hashlib(lib: ctypes.CDLL, name: str, message: bytes) -> None:
    assert one_shot(lib, name, message) == hashlib.new(name, message).digest()
