"""The kernel's own test cases (`-append ktest`), one pytest result per case and configuration.

Once every hart is up, the kernel runs each case declared with `KTEST(suite,
case)`, prints a KTAP report and powers off. The cases to expect are read
from the sources when pytest collects, so a case the kernel never reports
fails by name rather than going unnoticed. Each configuration boots once (the
`ktest_boot` fixture) and every case reads its result from that boot's report.
"""

from __future__ import annotations

import pytest
from configurations import REPO, BootConfig
from harness.boot import Boot

from aubade.ktap import KtapReport, Outcome, parse_ktap
from aubade.ktest_cases import DeclaredCase, declared_cases

CASES = declared_cases(REPO, "kernel")


@pytest.fixture(scope="session")
def ktap_report(ktest_boot: Boot) -> KtapReport:
    return parse_ktap("\n".join(ktest_boot.lines))


def why_incomplete(boot: Boot, report: KtapReport) -> str:
    """What the report and the harness say about a boot whose report lacks something."""
    problems = [f"report: {error}" for error in report.errors]
    harness = boot.failure or f"the boot ran to its end; whole console log: {boot.log_path}"
    return "\n".join([*problems, harness])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_kernel_case(case: DeclaredCase, ktest_boot: Boot, ktap_report: KtapReport) -> None:
    result = ktap_report.case(case.suite, case.name)
    if result is None:
        pytest.fail(
            f"{ktest_boot.name}: {case.id} ({case.source}): the kernel did not report it: "
            "was it registered? did the boot stop early?\n"
            + why_incomplete(ktest_boot, ktap_report),
            pytrace=False,
        )
    if result.outcome is Outcome.SKIPPED:
        pytest.skip(f"{case.id}: {result.reason or 'no reason given'}")
    if result.outcome is Outcome.FAILED:
        diagnostics = [f"  # {line}" for line in result.diagnostics] or ["  (no diagnostics)"]
        pytest.fail(
            "\n".join(
                [
                    f"{ktest_boot.name}: {case.id} ({case.source}) failed in the kernel:",
                    *diagnostics,
                    f"whole console log: {ktest_boot.log_path}",
                ]
            ),
            pytrace=False,
        )


def test_report_has_no_case_unknown_to_the_sources(
    ktest_boot: Boot, ktap_report: KtapReport
) -> None:
    declared = {(case.suite, case.name) for case in CASES}
    unknown = [case.id for case in ktap_report.cases if (case.suite, case.name) not in declared]
    assert unknown == [], (
        "reported, but declared nowhere under kernel/ as KTEST(suite, case), "
        f"so no test shows them; console log: {ktest_boot.log_path}"
    )


def test_report_is_complete_and_well_formed(ktest_boot: Boot, ktap_report: KtapReport) -> None:
    assert ktap_report.errors == (), why_incomplete(ktest_boot, ktap_report)


def test_ktest_line_counts_equal_the_report(ktest_boot: Boot, ktap_report: KtapReport) -> None:
    ktest = ktest_boot.event("kernel", "ktest")
    counted = {name: ktest.int_field(name) for name in ("passed", "failed", "skipped")}
    outcomes = [case.outcome for case in ktap_report.cases]
    reported = {
        "passed": outcomes.count(Outcome.PASSED),
        "failed": outcomes.count(Outcome.FAILED),
        "skipped": outcomes.count(Outcome.SKIPPED),
    }
    assert counted == reported, ktest.line


def test_no_case_failed_and_the_machine_powered_off_cleanly(
    ktest_boot: Boot, ktest_config: BootConfig
) -> None:
    ktest = ktest_boot.event("kernel", "ktest")
    assert ktest.int_field("failed") == 0, f"{ktest.line}\nconsole log: {ktest_boot.log_path}"
    if ktest_config.board.qemu.exits_on_poweroff:
        assert ktest_boot.exit_status() == 0
        return
    # No exit status where QEMU does not exit at power-off (see test_boot.py):
    # the kernel's power-off line is what the board can show.
    assert ktest_boot.exit_status() is None, "QEMU exited although its board says it cannot"
    assert ktest_boot.event("kernel", "poweroff").field("status") == "ok"
