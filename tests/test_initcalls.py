"""`initcall_debug`: every init call reported, in the order `scons listinit` gives.

The boot hart makes every call of the generated table; each other hart makes
the calls of the groups that run on every hart, in the same order.
"""

from __future__ import annotations

import pytest
from configurations import TEST_LOG_DIR, VIRT, built, init_plan
from harness.boot import Boot, run_boot

from aubade.bootlog import Event
from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget

SMP = 4
pytestmark = pytest.mark.xdist_group("virt-initcall-debug")


@pytest.fixture(scope="module")
def boot() -> Boot:
    config = QemuConfig(
        VIRT, built(VIRT, "Image"), smp=SMP, memory="256M", append="poweroff initcall_debug"
    )
    return run_boot("virt-initcall-debug", QemuTarget(config), TEST_LOG_DIR / "initcall-debug.log")


def calls_by_hart(boot: Boot) -> dict[str, list[Event]]:
    harts: dict[str, list[Event]] = {}
    for event in boot.all_events():
        if event.kind == "init: call":
            harts.setdefault(event.field("hart"), []).append(event)
    return harts


def test_boot_completes(boot: Boot) -> None:
    assert boot.failure is None, boot.failure
    assert boot.status == 0, boot.log_path


def test_boot_hart_calls_match_listinit(boot: Boot) -> None:
    boot_hart = boot.event("loader", "start").field("hart")
    made = [(event.field("token"), event.field("fn")) for event in calls_by_hart(boot)[boot_hart]]
    expected = [(call.token, call.function) for call in init_plan(VIRT).boot_hart]
    # The last call creates the init task, which powers the machine off.
    assert expected[-1] == ("init_task", "init_task_start")
    assert made == expected, boot.log_path


def test_every_other_hart_makes_the_every_hart_calls_in_order(boot: Boot) -> None:
    boot_hart = boot.event("loader", "start").field("hart")
    online = boot.event("kernel", "online").list_field("ids")
    assert len(online) == SMP
    expected = [(call.token, call.function) for call in init_plan(VIRT).other_harts]
    # The last is the barrier the boot hart waits at before it creates the
    # init task, which powers off: leaving it races the power-off.
    assert expected[-1] == ("sched_ready", "smp_barrier")
    calls = calls_by_hart(boot)
    assert set(calls) == set(online)
    for hart in set(online) - {boot_hart}:
        made = [(event.field("token"), event.field("fn")) for event in calls[hart]]
        assert made in (expected, expected[:-1]), f"hart {hart}: {boot.log_path}"


def test_smp_group_calls_ran_on_every_hart(boot: Boot) -> None:
    plan = init_plan(VIRT)
    smp_tokens = {
        call.token
        for call in plan.boot_hart
        if call.harts == "every" and "smp" in [n.name for n in plan.nodes[call.token].path()]
    }
    assert {"smp_start", "vm_enter", "interrupts"} <= smp_tokens
    online = set(boot.event("kernel", "online").list_field("ids"))
    for token in smp_tokens - {"sched_ready"}:
        harts = {e.field("hart") for e in boot.all_events() if e.fields.get("token") == token}
        assert harts == online, f"{token} ran on {sorted(harts)}: {boot.log_path}"


def test_each_call_says_how_long_it_took_on_the_hart_that_made_it(boot: Boot) -> None:
    boot_hart = boot.event("loader", "start").field("hart")
    events = [event for events in calls_by_hart(boot).values() for event in events]
    assert all(event.int_field("us") >= 0 for event in events)
    # Calls made before the console are reported later, by the boot hart.
    assert [e.line for e in events if e.field("cpu") not in (e.field("hart"), boot_hart)] == []
    # The whole startup took some time, spent in the calls.
    assert sum(event.int_field("us") for event in events) > 0
