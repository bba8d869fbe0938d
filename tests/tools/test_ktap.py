"""The KTAP parser: results, diagnostics and skips, and reports that are broken or cut off."""

from __future__ import annotations

from aubade.ktap import KtapReport, Outcome, RunningCase, parse_ktap

BANNER = "OpenSBI v1.1\n   ____                    _____ ____ _____\n"
REPORT = """\
KTAP version 1
1..2
    KTAP version 1
    # Subtest: frames
    1..3
    ok 1 alloc_single
    # contiguous: kernel/ktest/frames.c:40: expected frames_alloc(...) != 0
    # contiguous: 4 pages aligned to 0x10000 returned 0
    not ok 2 contiguous
    ok 3 coalesce # SKIP needs 2 harts
ok 1 frames
    KTAP version 1
    # Subtest: heap
    1..1
    ok 1 sizes
ok 2 heap
[    0.123456] kernel: ktest passed=3 failed=1 skipped=1 cpu=0
[    0.123500] kernel: poweroff status=ktest-failed cpu=0
"""


def outcomes(report: KtapReport) -> dict[str, Outcome]:
    return {case.id: case.outcome for case in report.cases}


def cut_before(text: str, line: str) -> str:
    return text[: text.index(line)]


def test_passing_report_gives_every_case_by_suite() -> None:
    text = REPORT.replace("not ok 2 contiguous", "ok 2 contiguous").replace(
        "ok 3 coalesce # SKIP needs 2 harts", "ok 3 coalesce"
    )
    report = parse_ktap(BANNER + text)
    assert report.found and report.errors == () and report.running is None
    assert [(suite.name, suite.outcome, suite.planned) for suite in report.suites] == [
        ("frames", Outcome.PASSED, 3),
        ("heap", Outcome.PASSED, 1),
    ]
    assert outcomes(report) == {
        "frames.alloc_single": Outcome.PASSED,
        "frames.contiguous": Outcome.PASSED,
        "frames.coalesce": Outcome.PASSED,
        "heap.sizes": Outcome.PASSED,
    }
    assert [case.number for case in report.cases] == [1, 2, 3, 1]


def test_failed_case_carries_the_diagnostics_printed_before_it() -> None:
    report = parse_ktap(REPORT)
    assert report.errors == ()
    failed = report.case("frames", "contiguous")
    assert failed is not None and failed.outcome is Outcome.FAILED
    assert failed.diagnostics == (
        "contiguous: kernel/ktest/frames.c:40: expected frames_alloc(...) != 0",
        "contiguous: 4 pages aligned to 0x10000 returned 0",
    )
    passed = report.case("frames", "alloc_single")
    assert passed is not None and passed.diagnostics == ()


def test_skipped_case_gives_its_reason() -> None:
    skipped = parse_ktap(REPORT).case("frames", "coalesce")
    assert skipped is not None
    assert (skipped.outcome, skipped.reason) == (Outcome.SKIPPED, "needs 2 harts")


def test_log_lines_between_report_lines_are_left_out() -> None:
    lines = REPORT.splitlines()
    log = "[    0.120001] kernel: late hart={} cpu={}"
    interleaved = "\r\n".join(
        f"{line}\r\n{log.format(index, index % 4)}" for index, line in enumerate(lines)
    )
    assert parse_ktap(interleaved) == parse_ktap(REPORT)


def test_text_without_report_is_an_error() -> None:
    report = parse_ktap(BANNER + "[    0.1] kernel: poweroff status=ok\n")
    assert not report.found and report.cases == ()
    assert len(report.errors) == 1 and "no `KTAP version 1` line" in report.errors[0]


def test_report_cut_off_in_a_case_names_the_case_that_was_running() -> None:
    text = cut_before(REPORT, "    not ok 2 contiguous")
    text += "[    0.120000] kernel: panic reason=load-page-fault cause=13 addr=0x0\n"
    report = parse_ktap(text)
    assert report.running == RunningCase("frames", 2, "alloc_single")
    assert report.errors == (
        "the report was cut off in case 2 of suite frames, the one after alloc_single",
    )
    assert outcomes(report) == {"frames.alloc_single": Outcome.PASSED}
    assert report.suites[0].outcome is None


def test_report_cut_off_in_the_first_case_of_a_suite() -> None:
    report = parse_ktap(cut_before(REPORT, "    ok 1 sizes"))
    assert report.running == RunningCase("heap", 1, None)
    assert set(outcomes(report)) == {
        "frames.alloc_single",
        "frames.contiguous",
        "frames.coalesce",
    }


def test_report_cut_off_between_suites_says_how_many_were_done() -> None:
    report = parse_ktap(cut_before(REPORT, "    KTAP version 1\n    # Subtest: heap"))
    assert report.running is None
    assert report.errors == (
        "the report was cut off between suites: 1 of 2 planned suites reported (done: frames)",
    )


def test_suite_plan_mismatch_is_an_error() -> None:
    report = parse_ktap(REPORT.replace("    1..3", "    1..4"))
    assert report.errors == ("suite frames: plan mismatch: 4 cases planned, 3 reported",)


def test_more_suites_than_planned_is_an_error() -> None:
    report = parse_ktap(REPORT.replace("\n1..2\n", "\n1..1\n"))
    assert [suite.name for suite in report.suites] == ["frames"]
    assert report.errors == ("more than the plan's 1 suites: 'ok 2 heap'",)


def test_missing_plans_are_errors() -> None:
    report = parse_ktap(REPORT.replace("\n1..2\n", "\n").replace("    1..1\n", ""))
    assert report.errors == (
        "suite heap: no plan (`1..N`) before its cases",
        "no plan (`1..N`) for the suites",
    )
    assert len(report.cases) == 4


def test_out_of_order_numbers_and_mismatched_suite_name_are_errors() -> None:
    text = REPORT.replace("    ok 3 coalesce", "    ok 4 coalesce").replace(
        "ok 2 heap", "ok 2 slab"
    )
    report = parse_ktap(text)
    assert report.errors == (
        "result 4 where 3 was due: '    ok 4 coalesce # SKIP needs 2 harts'",
        "suite heap: its result line names it 'slab'",
    )


def test_unknown_directive_is_an_error() -> None:
    report = parse_ktap(REPORT.replace("# SKIP needs 2 harts", "# TODO later"))
    assert report.errors == ("unknown directive 'TODO later': '    ok 3 coalesce # TODO later'",)
