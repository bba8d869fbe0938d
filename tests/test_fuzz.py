"""The loader's device-tree and kernel-ELF parsers, and Ed25519, under libFuzzer.

A short campaign of `tools/fuzz` (the same script a person runs for a long
one): every target built for the host with AddressSanitizer and
UndefinedBehaviorSanitizer, seeded with QEMU's device trees, the built
kernel and spoilt signatures, fuzzed at once. Every input must be rejected
with a reason or accepted safely (a signature only when it is the untouched
one); any crash fails the test with the script's report, which names the
crash files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FUZZ = REPO / "tools" / "fuzz"
# Per target; the targets run side by side, so the test takes about this
# long plus a few seconds of building and seeding.
CAMPAIGN_SECONDS = 20
# The script stops itself; this is for a campaign that does not.
TIMEOUT_SECONDS = 180


# In a group of its own, like each boot configuration: the campaign keeps
# one worker busy for its whole length.
@pytest.mark.xdist_group("fuzz")
def test_short_campaign_finds_no_crash() -> None:
    # A process group of its own, which the fuzzers (the script's children)
    # stay in: a campaign cut short is stopped whole.
    with subprocess.Popen(
        [sys.executable, str(FUZZ), "--seconds", str(CAMPAIGN_SECONDS)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            pytest.fail(f"tools/fuzz ran past {TIMEOUT_SECONDS} s:\n{output}", pytrace=False)
    assert process.returncode == 0, f"tools/fuzz exited with status {process.returncode}:\n{output}"
