"""One column of address ranges, laid out on a logarithmic scale.

Boot memory spans 4 KiB pages to a 62 GiB device window and 16 EiB of
unmapped Sv39 hole: at a linear scale every page would vanish. So each
range gets a height that grows with log2 of its size (`ROW_MINIMUM` for a
page or less, `ROW_PER_DOUBLING` more per doubling), and the space between
two ranges is a broken-axis mark of fixed height that says its size.
Highest addresses are at the top, as memory maps are usually drawn, so the
kernel's upper half sits above its lower half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aubade.bootmap.bootfacts import PAGE, Range

ROW_MINIMUM = 18.0
"""A page's height (or less), in SVG user units: room for one label."""
ROW_PER_DOUBLING = 5.0
"""What each doubling of a range's size adds to its height."""
LARGEST_DOUBLINGS = 52
"""Sv39's whole address space is 2^64 bytes, 2^52 pages: no row is taller."""
GAP_HEIGHT = 28.0
"""A break in the axis: the space between two ranges, drawn at no scale."""

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def human_size(size: int) -> str:
    """`244 KiB`, `1.5 GiB`: binary units, one decimal where it is not exact."""
    power = 0
    while power < len(_UNITS) - 1 and size >= 1024 ** (power + 1):
        power += 1
    whole, rest = divmod(size, 1024**power)
    if rest == 0:
        return f"{whole} {_UNITS[power]}"
    return f"{size / 1024**power:.1f} {_UNITS[power]}"


def row_height(size: int) -> float:
    doublings = math.log2(size / PAGE) if size > PAGE else 0.0
    return ROW_MINIMUM + ROW_PER_DOUBLING * min(doublings, LARGEST_DOUBLINGS)


@dataclass(frozen=True)
class Row:
    area: Range
    top: float
    height: float

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True)
class Gap:
    """Addresses between two rows that hold none of the column's ranges."""

    start: int
    end: int
    top: float
    height: float = GAP_HEIGHT


class Column:
    """Ranges from the highest at `top` down; overlapping ranges stack in order."""

    def __init__(self, areas: list[Range], x: float, top: float, width: float) -> None:
        self.x, self.top, self.width = x, top, width
        self.rows: list[Row] = []
        self.gaps: list[Gap] = []
        y = top
        lowest: int | None = None
        for area in sorted(areas, key=lambda area: (area.start, area.end), reverse=True):
            if lowest is not None and area.end < lowest:
                self.gaps.append(Gap(area.end, lowest, y))
                y += GAP_HEIGHT
            height = row_height(area.size)
            self.rows.append(Row(area, y, height))
            y += height
            lowest = area.start if lowest is None else min(lowest, area.start)
        self.bottom = y

    @property
    def right(self) -> float:
        return self.x + self.width

    def y_at(self, address: int, *, end: bool = False) -> float | None:
        """Where an address falls, interpolated inside its row; None if in no row.

        With end=True the address is a range's exclusive end, so it belongs
        to the row it ends, not the one it starts."""
        for row in self.rows:
            start, stop = row.area.start, row.area.end
            inside = start < address <= stop if end else start <= address < stop
            if inside:
                return row.bottom - row.height * (address - start) / (stop - start)
        return None

    def span(self, start: int, end: int) -> tuple[float, float] | None:
        """The top and bottom of [start, end) on this column, if both ends are in rows."""
        low, high = self.y_at(start), self.y_at(end, end=True)
        if low is None or high is None:
            return None
        return min(low, high), max(low, high)
