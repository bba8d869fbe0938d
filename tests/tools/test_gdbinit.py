"""tools/aubade/gdbinit.py: the gdbinit a board's build writes for gdb."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aubade import gdbinit

REPO = Path(__file__).resolve().parents[2]

KERNEL = Path("/b/virt/kernel.elf")
LOADER = Path("/b/virt/loader.elf")
USER = Path("/b/virt/user/init.elf")
SCRIPT = Path("/src/tools/gdb/aubade.py")


def text() -> str:
    return gdbinit.gdbinit_text("virt", KERNEL, LOADER, USER, SCRIPT, "riscv64-unknown-elf-objcopy")


def commands() -> list[str]:
    return [line for line in text().splitlines() if line and not line.startswith("#")]


def test_loads_the_three_programs_and_the_commands_in_order() -> None:
    lines = commands()
    order = [
        "set architecture riscv:rv64",
        f"file {KERNEL}",
        f"add-symbol-file {LOADER}",
        f"add-symbol-file {USER}",
        f"source {SCRIPT}",
        "python _set_panic_breakpoint()",
    ]
    assert [lines.index(command) for command in order] == sorted(
        lines.index(command) for command in order
    )


def test_does_not_connect() -> None:
    # Any front end sources it and connects its own way.
    assert not [line for line in commands() if line.startswith("target")]


def test_configures_the_script_with_the_build_paths() -> None:
    (configure,) = [line for line in commands() if line.startswith("python aubade_configure(")]
    for path in (KERNEL, LOADER, USER):
        assert repr(str(path)) in configure


def test_confirmation_is_back_on_after_loading() -> None:
    lines = commands()
    assert lines.index("set confirm off") < lines.index(f"add-symbol-file {USER}")
    assert lines.index("set confirm on") > lines.index(f"add-symbol-file {USER}")


def test_refuses_a_relative_path() -> None:
    with pytest.raises(ValueError, match="not absolute"):
        gdbinit.gdbinit_text("virt", Path("kernel.elf"), LOADER, USER, SCRIPT, "objcopy")


def test_the_script_it_names_exists() -> None:
    assert gdbinit.GDB_SCRIPT.is_file()


def test_the_panic_breakpoint_is_a_function_the_kernel_defines() -> None:
    source = gdbinit.GDB_SCRIPT.read_text()
    (name,) = re.findall(r'^PANIC_BREAKPOINT = "(\w+)"$', source, re.M)
    panic_c = (REPO / "kernel" / "debug" / "panic.c").read_text()
    assert re.search(rf"^(__attribute__\(\(\w+\)\) )?void {name}\(", panic_c, re.M), name
