"""The benchmarks' table: harts by row, and a column per configuration the
boots compare at each hart count (memory sizes, the ways to boot).

Each cell is the median of its boots with their spread, in milliseconds; the
last column is the ratio of the last column's median to the first's: the
largest memory size to the smallest, the scaling the boot is meant to keep
flat, or one way to boot to another.
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
    columns: Sequence[str],
) -> str:
    """The table of the boots of every (smp, column) pair, one row per smp."""
    ratio = f"{columns[-1]}/{columns[0]}" if len(columns) > 1 else None
    header = ["smp", *columns, *([ratio] if ratio else [])]
    rows = []
    for smp in smps:
        cells = [cell(milliseconds[smp, column]) for column in columns]
        if ratio:
            last = statistics.median(milliseconds[smp, columns[-1]])
            first = statistics.median(milliseconds[smp, columns[0]])
            cells.append(f"{last / first:.2f}x")
        rows.append([str(smp), *cells])
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]
    return "\n".join(
        "  ".join(text.rjust(width) for text, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    )
