"""The kernel's init order, as `scons listinit` prints it, against a golden copy.

A change to the order is not wrong, but it must be seen: the diff is the
review. When the change is meant, refresh the copy as the failure says.
"""

from __future__ import annotations

import difflib

from configurations import BOARDS, REPO, VIRT, init_plan

from aubade.inittokens import render_listing

GOLDEN = REPO / "tests" / "golden" / "listinit.txt"


def test_init_order_matches_the_golden_copy() -> None:
    listing = render_listing(init_plan(VIRT))
    golden = GOLDEN.read_text()
    diff = "".join(
        difflib.unified_diff(
            golden.splitlines(keepends=True),
            listing.splitlines(keepends=True),
            str(GOLDEN.relative_to(REPO)),
            "scons listinit",
        )
    )
    assert not diff, (
        f"the init order changed:\n{diff}\nIf that is meant: "
        f".venv/bin/scons -Q listinit > {GOLDEN.relative_to(REPO)}"
    )


def test_every_board_calls_the_same_functions_in_the_same_order() -> None:
    # No declaration has a condition on the board yet: when one does, this
    # test becomes a golden copy per board.
    orders = {board.name: init_plan(board).boot_hart for board in BOARDS}
    virt = [(call.token, call.function) for call in orders.pop(VIRT.name)]
    for calls in orders.values():
        assert [(call.token, call.function) for call in calls] == virt


def test_the_other_harts_run_the_every_hart_calls_in_the_boot_harts_order() -> None:
    plan = init_plan(VIRT)
    every_hart = [call for call in plan.boot_hart if call.harts == "every"]
    assert list(plan.other_harts) == every_hart
    tokens = [call.token for call in plan.other_harts]
    # The barriers that keep the harts in step are on every hart's path.
    assert {"smp_start", "tables_entered", "memory_ready", "late_done"} <= set(tokens)
