"""AubadeStrategy, the states a board goes through to boot Aubade, and
AubadeQEMUDriver, QEMU as a board, for labgrid.

A labgrid environment file names it among a target's drivers and imports
this file (`imports:` in boards/labgrid/*.yaml); labgrid's pytest plugin,
`labgrid-client` and the harness (`pytest --lg-env ENV`) then drive the
board through it:

    off      power off, console closed
    flashed  the SD image (`image`, an `images:` key) written to the card:
             through the storage driver on a farm (USBStorageDriver, with
             USBSDMuxDriver switching the card to the host and back), or
             copied to the disk QEMUDriver boots; with neither, the card is
             the board's own and nothing is written
    uboot    powered on, autoboot stopped at U-Boot's prompt (UBootDriver)
    started  the kernel entered with `bootargs`: set at U-Boot's prompt
             before its boot command, or QEMU's -append without U-Boot;
             nothing of the kernel's log read yet (the harness reads it,
             phase by phase)
    booted   the log read to `kernel: init`
    shell    the log read to PID 1's prompt

Every byte read from the console on the way, by this strategy or by the
drivers it runs (U-Boot's and OpenSBI's banners included), is kept in
`console_log`, so that a reader that takes over at `started` misses
nothing of the boot.

AubadeQEMUDriver is labgrid's QEMUDriver for a guest that powers the
machine off: QEMU 7.2's virt ends its own process then (the test finisher
OpenSBI's System Reset writes calls exit, whatever -no-shutdown says), and
QEMUDriver's `off()` would ask the ended QEMU to quit and fail.

It imports only labgrid: labgrid loads it by path, without the project's
packages on its path.
"""

from __future__ import annotations

import enum
import shutil
import subprocess
from pathlib import Path
from typing import ClassVar, TypeVar

import attr
from labgrid.driver import QEMUDriver
from labgrid.factory import target_factory
from labgrid.step import StepEvent, steps
from labgrid.strategy.common import Strategy, StrategyError, never_retry
from labgrid.util.qmp import QMPError

KERNEL_INIT = "kernel: init"
"""The boot log's line once the kernel's startup is done (../shared spec)."""
SHELL_PROMPT = "aubade> "
DriverClass = TypeVar("DriverClass", bound=type)
# A QEMU that failed to answer `quit` because it was ending ends within this.
_QEMU_ENDING_SECONDS = 5.0


def _register_once(cls: DriverClass) -> DriverClass:
    """labgrid's registration, for the first load of this file only: labgrid
    runs the file again for every Environment that imports it, and refuses a
    second class of the same name. The first load's class serves them all."""
    if cls.__name__ in target_factory.all_classes:
        return cls
    return target_factory.reg_driver(cls)


class Status(enum.Enum):
    unknown = 0
    off = 1
    flashed = 2
    uboot = 3
    started = 4
    booted = 5
    shell = 6


@_register_once
@attr.s(eq=False)
class AubadeStrategy(Strategy):
    bindings: ClassVar[dict[str, str | set[str | None]]] = {
        "power": "PowerProtocol",
        "console": "ConsoleProtocol",
        "uboot": {"UBootDriver", None},
        "storage": {"USBStorageDriver", None},
        "sdmux": {"USBSDMuxDriver", None},
    }

    status = attr.ib(default=Status.unknown)
    image = attr.ib(
        default=None, validator=attr.validators.optional(attr.validators.instance_of(str))
    )
    """The `images:` key of the SD image that `flashed` writes (`scons sdimage`)."""
    bootargs = attr.ib(
        default=None, validator=attr.validators.optional(attr.validators.instance_of(str))
    )
    """The kernel's command line; None leaves the one the boot media give."""
    boot_timeout = attr.ib(default=60.0, converter=float)
    """Seconds from the kernel's entry to `kernel: init`, and on to the prompt."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.console_log = bytearray()
        steps.subscribe(self._keep_console_bytes)

    @never_retry
    def transition(self, status: Status | str) -> None:
        if not isinstance(status, Status):
            status = Status[status]
        if status == self.status:
            return
        if status == Status.unknown:
            raise StrategyError(f"cannot transition to {status.name}")
        if status == Status.off:
            self._switch_off()
        elif status == Status.flashed:
            self.transition(Status.off)
            self._flash()
        elif status == Status.uboot:
            if self.uboot is None:
                raise StrategyError(
                    "the uboot state needs a UBootDriver in the environment's target"
                )
            self.transition(Status.flashed)
            self._power_on()
            self.target.activate(self.uboot)
        elif status == Status.started:
            self._start_kernel()
        elif status == Status.booted:
            if self.status != Status.started:
                self.transition(Status.started)
            self.console.expect(KERNEL_INIT, timeout=self.boot_timeout)
        elif status == Status.shell:
            if self.status != Status.booted:
                self.transition(Status.booted)
            self.console.expect(SHELL_PROMPT, timeout=self.boot_timeout)
        self.status = status

    @never_retry
    def force(self, status: Status | str) -> None:
        """Take the board to be in `status` already (labgrid's --lg-initial-state)."""
        if not isinstance(status, Status):
            status = Status[status]
        self.target.activate(self.power)
        if status in (Status.uboot, Status.started, Status.booted, Status.shell):
            self.target.activate(self.console)
        if status == Status.uboot and self.uboot is not None:
            self.target.activate(self.uboot)
        self.status = status

    def take_console_log(self) -> bytes:
        """What the console has said since it was last taken, and forget it."""
        data = bytes(self.console_log)
        self.console_log.clear()
        return data

    def _keep_console_bytes(self, event: StepEvent) -> None:
        step = event.step
        if (
            step.tag == "console"
            and step.title == "read"
            and step.source is self.console
            and event.data.get("state") == "stop"
            and isinstance(step.result, bytes)
        ):
            self.console_log += step.result

    def _switch_off(self) -> None:
        if self.uboot is not None:
            self.target.deactivate(self.uboot)
        self.target.deactivate(self.console)
        self.target.activate(self.power)
        self.power.off()
        self.console_log.clear()

    def _power_on(self) -> None:
        # The console first, so that it holds the board's first byte.
        self.target.activate(self.console)
        self.target.activate(self.power)
        self.power.on()

    def _flash(self) -> None:
        """Write the SD image where the board boots it from (see `flashed`)."""
        if self.image is None:
            return
        source = self.target.env.config.get_image_path(self.image)
        if self.storage is not None:
            if self.sdmux is not None:
                self.target.activate(self.sdmux)
                self.sdmux.set_mode("host")
            self.target.activate(self.storage)
            self.storage.write_image(filename=source)
            if self.sdmux is not None:
                self.sdmux.set_mode("dut")
            return
        disk = getattr(self.power, "disk", None)
        if disk is None:
            raise StrategyError(
                f"nowhere to write the image '{self.image}': the target has no "
                "USBStorageDriver and its power driver is no QEMUDriver with a disk"
            )
        card = Path(self.target.env.config.get_image_path(disk))
        card.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, card)

    def _start_kernel(self) -> None:
        """Enter the kernel with `bootargs`, and return before reading its log."""
        if self.uboot is not None:
            if self.status != Status.uboot:
                self.transition(Status.uboot)
            if self.bootargs is not None:
                # U-Boot's shell reads a single-quoted word as it is.
                if "'" in self.bootargs:
                    raise StrategyError(f"bootargs {self.bootargs!r}: U-Boot cannot quote a '")
                self.uboot.run_check(f"setenv bootargs '{self.bootargs}'")
            self.uboot.boot()
            return
        self.transition(Status.flashed)
        if self.bootargs is not None:
            if not hasattr(self.power, "boot_args"):
                raise StrategyError(
                    "cannot set the command line: the target has no UBootDriver, "
                    "and its power driver is no QEMUDriver"
                )
            # QEMUDriver builds its command line when activated.
            self.target.deactivate(self.power)
            self.power.boot_args = self.bootargs
        self._power_on()


@_register_once
@attr.s(eq=False)
class AubadeQEMUDriver(QEMUDriver):
    def off(self) -> None:
        """Switch QEMU off; a QEMU the guest has ended, before it is asked
        to quit or while it is, is off."""
        try:
            super().off()
        except (QMPError, OSError, ValueError):
            # Asking an ended QEMU: a closed pipe, or no answer to `quit`.
            if not self._ended():
                raise
            self._child = None
            self.status = 0

    def _ended(self) -> bool:
        try:
            self._child.wait(_QEMU_ENDING_SECONDS)
        except subprocess.TimeoutExpired:
            return False
        return True
