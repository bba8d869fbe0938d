"""Leveled tracing: `loglevel=` on the command line lets trace lines through.

Trace lines follow the contract's grammar; at `loglevel=debug` the kernel
says, among others, which harts it starts and which group of init calls
(kernel/*.init) each hart enters.
"""

from __future__ import annotations

import pytest
from configurations import TEST_LOG_DIR, VIRT, built, init_plan
from harness.boot import Boot, run_boot

from aubade.machine import Machine
from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget

SMP = 4
# One worker boots the debug machine once for all the tests that read it.
pytestmark = pytest.mark.xdist_group("virt-loglevel-debug")


def virt(append: str) -> QemuConfig:
    return QemuConfig(VIRT, built(VIRT, "Image"), smp=SMP, memory="256M", append=append)


@pytest.fixture(scope="module")
def debug_boot() -> Boot:
    config = virt("poweroff loglevel=debug")
    return run_boot("virt-loglevel-debug", QemuTarget(config), TEST_LOG_DIR / "loglevel-debug.log")


def test_debug_boot_completes(debug_boot: Boot) -> None:
    assert debug_boot.failure is None, debug_boot.failure
    assert debug_boot.status == 0, debug_boot.log_path


def test_debug_traces_the_start_of_every_secondary_hart(debug_boot: Boot) -> None:
    boot_hart = debug_boot.event("loader", "start").field("hart")
    harts = debug_boot.event("loader", "harts").list_field("ids")
    started = [event for event in debug_boot.all_events() if event.kind == "smp: start"]
    # A set: a hart the firmware sends astray is started again (kernel/smp/smp.c).
    assert {event.field("hart") for event in started} == set(harts) - {boot_hart}
    assert {event.field("cpu") for event in started} == {boot_hart}


def test_debug_traces_the_init_groups_in_order(debug_boot: Boot) -> None:
    # Traced from `loglevel=` on, the call that reads it.
    calls = init_plan(VIRT).boot_hart
    after_loglevel = calls[[call.token for call in calls].index("loglevel") + 1 :]
    expected = [
        call.group
        for number, call in enumerate(after_loglevel)
        if number == 0 or call.group != after_loglevel[number - 1].group
    ]
    boot_hart = debug_boot.event("loader", "start").field("hart")
    groups = [
        event.field("name")
        for event in debug_boot.all_events()
        if event.kind == "init: group" and event.field("cpu") == boot_hart
    ]
    assert groups == expected, debug_boot.log_path
    assert expected[:3] == ["bootstrap", "main", "smp"]


def test_trace_lines_keep_the_grammar(debug_boot: Boot) -> None:
    # Every timestamped line parsed as an event, debug traces included.
    event_lines = {event.line for event in debug_boot.all_events()}
    stamped = [line for line in debug_boot.all_lines() if line.startswith("[")]
    assert [line for line in stamped if line not in event_lines] == []


def test_unknown_loglevel_panics_naming_the_choices() -> None:
    name = "virt-loglevel-unknown"
    target = QemuTarget(virt("poweroff loglevel=loud"))
    machine = Machine(name, target, TEST_LOG_DIR / f"{name}.log")
    try:
        machine.power_on()
        panic = machine.wait_for("kernel", "panic", timeout=30)
        status = machine.wait_exit(timeout=10)
    finally:
        machine.close()
    report = machine.report("unexpected end of a boot with loglevel=loud")
    assert panic.fields["reason"] == "bad-cmdline", report
    detail = machine.lines[machine.lines.index(panic.line) + 1]
    assert "loglevel=loud" in detail and "debug" in detail, report
    # A panic the kernel raises itself also shows where from.
    after = machine.lines[machine.lines.index(panic.line) + 2 :]
    assert after[0].strip() == "backtrace:", report
    assert "kernel_panic+0x0" in after[1], report
    # The init call that read the command line, from the generated table.
    assert "log_level_from_cmdline+" in after[2] and "init_boot_hart+" in after[3], report
    assert "kernel_main+" in after[4], report
    assert status not in (0, None), report
