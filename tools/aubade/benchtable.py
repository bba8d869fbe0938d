"""The boot benchmark's table: harts by row, memory sizes by column.

Each cell is the median of its boots with their spread, in milliseconds; the
last column compares the largest memory size with the smallest at the same
hart count, the scaling the boot is meant to keep flat.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence


def cell(milliseconds: Sequence[float]) -> str:
    """`median (min-max)` of one configuration's boots."""
    median = statistics.median(milliseconds)
    return f"{median:.3f} ({min(milliseconds):.3f}-{max(milliseconds):.3f})"


def format_table(
    milliseconds: Mapping[tuple[int, str], Sequence[float]],
    smps: Sequence[int],
    memories: Sequence[str],
) -> str:
    """The table of the boots of every (smp, memory) pair, one row per smp."""
    ratio = f"{memories[-1]}/{memories[0]}" if len(memories) > 1 else None
    header = ["smp", *memories, *([ratio] if ratio else [])]
    rows = []
    for smp in smps:
        cells = [cell(milliseconds[smp, memory]) for memory in memories]
        if ratio:
            largest = statistics.median(milliseconds[smp, memories[-1]])
            smallest = statistics.median(milliseconds[smp, memories[0]])
            cells.append(f"{largest / smallest:.2f}x")
        rows.append([str(smp), *cells])
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return "\n".join(
        "  ".join(text.rjust(width) for text, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    )
