"""The boot report's page: a summary table, then a section per boot with its
QEMU command, the checks made on it, its pictures and its console log.

Written once, by the process that ran or controlled the session, from every
process's records. The pictures are drawn here too, at the end, so that a
worker's boots are not slowed by them; drawing has a time budget, failing
boots first, and whatever drawing raises is shown in the section instead.
"""

from __future__ import annotations

import html
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from aubade import bootmap
from harness.report_records import OUTCOMES, BootRecord, CheckRecord

DRAW_BUDGET_SECONDS = 5.0
"""Drawing stops once it has taken this long: a session of some 40 boots
must not wait long for its pictures. Failing boots are drawn first."""
_PANIC = re.compile(r"\b(?:kernel|loader): panic\b")

_STYLE = """
body { font-family: sans-serif; margin: 1em 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
tr.failed td, section.failed h2 { background: #fdd; }
.marker { color: #b00; font-weight: bold; }
section { border-top: 2px solid #888; margin-top: 2em; }
pre, .log { font-family: monospace; font-size: 90%; }
pre.command { white-space: pre-wrap; background: #f4f4f4; padding: 4px; }
.log { white-space: pre; background: #f8f8f8; padding: 4px; overflow-x: auto; }
.line.panic { background: #fbb; font-weight: bold; }
.line.failed-step { background: #fd8; font-weight: bold; }
.check.failed .outcome { color: #b00; font-weight: bold; }
.check.skipped .outcome { color: #888; }
.check.passed .outcome { color: #080; }
summary { cursor: pointer; margin: 0.5em 0; }
.pictures img { max-width: 100%; border: 1px solid #ddd; margin: 4px 0; }
"""


@dataclass
class Check:
    """A test's phases on one boot, merged: the worst outcome and its messages."""

    nodeid: str
    outcome: str = "passed"
    messages: list[str] = field(default_factory=list)


@dataclass
class Section:
    boot: BootRecord
    checks: list[Check]
    pictures: str = ""

    @property
    def failed(self) -> bool:
        return any(check.outcome == "failed" for check in self.checks)

    def count(self, outcome: str) -> int:
        return sum(check.outcome == outcome for check in self.checks)


def write_page(directory: Path, boots: list[BootRecord], checks: list[CheckRecord]) -> str:
    """Write directory/index.html; returns a one-line summary of it."""
    sections = _sections(*_unique(boots, checks))
    sections.sort(key=lambda section: (not section.failed, section.boot.anchor))
    drawn = _draw_all(directory, sections)
    page = directory / "index.html"
    page.write_text(_page(sections), encoding="utf-8")
    failing = sum(section.failed for section in sections)
    return f"{len(sections)} boots, {failing} failing, pictures of {drawn}"


def _unique(
    boots: list[BootRecord], checks: list[CheckRecord]
) -> tuple[list[BootRecord], list[CheckRecord]]:
    """Anchors unique across processes: a name booted by two workers keeps
    its name in the first, and gets the worker's name in the others (whose
    failures' links then lead to the first: they were made before)."""
    seen: set[str] = set()
    renamed: dict[tuple[str, str], str] = {}
    unique: list[BootRecord] = []
    for boot in boots:
        anchor = boot.anchor
        if anchor in seen:
            anchor = f"{boot.anchor}-{boot.process}"
            renamed[boot.process, boot.anchor] = anchor
        seen.add(anchor)
        unique.append(replace(boot, anchor=anchor))
    checks = [
        replace(check, anchors=[renamed.get((check.process, a), a) for a in check.anchors])
        for check in checks
    ]
    return unique, checks


def _sections(boots: list[BootRecord], checks: list[CheckRecord]) -> list[Section]:
    merged: dict[str, dict[str, Check]] = {boot.anchor: {} for boot in boots}
    for record in checks:
        for anchor in record.anchors:
            check = merged.setdefault(anchor, {}).setdefault(record.nodeid, Check(record.nodeid))
            if OUTCOMES.index(record.outcome) < OUTCOMES.index(check.outcome):
                check.outcome = record.outcome
            if record.message and record.outcome != "passed":
                phase = "" if record.when == "call" else f"({record.when}) "
                check.messages.append(phase + record.message)
    return [Section(boot, list(merged[boot.anchor].values())) for boot in boots]


def _draw_all(directory: Path, sections: list[Section]) -> str:
    """Draw each section's pictures within the budget; says how many were drawn."""
    started = time.monotonic()
    drawn = 0
    for section in sections:
        if time.monotonic() - started > DRAW_BUDGET_SECONDS:
            section.pictures = _note(
                f"pictures: not drawn: the report's {DRAW_BUDGET_SECONDS:g} s for drawing "
                "were spent (failing boots are drawn first)"
            )
            continue
        section.pictures = _draw(directory, section.boot, bootmap.draw)
        drawn += 1
    return f"{drawn} of {len(sections)}"


def _draw(directory: Path, boot: BootRecord, draw: Callable[[str, Path], object]) -> str:
    """The pictures' HTML: their <img> elements and what the log lacked for them."""
    out_dir = directory / boot.anchor
    shutil.rmtree(out_dir, ignore_errors=True)
    try:
        out_dir.mkdir(parents=True)
        result = draw("\n".join(boot.lines) + "\n", out_dir)
        files: Iterable[Path] = getattr(result, "files", ())
        missing: Iterable[str] = getattr(result, "missing", ())
    except Exception as error:
        return _note(f"pictures: drawing failed: {error!r}")
    images = "".join(
        f'<img src="{_attr(Path(file).resolve().relative_to(directory.resolve()).as_posix())}"'
        f' alt="{_attr(Path(file).stem)}"><br>'
        for file in files
    )
    lacked = "".join(f"<li>{html.escape(sentence)}</li>" for sentence in missing)
    return images + (f'<ul class="missing">{lacked}</ul>' if lacked else "")


def _page(sections: list[Section]) -> str:
    failing = sum(section.failed for section in sections)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            "<title>Aubade boot report</title>",
            f"<style>{_STYLE}</style></head><body>",
            "<h1>Aubade boot report</h1>",
            f'<p id="totals">{len(sections)} boots, {failing} failing; '
            f"written {time.strftime('%Y-%m-%d %H:%M:%S %Z')}</p>",
            _summary(sections) if sections else _note("This session booted no machine."),
            *(_section(section) for section in sections),
            "</body></html>",
        ]
    )


def _summary(sections: list[Section]) -> str:
    rows = []
    for section in sections:
        boot = section.boot
        stopped = (
            f'<a href="#{_attr(boot.anchor)}-failure">stopped early</a>'
            if boot.failure
            else "ran to its end"
        )
        rows.append(
            f'<tr class="{_outcome(section)}"><td><a href="#{_attr(boot.anchor)}">'
            f"{html.escape(boot.anchor)}</a></td><td>{_marker(section)}</td>"
            f"<td>{section.count('passed')}</td><td>{section.count('failed')}</td>"
            f"<td>{section.count('skipped')}</td><td>{len(boot.lines)}</td>"
            f"<td>{html.escape(str(boot.status))}</td><td>{stopped}</td></tr>"
        )
    return (
        '<table id="summary"><thead><tr><th>configuration</th><th>outcome</th>'
        "<th>checks passed</th><th>failed</th><th>skipped</th><th>console lines</th>"
        "<th>exit status</th><th>boot</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _section(section: Section) -> str:
    boot = section.boot
    failure = (
        f'<h3>Why the boot stopped</h3><pre class="failure">{html.escape(boot.failure)}</pre>'
        if boot.failure
        else ""
    )
    booted_by = html.escape(boot.booted_by or "no test (a fixture outside the tests' phases)")
    return "\n".join(
        [
            f'<section id="{_attr(boot.anchor)}" class="boot {_outcome(section)}">',
            f"<h2>{_marker(section)} {html.escape(boot.anchor)}</h2>",
            f'<p class="meta">machine {html.escape(boot.name)}, booted by {booted_by} '
            f"in {html.escape(boot.process)}; exit status {html.escape(str(boot.status))}; "
            f"console log {html.escape(boot.log_path)}</p>",
            f'<h3>Command</h3><pre class="command">{html.escape(boot.command)}</pre>',
            f"<h3>Checks</h3>{_checks(section.checks)}",
            failure,
            f'<h3>Pictures</h3><div class="pictures">{section.pictures}</div>',
            # Open where something failed: that log is the one to read.
            f"<details{' open' if section.failed or boot.failure else ''}>"
            f"<summary>console log, {len(boot.lines)} lines</summary>"
            f'<div class="log">{_log(boot)}</div></details>',
            "</section>",
        ]
    )


def _checks(checks: list[Check]) -> str:
    """Failures first and in full; the passes and skips folded, there are
    dozens of them on a boot of the phase tests."""
    if not checks:
        return _note("no test recorded a check of this boot")
    failed = [check for check in checks if check.outcome == "failed"]
    others = [check for check in checks if check.outcome != "failed"]
    folded = ""
    if others:
        tally = Counter(check.outcome for check in others)
        counts = ", ".join(
            f"{tally[outcome]} {outcome}" for outcome in ("passed", "skipped") if tally[outcome]
        )
        folded = f"<details><summary>{counts}</summary>{_check_list(others)}</details>"
    return (_check_list(failed) if failed else "") + folded


def _check_list(checks: list[Check]) -> str:
    items = []
    for check in checks:
        messages = "".join(
            f'<pre class="message">{html.escape(message)}</pre>' for message in check.messages
        )
        items.append(
            f'<li class="check {check.outcome}"><span class="outcome">{check.outcome}</span> '
            f"<code>{html.escape(check.nodeid)}</code>{messages}</li>"
        )
    return f'<ul class="checks">{"".join(items)}</ul>'


def _log(boot: BootRecord) -> str:
    """Every console line, panics highlighted, and where a wait failed marked
    after the last line printed before it."""
    rows = []
    for number, line in enumerate(boot.lines):
        if boot.failure and number == boot.failure_line:
            rows.append(_failed_step(boot))
        css = "line panic" if _PANIC.search(line) else "line"
        rows.append(f'<div class="{css}">{html.escape(line) or " "}</div>')
    if boot.failure and boot.failure_line >= len(boot.lines):
        rows.append(_failed_step(boot))
    return "".join(rows)


def _failed_step(boot: BootRecord) -> str:
    headline = (boot.failure or "").splitlines()[0]
    return (
        f'<div class="line failed-step" id="{_attr(boot.anchor)}-failure">'
        f"&#x2717; {html.escape(headline)}</div>"
    )


def _outcome(section: Section) -> str:
    if section.failed:
        return "failed"
    if section.checks and all(check.outcome == "skipped" for check in section.checks):
        return "skipped"
    return "passed"


def _marker(section: Section) -> str:
    outcome = _outcome(section)
    if outcome == "failed":
        return '<span class="marker">&#x2717; FAILED</span>'
    return f'<span class="outcome">{outcome}</span>'


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _attr(text: str) -> str:
    return html.escape(text, quote=True)
