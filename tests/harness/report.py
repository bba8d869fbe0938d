"""The boot report: one page, build/test-report/index.html, of every boot of
the session, its console log, the checks made on it and its pictures.

Every machine the session boots is recorded where it is closed
(`Machine.closed_observers`), whoever booted it: the boot fixtures'
`run_boot` and the tests that drive a `Machine` themselves. A test that used
a boot (a `Boot` among its fixtures, or a machine closed while it ran) is a
check of that boot; when it fails, its report gets a line
`boot report: build/test-report/index.html#ANCHOR` pointing at the boot's section.

Under pytest-xdist the tests run in workers: each appends its records to a
file of its own under the report's `records/`, and the controller, once
every worker has finished, reads them all and writes the page
(tests/harness/report_page.py).

`AUBADE_BOOT_REPORT_DIR` puts the report elsewhere (a test's inner session).
A pytest started from inside a session (tests/test_serial_target.py's) writes
no report unless told where, so that it does not replace the outer one.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Generator
from pathlib import Path

import pytest

from aubade.machine import Machine
from harness.boot import Boot
from harness.report_page import write_page
from harness.report_records import BootRecord, CheckRecord, append, read_all

ENV_DIR = "AUBADE_BOOT_REPORT_DIR"
ENV_OUTER = "AUBADE_BOOT_REPORT_OUTER"
"""Set by a session that writes a report, for the pytests it starts."""
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "build" / "test-report"
_INPUT_DIR = "aubade_boot_report_dir"
_INPUT_LINK = "aubade_boot_report_link"
_MESSAGE_LIMIT = 4000
_PLUGIN_NAME = "aubade-boot-report"
_OUTER_BEFORE = pytest.StashKey[str | None]()


class BootReport:
    """The report's hooks in one process: the controller, a worker or both."""

    def __init__(self, directory: Path, link: str, process: str) -> None:
        self.directory = directory
        self.link = link
        """How a failure names the page: relative to where pytest was started."""
        self.process = process
        self._records = directory / "records" / f"{process}-{os.getpid()}.jsonl"
        self._anchors = Counter[str]()
        self._anchor_of: dict[tuple[str, str], str] = {}
        self._test: str | None = None
        self._closed_in_test: list[str] = []

    def machine_closed(self, machine: Machine) -> None:
        # Whatever goes wrong here must not fail the machine's close.
        try:
            self._record_machine(machine)
        except Exception as error:
            print(f"boot report: {machine.name} not recorded: {error!r}", file=sys.stderr)

    def _record_machine(self, machine: Machine) -> None:
        base = re.sub(r"[^A-Za-z0-9._-]", "-", machine.name) or "boot"
        self._anchors[base] += 1
        count = self._anchors[base]
        anchor = base if count == 1 else f"{base}-{count}"
        self._anchor_of[machine.name, str(machine.log_path)] = anchor
        if self._test is not None:
            self._closed_in_test.append(anchor)
        self._records.parent.mkdir(parents=True, exist_ok=True)
        append(
            self._records,
            BootRecord(
                anchor=anchor,
                name=machine.name,
                process=self.process,
                command=machine.target.describe(),
                log_path=str(machine.log_path),
                lines=list(machine.lines),
                status=machine.exit_status(),
                failure=machine.failure,
                failure_line=machine.failure_line,
                booted_by=self._test,
            ),
        )

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self._test, self._closed_in_test = nodeid, []

    def pytest_runtest_logfinish(self) -> None:
        self._test, self._closed_in_test = None, []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        try:
            self._record_check(item, report)
        except Exception as error:
            print(f"boot report: {item.nodeid} not recorded: {error!r}", file=sys.stderr)
        return report

    def _record_check(self, item: pytest.Item, report: pytest.TestReport) -> None:
        anchors = list(self._closed_in_test)
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, Boot):
                anchor = self._anchor_of.get((value.name, str(value.log_path)))
                if anchor is not None and anchor not in anchors:
                    anchors.append(anchor)
        # A phase that passed before the call says nothing the call does not.
        if not anchors or (report.when != "call" and report.passed):
            return
        if report.failed:
            _add_to_failure(report, "\n".join(f"boot report: {self.link}#{a}" for a in anchors))
            # The item's, which later phases' reports copy (junitxml reads
            # the teardown's), and this report's own copy.
            links = [("boot report", f"{self.link}#{anchor}") for anchor in anchors]
            item.user_properties.extend(links)
            report.user_properties.extend(links)
        self._records.parent.mkdir(parents=True, exist_ok=True)
        append(
            self._records,
            CheckRecord(
                nodeid=report.nodeid,
                process=self.process,
                when=report.when,
                outcome=report.outcome,
                message=_message(report),
                anchors=anchors,
            ),
        )

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: object) -> None:
        """xdist's: tell each worker where the records go."""
        workerinput = getattr(node, "workerinput")  # noqa: B009 (xdist's WorkerController)
        workerinput[_INPUT_DIR] = str(self.directory)
        workerinput[_INPUT_LINK] = self.link


class _Controller:
    """The hooks of the process that writes the page (not an xdist worker)."""

    def __init__(self, report: BootReport) -> None:
        self.report = report
        self.written: str | None = None

    # Last, so that every worker has finished (xdist's loop has returned).
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        try:
            # Written even without a boot, so that the page is never the last session's.
            boots, checks = read_all(self.report.directory / "records")
            summary = write_page(self.report.directory, boots, checks)
            self.written = f"{self.report.link} ({summary})"
        except Exception as error:
            self.written = f"not written: {error!r}"

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.written is not None:
            terminalreporter.write_line(f"boot report: {self.written}")


def _add_to_failure(report: pytest.TestReport, text: str) -> None:
    """Put `text` in the failure's own report, where every --tb style but
    `no` and `line` prints it, whatever --show-capture says."""
    longrepr = report.longrepr
    if hasattr(longrepr, "addsection"):
        longrepr.addsection("boot report", text)
    elif isinstance(longrepr, str):
        report.longrepr = f"{longrepr}\n\n{text}"
    else:
        report.sections.append(("boot report", text))


def _message(report: pytest.TestReport) -> str | None:
    """A failure's assertion message, a skip's reason, nothing for a pass."""
    longrepr = report.longrepr
    if longrepr is None:
        return None
    if isinstance(longrepr, tuple):
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(longrepr)
    return text[:_MESSAGE_LIMIT]


def _directory(config: pytest.Config) -> Path | None:
    explicit = os.environ.get(ENV_DIR)
    if explicit:
        return Path(explicit).resolve()
    return None if os.environ.get(ENV_OUTER) else DEFAULT_DIR


def _link(directory: Path, config: pytest.Config) -> str:
    page = directory / "index.html"
    started = config.invocation_params.dir.resolve()
    return str(page.relative_to(started)) if page.is_relative_to(started) else str(page)


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        if _INPUT_DIR not in workerinput:
            return
        directory = Path(workerinput[_INPUT_DIR])
        report = BootReport(directory, workerinput[_INPUT_LINK], workerinput["workerid"])
        config.pluginmanager.register(report, _PLUGIN_NAME)
        Machine.closed_observers.append(report.machine_closed)
        return
    directory = _directory(config)
    if directory is None:
        return
    # The last session's records and page go: they are of other boots. Only
    # what the report writes, in case the directory was given by hand.
    shutil.rmtree(directory / "records", ignore_errors=True)
    (directory / "index.html").unlink(missing_ok=True)
    (directory / "records").mkdir(parents=True)
    report = BootReport(directory, _link(directory, config), "main")
    config.pluginmanager.register(report, _PLUGIN_NAME)
    config.pluginmanager.register(_Controller(report), f"{_PLUGIN_NAME}-controller")
    Machine.closed_observers.append(report.machine_closed)
    config.stash[_OUTER_BEFORE] = os.environ.get(ENV_OUTER)
    os.environ[ENV_OUTER] = str(directory)


def pytest_unconfigure(config: pytest.Config) -> None:
    report = config.pluginmanager.get_plugin(_PLUGIN_NAME)
    if isinstance(report, BootReport):
        Machine.closed_observers.remove(report.machine_closed)
    before = config.stash.get(_OUTER_BEFORE, None)
    if _OUTER_BEFORE in config.stash and before is None:
        os.environ.pop(ENV_OUTER, None)
    elif before is not None:
        os.environ[ENV_OUTER] = before
