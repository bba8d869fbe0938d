"""The host programs the build and the tests run, and what to do when one is missing."""

from __future__ import annotations

import shutil

CROSS_PREFIX = "riscv64-unknown-elf-"
QEMU = "qemu-system-riscv64"
# `scons debug`: the debugger, and the terminal it shares with QEMU's console.
GDB = "gdb-multiarch"
TMUX = "tmux"

# Which Debian package brings each program: tools/setup installs them all.
PACKAGE_OF = {
    f"{CROSS_PREFIX}gcc": "gcc-riscv64-unknown-elf",
    f"{CROSS_PREFIX}objcopy": "binutils-riscv64-unknown-elf",
    QEMU: "qemu-system-misc",
    GDB: "gdb-multiarch",
    TMUX: "tmux",
}

CROSS_TOOLS = (f"{CROSS_PREFIX}gcc", f"{CROSS_PREFIX}objcopy")


def missing_tool_message(tools: tuple[str, ...], path: str | None = None) -> str | None:
    """One line naming the first missing program and the set-up command, or None."""
    for tool in tools:
        if shutil.which(tool, path=path) is None:
            return (
                f"error: {tool} not found on PATH; run tools/setup "
                f"(it installs the Debian package {PACKAGE_OF[tool]})"
            )
    return None
