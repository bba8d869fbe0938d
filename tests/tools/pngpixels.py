"""The pixels of a PNG, read with the standard library alone.

Enough of PNG for what rsvg-convert writes (8-bit RGBA or RGB, not
interlaced), so that a test can tell a drawn picture from a blank one
without an imaging library the project does not otherwise need.
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}
"""Colour type to bytes a pixel: RGB, RGBA."""


def _paeth(left: int, up: int, up_left: int) -> int:
    estimate = left + up - up_left
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
    return (left, up, up_left)[distances.index(min(distances))]


def pixels(png: bytes) -> list[tuple[int, ...]]:
    """Every pixel, row by row, as a tuple of its channels."""
    if not png.startswith(SIGNATURE):
        raise ValueError("not a PNG file")
    offset = len(SIGNATURE)
    data = b""
    width = height = channels = 0
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        body = png[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in CHANNELS or interlace:
                raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}")
            channels = CHANNELS[colour]
        elif kind == b"IDAT":
            data += body
    raw = zlib.decompress(data)
    stride = width * channels
    previous = bytearray(stride)
    result: list[tuple[int, ...]] = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for index in range(stride):
            left = line[index - channels] if index >= channels else 0
            up = previous[index]
            up_left = previous[index - channels] if index >= channels else 0
            predicted = (0, left, up, (left + up) // 2, _paeth(left, up, up_left))[kind]
            line[index] = (line[index] + predicted) & 0xFF
        result += [tuple(line[i : i + channels]) for i in range(0, stride, channels)]
        previous = line
    return result
