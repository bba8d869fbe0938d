"""A labgrid target as a harness target (`pytest --lg-env ENV.yaml`).

labgrid's pytest plugin reads the environment file; the harness takes its
target `main` and drives it through the target's AubadeStrategy
(tools/aubade/labgrid_strategy.py): powering on is the strategy's way to
the state `started`, where the kernel has been entered with the harness's
command line and nothing of its log has been read. The harness then reads
the console itself, phase by phase, with its own timeouts, as on every
other target; what the strategy and its drivers read on the way (OpenSBI's
and U-Boot's banners, U-Boot's prompt) comes first. Powering off is the
strategy's way to `off`.

Whether the target is QEMU on this machine or a board on a farm (a
`RemotePlace` the user has acquired with `labgrid-client`) is the
environment file's business: the harness sees a console and a strategy.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Protocol

import pexpect
from labgrid import Environment
from labgrid.binding import BindingError
from labgrid.driver import QEMUDriver
from labgrid.exceptions import (
    InvalidConfigError,
    NoConfigFoundError,
    NoDriverFoundError,
    NoSupplierFoundError,
    RegistrationError,
)
from labgrid.protocol import ConsoleProtocol, PowerProtocol
from labgrid.remote.client import UserError
from labgrid.strategy import StrategyError

from aubade.qemu import dumpdtb_option, run_dumpdtb
from aubade.target import ConsoleClosed, Target, TargetError

TARGET_ROLE = "main"
"""The target of the environment the harness drives, as labgrid's own fixtures do."""
_READ_SIZE = 4096
_CONFIG_ERRORS = (
    BindingError,
    InvalidConfigError,
    NoConfigFoundError,
    NoSupplierFoundError,
    RegistrationError,
)
"""What labgrid raises for an environment it cannot make its target of."""


class AubadeStrategy(Protocol):
    """What the harness uses of tools/aubade/labgrid_strategy.py's
    AubadeStrategy, a class labgrid loads from the environment's `imports:`."""

    bootargs: str | None
    console: ConsoleProtocol
    power: PowerProtocol

    def transition(self, status: str) -> None: ...

    def take_console_log(self) -> bytes: ...


class LabgridTarget(Target):
    def __init__(self, env: Environment, bootargs: str) -> None:
        self.env = env
        self.bootargs = bootargs
        self._strategy: AubadeStrategy | None = None
        self._pending = b""

    @property
    def closes_at_power_off(self) -> bool:
        # A board stays on with its console open after the kernel's last
        # line; so does a QEMU place, whose driver reads an ended QEMU as silence.
        return False

    def describe(self) -> str:
        return (
            f"labgrid environment {self.env.config_file}, target {TARGET_ROLE}, "
            f"through its AubadeStrategy with bootargs {self.bootargs!r}"
        )

    def power_on(self) -> None:
        strategy = strategy_of(self.env)
        strategy.bootargs = self.bootargs
        try:
            strategy.transition("started")
        except StrategyError as error:
            raise TargetError(f"labgrid: {_cause(error)}") from error
        finally:
            self._pending = strategy.take_console_log()
        self._strategy = strategy

    def read_console(self, timeout: float) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        console = self._require_on().console
        try:
            return console.read(size=1, timeout=max(timeout, 0), max_size=_READ_SIZE)
        except pexpect.TIMEOUT:
            return b""
        except OSError as error:
            # pyserial's errors are OSErrors: a farm's port whose connection
            # broke, an adapter unplugged. Nothing more will come.
            raise ConsoleClosed from error

    def write_console(self, data: bytes) -> None:
        self._require_on().console.write(data)

    def exit_status(self) -> int | None:
        # labgrid's power drivers switch; they do not say how a machine ended.
        return None

    def power_off(self) -> None:
        strategy, self._strategy = self._strategy, None
        if strategy is None:
            return
        try:
            strategy.transition("off")
        except StrategyError as error:
            # As with a serial board's hook: a board left on is worth a
            # warning, not a failure that hides the boot's own.
            print(f"warning: labgrid: {_cause(error)}", file=sys.stderr)

    def _require_on(self) -> AubadeStrategy:
        if self._strategy is None:
            raise ConsoleClosed
        return self._strategy


def strategy_of(env: Environment) -> AubadeStrategy:
    """The AubadeStrategy of the environment's target, which labgrid makes
    (and, for a RemotePlace, asks the coordinator about) on first use.

    Raises TargetError naming what is wrong: no target, a place that is not
    the user's, a driver without what it binds to, no strategy.
    """
    where = f"labgrid environment {env.config_file}"
    try:
        target = env.get_target(TARGET_ROLE)
    except (UserError, *_CONFIG_ERRORS) as error:
        raise TargetError(f"{where}: {error}") from error
    if target is None:
        raise TargetError(f"{where}: no target named {TARGET_ROLE!r} under `targets:`")
    try:
        strategy = target.get_driver("Strategy")
    except NoDriverFoundError as error:
        raise TargetError(
            f"{where}: target {TARGET_ROLE!r} has no strategy: add AubadeStrategy to its "
            f"drivers and {Path('tools/aubade/labgrid_strategy.py')} to `imports:`"
        ) from error
    if not hasattr(strategy, "take_console_log"):
        raise TargetError(
            f"{where}: target {TARGET_ROLE!r} has the strategy {type(strategy).__name__}; "
            "the harness drives an AubadeStrategy (tools/aubade/labgrid_strategy.py)"
        )
    return strategy


def qemu_device_tree(env: Environment, dtb: Path) -> Path | None:
    """The device tree QEMU hands the firmware, written to `dtb`, when the
    environment's target is QEMU (labgrid's QEMUDriver, whose command line
    is QEMU's with `dumpdtb`); None for a board, whose tree is its own."""
    power = strategy_of(env).power
    if not isinstance(power, QEMUDriver):
        return None
    return run_dumpdtb([*power.get_qemu_base_args(), "-machine", dumpdtb_option(dtb)], dtb)


def _cause(error: StrategyError) -> str:
    """A strategy's error says only that it is broken; what broke it is its cause."""
    cause = error.__cause__
    return f"{error.msg}: {type(cause).__name__}: {cause}" if cause else error.msg
