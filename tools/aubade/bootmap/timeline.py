"""The per-hart timeline of a boot: timeline.svg.

One lane per hart, time in ms from `loader: start` along the bottom: the
loader's span on the boot hart's lane, every init call as a bar on its
hart's lane (grey where it waits at a barrier), each barrier as a line
across all lanes where its last hart left it, the kernel's phases shaded
behind, and the time a lane spends between calls, when it is long,
hatched, since that is where a boot loses time nobody accounts for.

Labels never overlap, at any number of harts: a call too narrow for its
name gets it in a callout below its lane, stacked in as many rows as it
takes, and calls too close to tell apart share one (`name +N`: the
longest, and how many more). Every bar's tooltip (`<title>`) has the
exact figures. Text is monospace, so that its width is known without a
font library, and every coordinate is rounded, so that the same log
draws the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import drawsvg as dw

from aubade.bootmap.boottimes import BootTimes, Call, boot_times

FILE_NAME = "timeline.svg"

WIDTH = 1400
LEFT = 120
"""Room for the lane labels (`hart 127 (boot)`)."""
RIGHT = 30
TITLE_HEIGHT = 30
FONT_SIZE = 11
CHAR_WIDTH = FONT_SIZE * 0.6
"""A monospace glyph's advance is 0.6 em in DejaVu Sans Mono, Liberation
Mono and Courier: labels are measured with it."""
PAD = 3
LABEL_HEIGHT = FONT_SIZE + 2
ROW_HEIGHT = LABEL_HEIGHT + 3
BAR_HEIGHT = 18
LANE_SPACING = 8
CLUSTER_PIXELS = 6.0
"""Narrow calls closer than this share one callout."""
GAP_SECONDS = 0.001
"""Time between two calls on a lane from which it is drawn hatched."""
MINIMUM_SPAN_SECONDS = 0.001

PHASE_COLOURS = {
    "Early": "#e8f0fe",
    "Main": "#e6f4ea",
    "Late": "#fef7e0",
    "Scheduling": "#f3e8fd",
}
CALL_COLOUR = "#4285f4"
LATE_CALL_COLOUR = "#8ab4f8"
WAIT_COLOUR = "#dadce0"
LOADER_COLOUR = "#5f6368"
GAP_COLOUR = "#d93025"
BARRIER_COLOUR = "#3c4043"
MARK_COLOUR = "#188038"


@dataclass(frozen=True)
class LabelBox:
    """Where a label's text is drawn: its file, text and box (top left, size)."""

    file: str
    text: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Drawn:
    """What a drawing wrote, what the log did not say, and its labels' boxes."""

    files: tuple[Path, ...]
    missing: tuple[str, ...]
    labels: tuple[LabelBox, ...]


def _r(value: float) -> float:
    """Coordinates rounded, so that the SVG's bytes depend on the log only."""
    return round(value, 2)


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH + 2 * PAD


@dataclass
class _Rows:
    """Rows of labels: a label goes into the first row it fits in."""

    taken: list[list[tuple[float, float]]] = field(default_factory=list)

    def place(self, x0: float, x1: float) -> int:
        for index, row in enumerate(self.taken):
            if all(x1 + PAD <= start or x0 >= end + PAD for start, end in row):
                row.append((x0, x1))
                return index
        self.taken.append([(x0, x1)])
        return len(self.taken) - 1

    def fits(self, row: int, x0: float, x1: float) -> bool:
        if row >= len(self.taken):
            return True
        return all(x1 + PAD <= start or x0 >= end + PAD for start, end in self.taken[row])

    def take(self, row: int, x0: float, x1: float) -> None:
        while len(self.taken) <= row:
            self.taken.append([])
        self.taken[row].append((x0, x1))


@dataclass
class _Picture:
    """The elements drawn so far, in paint order, and the labels' boxes."""

    times: BootTimes
    elements: list[dw.DrawingElement] = field(default_factory=list)
    labels: list[LabelBox] = field(default_factory=list)

    @property
    def plot_width(self) -> float:
        return WIDTH - LEFT - RIGHT

    def x(self, time: float) -> float:
        span = max(self.times.end - self.times.start, MINIMUM_SPAN_SECONDS)
        fraction = min(max((time - self.times.start) / span, 0.0), 1.0)
        return LEFT + fraction * self.plot_width

    def ms(self, time: float) -> float:
        return (time - self.times.start) * 1000

    def label(
        self,
        text: str,
        x: float,
        y: float,
        colour: str = "#202124",
        anchor_middle: bool = False,
        into: list[dw.DrawingElement] | None = None,
    ) -> None:
        """Text in a box of LABEL_HEIGHT whose top left is (x, y), or whose
        top centre is (x, y) with anchor_middle."""
        width = _text_width(text)
        left = x - width / 2 if anchor_middle else x
        self.labels.append(LabelBox(FILE_NAME, text, _r(left), _r(y), _r(width), LABEL_HEIGHT))
        (self.elements if into is None else into).append(
            dw.Text(
                text,
                FONT_SIZE,
                _r(left + PAD),
                _r(y + LABEL_HEIGHT - 3),
                fill=colour,
                font_family="monospace",
            )
        )


def _clamped_left(centre: float, width: float) -> float:
    return min(max(centre - width / 2, LEFT), WIDTH - RIGHT - width)


def _header(picture: _Picture, top: float) -> float:
    """Phase names, barrier tokens and marks above the lanes, in rows so
    that none overlaps; returns the header's bottom."""
    times = picture.times
    items: list[tuple[str, float, str]] = [
        (phase.name, (picture.x(phase.start) + picture.x(phase.end)) / 2, "#202124")
        for phase in times.phases
    ]
    items += [
        (barrier.token, picture.x(barrier.time), BARRIER_COLOUR) for barrier in times.barriers
    ]
    items += [(mark.name, picture.x(mark.time), MARK_COLOUR) for mark in times.marks]
    rows = _Rows()
    for text, centre, colour in items:
        width = _text_width(text)
        left = _clamped_left(centre, width)
        row = rows.place(left, left + width)
        picture.label(text, left, top + row * ROW_HEIGHT, colour)
    return top + len(rows.taken) * ROW_HEIGHT


def _bar_title(call: Call, picture: _Picture) -> str:
    us = round((call.end - call.start) * 1e6)
    how = " (made before the console: reported by init_trace, placed end to end)"
    return (
        f"{call.fn} (token {call.token}) hart {call.hart}: {us} us, "
        f"{picture.ms(call.start):.3f}-{picture.ms(call.end):.3f} ms"
        + (how if call.reported_late else "")
    )


def _lane(picture: _Picture, hart: int, top: float, hatch: dw.Pattern) -> float:
    """One hart's bars, gaps and labels from `top`; returns the lane's bottom."""
    times = picture.times
    calls = [call for call in times.calls if call.hart == hart]
    bar_rows = _Rows()
    boxes: list[dw.DrawingElement] = []
    texts: list[dw.DrawingElement] = []
    bar_top, bar_bottom = top, top + BAR_HEIGHT
    text_top = top + (BAR_HEIGHT - LABEL_HEIGHT) / 2
    label = "hart" + f" {hart}" + (" (boot)" if hart == times.boot_hart else "")
    picture.label(label, 8, text_top, into=texts)

    spans: list[tuple[float, float]] = []
    if times.loader is not None and hart == times.boot_hart:
        x0, x1 = picture.x(times.loader.start), picture.x(times.loader.end)
        rect = dw.Rectangle(_r(x0), bar_top, _r(max(x1 - x0, 1)), BAR_HEIGHT, fill=LOADER_COLOUR)
        loader_ms = picture.ms(times.loader.end) - picture.ms(times.loader.start)
        rect.append_title(f"the loader: {loader_ms:.3f} ms, loader: start to loader: handoff")
        boxes.append(rect)
        spans.append((times.loader.start, times.loader.end))
        text = "loader"
        if _text_width(text) <= x1 - x0:
            centre = (x0 + x1) / 2
            width = _text_width(text)
            bar_rows.take(0, centre - width / 2, centre + width / 2)
            picture.label(text, centre, text_top, "#ffffff", anchor_middle=True, into=texts)

    narrow: list[tuple[float, float, Call]] = []
    for call in calls:
        x0, x1 = picture.x(call.start), picture.x(call.end)
        spans.append((call.start, call.end))
        colour = WAIT_COLOUR if call.is_barrier else CALL_COLOUR
        if call.reported_late and not call.is_barrier:
            colour = LATE_CALL_COLOUR
        rect = dw.Rectangle(_r(x0), bar_top, _r(max(x1 - x0, 1)), BAR_HEIGHT, fill=colour)
        rect.append_title(_bar_title(call, picture))
        boxes.append(rect)
        if call.is_barrier:
            continue
        for text in dict.fromkeys((call.fn, call.token)):
            width = _text_width(text)
            centre = (x0 + x1) / 2
            if width <= x1 - x0 and bar_rows.fits(0, centre - width / 2, centre + width / 2):
                bar_rows.take(0, centre - width / 2, centre + width / 2)
                picture.label(text, centre, text_top, "#ffffff", anchor_middle=True, into=texts)
                break
        else:
            narrow.append((x0, x1, call))

    _gaps(picture, spans, bar_top, hatch, bar_rows, boxes, texts, text_top)
    rows = _callouts(picture, narrow, bar_bottom, texts)
    picture.elements.extend(boxes)
    picture.elements.extend(texts)
    return bar_bottom + 3 + rows * ROW_HEIGHT + LANE_SPACING


def _gaps(
    picture: _Picture,
    spans: list[tuple[float, float]],
    bar_top: float,
    hatch: dw.Pattern,
    bar_rows: _Rows,
    boxes: list[dw.DrawingElement],
    texts: list[dw.DrawingElement],
    text_top: float,
) -> None:
    """Hatch the time between one bar's end and the next one's start, when
    it is GAP_SECONDS or more, with its length where it fits."""
    reached: float | None = None
    for start, end in sorted(spans):
        if reached is not None and start - reached >= GAP_SECONDS:
            x0, x1 = picture.x(reached), picture.x(start)
            length = (start - reached) * 1000
            rect = dw.Rectangle(
                _r(x0), bar_top, _r(max(x1 - x0, 1)), BAR_HEIGHT, fill=hatch, stroke=GAP_COLOUR
            )
            rect.append_title(f"{length:.3f} ms between calls on this hart")
            boxes.append(rect)
            text = f"{length:.1f} ms"
            width = _text_width(text)
            centre = (x0 + x1) / 2
            if width <= x1 - x0 and bar_rows.fits(0, centre - width / 2, centre + width / 2):
                bar_rows.take(0, centre - width / 2, centre + width / 2)
                picture.label(text, centre, text_top, GAP_COLOUR, anchor_middle=True, into=texts)
        reached = end if reached is None else max(reached, end)


def _clusters(narrow: list[tuple[float, float, Call]]) -> list[list[tuple[float, float, Call]]]:
    clusters: list[list[tuple[float, float, Call]]] = []
    for item in sorted(narrow, key=lambda item: (item[0], item[1])):
        if clusters and item[0] - max(x1 for _, x1, _ in clusters[-1]) <= CLUSTER_PIXELS:
            clusters[-1].append(item)
        else:
            clusters.append([item])
    return clusters


def callout_text(calls: Sequence[Call]) -> str:
    """A callout's text: the longest call's name, and how many more share it."""
    longest = max(calls, key=lambda call: (call.end - call.start, call.fn))
    return longest.fn if len(calls) == 1 else f"{longest.fn} +{len(calls) - 1}"


def _callouts(
    picture: _Picture,
    narrow: list[tuple[float, float, Call]],
    bar_bottom: float,
    texts: list[dw.DrawingElement],
) -> int:
    """Callouts for the calls too narrow for their names, in rows below the
    lane; returns how many rows they took."""
    rows = _Rows()
    for cluster in _clusters(narrow):
        calls = [call for _, _, call in cluster]
        text = callout_text(calls)
        width = _text_width(text)
        centre = (min(x0 for x0, _, _ in cluster) + max(x1 for _, x1, _ in cluster)) / 2
        left = _clamped_left(centre, width)
        row = rows.place(left, left + width)
        top = bar_bottom + 3 + row * ROW_HEIGHT
        leader = dw.Line(
            _r(centre), bar_bottom, _r(centre), _r(top), stroke="#9aa0a6", stroke_width=0.5
        )
        texts.append(leader)
        before = len(texts)
        picture.label(text, left, top, into=texts)
        texts[before].append_title("\n".join(_bar_title(call, picture) for call in calls))
    return len(rows.taken)


def _axis(picture: _Picture, top: float) -> float:
    """Ticks in ms at a round step at least 70 px apart; returns the bottom."""
    span_ms = max(picture.times.end - picture.times.start, MINIMUM_SPAN_SECONDS) * 1000
    step = next(
        candidate * scale
        for scale in (10.0**exponent for exponent in range(-3, 9))
        for candidate in (1, 2, 5)
        if candidate * scale / span_ms * picture.plot_width >= 70
    )
    picture.elements.append(
        dw.Line(LEFT, top, WIDTH - RIGHT, top, stroke="#202124", stroke_width=1)
    )
    tick = 0.0
    index = 0
    while tick <= span_ms + 1e-9:
        x = LEFT + tick / span_ms * picture.plot_width
        picture.elements.append(dw.Line(_r(x), top, _r(x), top + 4, stroke="#202124"))
        text = f"{tick:g}"
        picture.label(text, x, top + 5, anchor_middle=True)
        index += 1
        tick = index * step
    picture.label(
        "ms since loader: start",
        LEFT + picture.plot_width / 2,
        top + 5 + ROW_HEIGHT,
        anchor_middle=True,
    )
    return top + 5 + 2 * ROW_HEIGHT


def _legend(picture: _Picture, top: float, hatch: dw.Pattern) -> float:
    entries: list[tuple[str, dict[str, str]]] = [
        ("loader", {"fill": LOADER_COLOUR}),
        ("init call", {"fill": CALL_COLOUR}),
        ("init call made before the console (placed end to end)", {"fill": LATE_CALL_COLOUR}),
        ("smp_barrier: waiting for the other harts", {"fill": WAIT_COLOUR}),
        (f"{GAP_SECONDS * 1000:g} ms or more between calls", {"fill": "", "stroke": GAP_COLOUR}),
        *((f"{name} phase", {"fill": colour}) for name, colour in PHASE_COLOURS.items()),
    ]
    x, y = float(LEFT), top
    for text, style in entries:
        width = 14 + _text_width(text) + 12
        if x + width > WIDTH - RIGHT:
            x, y = float(LEFT), y + ROW_HEIGHT
        fill = hatch if style["fill"] == "" else style["fill"]
        picture.elements.append(
            dw.Rectangle(_r(x), _r(y + 1), 12, 11, fill=fill, stroke=style.get("stroke", "none"))
        )
        picture.label(text, x + 14, y)
        x += width
    x, y = float(LEFT), y + ROW_HEIGHT
    picture.elements.append(
        dw.Line(_r(x + 6), _r(y), _r(x + 6), _r(y + 12), stroke=BARRIER_COLOUR, stroke_width=1.5)
    )
    picture.label("barrier: where its last hart left it (its token above)", x + 14, y)
    return y + ROW_HEIGHT


def _background(
    picture: _Picture, lanes_top: float, lanes_bottom: float, header_top: float
) -> list[dw.DrawingElement]:
    """The phases' shading and the barriers' and marks' lines, under the bars."""
    times = picture.times
    elements: list[dw.DrawingElement] = []
    for phase in times.phases:
        x0, x1 = picture.x(phase.start), picture.x(phase.end)
        rect = dw.Rectangle(
            _r(x0),
            _r(lanes_top - 4),
            _r(max(x1 - x0, 0.5)),
            _r(lanes_bottom - lanes_top + 4),
            fill=PHASE_COLOURS.get(phase.name, "#f1f3f4"),
        )
        rect.append_title(
            f"{phase.name}: {picture.ms(phase.start):.3f}-{picture.ms(phase.end):.3f} ms"
        )
        elements.append(rect)
    for barrier in times.barriers:
        x = _r(picture.x(barrier.time))
        line = dw.Line(x, header_top, x, _r(lanes_bottom), stroke=BARRIER_COLOUR, stroke_width=1.5)
        line.append_title(
            f"barrier {barrier.token}: left by its last hart at {picture.ms(barrier.time):.3f} ms"
            f" ({barrier.harts} harts reported it)"
        )
        elements.append(line)
    for mark in times.marks:
        x = _r(picture.x(mark.time))
        line = dw.Line(
            x, header_top, x, _r(lanes_bottom), stroke=MARK_COLOUR, stroke_dasharray="4,3"
        )
        line.append_title(f"{mark.name} at {picture.ms(mark.time):.3f} ms")
        elements.append(line)
    return elements


def draw_timeline(text: str, out_dir: Path) -> Drawn:
    """Write out_dir/timeline.svg for the log's last boot; never raises on
    what the log holds (only on an out_dir that cannot be written)."""
    times = boot_times(text)
    picture = _Picture(times)
    hatch = dw.Pattern(6, 6, patternTransform="rotate(45)")
    hatch.append(dw.Rectangle(0, 0, 6, 6, fill="#fce8e6"))
    hatch.append(dw.Line(0, 0, 0, 6, stroke=GAP_COLOUR, stroke_width=1.5))

    total_ms = picture.ms(times.end)
    picture.label(
        f"Boot timeline: {len(times.harts)} harts, {total_ms:.1f} ms from loader: start",
        LEFT,
        8,
    )
    header_top = TITLE_HEIGHT
    lanes_top = _header(picture, header_top) + 8
    before_lanes = len(picture.elements)
    y = lanes_top
    for hart in times.harts:
        y = _lane(picture, hart, y, hatch)
    lanes_bottom = y
    picture.elements[before_lanes:before_lanes] = _background(
        picture, lanes_top, lanes_bottom, header_top
    )
    y = _axis(picture, lanes_bottom + 2)
    y = _legend(picture, y + 4, hatch)
    for fact in times.missing:
        picture.label(f"not in this log: {fact}", LEFT, y, GAP_COLOUR)
        y += ROW_HEIGHT

    drawing = dw.Drawing(WIDTH, _r(y + 8))
    drawing.append(dw.Rectangle(0, 0, WIDTH, _r(y + 8), fill="#ffffff"))
    for element in picture.elements:
        drawing.append(element)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    path.write_text(drawing.as_svg(), encoding="utf-8")
    return Drawn((path,), times.missing, tuple(picture.labels))
