"""tools/soak against the built kernel in QEMU: a short soak that must pass
every boot, a boot that never ends (reported hung, every hart dumped), a
panic (reported failed), the shell driven by the shipped script and a board
whose QEMU the tool must end, and Ctrl-C, after which no QEMU may be left.

Each test runs the tool as a person would and reads what it prints and
writes. They share one xdist group, so that their QEMUs (up to three at a
time) are not run beside each other's.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from configurations import REPO, VIRT, built

from aubade.ksyms import functions

pytestmark = pytest.mark.xdist_group("soak")

SOAK = REPO / "tools" / "soak"
SHELL_SCRIPT = REPO / "tools" / "soak-scripts" / "shell.txt"
KTEST = "virt:smp=4:mem=512M:append=ktest"
COLUMNS = ("boots", "passed", "failed", "hung")


def soak(logs: Path, *arguments: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SOAK), "--logs", str(logs), *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def row(stdout: str, config: str) -> dict[str, int]:
    """The counts of the configuration's row of the table."""
    (line,) = [line for line in stdout.splitlines() if line.startswith(config + "  ")]
    cells = line[len(config) :].split()
    return dict(zip(COLUMNS, map(int, cells[: len(COLUMNS)]), strict=True))


def test_a_short_soak_passes_every_boot(tmp_path: Path) -> None:
    """21 ktest boots, 3 at a time: any failure or hang fails the test, with
    the tool's report of it (the reason, the logs' paths, the QEMU command)."""
    # Generous: CI runs this beside the rest of the suite on two cores.
    result = soak(tmp_path, "-n", "21", "-j", "3", "--timeout", "120", KTEST, timeout=1800)
    assert result.returncode == 0, result.stdout + result.stderr
    assert row(result.stdout, KTEST) == {"boots": 21, "passed": 21, "failed": 0, "hung": 0}
    assert not tmp_path.exists() or not any(tmp_path.iterdir()), "logs only for boots that failed"


def test_a_boot_that_never_ends_is_hung_and_every_hart_dumped(tmp_path: Path) -> None:
    """Without `poweroff` the shell waits at its prompt for ever."""
    result = soak(tmp_path, "--timeout", "20", "virt:smp=2", timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    report = result.stdout.splitlines()
    assert report[0].startswith("#1 virt:smp=2: hung: no end within 20 s; last line: ")
    assert row(result.stdout, "virt:smp=2") == {"boots": 1, "passed": 0, "failed": 0, "hung": 1}
    console, dump = (tmp_path / "1.console.log").resolve(), (tmp_path / "1.hang.txt").resolve()
    assert [Path(line.strip()).resolve() for line in report[1:3]] == [console, dump]
    assert report[3].startswith("  QEMU command: qemu-system-riscv64 -machine virt ")
    assert "-monitor unix:" in report[3]
    assert "shell: pid=1" in console.read_text()

    text = dump.read_text()
    kernel = {function.name for function in functions(built(VIRT, "kernel.elf"))}
    named, _, raw = text.partition("\nraw `info registers -a`:\n")
    assert "x1/ra" in raw
    harts = [line for line in named.splitlines() if line.startswith("CPU#")]
    assert [line.split(":")[0] for line in harts] == ["CPU#0 hart 0", "CPU#1 hart 1"], text
    for line in harts:
        # `CPU#0 hart 0: pc 0xffffffff80004efc sched_idle+0xa0 (kernel/sched/sched.c:395)`
        where = re.search(
            r" pc 0x[0-9a-f]+ (?P<name>\S+)\+0x[0-9a-f]+ \((?P<path>\S+):\d+\)$", line
        )
        assert where is not None, f"no name and source line: {line}\n{text}"
        assert where["name"] in kernel, f"not in a kernel function: {line}\n{text}"
        assert (REPO / where["path"]).is_file(), f"not a source of the repository: {line}"


def test_a_panic_fails_the_boot_with_the_panic_line_as_reason(tmp_path: Path) -> None:
    config = "virt:smp=1:append=fault=null poweroff"
    result = soak(tmp_path, config, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"#1 {config}: failed: [")
    assert "] kernel: panic reason=load-page-fault " in first
    assert row(result.stdout, config) == {"boots": 1, "passed": 0, "failed": 1, "hung": 0}
    assert "backtrace:" in (tmp_path / "1.console.log").read_text()
    assert not (tmp_path / "1.hang.txt").exists(), "a boot that ended has no hart dump"


def test_the_shell_script_and_a_board_whose_qemu_does_not_exit_pass(tmp_path: Path) -> None:
    """sifive_u's QEMU runs on after the power-off line: the tool ends it."""
    shell = f"virt:smp=2:script={SHELL_SCRIPT}"
    silent = "sifive_u:smp=2:append=poweroff"
    result = soak(tmp_path, "-j", "2", "--timeout", "60", shell, silent, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for config in (shell, silent):
        assert row(result.stdout, config) == {"boots": 1, "passed": 1, "failed": 0, "hung": 0}


def children(pid: int) -> set[int]:
    """The processes `pid` started, from every one of its threads."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def test_ctrl_c_kills_every_qemu(tmp_path: Path) -> None:
    tool = subprocess.Popen(
        [sys.executable, str(SOAK), "-n", "2", "-j", "2", "--logs", str(tmp_path), "virt:smp=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(qemus := children(tool.pid)) < 2:
            assert tool.poll() is None and time.monotonic() < deadline, "no two QEMUs started"
            time.sleep(0.1)
        tool.send_signal(signal.SIGINT)
        _, stderr = tool.communicate(timeout=60)
    finally:
        tool.kill()
    assert tool.returncode == 130, stderr
    assert stderr.endswith("soak: interrupted; every QEMU killed\n")
    for qemu in qemus:
        with pytest.raises(ProcessLookupError):
            os.kill(qemu, 0)
