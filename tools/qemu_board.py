#!/usr/bin/env python3
"""A pretend dev board: QEMU with its UART on a serial port of its own.

It gives the harness's serial target (`pytest --target serial:...`) the
same things a board on the desk does, so that code path runs for real
without hardware:

- `serve DIR` is the USB serial adapter. It makes a pseudo-terminal, links
  it as DIR/tty, and relays bytes between it and whichever QEMU is connected
  to DIR/console.sock. Like an adapter it outlives every power cycle, so the
  harness can open the port before the board is switched on and read it from
  the first byte. It runs until killed.
- `power DIR [options] on|off` is the power switch, the hook the harness
  runs. `on` ends the running QEMU, if any, and starts a new one with its
  console on DIR/console.sock; `off` ends it. QEMU's own output (not the
  console) goes to DIR/qemu.log.

    tools/qemu_board.py serve /tmp/board &
    .venv/bin/pytest --target serial:/tmp/board/tty,115200 \\
        --power-hook "tools/qemu_board.py power /tmp/board --sd-image build/virt/sdcard.img"

(`--sd-image` boots through U-Boot from an image built with
`scons sdimage append=poweroff`; `--image` with `--append` boots an Image
directly.)
"""

from __future__ import annotations

import argparse
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import time
import tty
from pathlib import Path

from aubade.boards import NotEmulatedError, load_board
from aubade.qemu import QemuConfig, format_command

REPO = Path(__file__).resolve().parents[1]
_RELAY_SIZE = 4096
# A reader (the harness) drains the terminal at least this often.
_READER_SECONDS = 1.0
# QEMU checks its options and connects to the console socket within this
# time: an error it reports by then is the hook's failure.
_START_SECONDS = 0.5
_STOP_SECONDS = 5.0


def tty_link(board_dir: Path) -> Path:
    return board_dir / "tty"


def console_socket(board_dir: Path) -> Path:
    return board_dir / "console.sock"


def serve(board_dir: Path) -> None:
    """Relay between the pseudo-terminal and the connected QEMU until killed."""
    board_dir.mkdir(parents=True, exist_ok=True)
    master, slave = os.openpty()
    # Raw, as a serial line is: no echo, no line editing, no newline mapping.
    # The adapter keeps its own end of the terminal open, so the port reads
    # as an idle line, not a hung-up one, while the harness has it closed.
    tty.setraw(slave)
    os.set_blocking(master, False)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    console_socket(board_dir).unlink(missing_ok=True)
    listener.bind(str(console_socket(board_dir)))
    listener.listen(1)
    link = tty_link(board_dir)
    link.unlink(missing_ok=True)
    link.symlink_to(os.ttyname(slave))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(master, selectors.EVENT_READ)
    board: socket.socket | None = None
    print(f"serial port {link} -> {os.ttyname(slave)}", flush=True)
    try:
        while True:
            for key, _ in selector.select():
                if key.fileobj is listener:
                    # A board switched on: it replaces one that was switched off.
                    if board is not None:
                        selector.unregister(board)
                        board.close()
                    board, _ = listener.accept()
                    selector.register(board, selectors.EVENT_READ)
                elif key.fileobj is master:
                    typed = _read_available(master)
                    # Typed at a board that is off: lost, as on a real line.
                    if board is not None:
                        board.sendall(typed)
                elif board is not None:
                    printed = board.recv(_RELAY_SIZE)
                    if not printed:
                        selector.unregister(board)
                        board.close()
                        board = None
                        continue
                    _write_all(master, printed)
    finally:
        link.unlink(missing_ok=True)
        console_socket(board_dir).unlink(missing_ok=True)


def _read_available(fd: int) -> bytes:
    try:
        return os.read(fd, _RELAY_SIZE)
    except BlockingIOError:
        return b""


def _write_all(fd: int, data: bytes) -> None:
    """Write to the terminal as fast as its reader takes it. What a reader has
    not made room for within a moment is dropped: a line with nobody reading
    loses characters, as a real one does, rather than stopping the board."""
    while data:
        try:
            data = data[os.write(fd, data) :]
        except BlockingIOError:
            _, writable, _ = select.select([], [fd], [], _READER_SECONDS)
            if not writable:
                return


def power(board_dir: Path, state: str, config: QemuConfig) -> int:
    pid_file = board_dir / "qemu.pid"
    _stop(pid_file)
    if state == "off":
        return 0
    command = config.command()
    log = board_dir / "qemu.log"
    with log.open("w") as output:
        print(format_command(command), file=output, flush=True)
        # A session of its own: the hook returns while QEMU runs on, as a
        # board runs on after its power switch is flipped.
        qemu = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=output, start_new_session=True
        )
    pid_file.write_text(f"{qemu.pid}\n")
    try:
        qemu.wait(_START_SECONDS)
    except subprocess.TimeoutExpired:
        return 0
    # QEMU ended already. A guest that boots and powers off this fast is a
    # board doing its job (its console tells the harness how it went); QEMU
    # saying something on its own output is QEMU refusing to start.
    _command_line, *messages = log.read_text().splitlines()
    if messages:
        print(f"QEMU exited with status {qemu.returncode}:", *messages, sep="\n", file=sys.stderr)
        return 1
    return 0


def _stop(pid_file: Path) -> None:
    """End the QEMU this board started, if it still runs."""
    if not pid_file.is_file():
        return
    pid = int(pid_file.read_text())
    pid_file.unlink()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + _STOP_SECONDS
        while time.monotonic() < deadline:
            # Not our child (each hook is a new process): poll for it to go.
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="be the serial adapter (runs until killed)")
    serve_parser.add_argument("dir", type=Path)
    power_parser = commands.add_parser("power", help="be the power switch (the harness's hook)")
    power_parser.add_argument("dir", type=Path)
    power_parser.add_argument("--board", default="virt", help="(default: %(default)s)")
    power_parser.add_argument("--smp", type=int, help="harts (default: the board's)")
    power_parser.add_argument("--memory", help="RAM in QEMU's syntax (default: the board's)")
    boot = power_parser.add_mutually_exclusive_group()
    boot.add_argument("--sd-image", type=Path, help="boot through U-Boot from this SD image")
    boot.add_argument("--image", type=Path, help="boot this Image (default: build/BOARD/Image)")
    power_parser.add_argument("--append", default="", help="command line of --image")
    power_parser.add_argument("state", choices=("on", "off"))
    arguments = parser.parse_args()

    if arguments.command == "serve":
        serve(arguments.dir)
        return 0
    try:
        board = load_board(arguments.board)
        config = QemuConfig(
            board,
            arguments.image or REPO / "build" / board.name / "Image",
            smp=arguments.smp,
            memory=arguments.memory,
            append=arguments.append,
            sd_image=arguments.sd_image,
            console_socket=console_socket(arguments.dir),
        )
    except (NotEmulatedError, ValueError) as error:
        parser.error(str(error))
    return power(arguments.dir, arguments.state, config)


if __name__ == "__main__":
    sys.exit(main())
