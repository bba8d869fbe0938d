"""build/BOARD/gdbinit: a board's build, as gdb sees it.

The file loads the symbols of the three programs of a boot and Aubade's gdb
commands (tools/gdb/aubade.py), and breaks where every panic ends. It does
not connect: any gdb front end sources it, then connects its own way
(`target remote :1234` for QEMU's `-s`).

Three programs, three address ranges, no overlap: the loader at its
physical link address (MMU off), the kernel in the upper half
(0xffffffff80000000), PID 1 at its user address (0x10000). gdb cannot rename
a symbol, and the loader, the kernel and the user program each have a
`_start`; all three are loaded, so `break _start` intentionally gets three
locations (one per program: each program's entry). Name the file to pick
one: `break kernel/start.S:_start`, `break loader/start.S:_start`,
`break user/crt0.S:_start`. Every other function the loader and the kernel
share by name is static to one of them, or in lib/ (both link libaubade:
`break fdt_next`, say, gets a location in each).
"""

from __future__ import annotations

from pathlib import Path

GDB_SCRIPT = Path(__file__).resolve().parents[1] / "gdb" / "aubade.py"


def gdbinit_text(
    board: str, kernel: Path, loader: Path, user: Path, script: Path, objcopy: str
) -> str:
    """The gdbinit of one board's build; every path absolute."""
    paths = {"kernel": kernel, "loader": loader, "user": user, "script": script}
    for name, path in paths.items():
        if not Path(path).is_absolute():
            raise ValueError(f"gdbinit: the {name} path {path} is not absolute")
    return f"""\
# The gdbinit of Aubade's {board} build, written by tools/aubade/gdbinit.py: do
# not edit. Source it from any gdb front end, then connect:
#   gdb-multiarch -x build/{board}/gdbinit -ex 'target remote :1234'
set architecture riscv:rv64
# add-symbol-file asks before it loads: not in a script.
set confirm off
# The kernel, in the upper half at its link address. Should the loader ever
# map it elsewhere, the kernel's symbols are moved there as the loader hands
# over (_watch_kernel_placement, below), or by `aubade-symbols` later.
file {kernel}
# The loader (physical addresses, MMU off) and PID 1 (user addresses): no
# address in common with the kernel's. `_start` is in all three, on purpose:
# `break kernel/start.S:_start` (or loader/start.S, user/crt0.S) picks one.
add-symbol-file {loader}
add-symbol-file {user}
set confirm on
source {script}
python aubade_configure(kernel={str(kernel)!r}, loader={str(loader)!r}, \
user={str(user)!r}, objcopy={objcopy!r})
# Every panic passes through it before the power-off: gdb stops the machine
# there, QEMU still running (tools/gdb/aubade.py, PANIC_BREAKPOINT).
python _watch_kernel_placement()
python _set_panic_breakpoint()
"""


def write(target: Path, board: str, kernel: Path, loader: Path, user: Path, objcopy: str) -> None:
    """Writes the gdbinit of one board's build to `target`."""
    text = gdbinit_text(board, kernel, loader, user, GDB_SCRIPT, objcopy)
    Path(target).write_text(text)
