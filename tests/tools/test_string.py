"""lib/string.c's memcpy, memmove, memset and memcmp, on the host.

They move 8-byte words over the aligned middle of a range and bytes over its
ends, and fall back to bytes when the two addresses differ in their offset
within a word; so every length from nothing to several words, at every
offset 0..15 from a 16-byte boundary (every pair of alignments), is compared
with Python's own byte-wise result. The bytes either side of what a routine
may write must stay as they were.

The file is compiled with clang into a shared library with each function
renamed (memcpy becomes aubade_memcpy, ...), so that the host's libc cannot
stand in for it, and with -fno-builtin, so that clang does not turn its
loops into calls to libc's.
"""

from __future__ import annotations

import ctypes
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tools import hostlib

ROUTINES = ("memcpy", "memmove", "memset", "memcmp")
MAX_LENGTH = 300
# Offsets 0..15 from a 16-byte boundary: all alignments of both addresses.
ALIGNMENT = 16
# Bytes either side of the region a routine is given, checked untouched.
GUARD = 32


@pytest.fixture(scope="session")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    library = tmp_path_factory.mktemp("string") / "libstring_host.so"
    flags = ("-O2", "-fno-builtin", *(f"-D{name}=aubade_{name}" for name in ROUTINES))
    loaded = hostlib.build(library, ["lib/string.c"], flags)
    # Ours, not libc's: the library defines the renamed functions and calls
    # none of libc's mem* (which a loop compiled back into a call would).
    symbols = subprocess.run(
        ["nm", "-D", str(library)], check=True, capture_output=True, text=True
    ).stdout.split("\n")
    defined = {line.split()[-1] for line in symbols if " T " in line}
    undefined = {line.split()[-1] for line in symbols if " U " in line}
    assert {f"aubade_{name}" for name in ROUTINES} <= defined
    assert not {name for name in undefined if name.startswith("mem")}
    for name in ("aubade_memcpy", "aubade_memmove"):
        function = getattr(loaded, name)
        function.restype = ctypes.c_void_p
        function.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
    loaded.aubade_memset.restype = ctypes.c_void_p
    loaded.aubade_memset.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t)
    loaded.aubade_memcmp.restype = ctypes.c_int
    loaded.aubade_memcmp.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
    return loaded


class Arena:
    """A C buffer holding `content`, whose offset 0 is 16-byte aligned and
    has GUARD bytes of its own before it."""

    def __init__(self, content: bytes) -> None:
        self.buffer = ctypes.create_string_buffer(len(content) + 2 * GUARD + ALIGNMENT)
        address = ctypes.addressof(self.buffer)
        self.start = GUARD + (-(address + GUARD) % ALIGNMENT)
        self.size = len(content)
        self.buffer[: self.start] = bytes(range(self.start))
        self.buffer[self.start : self.start + self.size] = content
        self.buffer[self.start + self.size :] = b"\xa5" * (
            len(self.buffer) - self.start - self.size
        )
        self.before = bytes(self.buffer[: self.start])
        self.after = bytes(self.buffer[self.start + self.size :])

    def address(self, offset: int) -> int:
        return ctypes.addressof(self.buffer) + self.start + offset

    def content(self) -> bytes:
        """The content, after checking that the guard bytes are untouched."""
        assert bytes(self.buffer[: self.start]) == self.before
        assert bytes(self.buffer[self.start + self.size :]) == self.after
        return bytes(self.buffer[self.start : self.start + self.size])


offsets = st.integers(0, ALIGNMENT - 1)
lengths = st.integers(0, MAX_LENGTH)


def arena_bytes(data: st.DataObject) -> bytes:
    return data.draw(st.binary(min_size=ALIGNMENT + MAX_LENGTH, max_size=ALIGNMENT + MAX_LENGTH))


@settings(max_examples=500, deadline=None)
@given(data=st.data(), source_offset=offsets, destination_offset=offsets, length=lengths)
def test_memcpy(
    lib: ctypes.CDLL, data: st.DataObject, source_offset: int, destination_offset: int, length: int
) -> None:
    source = Arena(arena_bytes(data))
    destination = Arena(arena_bytes(data))
    expected = bytearray(destination.content())
    copied = source.content()[source_offset : source_offset + length]
    expected[destination_offset : destination_offset + length] = copied

    result = lib.aubade_memcpy(
        destination.address(destination_offset), source.address(source_offset), length
    )

    assert result == destination.address(destination_offset)
    assert destination.content() == bytes(expected)
    assert source.content()[source_offset : source_offset + length] == copied


@settings(max_examples=800, deadline=None)
@given(
    data=st.data(),
    source_offset=st.integers(0, 3 * ALIGNMENT - 1),
    destination_offset=st.integers(0, 3 * ALIGNMENT - 1),
    length=lengths,
)
def test_memmove(
    lib: ctypes.CDLL, data: st.DataObject, source_offset: int, destination_offset: int, length: int
) -> None:
    """One buffer, the ranges overlapping with the destination below the
    source, above it, or on it, at every distance up to several words."""
    arena = Arena(
        data.draw(
            st.binary(min_size=3 * ALIGNMENT + MAX_LENGTH, max_size=3 * ALIGNMENT + MAX_LENGTH)
        )
    )
    expected = bytearray(arena.content())
    expected[destination_offset : destination_offset + length] = expected[
        source_offset : source_offset + length
    ]

    result = lib.aubade_memmove(
        arena.address(destination_offset), arena.address(source_offset), length
    )

    assert result == arena.address(destination_offset)
    assert arena.content() == bytes(expected)


@settings(max_examples=500, deadline=None)
@given(
    data=st.data(),
    offset=offsets,
    length=lengths,
    # c is converted to unsigned char: values past a byte, and negative ones.
    value=st.one_of(st.integers(0, 255), st.integers(-(2**31), 2**31 - 1)),
)
def test_memset(
    lib: ctypes.CDLL, data: st.DataObject, offset: int, length: int, value: int
) -> None:
    arena = Arena(arena_bytes(data))
    expected = bytearray(arena.content())
    expected[offset : offset + length] = bytes([value & 0xFF]) * length

    result = lib.aubade_memset(arena.address(offset), value, length)

    assert result == arena.address(offset)
    assert arena.content() == bytes(expected)


def sign(number: int) -> int:
    return (number > 0) - (number < 0)


def reference_memcmp(a: bytes, b: bytes) -> int:
    for x, y in zip(a, b, strict=True):
        if x != y:
            return sign(x - y)
    return 0


@settings(max_examples=500, deadline=None)
@given(
    data=st.data(),
    a_offset=offsets,
    b_offset=offsets,
    length=lengths,
    differences=st.lists(
        st.tuples(st.integers(0, MAX_LENGTH - 1), st.integers(0, 255)), max_size=3
    ),
)
def test_memcmp(
    lib: ctypes.CDLL,
    data: st.DataObject,
    a_offset: int,
    b_offset: int,
    length: int,
    differences: list[tuple[int, int]],
) -> None:
    content = data.draw(st.binary(min_size=length, max_size=length))
    a = bytearray(arena_bytes(data))
    b = bytearray(arena_bytes(data))
    a[a_offset : a_offset + length] = content
    b[b_offset : b_offset + length] = content
    for position, value in differences:
        if position < length:
            b[b_offset + position] = value
    a_arena, b_arena = Arena(bytes(a)), Arena(bytes(b))

    result = lib.aubade_memcmp(a_arena.address(a_offset), b_arena.address(b_offset), length)

    expected = reference_memcmp(a[a_offset : a_offset + length], b[b_offset : b_offset + length])
    assert sign(result) == expected
    assert a_arena.content() == bytes(a)
    assert b_arena.content() == bytes(b)


@pytest.mark.parametrize("a_offset", range(8))
@pytest.mark.parametrize("b_offset", range(8))
def test_memcmp_difference_at_every_position(
    lib: ctypes.CDLL, a_offset: int, b_offset: int
) -> None:
    """One byte differs, at each position of a 40-byte range in turn (the
    head, inside a word, the tail), either way and across the sign bit."""
    length = 40
    content = bytes(0x40 + i for i in range(length))
    for position in range(length):
        for low, high in ((0x00, 0x01), (0x7F, 0x80), (0x01, 0xFF)):
            a = bytearray(content)
            b = bytearray(content)
            a[position], b[position] = low, high
            a_arena = Arena(bytes(a_offset) + bytes(a))
            b_arena = Arena(bytes(b_offset) + bytes(b))
            below = lib.aubade_memcmp(a_arena.address(a_offset), b_arena.address(b_offset), length)
            above = lib.aubade_memcmp(b_arena.address(b_offset), a_arena.address(a_offset), length)
            before = lib.aubade_memcmp(
                a_arena.address(a_offset), b_arena.address(b_offset), position
            )
            assert (sign(below), sign(above), before) == (-1, 1, 0), (position, low, high)
