"""Text labels' boxes: where a picture's labels are, so none hides another.

SVG has no layout engine, so a picture places its own labels and must know
how much room each takes before any renderer sees it. The width is an
estimate from the font size (0.6 em a character is the advance of the usual
monospace fonts, DejaVu Sans Mono and Liberation Mono: exact for addresses,
generous for proportional text), the height one line. Tests hold the
pictures to `overlaps(...) == []` with these same boxes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

CHARACTER_WIDTH_EM = 0.6
"""A monospace character's advance, in ems."""
LINE_HEIGHT_EM = 1.25
"""A label's box: the font's ascent and descent and a little air."""
BASELINE_EM = 0.95
"""From a box's top to the text's baseline."""

Anchor = Literal["start", "end"]


@dataclass(frozen=True)
class LabelBox:
    """One text label of one SVG file, in SVG user units (y grows downwards)."""

    file: str
    text: str
    x: float
    y: float
    width: float
    height: float

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def baseline(self) -> float:
        """Where the text's baseline goes for its glyphs to fill this box."""
        return self.y + BASELINE_EM * self.height / LINE_HEIGHT_EM

    def intersects(self, other: LabelBox) -> bool:
        """Whether the two share area (boxes that only touch do not)."""
        return (
            self.file == other.file
            and self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
        )


def text_width(text: str, font_size: float) -> float:
    return len(text) * CHARACTER_WIDTH_EM * font_size


def box_for(
    file: str, text: str, x: float, top: float, font_size: float, anchor: Anchor = "start"
) -> LabelBox:
    """The box of a one-line label whose anchor point is at x and whose top is at top."""
    width = text_width(text, font_size)
    left = x - width if anchor == "end" else x
    return LabelBox(file, text, left, top, width, LINE_HEIGHT_EM * font_size)


def overlaps(boxes: Iterable[LabelBox]) -> list[tuple[LabelBox, LabelBox]]:
    """Every pair of labels of one file that cover some of the same area."""
    by_file: dict[str, list[LabelBox]] = {}
    for box in boxes:
        by_file.setdefault(box.file, []).append(box)
    found: list[tuple[LabelBox, LabelBox]] = []
    for same_file in by_file.values():
        # Sorted by top, a box can only meet the boxes after it that start
        # above its bottom: linear for a picture's column of labels.
        ordered = sorted(same_file, key=lambda box: box.y)
        for index, box in enumerate(ordered):
            for other in ordered[index + 1 :]:
                if other.y >= box.bottom:
                    break
                if box.intersects(other):
                    found.append((box, other))
    return found


class Placer:
    """Puts labels where asked, or lower, so that none covers one placed before."""

    BAND = 64.0
    """Placed boxes are filed by horizontal bands this tall, so that a new
    label is checked against its neighbours, not every label of a picture
    (a garbled log can name thousands of ranges)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.placed: list[LabelBox] = []
        self._bands: dict[int, list[LabelBox]] = {}

    def _near(self, box: LabelBox) -> list[LabelBox]:
        first, last = int(box.y // self.BAND), int(box.bottom // self.BAND)
        return [other for band in range(first, last + 1) for other in self._bands.get(band, [])]

    def place(
        self,
        text: str,
        x: float,
        top: float,
        font_size: float,
        anchor: Anchor = "start",
    ) -> LabelBox:
        """The first free box at or below top, recorded as taken.

        A label moves down rather than aside: the pictures keep a column's
        labels in one column, in address order, so a moved label still
        reads next to the region it names (a leader line joins them)."""
        box = box_for(self.file, text, x, top, font_size, anchor)
        while True:
            blocking = [other for other in self._near(box) if box.intersects(other)]
            if not blocking:
                break
            lowest = max(other.bottom for other in blocking)
            box = LabelBox(box.file, box.text, box.x, lowest, box.width, box.height)
        self.placed.append(box)
        for band in range(int(box.y // self.BAND), int(box.bottom // self.BAND) + 1):
            self._bands.setdefault(band, []).append(box)
        return box
