"""The interface between the harness (or a tool) and a machine it boots.

A target is anything with a serial console that can be switched on and off:
QEMU today, a board on a USB serial adapter later. The harness and the boot
tests talk to `Target` only, so they run unchanged on every kind of target;
the benchmarks and the soak drive QEMU through the same interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class TargetError(Exception):
    """The target could not be switched on."""


class ConsoleClosed(Exception):
    """The console ended: the machine is off and will print nothing more."""


class Target(ABC):
    @property
    @abstractmethod
    def closes_at_power_off(self) -> bool:
        """Whether the console closes by itself once the machine has powered off.

        If not (QEMU without a device that ends it, a board on a serial
        cable), the console stays open after the machine's last words and the
        harness switches the machine off once it has fallen silent.
        """

    @abstractmethod
    def describe(self) -> str:
        """How a person gets the same machine by hand (for QEMU: its command line)."""

    @abstractmethod
    def power_on(self) -> None:
        """Switch the machine on, with its console already being captured.

        Raises TargetError if it cannot be switched on.
        """

    @abstractmethod
    def read_console(self, timeout: float) -> bytes:
        """Console bytes that arrived since the last read, waiting up to `timeout` seconds.

        Returns b"" if nothing arrived in time; raises ConsoleClosed once the
        console has ended and every byte before the end has been returned.
        """

    @abstractmethod
    def write_console(self, data: bytes) -> None:
        """Send `data` to the machine's console, as if typed on it.

        Raises ConsoleClosed if the console has ended.
        """

    @abstractmethod
    def exit_status(self) -> int | None:
        """How the machine ended once the console has closed: 0 for an orderly
        power-off, non-zero for a failure (negative: killed by that signal);
        None while it still runs or if the target cannot tell."""

    @abstractmethod
    def power_off(self) -> None:
        """Switch the machine off now, whatever state it is in. Safe to call twice."""
