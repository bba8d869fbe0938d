"""Parse the kernel's KTAP version 1 test report out of its console text.

With `ktest` on its command line the kernel prints one report: a plan for its
suites, then per suite an indented subtest (`KTAP version 1`, `# Subtest:
NAME`, a plan, a result line per case with its `# ...` diagnostics before
it), closed by the suite's own result line:

    KTAP version 1
    1..1
        KTAP version 1
        # Subtest: frames
        1..2
        # contiguous: 4 pages aligned to 0x10000 returned 0
        not ok 1 contiguous
        ok 2 coalesce # SKIP needs 2 harts
    not ok 1 frames

Log lines of any hart and the firmware's banner may come between any two
lines: every line that is no KTAP line is left out. A report that breaks the
format, or ends before its plan is done (the kernel panicked in a case, the
boot timed out), is still parsed as far as it goes; `errors` says what is
wrong and, for a cut-off report, which case was running.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

VERSION_LINE = "KTAP version 1"
_INDENT = "    "
_LINE = re.compile(r"(?P<indent>(?:    )*)(?P<body>\S.*)")
_PLAN = re.compile(r"1\.\.(?P<count>\d+)")
_SUBTEST = re.compile(r"# Subtest: (?P<name>\S+)")
_DIAGNOSTIC = re.compile(r"#(?: (?P<text>.*))?")
_RESULT = re.compile(
    r"(?P<ok>ok|not ok) (?P<number>\d+)(?: (?:- )?(?P<name>[^#]*?))?"
    r"(?: # (?P<directive>.*))?"
)
_SKIP = re.compile(r"SKIP(?: (?P<reason>.*))?", re.IGNORECASE)


class Outcome(enum.Enum):
    PASSED = "ok"
    FAILED = "not ok"
    SKIPPED = "skip"


@dataclass(frozen=True)
class CaseResult:
    suite: str
    name: str
    number: int
    """Its number in its suite, from 1."""
    outcome: Outcome
    reason: str
    """Why it was skipped; empty unless SKIPPED."""
    diagnostics: tuple[str, ...]
    """Its `# ...` lines, without the `# `, in order."""

    @property
    def id(self) -> str:
        return f"{self.suite}.{self.name}"


@dataclass(frozen=True)
class SuiteResult:
    name: str
    number: int
    outcome: Outcome | None
    """None if the report was cut off before the suite's result line."""
    planned: int | None
    cases: tuple[CaseResult, ...]
    diagnostics: tuple[str, ...]
    """Its `# ...` lines that belong to no case (after its last case, or at
    the report's level before its result line)."""


@dataclass(frozen=True)
class RunningCase:
    """The case a cut-off report was in: its suite began, the case never ended."""

    suite: str
    number: int
    after: str | None
    """The name of the suite's case before it, None if it was the first."""

    def __str__(self) -> str:
        previous = "" if self.after is None else f", the one after {self.after}"
        return f"case {self.number} of suite {self.suite}{previous}"


@dataclass(frozen=True)
class KtapReport:
    found: bool
    """A `KTAP version 1` line started a report."""
    suites: tuple[SuiteResult, ...]
    running: RunningCase | None
    """Set when the report ended inside a suite."""
    errors: tuple[str, ...]
    """What is malformed or missing; empty for a complete, well-formed report."""

    @property
    def cases(self) -> tuple[CaseResult, ...]:
        return tuple(case for suite in self.suites for case in suite.cases)

    def case(self, suite: str, name: str) -> CaseResult | None:
        return next(
            (case for case in self.cases if case.suite == suite and case.name == name), None
        )


@dataclass
class _Result:
    outcome: Outcome
    number: int
    name: str
    reason: str


@dataclass
class _OpenSuite:
    started: str
    """Its first line, for messages."""
    versioned: bool = False
    name: str | None = None
    planned: int | None = None
    cases: list[tuple[_Result, tuple[str, ...]]] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)

    def label(self) -> str:
        return self.name or f"(unnamed, from line {self.started!r})"


def parse_ktap(text: str) -> KtapReport:
    """The first KTAP report in the console text."""
    parser = _Parser()
    for line in text.splitlines():
        parser.take(line.rstrip("\r"))
    return parser.finish()


class _Parser:
    def __init__(self) -> None:
        self.found = False
        self.done = False
        self.plan: int | None = None
        self.suites: list[SuiteResult] = []
        self.suite: _OpenSuite | None = None
        self.diagnostics: list[str] = []
        self.errors: list[str] = []

    def take(self, line: str) -> None:
        if not self.found:
            self.found = line == VERSION_LINE
            return
        match = _LINE.fullmatch(line)
        if match is None:
            return
        level = len(match["indent"]) // len(_INDENT)
        body = match["body"]
        if not _is_ktap(body):
            return
        if self.done:
            # One error per suite too many, at its result line.
            if level == 0 and _RESULT.fullmatch(body):
                self.errors.append(f"more than the plan's {self.plan} suites: {line!r}")
        elif level == 0:
            self._take_top(body, line)
        elif level == 1:
            self._take_suite(body, line)
        else:
            self.errors.append(f"nested deeper than a suite's cases: {line!r}")

    def finish(self) -> KtapReport:
        running = None
        if not self.found:
            self.errors.append(f"no `{VERSION_LINE}` line: the console holds no KTAP report")
        elif self.plan is None:
            self.errors.append("no plan (`1..N`) for the suites")
        if self.suite is not None:
            suite = self.suite
            previous = suite.cases[-1][0].name if suite.cases else None
            running = RunningCase(suite.label(), len(suite.cases) + 1, previous)
            self.errors.append(f"the report was cut off in {running}")
            self.suites.append(self._suite_result(suite, None))
        elif self.found and not self.done and self.plan is not None:
            done = ", ".join(suite.name for suite in self.suites) or "none"
            self.errors.append(
                f"the report was cut off between suites: {len(self.suites)} of "
                f"{self.plan} planned suites reported (done: {done})"
            )
        return KtapReport(self.found, tuple(self.suites), running, tuple(self.errors))

    def _take_top(self, body: str, line: str) -> None:
        if body == VERSION_LINE:
            self.errors.append(f"a second `{VERSION_LINE}` line inside the report: {line!r}")
        elif plan := _PLAN.fullmatch(body):
            if self.plan is not None or self.suites or self.suite is not None:
                self.errors.append(f"plan not at the start of the report: {line!r}")
            else:
                self.plan = int(plan["count"])
                self.done = self.plan == 0
        elif result := _RESULT.fullmatch(body):
            self._close_suite(self._result(result, line, len(self.suites) + 1))
        elif diagnostic := _DIAGNOSTIC.fullmatch(body):
            self.diagnostics.append(diagnostic["text"] or "")

    def _take_suite(self, body: str, line: str) -> None:
        if self.suite is None:
            self.suite = _OpenSuite(line)
        suite = self.suite
        if body == VERSION_LINE:
            if suite.versioned or suite.name or suite.planned is not None or suite.cases:
                self.errors.append(f"suite {suite.label()}: a second version line: {line!r}")
            suite.versioned = True
        elif subtest := _SUBTEST.fullmatch(body):
            if suite.name is not None:
                self.errors.append(f"suite {suite.label()}: a second subtest name: {line!r}")
            else:
                suite.name = subtest["name"]
        elif plan := _PLAN.fullmatch(body):
            if suite.planned is not None or suite.cases:
                self.errors.append(f"suite {suite.label()}: plan not before its cases: {line!r}")
            else:
                suite.planned = int(plan["count"])
        elif result := _RESULT.fullmatch(body):
            case = self._result(result, line, len(suite.cases) + 1)
            if suite.planned is None and not suite.cases:
                self.errors.append(f"suite {suite.label()}: no plan (`1..N`) before its cases")
            suite.cases.append((case, tuple(suite.diagnostics)))
            suite.diagnostics.clear()
        elif diagnostic := _DIAGNOSTIC.fullmatch(body):
            suite.diagnostics.append(diagnostic["text"] or "")

    def _close_suite(self, result: _Result) -> None:
        suite = self.suite or _OpenSuite(result.name)
        self.suite = None
        if suite.name is None:
            suite.name = result.name
        elif suite.name != result.name:
            self.errors.append(f"suite {suite.name}: its result line names it {result.name!r}")
        if suite.planned is not None and suite.planned != len(suite.cases):
            self.errors.append(
                f"suite {suite.name}: plan mismatch: {suite.planned} cases planned, "
                f"{len(suite.cases)} reported"
            )
        suite.diagnostics.extend(self.diagnostics)
        self.diagnostics.clear()
        self.suites.append(self._suite_result(suite, result))
        self.done = self.plan is not None and len(self.suites) >= self.plan

    def _suite_result(self, suite: _OpenSuite, result: _Result | None) -> SuiteResult:
        name = suite.label()
        return SuiteResult(
            name=name,
            number=len(self.suites) + 1,
            outcome=None if result is None else result.outcome,
            planned=suite.planned,
            cases=tuple(
                CaseResult(name, case.name, case.number, case.outcome, case.reason, diagnostics)
                for case, diagnostics in suite.cases
            ),
            diagnostics=tuple(suite.diagnostics),
        )

    def _result(self, match: re.Match[str], line: str, expected_number: int) -> _Result:
        number = int(match["number"])
        if number != expected_number:
            self.errors.append(f"result {number} where {expected_number} was due: {line!r}")
        name = match["name"] or ""
        if not name:
            self.errors.append(f"result without a name: {line!r}")
        outcome = Outcome.PASSED if match["ok"] == "ok" else Outcome.FAILED
        reason = ""
        directive = match["directive"]
        if directive is not None:
            skip = _SKIP.fullmatch(directive)
            if skip is None:
                self.errors.append(f"unknown directive {directive!r}: {line!r}")
            else:
                outcome = Outcome.SKIPPED
                reason = skip["reason"] or ""
        return _Result(outcome, number, name, reason)


def _is_ktap(body: str) -> bool:
    return body == VERSION_LINE or any(
        pattern.fullmatch(body) for pattern in (_PLAN, _RESULT, _DIAGNOSTIC)
    )
