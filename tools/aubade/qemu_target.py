"""A QEMU machine as a target, its console on a pseudo-terminal.

No QEMU outlives the harness or the tool that started it (tools/bench,
tools/soak): `power_off` kills it on teardown and on a failed test or boot,
an atexit hook kills any left when Python exits (after Ctrl-C for one), and
on Linux the kernel itself kills QEMU with SIGKILL when the process that
started it dies, even from a signal that runs no Python code.
"""

from __future__ import annotations

import atexit
import os
import signal

import pexpect

from aubade.parentdeath import DIE_WITH_PARENT
from aubade.qemu import QemuConfig, format_command
from aubade.target import ConsoleClosed, Target, TargetError

_READ_SIZE = 65536

# Running QEMUs, for the atexit hook.
_running: set[pexpect.spawn] = set()


def _kill(child: pexpect.spawn) -> None:
    _running.discard(child)
    # SIGKILL, then a wait without a deadline: QEMU keeps no state worth a
    # gentler end, and SIGKILL always ends it. pexpect's close(force=True)
    # gives each of its signals 0.1 s and then raises "Could not terminate
    # the child", which a QEMU of many threads on a loaded host overran.
    if child.isalive():
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it ended after isalive() looked
        child.wait()
    child.close()


@atexit.register
def _kill_all_running() -> None:
    for child in list(_running):
        _kill(child)


class QemuTarget(Target):
    def __init__(self, config: QemuConfig, send_delay: float | None = 0.05) -> None:
        """`send_delay`: seconds pexpect sleeps before each write to the
        console (its delaybeforesend; its default is the harness's). A
        benchmark that times a command's answer sends at once (None)."""
        self.config = config
        self.send_delay = send_delay
        self._child: pexpect.spawn | None = None

    @property
    def pid(self) -> int | None:
        """QEMU's process id once powered on."""
        return None if self._child is None else self._child.pid

    @property
    def closes_at_power_off(self) -> bool:
        return self.config.board.qemu.exits_on_poweroff

    def describe(self) -> str:
        return f"QEMU command: {format_command(self.config.command())}"

    def power_on(self) -> None:
        command = self.config.command()
        try:
            self._child = pexpect.spawn(
                command[0], command[1:], timeout=None, preexec_fn=DIE_WITH_PARENT
            )
        except pexpect.ExceptionPexpect as error:
            raise TargetError(f"cannot start QEMU: {error}") from error
        self._child.delaybeforesend = self.send_delay
        _running.add(self._child)

    def read_console(self, timeout: float) -> bytes:
        child = self._child
        if child is None:
            raise RuntimeError("QEMU target read before power_on()")
        if child.closed:
            raise ConsoleClosed
        try:
            return child.read_nonblocking(_READ_SIZE, timeout)
        except pexpect.TIMEOUT:
            return b""
        except pexpect.EOF:
            # QEMU closes the terminal as it exits. Wait for it rather than
            # close() at once, which would kill a QEMU still exiting and turn
            # its exit status into a signal.
            child.wait()
            _running.discard(child)
            child.close()
            raise ConsoleClosed from None

    def write_console(self, data: bytes) -> None:
        child = self._child
        if child is None:
            raise RuntimeError("QEMU target written before power_on()")
        if child.closed or not child.isalive():
            raise ConsoleClosed
        # QEMU puts its terminal in raw mode: the bytes reach the UART as sent.
        child.send(data)

    def exit_status(self) -> int | None:
        child = self._child
        if child is None or child.isalive():
            return None
        if child.signalstatus is not None:
            return -child.signalstatus
        return child.exitstatus

    def power_off(self) -> None:
        if self._child is not None and not self._child.closed:
            _kill(self._child)

    def kill(self) -> None:
        """Send QEMU SIGKILL, from any thread: the thread reading its console
        then finds the console closed, and its power_off reaps it. (power_off
        itself closes the terminal, which only the reading thread may do.)"""
        child = self._child
        if child is not None and not child.closed:
            try:
                os.kill(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it has exited and been reaped
