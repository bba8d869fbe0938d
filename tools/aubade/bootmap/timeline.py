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
from aubade.bootmap.labels import LabelBox, Placer, box_for
from aubade.bootmap.memory import Drawn
from aubade.bootmap.picture import MONOSPACE, printable

FILE_NAME = "timeline.svg"

WIDTH = 1400
LEFT = 120
"""Room for the lane labels (`hart 127 (boot)`)."""
RIGHT = 30
TITLE_HEIGHT = 30
FONT_SIZE = 11
BAR_HEIGHT = 18
LANE_SPACING = 8
CLUSTER_PIXELS = 6.0
"""Narrow calls closer than this share one callout."""
GAP_SECONDS = 0.001
"""Time between two calls on a lane from which it is drawn hatched."""
MINIMUM_SPAN_SECONDS = 0.001
LONGEST_TITLE = 300
"""Characters of a tooltip: a field of a garbled log can be any length."""
LONGEST_LANE_LABEL = 16
"""Characters of a lane's label, so that it stays left of the lanes."""

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
TEXT_COLOUR = "#202124"


def _r(value: float) -> float:
    """Coordinates rounded, so that the SVG's bytes depend on the log only."""
    return round(value, 2)


def _spaced(text: str) -> str:
    """A label as placed: a space either side, so that two labels side by
    side in a row (boxes may touch) never read as one word."""
    return f" {printable(text)} "


def _box(text: str, centre: float, top: float) -> LabelBox:
    """The box of a label centred on `centre`, its top at `top`."""
    box = box_for(FILE_NAME, _spaced(text), 0, top, FONT_SIZE)
    return LabelBox(box.file, box.text, _r(centre - box.width / 2), _r(top), box.width, box.height)


def _free(box: LabelBox, placer: Placer) -> bool:
    return not any(box.intersects(other) for other in placer.placed)


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

    def text(
        self, box: LabelBox, colour: str = TEXT_COLOUR, into: list[dw.DrawingElement] | None = None
    ) -> dw.Text:
        """Draw a placed label's text in its box, and keep its box."""
        self.labels.append(box)
        element = dw.Text(
            box.text,
            FONT_SIZE,
            _r(box.x),
            _r(box.baseline),
            fill=colour,
            font_family=MONOSPACE,
            xml__space="preserve",
        )
        (self.elements if into is None else into).append(element)
        return element


def _clamped_centre(centre: float, width: float) -> float:
    """A centre that keeps a label of this width over the lanes."""
    return min(max(centre, LEFT + width / 2), WIDTH - RIGHT - width / 2)


def _header(picture: _Picture, top: float) -> float:
    """Phase names, barrier tokens and marks above the lanes, each pushed
    down past the ones before it; returns the header's bottom."""
    times = picture.times
    items: list[tuple[str, float, str]] = [
        (phase.name, (picture.x(phase.start) + picture.x(phase.end)) / 2, TEXT_COLOUR)
        for phase in times.phases
    ]
    items += [
        (barrier.token, picture.x(barrier.time), BARRIER_COLOUR) for barrier in times.barriers
    ]
    items += [(mark.name, picture.x(mark.time), MARK_COLOUR) for mark in times.marks]
    placer = Placer(FILE_NAME)
    bottom = top
    for text, centre, colour in items:
        wanted = _box(text, centre, top)
        box = placer.place(
            wanted.text, _clamped_centre(centre, wanted.width) - wanted.width / 2, top, FONT_SIZE
        )
        picture.text(box, colour)
        bottom = max(bottom, box.bottom)
    return bottom


def _bar_title(call: Call, picture: _Picture) -> str:
    us = round((call.end - call.start) * 1e6)
    how = " (made before the console: reported by init_trace, placed end to end)"
    return printable(
        f"{call.fn} (token {call.token}) hart {call.hart}: {us} us, "
        f"{picture.ms(call.start):.3f}-{picture.ms(call.end):.3f} ms"
        + (how if call.reported_late else ""),
        LONGEST_TITLE,
    )


def _inside(
    picture: _Picture,
    placer: Placer,
    texts: list[dw.DrawingElement],
    candidates: Sequence[str],
    x0: float,
    x1: float,
    top: float,
    colour: str,
) -> bool:
    """Write the first of the candidates that fits between x0 and x1 and
    meets no label of the lane; False when none does."""
    for text in dict.fromkeys(candidates):
        box = _box(text, (x0 + x1) / 2, top)
        if box.width <= x1 - x0 and _free(box, placer):
            placer.placed.append(box)
            picture.text(box, colour, texts)
            return True
    return False


def _lane(picture: _Picture, hart: int, top: float, hatch: dw.Pattern) -> float:
    """One hart's bars, gaps and labels from `top`; returns the lane's bottom."""
    times = picture.times
    calls = [call for call in times.calls if call.hart == hart]
    placer = Placer(FILE_NAME)
    boxes: list[dw.DrawingElement] = []
    texts: list[dw.DrawingElement] = []
    bar_bottom = top + BAR_HEIGHT
    text_top = top + (BAR_HEIGHT - FONT_SIZE * 1.25) / 2
    name = printable(f"hart {hart}", LONGEST_LANE_LABEL)
    if hart == times.boot_hart and len(name) + 7 <= LONGEST_LANE_LABEL:
        name += " (boot)"
    picture.text(box_for(FILE_NAME, name, 8, _r(text_top), FONT_SIZE), into=texts)

    spans: list[tuple[float, float]] = []
    if times.loader is not None and hart == times.boot_hart:
        x0, x1 = picture.x(times.loader.start), picture.x(times.loader.end)
        rect = dw.Rectangle(_r(x0), top, _r(max(x1 - x0, 1)), BAR_HEIGHT, fill=LOADER_COLOUR)
        loader_ms = picture.ms(times.loader.end) - picture.ms(times.loader.start)
        rect.append_title(f"the loader: {loader_ms:.3f} ms, loader: start to loader: handoff")
        boxes.append(rect)
        spans.append((times.loader.start, times.loader.end))
        _inside(picture, placer, texts, ["loader"], x0, x1, text_top, "#ffffff")

    narrow: list[tuple[float, float, Call]] = []
    for call in calls:
        x0, x1 = picture.x(call.start), picture.x(call.end)
        spans.append((call.start, call.end))
        colour = WAIT_COLOUR if call.is_barrier else CALL_COLOUR
        if call.reported_late and not call.is_barrier:
            colour = LATE_CALL_COLOUR
        rect = dw.Rectangle(_r(x0), top, _r(max(x1 - x0, 1)), BAR_HEIGHT, fill=colour)
        rect.append_title(_bar_title(call, picture))
        boxes.append(rect)
        if call.is_barrier:
            continue
        if not _inside(picture, placer, texts, [call.fn, call.token], x0, x1, text_top, "#ffffff"):
            narrow.append((x0, x1, call))

    _gaps(picture, spans, top, hatch, placer, boxes, texts)
    bottom = _callouts(picture, narrow, bar_bottom, placer, texts)
    picture.elements.extend(boxes)
    picture.elements.extend(texts)
    return max(bottom, bar_bottom) + LANE_SPACING


def _gaps(
    picture: _Picture,
    spans: list[tuple[float, float]],
    top: float,
    hatch: dw.Pattern,
    placer: Placer,
    boxes: list[dw.DrawingElement],
    texts: list[dw.DrawingElement],
) -> None:
    """Hatch the time between one bar's end and the next one's start, when
    it is GAP_SECONDS or more, with its length where it fits."""
    text_top = top + (BAR_HEIGHT - FONT_SIZE * 1.25) / 2
    reached: float | None = None
    for start, end in sorted(spans):
        if reached is not None and start - reached >= GAP_SECONDS:
            x0, x1 = picture.x(reached), picture.x(start)
            length = (start - reached) * 1000
            rect = dw.Rectangle(
                _r(x0), top, _r(max(x1 - x0, 1)), BAR_HEIGHT, fill=hatch, stroke=GAP_COLOUR
            )
            rect.append_title(f"{length:.3f} ms between calls on this hart")
            boxes.append(rect)
            _inside(picture, placer, texts, [f"{length:.1f} ms"], x0, x1, text_top, GAP_COLOUR)
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
    placer: Placer,
    texts: list[dw.DrawingElement],
) -> float:
    """Callouts for the calls too narrow for their names, below the lane,
    each pushed down past the ones before it; returns their bottom."""
    bottom = bar_bottom
    for cluster in _clusters(narrow):
        calls = [call for _, _, call in cluster]
        centre = (min(x0 for x0, _, _ in cluster) + max(x1 for _, x1, _ in cluster)) / 2
        wanted = _box(callout_text(calls), centre, bar_bottom + 3)
        left = _clamped_centre(centre, wanted.width) - wanted.width / 2
        box = placer.place(wanted.text, left, bar_bottom + 3, FONT_SIZE)
        texts.append(
            dw.Line(
                _r(centre), bar_bottom, _r(centre), _r(box.y), stroke="#9aa0a6", stroke_width=0.5
            )
        )
        picture.text(box, into=texts).append_title(
            "\n".join(_bar_title(call, picture) for call in calls)
        )
        bottom = max(bottom, box.bottom)
    return bottom


def _axis(picture: _Picture, top: float) -> float:
    """Ticks in ms at a round step at least 70 px apart; returns the bottom."""
    span_ms = max(picture.times.end - picture.times.start, MINIMUM_SPAN_SECONDS) * 1000
    step = next(
        (
            candidate * scale
            for scale in (10.0**exponent for exponent in range(-3, 9))
            for candidate in (1, 2, 5)
            if candidate * scale / span_ms * picture.plot_width >= 70
        ),
        span_ms,
    )
    picture.elements.append(dw.Line(LEFT, top, WIDTH - RIGHT, top, stroke=TEXT_COLOUR))
    index = 0
    while (tick := index * step) <= span_ms + 1e-9:
        x = LEFT + tick / span_ms * picture.plot_width
        picture.elements.append(dw.Line(_r(x), top, _r(x), top + 4, stroke=TEXT_COLOUR))
        picture.text(_box(f"{tick:g}", x, top + 5))
        index += 1
    unit = _box("ms since loader: start", LEFT + picture.plot_width / 2, top + 20)
    picture.text(unit)
    return unit.bottom + 4


def _legend(picture: _Picture, top: float, hatch: dw.Pattern) -> float:
    entries: list[tuple[str, str | dw.Pattern, str]] = [
        ("loader", LOADER_COLOUR, "none"),
        ("init call", CALL_COLOUR, "none"),
        ("init call made before the console (placed end to end)", LATE_CALL_COLOUR, "none"),
        ("smp_barrier: waiting for the other harts", WAIT_COLOUR, "none"),
        (f"{GAP_SECONDS * 1000:g} ms or more between calls", hatch, GAP_COLOUR),
        *((f"{name} phase", colour, "none") for name, colour in PHASE_COLOURS.items()),
    ]
    height = FONT_SIZE * 1.25 + 2
    x, y = float(LEFT), top
    for text, fill, stroke in entries:
        box = box_for(FILE_NAME, _spaced(text), x + 14, y, FONT_SIZE)
        if box.right > WIDTH - RIGHT:
            x, y = float(LEFT), y + height
            box = box_for(FILE_NAME, _spaced(text), x + 14, y, FONT_SIZE)
        picture.elements.append(dw.Rectangle(_r(x), _r(y + 1.5), 12, 11, fill=fill, stroke=stroke))
        picture.text(LabelBox(box.file, box.text, _r(box.x), _r(box.y), box.width, box.height))
        x = box.right + 12
    y += height
    picture.elements.append(
        dw.Line(LEFT + 6, _r(y), LEFT + 6, _r(y + 12), stroke=BARRIER_COLOUR, stroke_width=1.5)
    )
    barrier = "barrier: where its last hart left it (its token above)"
    picture.text(box_for(FILE_NAME, _spaced(barrier), LEFT + 14, _r(y), FONT_SIZE))
    return y + height


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
            f"barrier {printable(barrier.token, LONGEST_TITLE)}: left by its last hart"
            f" at {picture.ms(barrier.time):.3f} ms ({barrier.harts} harts reported it)"
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
    title = f"Boot timeline: {len(times.harts)} harts, {total_ms:.1f} ms from loader: start"
    picture.text(box_for(FILE_NAME, _spaced(title), LEFT, 8, FONT_SIZE))
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
        box = box_for(FILE_NAME, _spaced(f"not in this log: {fact}"), LEFT, _r(y), FONT_SIZE)
        picture.text(box, GAP_COLOUR)
        y = box.bottom + 2
    y = _r(max([y, *(box.bottom for box in picture.labels)]))

    drawing = dw.Drawing(WIDTH, _r(y + 8))
    drawing.append(dw.Rectangle(0, 0, WIDTH, _r(y + 8), fill="#ffffff"))
    for element in picture.elements:
        drawing.append(element)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    path.write_text(drawing.as_svg(), encoding="utf-8")
    return Drawn((path,), times.missing, tuple(picture.labels))
