"""What `scons` takes on its command line: the build's targets and options.

Declared here once. SConstruct builds its SCons Variables and its `scons -h`
from these, refuses a name that is not here, and names its aliases only from
TARGETS; the tests (and whatever checks the docs) read the same names, so a
target or option cannot be added, renamed or dropped in one place only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aubade import boards

DEFAULT_BUILD = "build/BOARD/{kernel.elf,user/init.elf,loader.elf,Image}"
"""What `scons` with no target builds."""

TARGETS: dict[str, str] = {
    "run": "build, then boot the Image in QEMU on the console (via=u-boot: the SD image)",
    "debugserver": "build, then start QEMU stopped at its first instruction with gdb's stub on"
    " port=; prints the gdb command that attaches (docs/debugging.md)",
    "debug": "debugserver with gdb-multiarch attached, QEMU's console in a second tmux pane",
    "sdimage": "build/BOARD/sdcard.img: an SD-card image U-Boot's distro boot finds",
    "listinit": "print the init tokens and the order of the init calls",
    "boardcheck": "build/host/boardcheck, for the host (tools/boardcheck runs it)",
    "compiledb": "compile_commands.json at the top, for clangd: every compile, this board",
    "keygen": "write an Ed25519 key pair for key=: PATH (private, 0600) and PATH.pub; no overwrite",
    "bootmap": "build, boot once in QEMU with initcall_debug (smp=, mem=), draw the boot's"
    " pictures and keep its log in build/BOARD/bootmap/",
    "bootmap-docs": "boot virt with -smp 2 as bootmap does, into docs/img/: the log and"
    " pictures docs/boot.md shows",
}
"""The named targets (SCons aliases), each with its one line of help."""

DEFAULT_BOARD = "virt"
VIA_FIRMWARE = "firmware"
VIA_U_BOOT = "u-boot"


@dataclass(frozen=True)
class Option:
    """One NAME=VALUE the build takes."""

    name: str
    help: str
    default: str | None
    """None: not given, nothing in its place."""
    allowed: tuple[str, ...] | None = None
    """The values it takes; None for any."""
    any_value: str = "any"
    """What the help calls the values when `allowed` is None."""
    check: Callable[[str], str | None] | None = None
    """Why a value `allowed` cannot list is refused, or None when it is fine."""

    def describe_values(self) -> str:
        """The help's second line: the default and what else is allowed."""
        default = "none" if self.default is None else (self.default or "empty")
        allowed = self.any_value if self.allowed is None else ", ".join(self.allowed)
        return f"default: {default}; values: {allowed}"


def options() -> tuple[Option, ...]:
    """Every option, in the order `scons -h` lists them. The boards are read
    from boards/ each time: a board is a file, not a name kept here."""
    return (
        Option(
            "board",
            "the board to build for, into build/BOARD/",
            DEFAULT_BOARD,
            tuple(boards.known_boards()),
        ),
        Option(
            "debug",
            "the kernel's debug checks (heap redzones, double frees, locks): 1 in, 0 out",
            "1",
            ("0", "1"),
        ),
        Option(
            "via",
            "how `scons run` boots: firmware enters the Image; u-boot boots the SD image",
            VIA_FIRMWARE,
            (VIA_FIRMWARE, VIA_U_BOOT),
        ),
        Option(
            "append",
            "the kernel's command line, for `scons run` and the SD image's extlinux.conf",
            "",
            any_value="any words, quoted as one argument: append='a b'",
        ),
        Option(
            "smp",
            "harts for `scons run`, `debugserver`, `debug` and `bootmap` (QEMU -smp)",
            None,
            any_value="a whole number from 1; none: the board's",
            check=_whole_number("smp", 1, 512),
        ),
        Option(
            "mem",
            "memory for `scons run`, `debugserver`, `debug` and `bootmap` (QEMU -m)",
            None,
            any_value="a size such as 512M or 2G; none: the board's",
            check=_memory_size,
        ),
        Option(
            "port",
            "the TCP port of QEMU's gdb stub for `debugserver` and `debug`",
            "1234",
            any_value="1 to 65535",
            check=_whole_number("port", 1, 65535),
        ),
        Option(
            "dtb",
            "a device tree file for the SD image, for a board whose U-Boot has none that fits",
            None,
            any_value="the path of a .dtb file",
        ),
        Option(
            "key",
            "sign the payload with this Ed25519 key; the loader then requires it (keygen: new)",
            None,
            any_value="a private key file (PEM); none: unsigned, any intact payload boots",
        ),
    )


def _whole_number(name: str, low: int, high: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if value.isdigit() and low <= int(value) <= high:
            return None
        return f"{name}={value}: use a whole number from {low} to {high}"

    return check


def _memory_size(value: str) -> str | None:
    if re.fullmatch(r"[1-9][0-9]*[MG]", value):
        return None
    return f"mem={value}: use a size in QEMU's form, a number and M or G (512M, 2G)"


def option_names() -> list[str]:
    return [option.name for option in options()]


def option(name: str) -> Option:
    (found,) = [option for option in options() if option.name == name]
    return found


def value_problem(name: str, value: str) -> str | None:
    """Why `name=value` is refused, or None when it is allowed."""
    declared = option(name)
    if declared.allowed is None:
        return declared.check(value) if declared.check and value is not None else None
    if value in declared.allowed:
        return None
    if name == "board":
        try:
            boards.board_file(value)
        except boards.UnknownBoardError as error:
            return str(error)
    choices = [
        f"{name}={allowed}" + (" (the default)" if allowed == declared.default else "")
        for allowed in declared.allowed
    ]
    return f"{name}={value}: use {' or '.join(choices)}"


def unknown_options_message(unknown: Mapping[str, str]) -> str:
    """The refusal of NAME=VALUE arguments whose NAME no option has."""
    names = option_names()
    lines = []
    for name, value in unknown.items():
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]}={value}?)" if close else ""
        lines.append(f"unknown option {name}={value}{hint}")
    lines.append(f"known options: {', '.join(names)} (scons -h says what each does)")
    return "\n".join(lines)


def run_problem(board: boards.Board, via: str) -> str | None:
    """Why `scons run` cannot boot `board` the way `via` says, or None if it can.

    Asked before anything is built: a board QEMU does not model would be
    built for nothing."""
    try:
        _ = board.qemu
        if via == VIA_U_BOOT:
            _ = board.u_boot
    except boards.NotEmulatedError as error:
        return f"cannot run: {error}"
    return None


def help_text() -> str:
    """What `scons -h` prints: the targets, the options and the boards."""
    targets = {"(none)": DEFAULT_BUILD, **TARGETS}
    target_width = max(map(len, targets))
    declared = options()
    option_width = max(len(f"{option.name}=") for option in declared)
    loaded = [boards.load_board(name) for name in boards.known_boards()]
    board_width = max(len(board.name) for board in loaded)
    runnable = [board.name for board in loaded if board.emulated is not None]

    lines = [
        "Aubade's build: scons [TARGET ...] [OPTION=VALUE ...]",
        "",
        "Targets:",
        *(f"  {name:<{target_width}}  {text}" for name, text in targets.items()),
        "",
        "Options:",
    ]
    for option in declared:
        lines.append(f"  {option.name + '=':<{option_width}}  {option.help}")
        lines.append(f"  {'':<{option_width}}  {option.describe_values()}")
    lines += [
        "",
        "Boards (board=NAME; boards/NAME.toml):",
        *(f"  {board.name:<{board_width}}  {board.description}" for board in loaded),
        f"`scons run` boots {', '.join(runnable)} in QEMU; the others are built and",
        "booted from an SD card (`scons sdimage board=NAME`).",
        "",
        "Examples: scons board=sifive_u debug=0; scons run append='initcall_debug'",
        "",
    ]
    return "\n".join(lines)
