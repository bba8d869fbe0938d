"""A labgrid farm on this machine, over loopback, serving the pretend board.

labgrid's own programs, as a farm runs them: `labgrid-coordinator` knows the
places; `labgrid-exporter` serves the resources of the host the board hangs
off (here the pretend board's serial port, tools/qemu_board.py's pseudo-
terminal, which the exporter serves through ser2net as a NetworkSerialPort);
`labgrid-client` creates a place that matches them and acquires it. A test
or a benchmark then drives the place through a labgrid environment with a
`RemotePlace`, as a farm's user does: the console over the network, the
power through the pretend board's switch (an ExternalPowerDriver running
`qemu_board.py power`), U-Boot's prompt and the strategy as in
boards/labgrid/qemu-virt-uboot.yaml, whose entries the environment reuses.

    with loopback_farm(work_dir, card) as farm:
        subprocess.run([..., "pytest", f"--lg-env={farm.env_file}",
                        f"--lg-coordinator={farm.address}"])

Every process it starts is ended when the block is left, however it is
left: each runs in a session of its own, whose whole group (ser2net under
the exporter) is signalled.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
QEMU_ENV = REPO / "boards" / "labgrid" / "qemu-virt-uboot.yaml"
"""The environment whose U-Boot and strategy settings the farm's place uses."""
QEMU_BOARD = REPO / "tools" / "qemu_board.py"
EXPORTER_NAME = "aubade-farm"
GROUP = "pretend-board"
# Each step of bringing the farm up answers within this time, or the farm
# fails naming the step; a process's end is waited for as long.
_READY_SECONDS = 30.0
_END_SECONDS = 5.0
_POLL_SECONDS = 0.2


class FarmError(Exception):
    """The farm did not come up; the message names the step and what it said."""


@dataclass(frozen=True)
class Farm:
    address: str
    """The coordinator, HOST:PORT (`--lg-coordinator`, `labgrid-client -x`)."""
    place: str
    env_file: Path
    """A labgrid environment whose target `main` is the place."""

    def client(self, *arguments: str, user: str | None = None) -> subprocess.CompletedProcess:
        """`labgrid-client -x ADDRESS -p PLACE ARGUMENTS`, as this machine's user
        or as `user` (LG_USERNAME)."""
        return labgrid_client(self.address, "-p", self.place, *arguments, user=user)


def labgrid_client(
    address: str, *arguments: str, user: str | None = None
) -> subprocess.CompletedProcess:
    environment = os.environ | ({} if user is None else {"LG_USERNAME": user})
    return subprocess.run(
        [str(_venv_program("labgrid-client")), "-x", address, *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=_READY_SECONDS,
        check=False,
    )


@contextmanager
def loopback_farm(
    work: Path, card: Path, smp: int = 4, memory: str = "256M", place: str = "aubade"
) -> Iterator[Farm]:
    """A coordinator, an exporter of the pretend board booting `card`
    (an SD image, through U-Boot), and `place`, acquired by this machine's user.

    `work` holds the board's terminal link and socket (a short path: a unix
    socket's must fit in 108 bytes), the coordinator's state, the exporter's
    and the environment's files, and each program's output.
    """
    if shutil.which("ser2net", path=f"{os.environ.get('PATH', '')}:/usr/sbin") is None:
        raise FarmError("ser2net is not installed: tools/setup installs it (Debian's ser2net)")
    board = work / "board"
    qemu_board = [sys.executable, str(QEMU_BOARD)]
    power = [*qemu_board, "power", str(board)]
    with ExitStack() as stack:
        # 1. The serial adapter: the board's port, a pseudo-terminal.
        adapter = stack.enter_context(_running("adapter", [*qemu_board, "serve", str(board)], work))
        port = _adapter_port(adapter, work)
        # 2. The coordinator, on a free port of loopback.
        address = f"127.0.0.1:{_free_port()}"
        stack.enter_context(
            _running(
                "coordinator", [str(_venv_program("labgrid-coordinator")), "-l", address], work
            )
        )
        _await("the coordinator to answer", lambda: labgrid_client(address, "places"), work)
        # 3. The exporter, serving the port; ser2net starts with the place's lock.
        exporter_config = work / "exporter.yaml"
        exporter_config.write_text(
            yaml.safe_dump({GROUP: {"RawSerialPort": {"port": port, "speed": 115200}}})
        )
        exporter = [
            str(_venv_program("labgrid-exporter")),
            *("--coordinator", address, "--name", EXPORTER_NAME, "--hostname", "127.0.0.1"),
            str(exporter_config),
        ]
        stack.enter_context(_running("exporter", exporter, work))
        resource = f"{EXPORTER_NAME}/{GROUP}/NetworkSerialPort"
        _await(
            f"the exporter to offer {resource}",
            lambda: _listing(labgrid_client(address, "resources"), resource),
            work,
        )
        # 4. The place: the exporter's group, locked for this machine's user.
        farm = Farm(address, place, work / "env.yaml")
        for step in (("create",), ("add-match", f"{EXPORTER_NAME}/{GROUP}/*"), ("acquire",)):
            _check(farm.client(*step), f"labgrid-client -p {place} {shlex.join(step)}")
        stack.callback(farm.client, "release", "--kick")
        stack.callback(subprocess.run, [*power, "off"], check=False, timeout=_READY_SECONDS)
        # In order: labgrid makes the drivers in the order the file lists them.
        environment = _environment(place, power, card, smp, memory)
        farm.env_file.write_text(yaml.safe_dump(environment, sort_keys=False))
        yield farm


def _environment(place: str, power: list[str], card: Path, smp: int, memory: str) -> dict:
    """The labgrid environment of the place: the pretend board's console
    over the network, its power switch, and U-Boot and the strategy as for
    QEMU through U-Boot on this machine."""
    drivers = yaml.safe_load(QEMU_ENV.read_text())["targets"]["main"]["drivers"]
    switch = [*power, "--smp", str(smp), "--memory", memory, "--sd-image", str(card)]
    strategy = {key: value for key, value in drivers["AubadeStrategy"].items() if key != "image"}
    return {
        "targets": {
            "main": {
                "resources": {"RemotePlace": {"name": place}},
                "drivers": {
                    "SerialDriver": {},
                    "ExternalPowerDriver": {
                        "cmd_on": shlex.join([*switch, "on"]),
                        "cmd_off": shlex.join([*power, "off"]),
                    },
                    "UBootDriver": drivers["UBootDriver"],
                    # The card is the board's own: nothing to write.
                    "AubadeStrategy": strategy,
                },
            }
        },
        "imports": [str(REPO / "tools" / "aubade" / "labgrid_strategy.py")],
    }


@contextmanager
def _running(name: str, command: list[str], work: Path) -> Iterator[subprocess.Popen]:
    """`command` running, its output in WORK/NAME.log (its first line, for
    the adapter, on a pipe); ended with its whole process group."""
    with (work / f"{name}.log").open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=work,
            stdout=subprocess.PIPE if name == "adapter" else log,
            stderr=log,
            text=True,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        _end(process)


def _end(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(_END_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    if process.stdout is not None:
        process.stdout.close()


def _adapter_port(adapter: subprocess.Popen, work: Path) -> str:
    """The terminal device the adapter made: the exporter serves /dev/ paths only."""
    assert adapter.stdout is not None
    # Its first line says the terminal is linked and the socket listens:
    # `serial port DIR/tty -> /dev/pts/N`.
    ready = adapter.stdout.readline()
    if " -> /dev/" not in ready:
        raise FarmError(f"qemu_board.py serve said {ready!r}; see {work / 'adapter.log'}")
    return ready.rsplit(" -> ", 1)[1].strip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listing(result: subprocess.CompletedProcess, line: str) -> subprocess.CompletedProcess:
    """`result`, made a failure unless its output lists `line`."""
    listed = result.returncode == 0 and line in result.stdout.split()
    return result if listed else subprocess.CompletedProcess(result.args, 1, result.stdout, "")


def _await(what: str, attempt: Callable[[], subprocess.CompletedProcess], work: Path) -> None:
    deadline = time.monotonic() + _READY_SECONDS
    while (result := attempt()).returncode != 0:
        if time.monotonic() > deadline:
            raise FarmError(
                f"waited {_READY_SECONDS:.0f} s for {what}; last: "
                f"{(result.stdout + result.stderr).strip()!r}; logs in {work}"
            )
        time.sleep(_POLL_SECONDS)


def _check(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        raise FarmError(f"`{what}` failed: {(result.stdout + result.stderr).strip()}")


def _venv_program(name: str) -> Path:
    """A program labgrid installs beside this Python (the venv's bin)."""
    return Path(sys.executable).with_name(name)
