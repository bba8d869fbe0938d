"""The boot report (tests/harness/report.py): an inner pytest session boots
QEMU twice under xdist, one boot whose checks pass and one with a check that
fails on purpose; headless Chromium then opens the page it wrote, and the
DOM it builds must hold both boots' sections, logs and pictures, the failing
one marked, and the inner run's failure must point at that section.

The page's own parts (panics and the failed step highlighted, the log
escaped, drawing that raises, anchors unique across workers) are checked on
records made up here, without QEMU.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from configurations import REPO
from harness import report_page
from harness.report import ENV_DIR
from harness.report_records import BootRecord, CheckRecord

pytestmark = pytest.mark.xdist_group("boot-report")

INNER_TESTS = """
from pathlib import Path

import pytest
from configurations import VIRT, BootConfig
from harness.boot import Boot, run_boot

CONFIG = BootConfig(VIRT, 1, "128M")
LOGS = Path({logs!r})


@pytest.fixture(scope="session")
def good_boot() -> Boot:
    return run_boot("report-good", CONFIG.target(), LOGS / "report-good.log")


@pytest.fixture(scope="session")
def bad_boot() -> Boot:
    return run_boot("report-bad", CONFIG.target(), LOGS / "report-bad.log")


@pytest.mark.xdist_group("good")
def test_good_hands_over(good_boot: Boot) -> None:
    assert good_boot.event("loader", "handoff")


@pytest.mark.xdist_group("bad")
def test_bad_hands_over(bad_boot: Boot) -> None:
    assert bad_boot.event("loader", "handoff")


@pytest.mark.xdist_group("bad")
def test_bad_says_what_it_never_says(bad_boot: Boot) -> None:
    bad_boot.event("kernel", "no-such-event")
"""


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    text: str = ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)

    def find_all(self, tag: str | None = None, css: str | None = None) -> list[Element]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and (css is None or css in child.classes):
                found.append(child)
            found.extend(child.find_all(tag, css))
        return found

    def by_id(self, anchor: str) -> Element | None:
        for element in self.find_all():
            if element.attrs.get("id") == anchor:
                return element
        return None


class _TreeBuilder(HTMLParser):
    """The DOM as a tree of Elements: enough to read the report back."""

    VOID = frozenset({"meta", "img", "br", "link", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.root = Element("document", {})
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self._open[-1].children.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        # Text after a child goes to the parent's text: order is not needed here.
        self._open[-1].text += data


def parse(markup: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    return builder.root


def chromium_dom(page: Path, profile: Path) -> Element:
    """The DOM headless Chromium builds from the page, as it dumps it."""
    command = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.as_uri(),
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as chromium:
        try:
            dom, errors = chromium.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            chromium.kill()
            chromium.communicate()
            pytest.fail(f"headless Chromium took over 90 s on {page}", pytrace=False)
    assert chromium.returncode == 0, errors
    return parse(dom)


def section(dom: Element, anchor: str) -> Element:
    found = dom.by_id(anchor)
    assert found is not None and found.tag == "section", f"no section #{anchor}"
    return found


def test_the_report_of_an_inner_session_shows_each_boot_and_the_failure(
    tmp_path: Path,
) -> None:
    tests = tmp_path / "test_inner.py"
    tests.write_text(INNER_TESTS.format(logs=str(tmp_path / "logs")))
    report = tmp_path / "report"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tools"), str(REPO / "tests")]),
        ENV_DIR: str(report),
    }
    command = [
        *(sys.executable, "-m", "pytest", "-p", "harness.report", "-p", "no:cacheprovider"),
        *("-n", "2", "--dist", "loadgroup", f"--junitxml={tmp_path / 'junit.xml'}", str(tests)),
    ]
    inner = subprocess.run(
        command,
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = inner.stdout + inner.stderr
    assert inner.returncode == 1, output
    assert "2 passed" in output and "1 failed" in output, output
    page = report / "index.html"
    # Relative to where the inner pytest started.
    assert "boot report: report/index.html#report-bad" in output, output
    assert "#report-good" not in output, output
    junit = (tmp_path / "junit.xml").read_text()
    assert '<property name="boot report" value="report/index.html#report-bad"' in junit, junit

    dom = chromium_dom(page, tmp_path / "chromium")
    good, bad = section(dom, "report-good"), section(dom, "report-bad")
    for boot in (good, bad):
        (log,) = boot.find_all("div", "log")
        assert any(
            "] loader: handoff entry=" in line.all_text() for line in log.find_all("div", "line")
        ), log.all_text()
        assert "qemu-system-riscv64" in boot.find_all("pre", "command")[0].all_text()
        (pictures,) = boot.find_all("div", "pictures")
        # Each of bootmap's pictures (aubade.bootmap.draw), by file name.
        sources = {img.attrs["src"].rsplit("/", 1)[-1] for img in pictures.find_all("img")}
        assert {"boot-2-mapping.svg", "timeline.svg"} <= sources, pictures.all_text()

    assert "failed" in bad.classes and "FAILED" in bad.all_text()
    assert "failed" not in good.classes
    (failing,) = bad.find_all("li", "failed")
    assert "test_bad_says_what_it_never_says" in failing.all_text()
    assert "0 `kernel: no-such-event` lines" in failing.all_text()
    assert len(bad.find_all("li", "passed")) == 1
    rows = {row.find_all("a")[0].all_text(): row for row in dom.find_all("tr")[1:]}
    assert "failed" in rows["report-bad"].classes
    assert "failed" not in rows["report-good"].classes


def boot_record(anchor: str, lines: list[str], **changes: object) -> BootRecord:
    fields: dict[str, object] = {
        "anchor": anchor,
        "name": anchor,
        "process": "gw0",
        "command": "QEMU command: qemu-system-riscv64 -machine virt",
        "log_path": f"/logs/{anchor}.log",
        "lines": lines,
        "status": 0,
        "failure": None,
        "failure_line": 0,
        "booted_by": "tests/test_x.py::test_x",
        **changes,
    }
    return BootRecord(**fields)  # type: ignore[arg-type]


def test_the_page_marks_panics_and_the_failed_step_and_escapes_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def draw(text: str, out_dir: Path) -> SimpleNamespace:
        if "kernel: panic" in text:
            raise RuntimeError("no picture of a panic")
        picture = out_dir / "timeline.svg"
        picture.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
        return SimpleNamespace(files=[picture], missing=["no `kernel: frames` line"])

    monkeypatch.setattr(report_page, "bootmap", SimpleNamespace(draw=draw))
    panicked = boot_record(
        "panicked",
        ["loader: start", "<script>alert(1)</script>", "kernel: panic reason=x", "after"],
        failure="panicked: timed out awaiting `kernel: online`\nlast lines",
        failure_line=3,
    )
    twice = boot_record("fine", ["loader: start"], process="gw1")
    checks = [
        CheckRecord("t.py::a", "gw0", "call", "failed", "assert 1 == 2", ["panicked"]),
        CheckRecord("t.py::b", "gw1", "call", "passed", None, ["fine"]),
        CheckRecord("t.py::c", "gw0", "call", "passed", None, ["fine"]),
    ]
    report_page.write_page(tmp_path, [boot_record("fine", ["x"]), panicked, twice], checks)

    dom = parse((tmp_path / "index.html").read_text())
    bad = section(dom, "panicked")
    assert "failed" in bad.classes
    lines = bad.find_all("div", "line")
    assert [line.all_text() for line in lines][1] == "<script>alert(1)</script>"
    assert not dom.find_all("script")
    (panic,) = bad.find_all("div", "panic")
    assert panic.all_text() == "kernel: panic reason=x"
    (step,) = bad.find_all("div", "failed-step")
    assert lines.index(step) == 3, "after the lines printed before the failed wait"
    assert "timed out awaiting `kernel: online`" in step.all_text()
    assert "drawing failed: RuntimeError('no picture of a panic')" in bad.all_text()
    assert "assert 1 == 2" in bad.all_text()
    links = [a.attrs["href"] for a in dom.find_all("a")]
    assert "#panicked-failure" in links and "#fine-failure" not in links

    # The same name booted by two workers: two sections, each with its own checks.
    first, second = section(dom, "fine"), section(dom, "fine-gw1")
    assert "t.py::c" in first.all_text() and "t.py::b" not in first.all_text()
    assert "t.py::b" in second.all_text()
    (picture,) = first.find_all("img")
    assert picture.attrs["src"] == "fine/timeline.svg"
    assert (tmp_path / "fine" / "timeline.svg").is_file()
    assert "no `kernel: frames` line" in first.all_text()


def test_a_session_without_boots_still_gets_its_page(tmp_path: Path) -> None:
    """So that the page on disk is never an earlier session's."""
    report_page.write_page(tmp_path, [], [])
    assert "This session booted no machine." in (tmp_path / "index.html").read_text()
