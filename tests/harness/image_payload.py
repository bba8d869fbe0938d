"""Where the payload is inside a built Image, for the tests that change it.

The Image is loader.elf flattened (`objcopy -O binary`) from the board's load
address, so the payload's bytes start at the loader's `payload_start` less
that address and end at `payload_end` less it (loader/payload.S).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from aubade import payload
from aubade.boards import Board


@dataclass(frozen=True)
class ImagePayload:
    """An Image's bytes, with the payload's place in them."""

    image: bytearray
    start: int
    """The payload's first byte, from the Image's first."""
    end: int

    @classmethod
    def read(cls, image: Path, loader_elf: Path, board: Board) -> ImagePayload:
        with loader_elf.open("rb") as stream:
            symbols = ELFFile(stream).get_section_by_name(".symtab")
            (start,) = symbols.get_symbol_by_name("payload_start")
            (end,) = symbols.get_symbol_by_name("payload_end")
        base = board.load_address
        return cls(bytearray(image.read_bytes()), start["st_value"] - base, end["st_value"] - base)

    @property
    def data(self) -> bytes:
        return bytes(self.image[self.start : self.end])

    def unpacked(self) -> payload.Payload:
        return payload.unpack(self.data)

    def replace(self, data: bytes) -> None:
        """The payload's bytes replaced by as many others."""
        assert len(data) == self.end - self.start
        self.image[self.start : self.end] = data

    def flip(self, offset: int) -> None:
        """One bit of the payload's byte at `offset` inverted; the digest left as it was."""
        self.image[self.start + offset] ^= 0x01

    def redigest(self) -> None:
        """The digest made to hold again, as a build would have written it:
        for a test of a check after the digest's."""
        self.replace(payload.with_digest(self.data))

    def write(self, path: Path) -> Path:
        path.write_bytes(self.image)
        return path
