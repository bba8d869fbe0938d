"""lib/'s SHA-256, SHA-512 and Ed25519 verification, on the host.

The same C files the loader links (lib/sha256.c, lib/sha512.c and the
blocking they share, lib/sha2_blocks.c; lib/ed25519.c and its field
arithmetic, lib/curve25519_field.c) are compiled with clang into a shared
library and called through ctypes; the host's libc stands in for
lib/string.c, whose functions have libc's prototypes.

Each hash is checked against the published example vectors, against itself
fed in pieces, and against Python's hashlib on random messages. Ed25519 is
checked against RFC 8032's vectors and `cryptography`'s signatures, and
must refuse every altered signature, key or message, an S of L or more,
and keys that are not canonical point encodings. The same files, built for
the board, must need no libgcc helper (the stages link without libgcc).
"""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from tools import hostlib

REPO = Path(__file__).resolve().parents[2]
SOURCES = (
    "lib/sha2_blocks.c",
    "lib/sha256.c",
    "lib/sha512.c",
    "lib/curve25519_field.c",
    "lib/ed25519.c",
)
# Larger than struct sha256: the tests hand the C code an opaque state.
STATE_SIZE = 512


@pytest.fixture(scope="session")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    loaded = hostlib.build(tmp_path_factory.mktemp("crypto") / "libcrypto_host.so", SOURCES)
    loaded.ed25519_verify.restype = ctypes.c_bool
    loaded.ed25519_verify.argtypes = (
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_char_p,
    )
    return loaded


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
def test_empty_message_may_be_null(lib: ctypes.CDLL, name: str) -> None:
    digest = ctypes.create_string_buffer(hashlib.new(name).digest_size)
    getattr(lib, name)(None, ctypes.c_size_t(0), digest)
    assert digest.raw == hashlib.new(name).digest()


@pytest.mark.parametrize("name", VECTORS)
def test_byte_at_a_time_gives_the_one_shot_digest(lib: ctypes.CDLL, name: str) -> None:
    message = bytes(range(256)) * 2
    assert in_pieces(lib, name, [bytes([b]) for b in message]) == one_shot(lib, name, message)


@pytest.mark.parametrize("name", VECTORS)
@settings(max_examples=300, deadline=None)
@given(message=st.binary(max_size=300))
def test_random_messages_match_hashlib(lib: ctypes.CDLL, name: str, message: bytes) -> None:
    assert one_shot(lib, name, message) == hashlib.new(name, message).digest()


# ---------------------------------------------------------------- Ed25519

# p, the field's prime, and L, the order of the base point (RFC 8032, 5.1).
FIELD_PRIME = 2**255 - 19
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493

# RFC 8032, 7.1: (secret key, public key, message, signature).
TEST_1024_MESSAGE = (
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1"
    "e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a"
    "7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10"
    "3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
    "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d"
    "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
    "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b"
    "eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
    "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b"
    "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
    "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d"
    "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
    "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7"
    "984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
    "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09"
    "43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
    "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161"
    "0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
    "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca"
    "c60c905c15fc910840b94c00a0b9d0"
)
RFC8032_VECTORS = {
    "TEST 1": (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    "TEST 2": (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    "TEST 3": (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    "TEST 1024": (
        "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        TEST_1024_MESSAGE,
        "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
        "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
    ),
    "TEST SHA(abc)": (
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
        "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
}


def vector(name: str) -> tuple[bytes, bytes, bytes, bytes]:
    secret, public_key, message, signature = RFC8032_VECTORS[name]
    return (
        bytes.fromhex(secret),
        bytes.fromhex(public_key),
        bytes.fromhex(message),
        bytes.fromhex(signature),
    )


def verify(lib: ctypes.CDLL, signature: bytes, message: bytes, public_key: bytes) -> bool:
    assert len(signature) == 64 and len(public_key) == 32
    return lib.ed25519_verify(signature, message, len(message), public_key)


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def flips(data: bytes) -> list[bytes]:
    """`data` with one bit flipped, for every bit."""
    return [
        data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :]
        for i in range(len(data))
        for bit in range(8)
    ]


def encode_y(y: int, x_odd: bool = False) -> bytes:
    """A point encoding's bytes for any 255-bit y, canonical or not."""
    return (y | x_odd << 255).to_bytes(32, "little")


@pytest.mark.parametrize("name", RFC8032_VECTORS)
def test_rfc8032_vectors(lib: ctypes.CDLL, name: str) -> None:
    secret, public_key, message, signature = vector(name)
    # The vectors hold together: cryptography derives the key and makes
    # the same (deterministic) signature from the secret.
    key = Ed25519PrivateKey.from_private_bytes(secret)
    assert public_bytes(key) == public_key
    assert key.sign(message) == signature
    assert verify(lib, signature, message, public_key)


@settings(max_examples=100, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=300))
def test_cryptography_signatures_verify(lib: ctypes.CDLL, seed: bytes, message: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    signature = key.sign(message)
    assert verify(lib, signature, message, public_bytes(key))
    assert not verify(lib, signature, message + b"\0", public_bytes(key))


def test_every_bit_flip_is_refused(lib: ctypes.CDLL) -> None:
    _, public_key, message, signature = vector("TEST 3")
    assert verify(lib, signature, message, public_key)
    for flipped in flips(signature):
        assert not verify(lib, flipped, message, public_key), flipped.hex()
    for flipped in flips(public_key):
        assert not verify(lib, signature, message, flipped), flipped.hex()
    for flipped in flips(message):
        assert not verify(lib, signature, flipped, public_key), flipped.hex()


@pytest.mark.parametrize("multiple", [1, 2, 15])
def test_s_of_l_or_more_is_refused(lib: ctypes.CDLL, multiple: int) -> None:
    # S + L is the same scalar mod L: only the range check refuses it.
    _, public_key, message, signature = vector("TEST 1")
    s = int.from_bytes(signature[32:], "little") + multiple * GROUP_ORDER
    assert s < 2**256
    assert not verify(lib, signature[:32] + s.to_bytes(32, "little"), message, public_key)


def test_all_zero_signature_is_refused(lib: ctypes.CDLL) -> None:
    _, public_key, message, _ = vector("TEST 1")
    assert not verify(lib, bytes(64), message, public_key)


def identity_key_signature(seed: bytes) -> bytes:
    """A signature that the neutral element (0, 1), as a public key, signs
    every message with: A = (0, 1) makes [S]B = R + [k]A hold for any k
    when R = [S]B. R is cryptography's public key for `seed`, [a]B, and S
    is its secret scalar a (RFC 8032, 5.1.5) mod L."""
    digest = hashlib.sha512(seed).digest()
    a = int.from_bytes(digest[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    r = public_bytes(Ed25519PrivateKey.from_private_bytes(seed))
    return r + (a % GROUP_ORDER).to_bytes(32, "little")


def test_canonical_identity_key_verifies(lib: ctypes.CDLL) -> None:
    # The control for the two tests below: the same signature under the
    # canonical encoding of (0, 1) verifies (the check is cofactorless and
    # takes small-order keys).
    signature = identity_key_signature(bytes(range(32)))
    assert verify(lib, signature, b"any message", encode_y(1))


@pytest.mark.parametrize("y", range(FIELD_PRIME, 2**255), ids=lambda y: f"p+{y - FIELD_PRIME}")
def test_public_key_with_y_of_p_or_more_is_refused(lib: ctypes.CDLL, y: int) -> None:
    # y = p + 1 is (0, 1) again, if read mod p: only the canonical check
    # refuses the signature.
    signature = identity_key_signature(bytes(range(32)))
    for x_odd in (False, True):
        assert not verify(lib, signature, b"any message", encode_y(y, x_odd))


def test_public_key_with_x_zero_and_the_sign_bit_is_refused(lib: ctypes.CDLL) -> None:
    signature = identity_key_signature(bytes(range(32)))
    assert not verify(lib, signature, b"any message", encode_y(1, x_odd=True))


def test_public_key_that_is_no_point_is_refused(lib: ctypes.CDLL) -> None:
    # y = 2: x^2 = (y^2 - 1) / (d y^2 + 1) has no root mod p.
    d = -121665 * pow(121666, -1, FIELD_PRIME) % FIELD_PRIME
    ratio = 3 * pow(4 * d + 1, -1, FIELD_PRIME) % FIELD_PRIME
    assert pow(ratio, (FIELD_PRIME - 1) // 2, FIELD_PRIME) == FIELD_PRIME - 1
    _, _, message, signature = vector("TEST 1")
    assert not verify(lib, signature, message, encode_y(2))


# ---------------------------------------------------------------- on the board

CROSS_GCC = "riscv64-unknown-elf-gcc"
# SConstruct's target_flags and the C flags that shape code generation.
BOARD_FLAGS = (
    "-march=rv64imac_zicsr_zifencei",
    "-mabi=lp64",
    "-mcmodel=medany",
    "-std=gnu11",
    "-ffreestanding",
    "-O2",
    "-Wall",
    "-Wextra",
    "-Werror",
)


@pytest.mark.skipif(shutil.which(CROSS_GCC) is None, reason=f"{CROSS_GCC} not installed")
@pytest.mark.parametrize("source", SOURCES)
def test_board_build_needs_no_libgcc(tmp_path: Path, source: str) -> None:
    """128-bit products must stay mul/mulhu, not __multi3 and the like:
    the loader and kernel link with -nostdlib."""
    obj = tmp_path / "out.o"
    subprocess.run(
        [CROSS_GCC, *BOARD_FLAGS, f"-I{REPO / 'lib' / 'include'}", "-c", "-o", str(obj), source],
        cwd=REPO,
        check=True,
        timeout=120,
    )
    undefined = subprocess.run(
        [CROSS_GCC.replace("gcc", "nm"), "-u", str(obj)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    assert not [name for name in undefined if name.startswith("__")]
