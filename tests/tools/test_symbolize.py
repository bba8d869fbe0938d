"""tools/symbolize on a synthetic console log, against the kernel the session built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from configurations import REPO, VIRT, built

from aubade.ksyms import functions

KERNEL_ELF = built(VIRT, "kernel.elf")
SYMBOLIZE = REPO / "tools" / "symbolize"


def address_of(name: str) -> int:
    (function,) = [f for f in functions(KERNEL_ELF) if f.name == name]
    return function.address


def run(log: str, *arguments: str) -> str:
    """Standard output, as bytes decoded: text mode would turn the console's \\r into \\n."""
    return subprocess.run(
        [sys.executable, str(SYMBOLIZE), "--elf", str(KERNEL_ELF), *arguments],
        input=log.encode(),
        capture_output=True,
        check=True,
    ).stdout.decode()


def test_names_unnamed_backtrace_frames_and_register_values() -> None:
    main = address_of("init_boot_hart")
    fault = address_of("fault_inject_here")
    log = (
        f"[    0.042709] kernel: panic reason=load-page-fault pc={fault + 8:#x} hart=0\n"
        f"  ra   {main + 0x40:016x}  sp   ffffffe000010fa0  gp   0000000000000000\n"
        "  backtrace:\n"
        f"  #0 {fault + 8:#018x}\n"
        f"  #1 {main + 0x40:#018x} ?\n"
        f"  #2 {main + 0x44:#018x} init_boot_hart+0x44\n"
    )
    lines = run(log).splitlines()
    assert lines[0] == log.splitlines()[0], "a contract line is never changed"
    assert lines[1] == (
        f"  ra   {main + 0x40:016x} init_boot_hart+0x40  sp   ffffffe000010fa0"
        "  gp   0000000000000000"
    )
    assert lines[3] == f"  #0 {fault + 8:#018x} fault_inject_here+0x8"
    assert lines[4] == f"  #1 {main + 0x40:#018x} init_boot_hart+0x40"
    assert lines[5] == f"  #2 {main + 0x44:#018x} init_boot_hart+0x44"


def test_a_return_address_just_past_a_function_names_the_caller() -> None:
    """Past frame 0 the address after a call is named by the byte before it."""
    (main,) = [f for f in functions(KERNEL_ELF) if f.name == "kernel_main"]
    end = main.address + main.size
    lines = run(f"  #1 {end:#018x}\n").splitlines()
    assert lines == [f"  #1 {end:#018x} kernel_main+{main.size:#x}"]


def test_reads_a_file_and_leaves_line_endings(tmp_path: Path) -> None:
    main = address_of("kernel_main")
    log = tmp_path / "console.log"
    log.write_bytes(f"  #0 {main:#018x}\r\r\n".encode())
    assert run("", str(log)) == f"  #0 {main:#018x} kernel_main+0x0\r\r\n"


def test_a_missing_elf_is_one_line_and_status_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SYMBOLIZE), "--elf", str(tmp_path / "none.elf")],
        input="",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("symbolize: ")
