"""A memory picture: title, captions, legend, one or two columns, bands, marks.

The boot-step pictures share this frame: physical memory on the left,
virtual on the right, a band from each virtual range to the physical
memory it maps. Everything is laid out before the SVG is made, since the
canvas's size is known only when every label has found its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import drawsvg as draw

from aubade.bootmap.bootfacts import Range
from aubade.bootmap.column import Column, human_size
from aubade.bootmap.labels import LINE_HEIGHT_EM, LabelBox, Placer, text_width

Side = Literal["left", "right"]

MARGIN = 20.0
COLUMN_WIDTH = 150.0
BAND_WIDTH = 200.0
LABEL_GAP = 14.0
TITLE_SIZE = 18.0
CAPTION_SIZE = 12.0
HEADING_SIZE = 13.0
LABEL_SIZE = 11.0
LEGEND_WIDTH = 1000.0
LONGEST_LABEL = 90
LONGEST_CAPTION = 160
"""Characters: a field of a garbled log can be any length."""
LEFT_LABEL_ROOM = 40
"""Characters left of the left column, for its gaps' and markers' labels."""
MONOSPACE = "DejaVu Sans Mono, Liberation Mono, monospace"
SANS = "DejaVu Sans, Liberation Sans, sans-serif"

# What each kind of range looks like: fill, legend text, and whether it is
# address space that holds nothing (drawn dashed).
KINDS: dict[str, tuple[str, str, bool]] = {
    "free": ("#d9f2d9", "free memory", False),
    "reserved": ("#bdbdbd", "reserved (firmware)", False),
    "dtb": ("#c9b3e6", "device tree", False),
    "loader": ("#f7c68f", "loader image", False),
    "identity": ("#fbe0bf", "loader's identity map", False),
    "kernel": ("#ef9a9a", "kernel image", False),
    "kernel r-x": ("#e57373", "kernel text r-x", False),
    "kernel r--": ("#90caf9", "kernel read-only r--", False),
    "kernel rw-": ("#81c784", "kernel data rw-", False),
    "guard": ("#ffffff", "guard page, unmapped", True),
    "stack": ("#4db6ac", "hart's stack rw-", False),
    "tls": ("#b2dfdb", "hart's TLS block rw-", False),
    "percpu": ("#4db6ac", "harts' stacks and TLS", False),
    "bootinfo": ("#fff176", "BootInfo", False),
    "pagetables": ("#a1887f", "page tables", False),
    "direct": ("#bbdefb", "direct map of DRAM rw-", False),
    "device": ("#e0e0e0", "device window, reserved", True),
    "scratch": ("#f5f5f5", "scratch gigabyte, unmapped", True),
}
OTHER_KIND = "#ffcc80"
"""A kind this file does not know (a newer kernel's): still drawn, legend says its name."""


def printable(text: str, longest: int = LONGEST_LABEL) -> str:
    """Text an SVG can hold: a garbled log's control characters become `?`,
    and a field of any length is cut to `longest` characters."""
    clean = "".join(char if char.isprintable() else "?" for char in text)
    return clean if len(clean) <= longest else clean[: longest - 1] + "…"


def area_label(area: Range) -> str:
    """`0x80200000 · 244 KiB · loader`: start as the log prints it, size, what."""
    return printable(f"{area.start:#x} · {human_size(area.size)} · {area.note or area.kind}")


@dataclass(frozen=True)
class _Request:
    """A label to place: where its line points, and what it says."""

    y: float
    text: str
    edge_x: float


class Picture:
    """One SVG file's content, laid out as it is added."""

    def __init__(self, file: str, title: str, captions: list[str]) -> None:
        self.file = file
        self.placer = Placer(file)
        self.back: list[draw.DrawingElement] = []
        self.front: list[draw.DrawingElement] = []
        self.kinds: list[str] = []
        self.requests: dict[Side, list[_Request]] = {"left": [], "right": []}
        self.label_x: dict[Side, float] = {"left": MARGIN, "right": MARGIN}
        self.y = MARGIN
        self._text(title, MARGIN, TITLE_SIZE, SANS, bold=True)
        for caption in captions:
            self._text(caption, MARGIN, CAPTION_SIZE, SANS)
        self.legend_top = self.y + 6

    def _text(self, text: str, x: float, size: float, family: str, *, bold: bool = False) -> None:
        box = self.placer.place(printable(text, LONGEST_CAPTION), x, self.y, size)
        self._draw_label(box, size, family, bold=bold)
        self.y = box.bottom + 2

    def _draw_label(
        self, box: LabelBox, size: float, family: str, *, bold: bool = False, fill: str = "#000"
    ) -> None:
        self.front.append(
            draw.Text(
                box.text,
                size,
                box.x,
                box.baseline,
                font_family=family,
                font_weight="bold" if bold else "normal",
                fill=fill,
            )
        )

    def columns(
        self, left: list[Range] | None, right: list[Range], headings: tuple[str, str]
    ) -> tuple[Column | None, Column]:
        """Lay out the columns (left optional), labels outside, below the legend.

        The legend's kinds are the columns', so the columns are laid out
        first at a provisional top and moved down under the legend."""
        kinds = [area.kind for area in (left or []) + right]
        self.kinds = list(dict.fromkeys(kinds))
        top = self._legend() + LABEL_SIZE
        heading_top = top
        top += HEADING_SIZE * LINE_HEIGHT_EM + 8
        x = MARGIN
        left_column = None
        if left is not None:
            # Gap and marker labels go there too: room for LEFT_LABEL_ROOM at least.
            texts = [area_label(area) for area in left] + ["x" * LEFT_LABEL_ROOM]
            widest = max(text_width(text, LABEL_SIZE) for text in texts)
            x += widest + LABEL_GAP
            left_column = Column(left, x, top, COLUMN_WIDTH)
            self.label_x["left"] = x - LABEL_GAP
            x += COLUMN_WIDTH + BAND_WIDTH
        right_column = Column(right, x, top, COLUMN_WIDTH)
        self.label_x["right"] = right_column.right + LABEL_GAP
        self._heading(left_column, headings[0], heading_top)
        self._heading(right_column, headings[1], heading_top)
        for column, side in ((left_column, "left"), (right_column, "right")):
            if column is not None:
                self._draw_column(column, side)
        return left_column, right_column

    def _heading(self, column: Column | None, text: str, top: float) -> None:
        if column is not None and text:
            box = self.placer.place(printable(text), column.x, top, HEADING_SIZE)
            self._draw_label(box, HEADING_SIZE, SANS, bold=True)

    def _legend(self) -> float:
        """Swatches for the kinds drawn, in rows; the bottom of the legend."""
        x, top = MARGIN, self.legend_top
        for kind in self.kinds:
            fill, text, dashed = KINDS.get(kind, (OTHER_KIND, kind, False))
            width = 16 + text_width(printable(text), LABEL_SIZE) + 18
            if x + width > MARGIN + LEGEND_WIDTH and x > MARGIN:
                x, top = MARGIN, top + 18
            self.front.append(self._swatch(x, top + 1, 12, 12, fill, dashed))
            box = self.placer.place(printable(text), x + 16, top, LABEL_SIZE)
            self._draw_label(box, LABEL_SIZE, SANS)
            x += width
        return top + 18

    @staticmethod
    def _swatch(
        x: float, y: float, width: float, height: float, fill: str, dashed: bool
    ) -> draw.Rectangle:
        return draw.Rectangle(
            x,
            y,
            width,
            height,
            fill=fill,
            stroke="#555",
            stroke_width=0.8,
            stroke_dasharray="4,3" if dashed else "none",
        )

    def _draw_column(self, column: Column, side: Side) -> None:
        edge = column.x if side == "left" else column.right
        for row in column.rows:
            fill, _, dashed = KINDS.get(row.area.kind, (OTHER_KIND, "", False))
            self.back.append(
                self._swatch(column.x, row.top, column.width, row.height, fill, dashed)
            )
            middle = row.top + row.height / 2
            self.requests[side].append(_Request(middle, area_label(row.area), edge))
        for gap in column.gaps:
            self.back.append(self._break_mark(column, gap.top, gap.height))
            middle = gap.top + gap.height / 2
            text = f"⋮ {human_size(gap.end - gap.start)} not drawn to scale"
            self.requests[side].append(_Request(middle, text, edge))

    @staticmethod
    def _break_mark(column: Column, top: float, height: float) -> draw.Group:
        """A broken axis: two zigzags across the column, nothing between."""
        group = draw.Group(stroke="#777", stroke_width=1, fill="none")
        for y in (top + height * 0.3, top + height * 0.7):
            points: list[float] = []
            steps = 10
            for step in range(steps + 1):
                points += [column.x + column.width * step / steps, y + (3 if step % 2 else -3)]
            group.append(draw.Lines(*points))
        return group

    def band(
        self,
        left: Column | None,
        phys: tuple[int, int],
        right: Column,
        virt: tuple[int, int],
        kind: str,
    ) -> bool:
        """A band from a virtual range to the physical memory it maps, if both are drawn."""
        if left is None:
            return False
        low, high = left.span(*phys), right.span(*virt)
        if low is None or high is None:
            return False
        fill, _, _ = KINDS.get(kind, (OTHER_KIND, "", False))
        self.back.insert(
            0,
            draw.Lines(
                left.right,
                low[0],
                right.x,
                high[0],
                right.x,
                high[1],
                left.right,
                low[1],
                close=True,
                fill=fill,
                fill_opacity=0.45,
                stroke="#888",
                stroke_width=0.5,
            ),
        )
        return True

    def marker(self, column: Column, address: int, text: str, side: Side) -> bool:
        """A line across the column at an address, with a label; False if the
        address is in none of the column's rows."""
        y = column.y_at(address)
        if y is None:
            return False
        self.front.append(
            draw.Line(column.x - 6, y, column.right + 6, y, stroke="#b71c1c", stroke_width=2)
        )
        edge = column.x if side == "left" else column.right
        self.requests[side].append(_Request(y, f"▶ {text}", edge))
        return True

    def note(self, text: str, column: Column) -> None:
        """A line of text under a column."""
        self.y = max(self.y, column.bottom + 8)
        self._text(text, column.x, CAPTION_SIZE, SANS)

    def _place_labels(self) -> None:
        """Each side's labels top-down at their rows, pushed down past the ones above."""
        for side, requests in self.requests.items():
            anchor = "end" if side == "left" else "start"
            x = self.label_x[side]
            height = LABEL_SIZE * LINE_HEIGHT_EM
            for request in sorted(requests, key=lambda request: request.y):
                box = self.placer.place(request.text, x, request.y - height / 2, LABEL_SIZE, anchor)
                self._draw_label(box, LABEL_SIZE, MONOSPACE)
                middle = box.y + height / 2
                text_edge = box.right + 2 if side == "left" else box.x - 2
                self.front.append(
                    draw.Line(
                        request.edge_x,
                        request.y,
                        text_edge,
                        middle,
                        stroke="#999",
                        stroke_width=0.6,
                    )
                )

    def save(self, path: Path, columns: list[Column | None]) -> list[LabelBox]:
        """Write the SVG; the boxes of all its labels."""
        self._place_labels()
        boxes = self.placer.placed
        right = max([box.right for box in boxes] + [c.right for c in columns if c], default=0)
        bottom = max([box.bottom for box in boxes] + [c.bottom for c in columns if c], default=0)
        drawing = draw.Drawing(right + MARGIN, bottom + MARGIN)
        drawing.append(draw.Rectangle(0, 0, right + MARGIN, bottom + MARGIN, fill="#fff"))
        for element in self.back + self.front:
            drawing.append(element)
        drawing.save_svg(str(path))
        return list(boxes)
