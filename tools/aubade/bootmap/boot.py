"""One boot under QEMU for the pictures: `scons bootmap` and `scons bootmap-docs`.

The kernel is booted with `initcall_debug poweroff`, so that the log has
the init calls the timeline draws and the machine ends by itself; its
console goes to a log file beside the pictures, which are then drawn from
it. The boot runs through the harness's Machine on a QemuTarget, which
kills QEMU when the boot ends, fails or times out, and when this process
dies. A boot that fails (a panic, no power-off in time) still has its
pictures drawn from what it printed: they show how far it got.
"""

from __future__ import annotations

from pathlib import Path

from aubade.bootmap import draw
from aubade.machine import BootFailure, Machine
from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget

APPEND = "initcall_debug poweroff"
"""The command line of the boot drawn: every init call reported, then off."""
BOOT_TIMEOUT_SECONDS = 180.0
"""Generous: -smp 64 under TCG on a loaded 2-core host takes tens of seconds."""
LOG_NAME = "boot.log"


def boot_to_log(config: QemuConfig, log: Path, timeout: float = BOOT_TIMEOUT_SECONDS) -> str | None:
    """Boot `config` once, its console into `log`; None when it powered off
    in order, else what went wrong (the machine's report)."""
    machine = Machine("bootmap", QemuTarget(config, send_delay=None), log)
    try:
        machine.power_on()
        status = machine.wait_exit(timeout)
        if status not in (0, None):
            return machine.report(f"QEMU exited with status {status}")
        return None
    except BootFailure as failure:
        return str(failure)
    finally:
        machine.close()


def boot_and_draw(config: QemuConfig, out_dir: Path, log: Path | None = None) -> int:
    """Boot, draw the pictures into out_dir from the log (out_dir/boot.log
    unless named), print what was written and what the log lacks; the
    exit status: 0 if the boot powered off in order, else 1."""
    log = out_dir / LOG_NAME if log is None else log
    problem = boot_to_log(config, log)
    if problem is not None:
        print(f"bootmap: the boot did not power off in order; drawing what it printed\n{problem}")
    drawn = draw(log.read_bytes().decode(errors="replace"), out_dir)
    for path in drawn.files:
        print(f"wrote {path}")
    for fact in drawn.missing:
        print(f"missing: {fact}")
    return 0 if problem is None else 1
