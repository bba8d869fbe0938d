"""The phase tests (test_boot.py, test_harts.py) in a pytest of their own,
as a person runs them against a board: for the tests of the targets that
are not QEMU's configurations (test_serial_target.py, test_labgrid.py),
which must run the whole harness, options and all, as it is run by hand."""

from __future__ import annotations

import shlex
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import test_boot
import test_harts
from configurations import REPO, TEST_LOG_DIR

PHASE_TEST_TIMEOUT_SECONDS = 300
QEMU_ONLY = "test_device_tree_has_a_cpu_per_qemu_hart"
"""The phase test about QEMU's -smp, which a board has no answer for."""


def assert_phase_tests_pass(config_id: str, report: Path, *options: str) -> None:
    """Every phase test runs on the target of `options`, as configuration
    `config_id`, and passes, but the one a board has no answer for, skipped."""
    command = [
        *(sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider"),
        *("tests/test_boot.py", "tests/test_harts.py", f"--junitxml={report}", *options),
    ]
    result = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=PHASE_TEST_TIMEOUT_SECONDS,
        check=False,
    )
    where = (
        f"{shlex.join(command)}\nexit status {result.returncode}; console log "
        f"{TEST_LOG_DIR / f'{config_id}.log'}\n{result.stdout[-4000:]}{result.stderr}"
    )
    assert result.returncode == 0, where
    outcomes = {
        case.get("name"): [child.tag for child in case]
        for case in ElementTree.parse(report).iter("testcase")
    }
    expected = {
        f"{name}[{config_id}]"
        for module in (test_boot, test_harts)
        for name in dir(module)
        if name.startswith("test_")
    }
    assert set(outcomes) == expected, where
    skipped = {name for name, children in outcomes.items() if children}
    assert skipped == {f"{QEMU_ONLY}[{config_id}]"}, where
