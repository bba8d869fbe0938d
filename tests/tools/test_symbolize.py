"""tools/symbolize on a synthetic console log, against the kernel the session built.

Source lines are checked against binutils' addr2line on the same ELF: the
tool must give the file and line that addr2line gives, relative to the
repository.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest
from configurations import REPO, VIRT, built

from aubade.ksyms import Function, functions
from aubade.srclines import LineTable, SourceLine, line_table
from aubade.toolchain import CROSS_PREFIX

KERNEL_ELF = built(VIRT, "kernel.elf")
SYMBOLIZE = REPO / "tools" / "symbolize"


@functools.cache
def table() -> list[Function]:
    return functions(KERNEL_ELF)


def function(name: str) -> Function:
    (found,) = [f for f in table() if f.name == name]
    return found


def address_of(name: str) -> int:
    return function(name).address


def addr2line(address: int) -> str:
    """addr2line's `file:line`, relative to the repository, for the oracle."""
    answer = subprocess.run(
        [f"{CROSS_PREFIX}addr2line", "-e", str(KERNEL_ELF), f"{address:#x}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # `file:line (discriminator N)` for code of a loop's several blocks.
    place = answer.split(" (discriminator")[0]
    assert not place.startswith("??"), f"addr2line knows no line at {address:#x}"
    return place.removeprefix(f"{REPO}/")


def run(log: str, *arguments: str) -> str:
    """Standard output, as bytes decoded: text mode would turn the console's \\r into \\n."""
    return subprocess.run(
        [sys.executable, str(SYMBOLIZE), "--elf", str(KERNEL_ELF), *arguments],
        input=log.encode(),
        capture_output=True,
        check=True,
    ).stdout.decode()


def test_names_unnamed_backtrace_frames_and_register_values_with_their_lines() -> None:
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
        f"  ra   {main + 0x40:016x} init_boot_hart+0x40 ({addr2line(main + 0x3F)})"
        "  sp   ffffffe000010fa0  gp   0000000000000000"
    )
    assert lines[3] == f"  #0 {fault + 8:#018x} fault_inject_here+0x8 ({addr2line(fault + 8)})"
    # A return address: the line of the call, the byte before it.
    assert lines[4] == (f"  #1 {main + 0x40:#018x} init_boot_hart+0x40 ({addr2line(main + 0x3F)})")
    # Named by the kernel alike: the line is added after its name.
    assert lines[5] == (f"  #2 {main + 0x44:#018x} init_boot_hart+0x44 ({addr2line(main + 0x43)})")


@pytest.mark.parametrize("name", ["kernel_main", "kernel_panic", "symbol_name", "trap_handle"])
def test_a_functions_address_gives_its_file_and_a_line_inside_it(name: str) -> None:
    """addr2line is the oracle; the line is one of the function's own lines."""
    found = function(name)
    address = found.address + 4
    (line,) = run(f"  #0 {address:#018x}\n").splitlines()
    place = line.rsplit(" (", 1)[1].removesuffix(")")
    assert place == addr2line(address)
    path, number = place.rsplit(":", 1)
    assert (REPO / path).is_file(), "a path relative to the repository"
    # Every line of the function's code lies between its first and its last.
    ends = addr2line(found.address), addr2line(found.address + found.size - 2)
    numbers = sorted(int(end.rsplit(":", 1)[1]) for end in ends)
    assert ends[0].rsplit(":", 1)[0] == path
    assert numbers[0] <= int(number) <= numbers[1]


def test_the_line_table_agrees_with_addr2line_across_the_kernel() -> None:
    """Every 16th function, at its start and its middle, in one addr2line call."""
    lines = line_table(KERNEL_ELF)
    addresses = [
        address
        for found in table()[::16]
        for address in (found.address, found.address + found.size // 2)
        if lines.lookup(address) is not None
    ]
    answers = subprocess.run(
        [f"{CROSS_PREFIX}addr2line", "-e", str(KERNEL_ELF), *(f"{a:#x}" for a in addresses)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    expected = [answer.split(" (discriminator")[0].removeprefix(f"{REPO}/") for answer in answers]
    assert [str(lines.lookup(address)) for address in addresses] == expected
    assert len(addresses) > 20


def test_a_name_from_another_build_gets_no_line() -> None:
    """The kernel named the address otherwise than this ELF: its line would be wrong."""
    main = address_of("kernel_main")
    log = f"  #0 {main + 4:#018x} some_other_function+0x4\n  a0 {main + 4:016x} elsewhere+0x4\n"
    assert run(log) == log


def test_symbolizing_twice_changes_nothing_more() -> None:
    main = address_of("kernel_main")
    once = run(f"  #0 {main + 4:#018x}\n  ra {main + 4:016x}  sp 0000000000000000\n")
    assert run(once) == once


def test_names_a_qemu_info_registers_dump() -> None:
    """QEMU indents its registers by one space; ra is a return address there too."""
    pc = address_of("kernel_main") + 2
    main = function("kernel_main")
    end = main.address + main.size
    log = f" pc       {pc:016x}\n x0/zero  0000000000000000 x1/ra    {end:016x}\n"
    assert run(log).splitlines() == [
        f" pc       {pc:016x} kernel_main+0x2 ({addr2line(pc)})",
        f" x0/zero  0000000000000000 x1/ra    {end:016x} kernel_main+{main.size:#x}"
        f" ({addr2line(end - 1)})",
    ]


def test_a_return_address_just_past_a_function_names_the_caller() -> None:
    """Past frame 0 the address after a call is named by the byte before it."""
    main = function("kernel_main")
    end = main.address + main.size
    lines = run(f"  #1 {end:#018x}\n").splitlines()
    assert lines == [f"  #1 {end:#018x} kernel_main+{main.size:#x} ({addr2line(end - 1)})"]


def test_reads_a_file_and_leaves_line_endings(tmp_path: Path) -> None:
    main = address_of("kernel_main")
    log = tmp_path / "console.log"
    log.write_bytes(f"  #0 {main:#018x}\r\r\n".encode())
    assert run("", str(log)) == f"  #0 {main:#018x} kernel_main+0x0 ({addr2line(main)})\r\r\n"


def failure(*arguments: str) -> str:
    """The standard error of a run that must fail with status 2 and one line."""
    result = subprocess.run(
        [sys.executable, str(SYMBOLIZE), *arguments],
        input="",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, f"not one line: {result.stderr!r}"
    assert result.stderr.startswith("symbolize: ")
    return result.stderr


def test_a_missing_elf_is_one_line_naming_it_and_the_build(tmp_path: Path) -> None:
    missing = tmp_path / "none.elf"
    error = failure("--elf", str(missing))
    assert f"{missing}: no such file" in error
    assert "scons" in error and "--elf" in error


def test_a_file_that_is_no_elf_is_one_line(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an ELF\n")
    truncated = tmp_path / "truncated.elf"
    truncated.write_bytes(KERNEL_ELF.read_bytes()[:4096])
    for path in (text, truncated):
        assert f"{path}: not an ELF file" in failure("--elf", str(path))


def test_a_missing_log_is_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "console.log"
    error = failure("--elf", str(KERNEL_ELF), str(missing))
    assert f"{missing}: no such log file" in error


def test_a_line_table_finds_an_address_by_its_range_and_nothing_between() -> None:
    lines = LineTable(
        (0x1000, 0x1010),
        (0x1008, 0x1020),
        (SourceLine("kernel/a.c", 3), SourceLine("/usr/include/b.h", 7)),
    )
    assert str(lines.lookup(0x1000)) == "kernel/a.c:3"
    assert str(lines.lookup(0x1007)) == "kernel/a.c:3"
    assert lines.lookup(0x1008) is None
    assert lines.lookup(0x0FFF) is None
    assert str(lines.lookup(0x101F)) == "/usr/include/b.h:7"
    assert lines.lookup(0x1020) is None


HEADER = "static inline int twice(int x)\n{\n    return x * 2;\n}\n"
SOURCE = """#include "twice.h"

int g(int x)
{
    int y = twice(x);
    return y + 1;
}

void _start(void)
{
    volatile int r = g(3);
    (void)r;
    for (;;) {
    }
}
"""


@pytest.mark.parametrize("version", [4, 5])
def test_line_tables_of_both_dwarf_versions_read_as_addr2line_does(
    tmp_path: Path, version: int
) -> None:
    """DWARF 4 counts files from 1 and directories from comp_dir as 0; DWARF 5
    counts both from 0. A header's inlined code is the header's line."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "twice.h").write_text(HEADER)
    (tmp_path / "src" / "prog.c").write_text(SOURCE)
    elf = tmp_path / "prog.elf"
    compile_command = [f"{CROSS_PREFIX}gcc", "-O1", "-g", f"-gdwarf-{version}", "-nostdlib"]
    subprocess.run([*compile_command, "-o", elf, "src/prog.c"], cwd=tmp_path, check=True)
    lines = line_table(elf)
    answers = subprocess.run(
        [f"{CROSS_PREFIX}addr2line", "-e", str(elf), *(f"{a:#x}" for a in lines.starts)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    expected = [answer.split(" (discriminator")[0] for answer in answers]
    # The compiler's directory as getcwd() gave it: no symbolic link in it.
    comp_dir = tmp_path.resolve()
    assert [f"{comp_dir}/{lines.lookup(start)}" for start in lines.starts] == expected
    assert {place.path for place in lines.places} == {"src/prog.c", "src/twice.h"}
