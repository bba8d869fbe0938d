"""The table of `tools/bench floor`: one row per measure and machine, as a
Markdown table with padded columns, readable on a terminal and pasted as it
is into docs/benchmarks.md, and each figure in a column of its own (median,
min, max, the ratio) for a script that reads it.

A row's ratio is its median over the median of what it is compared with
(the floor at the same -smp, -smp 1, the smallest memory), and a row with a
target says whether the ratio meets it (at most the target).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

HEADER = ("measure", "clock", "smp", "-m", "median ms", "min ms", "max ms", "ratio", "to", "target")


@dataclass(frozen=True)
class Row:
    """One measure of one machine over its boots."""

    measure: str
    """What is timed: `QEMU start → kernel: init`."""
    clock: str
    """`host` (QEMU's start to a line read from its console) or `guest` (the log's timestamps)."""
    smp: int
    memory: str
    milliseconds: Sequence[float]
    """One figure per boot."""
    compared_with: str = ""
    """What the ratio is to (`floor`, `smp 1`, `128M`); empty for no ratio."""
    baseline: float | None = None
    """The median, in ms, of what the ratio is to."""
    target: float | None = None
    """The ratio this row must not exceed; None for no target."""

    @property
    def median(self) -> float:
        return statistics.median(self.milliseconds)

    @property
    def ratio(self) -> float | None:
        return None if self.baseline is None else self.median / self.baseline


def target_cell(ratio: float | None, target: float | None) -> str:
    """`target 1.15x met`, `target 1.15x not met`, or empty without a target."""
    if target is None or ratio is None:
        return ""
    return f"target {target:.2f}x {'met' if ratio <= target else 'not met'}"


def cells(row: Row) -> list[str]:
    ratio = row.ratio
    return [
        row.measure,
        row.clock,
        str(row.smp),
        row.memory,
        f"{row.median:.3f}",
        f"{min(row.milliseconds):.3f}",
        f"{max(row.milliseconds):.3f}",
        "" if ratio is None else f"{ratio:.2f}x",
        row.compared_with if ratio is not None else "",
        target_cell(ratio, row.target),
    ]


def format_floor_table(rows: Sequence[Row]) -> str:
    """The Markdown table of `rows`, in their order; numbers right-aligned."""
    table = [list(HEADER), *(cells(row) for row in rows)]
    widths = [max(len(line[index]) for line in table) for index in range(len(HEADER))]
    numeric = {HEADER.index(name) for name in ("smp", "median ms", "min ms", "max ms", "ratio")}

    def line(texts: Sequence[str]) -> str:
        padded = (
            text.rjust(width) if index in numeric else text.ljust(width)
            for index, (text, width) in enumerate(zip(texts, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (width + 1) + ":" if index in numeric else "-" * (width + 2)
            for index, width in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(table[0]), rule, *(line(texts) for texts in table[1:])])
