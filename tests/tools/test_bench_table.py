"""The benchmarks' table (tools/bench)."""

from __future__ import annotations

from aubade.bench.table import cell, format_table


def test_cell_is_the_median_and_the_spread() -> None:
    assert cell([12.0, 10.0, 11.5, 30.0, 11.0]) == "11.500 (10.000-30.000)"
    assert cell([3.0, 1.0]) == "2.000 (1.000-3.000)"


def test_table_has_a_row_per_smp_and_the_ratio_of_largest_to_smallest_memory() -> None:
    boots = {
        (1, "128M"): [10.0, 10.0, 10.0],
        (1, "8G"): [12.5, 12.0, 13.0],
        (4, "128M"): [20.0, 21.0, 19.0],
        (4, "8G"): [40.0, 41.0, 39.0],
    }
    assert format_table(boots, [1, 4], ["128M", "8G"]).splitlines() == [
        "smp                    128M                      8G  8G/128M",
        "  1  10.000 (10.000-10.000)  12.500 (12.000-13.000)    1.25x",
        "  4  20.000 (19.000-21.000)  40.000 (39.000-41.000)    2.00x",
    ]


def test_one_memory_size_has_no_ratio() -> None:
    assert format_table({(2, "1G"): [5.0]}, [2], ["1G"]).splitlines() == [
        "smp                   1G",
        "  2  5.000 (5.000-5.000)",
    ]
