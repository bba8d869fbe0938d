"""Read a PNG's pixels without a dependency: enough to tell a blank picture.

Handles what rsvg-convert writes: 8-bit RGB or RGBA, not interlaced, in
one or more IDAT chunks, each row behind one of PNG's five filters.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {2: 3, 6: 4}  # colour type: RGB, RGBA


def _paeth(left: int, up: int, up_left: int) -> int:
    estimate = left + up - up_left
    near_left, near_up, near_up_left = (
        abs(estimate - left),
        abs(estimate - up),
        abs(estimate - up_left),
    )
    if near_left <= near_up and near_left <= near_up_left:
        return left
    return up if near_up <= near_up_left else up_left


def pixels(path: Path) -> list[tuple[int, ...]]:
    """Every pixel of the image, row by row, as channel tuples."""
    data = path.read_bytes()
    assert data.startswith(_SIGNATURE), f"{path} is not a PNG"
    offset, compressed = len(_SIGNATURE), b""
    width = height = channels = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in _CHANNELS and interlace == 0, "a PNG this reader lacks"
            channels = _CHANNELS[colour]
        elif kind == b"IDAT":
            compressed += body
        offset += 12 + length
    raw = zlib.decompress(compressed)
    stride = width * channels
    previous = bytearray(stride)
    found: list[tuple[int, ...]] = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for index in range(stride):
            left = line[index - channels] if index >= channels else 0
            up = previous[index]
            up_left = previous[index - channels] if index >= channels else 0
            predictor = (0, left, up, (left + up) // 2, _paeth(left, up, up_left))[kind]
            line[index] = (line[index] + predictor) & 0xFF
        found += [tuple(line[i : i + channels]) for i in range(0, stride, channels)]
        previous = line
    return found
