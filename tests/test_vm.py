"""The kernel's own page tables: with `debug` on the command line the kernel
walks them once every hart runs on them, and says it found no page both
writable and executable and nothing mapped in the lower half."""

from __future__ import annotations

import pytest
from configurations import TEST_LOG_DIR, VIRT, built
from harness.boot import Boot, run_boot

from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget

pytestmark = pytest.mark.xdist_group("virt-debug")


@pytest.fixture(scope="module")
def debug_boot() -> Boot:
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=4, memory="256M", append="debug poweroff")
    return run_boot("virt-debug", QemuTarget(config), TEST_LOG_DIR / "debug.log")


def test_debug_boot_completes(debug_boot: Boot) -> None:
    assert debug_boot.failure is None, debug_boot.failure
    assert debug_boot.status == 0, debug_boot.log_path


def test_page_table_check_finds_no_wx_and_no_identity_mapping(debug_boot: Boot) -> None:
    (check,) = [event for event in debug_boot.all_events() if event.kind == "mm: check"]
    assert check.int_field("wx") == 0, check.line
    assert check.int_field("identity") == 0, check.line
    assert check.int_field("leaves") > 0, check.line


def test_page_table_check_runs_before_the_loader_memory_is_reclaimed(debug_boot: Boot) -> None:
    kinds = [event.kind for event in debug_boot.all_events()]
    assert kinds.index("mm: check") < kinds.index("kernel: reclaim")
