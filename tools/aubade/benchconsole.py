"""QEMU for the benchmarks: the options every benchmark takes to say what it
boots, a boot's failure as the benchmarks report it, and a machine's console
read as it arrives, for the benchmarks that time a text's appearance on the
host's clock from QEMU's start (tools/bench_shell.py, tools/bench_u_boot.py)
and for the soak (aubade.soak), which judges each boot from its console.
"""

from __future__ import annotations

import argparse
import codecs
import os
import re
import select
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from aubade.parentdeath import DIE_WITH_PARENT
from aubade.qemu import QemuConfig, format_command

_TAIL_LINES = 20
_READ_SIZE = 65536


def add_boot_options(
    parser: argparse.ArgumentParser, runs_per: str | None, image: bool = True
) -> None:
    """`--board`, `--image` (unless the benchmark boots only the build's) and
    `--runs`, the boots per `runs_per` (in all, if None)."""
    parser.add_argument("--board", default="virt", help="board description (default: %(default)s)")
    if image:
        parser.add_argument(
            "--image", type=Path, help="image to boot (default: build/<board>/Image)"
        )
    parser.add_argument(
        "--runs",
        type=int,
        default=5,
        help=f"boots{'' if runs_per is None else ' per ' + runs_per} (default: %(default)s)",
    )


class BenchError(Exception):
    """A boot did not run as the benchmark needs it to; the message says how."""


def failure_report(headline: str, console: str) -> str:
    """The failure and the console's last lines."""
    tail = "\n".join(f"  | {line}" for line in console.splitlines()[-_TAIL_LINES:])
    return f"{headline}; last console lines:\n{tail}"


class Console:
    """QEMU's console on pipes, read up to a text awaited."""

    def __init__(
        self, process: subprocess.Popen[bytes], command: Sequence[str], started: float
    ) -> None:
        assert process.stdout is not None and process.stdin is not None
        self._process = process
        self._command = command
        self._started = started
        self._out = process.stdout.fileno()
        self._in = process.stdin
        # A character split across two reads is decoded whole.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.text = ""
        self._searched_to = 0

    @property
    def command(self) -> Sequence[str]:
        """The QEMU command this console's machine runs."""
        return self._command

    def elapsed(self) -> float:
        """Seconds on the host's clock since QEMU was started (just before it
        was spawned, so they include its own start-up)."""
        return time.monotonic() - self._started

    def failure(self, headline: str) -> BenchError:
        # The command too, as the console may not show which of a benchmark's
        # machines this was.
        report = failure_report(headline, self.text)
        return BenchError(f"{report}\nQEMU command:\n  {format_command(self._command)}")

    def wait_for(self, pattern: re.Pattern[str], timeout: float, what: str) -> re.Match[str]:
        """The first match of `pattern` after the previous wait's, read as it
        arrives: a pattern that could match a prefix of the text it is meant
        to find must end with what ends that text (a line end, a prompt)."""
        deadline = time.monotonic() + timeout
        while (match := pattern.search(self.text, self._searched_to)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.failure(f"no {what} within {timeout:g} s")
            if not self.read(remaining):
                raise self.failure(f"QEMU exited with status {self.exit_status()} before {what}")
        self._searched_to = match.end()
        return match

    def read(self, timeout: float) -> bool:
        """Add to `text` what arrives within `timeout` seconds (one read's
        worth, perhaps nothing); False once the console has closed, which is
        QEMU exiting."""
        ready, _, _ = select.select([self._out], [], [], max(timeout, 0))
        if not ready:
            return True
        data = os.read(self._out, _READ_SIZE)
        if not data:
            self.text += self._decoder.decode(b"", final=True)
            return False
        self.text += self._decoder.decode(data)
        return True

    def exit_status(self) -> int:
        """QEMU's exit status, waiting for it to exit (a signal's as its negative)."""
        return self._process.wait()

    def kill(self) -> None:
        """End QEMU now; a no-op once it has exited and been waited for.
        Safe from another thread than the one reading."""
        self._process.kill()

    def type(self, data: bytes) -> None:
        self._in.write(data)
        self._in.flush()

    def power_off(self, timeout: float) -> None:
        """Read the console to its end, which must be QEMU exiting with status 0
        as the guest powers off."""
        try:
            out, _ = self._process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise self.failure(f"no power-off within {timeout:g} s") from None
        self.text += out.decode(errors="replace")
        if self._process.returncode != 0:
            raise self.failure(f"QEMU exited with status {self._process.returncode}")


@contextmanager
def started_console(config: QemuConfig) -> Iterator[Console]:
    """Start QEMU with its console on pipes; leaving the block kills QEMU,
    whether the boot ended or failed."""
    command = config.command()
    started = time.monotonic()
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=DIE_WITH_PARENT,
    ) as process:
        console = Console(process, command, started)
        try:
            yield console
        finally:
            console.kill()
