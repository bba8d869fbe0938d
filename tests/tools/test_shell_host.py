"""PID 1's shell (user/shell.c) run on the host, over a stand-in kernel.

The shell's line editing and output formats do not need RISC-V: its sources
(but user/fault.c and user/syscall.c, which are RISC-V code) are compiled for
the host with lib/fmt.c and tests/tools/shell_host/fake_kernel.c, which
answers the system calls with fixed values and keeps the console on stdin
and stdout. What the QEMU tests parse is pinned here, where a format change
shows without a kernel that runs user programs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FAKE_KERNEL = Path(__file__).with_name("shell_host") / "fake_kernel.c"
HOST_SOURCES = ("user/line.c", "user/print.c", "lib/fmt.c")
PROMPT = "aubade> "
# The fake console runs dry after the typed bytes: the shell says so and ends.
DRY = f"{PROMPT}shell: read: error -22\n"
FLAGS = ("-std=gnu11", "-Wall", "-Wextra", "-Werror", f"-I{REPO / 'user'}")


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.fail("no host C compiler (cc or gcc) on PATH", pytrace=False)
    out = tmp_path_factory.mktemp("shell")
    include = f"-I{REPO / 'lib' / 'include'}"
    # The shell's main is renamed: the fake kernel's main hands it argv[1].
    subprocess.run(
        [compiler, *FLAGS, include, "-Dmain=shell_main", "-c", str(REPO / "user/shell.c")],
        cwd=out,
        check=True,
    )
    sources = [str(REPO / name) for name in HOST_SOURCES] + [str(FAKE_KERNEL)]
    subprocess.run(
        [compiler, *FLAGS, include, "-o", "shell", "shell.o", *sources], cwd=out, check=True
    )
    return out / "shell"


def run(shell: Path, typed: bytes, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(shell), *arguments], input=typed, capture_output=True, timeout=10, check=False
    )


def session(shell: Path, typed: bytes) -> tuple[str, int]:
    """What the console showed, and the exit status."""
    result = run(shell, typed)
    return result.stdout.decode(), result.returncode


def answers(shell: Path, command: str) -> list[str]:
    """The lines a command prints, typed alone with Enter as CR."""
    output, _ = session(shell, command.encode() + b"\r")
    assert output.startswith(f"shell: pid=1\n{PROMPT}{command}\r\n"), output
    body = output.removeprefix(f"shell: pid=1\n{PROMPT}{command}\r\n")
    assert body.endswith(DRY), output
    return body.removesuffix(DRY).splitlines()


def test_starts_with_its_pid_and_a_prompt(shell: Path) -> None:
    assert session(shell, b"") == (f"shell: pid=1\n{DRY}", 1)


def test_help_lists_every_command(shell: Path) -> None:
    lines = answers(shell, "help")
    names = [line.split()[0] for line in lines]
    assert names == [
        "help",
        "harts",
        "tasks",
        "mem",
        "initlist",
        "uptime",
        "cmdline",
        "echo",
        "sleep",
        "pid",
        "fault",
        "poweroff",
        "exit",
    ]
    assert all(line.startswith("  ") and len(line.split(maxsplit=1)) == 2 for line in lines)


@pytest.mark.parametrize(
    ("command", "lines"),
    [
        pytest.param(
            "harts",
            [
                "harts count=2 ids=0,3",
                "hart 0: ticks=200 switches=7 idle=75% runnable=1 running=init boot",
                "hart 3: ticks=0 switches=0 idle=0% runnable=0 running=0123456789abcdef",
            ],
            id="harts",
        ),
        pytest.param(
            "tasks",
            [
                "  ID  PID HART STATE     SWITCHES NAME",
                "   0    0    0 running          3 idle0",
                "   2    1    3 blocked     123456 init",
                "tasks count=2",
            ],
            id="tasks",
        ),
        pytest.param(
            "mem",
            [
                "mem total=0x8000000 free=0x7000000 allocated=0x100000 kernel=0x20000",
                "    total 131072 KiB, free 114688 KiB, allocated 1024 KiB, kernel 128 KiB",
            ],
            id="mem",
        ),
        pytest.param(
            "initlist",
            [
                "  1  bootinfo         boot_info_accept                 12 us",
                "  2  frames           frames_init                  123456 us",
                "initlist count=2",
            ],
            id="initlist",
        ),
        pytest.param("uptime", ["uptime 12.345678 s"], id="uptime"),
        pytest.param("cmdline", ["poweroff loglevel=debug"], id="cmdline"),
        pytest.param("pid", ["pid 1"], id="pid"),
        pytest.param("echo  one  two   three ", ["one  two   three"], id="echo"),
        pytest.param("sleep 25", ["[sleep 25000 us]", "slept 25 ms"], id="sleep"),
        pytest.param("sleep soon", ["usage: sleep MS"], id="sleep-usage"),
        # Past 64 bits of microseconds, or of milliseconds: the longest sleep
        # there is (the kernel's forever), never a refusal or a wrapped one.
        pytest.param(
            "sleep 18446744073709552",
            ["[sleep 18446744073709551615 us]", "slept 18446744073709552 ms"],
            id="sleep-saturates-us",
        ),
        pytest.param(
            "sleep 18446744073709551615",
            ["[sleep 18446744073709551615 us]", "slept 18446744073709551615 ms"],
            id="sleep-longest-ms",
        ),
        pytest.param(
            "sleep 99999999999999999999",
            ["[sleep 18446744073709551615 us]", "slept 18446744073709551615 ms"],
            id="sleep-saturates-ms",
        ),
        pytest.param(
            "fault null",
            ["[spawn fault null]", "spawned pid=7", "pid 7: killed cause=13"],
            id="fault",
        ),
        pytest.param("fault lightly", ["usage: fault null"], id="fault-usage"),
        pytest.param("frobnicate now", ["unknown command: frobnicate (try help)"], id="unknown"),
    ],
)
def test_command_output(shell: Path, command: str, lines: list[str]) -> None:
    assert answers(shell, command) == lines


def test_an_empty_line_prompts_again(shell: Path) -> None:
    output, _ = session(shell, b"\r   \r")
    assert output == f"shell: pid=1\n{PROMPT}\r\n{PROMPT}   \r\n{DRY}"


def test_fast_typing_loses_nothing(shell: Path) -> None:
    """Lines arrive together, ended by CR, LF or CR LF: each runs once, in order."""
    output, status = session(shell, b"echo one\recho two\necho three\r\npid\rexit 4\r")
    assert output.splitlines()[1:] == [
        f"{PROMPT}echo one",
        "one",
        f"{PROMPT}echo two",
        "two",
        f"{PROMPT}echo three",
        "three",
        f"{PROMPT}pid",
        "pid 1",
        f"{PROMPT}exit 4",
    ]
    assert status == 4


def test_backspace_and_delete_erase(shell: Path) -> None:
    output, _ = session(shell, b"pix\x7fd\rab\x08\x08\x08pid\r")
    assert f"{PROMPT}pix\b \bd\r\npid 1\n" in output
    # Backspace at the start of a line erases nothing, and echoes nothing.
    assert f"{PROMPT}ab" + "\b \b" * 2 + "pid\r\npid 1\n" in output


def test_other_control_characters_are_ignored(shell: Path) -> None:
    output, _ = session(shell, b"p\x01i\x1bd\t\r")
    assert f"{PROMPT}pid\r\npid 1\n" in output


def test_a_line_keeps_its_first_256_bytes(shell: Path) -> None:
    words = "x" * 300
    output, _ = session(shell, f"echo {words}\r".encode())
    kept = ("echo " + words)[:256]
    assert f"{PROMPT}{kept}\r\n{kept[5:]}\n" in output


def test_poweroff_and_exit(shell: Path) -> None:
    assert session(shell, b"poweroff\r") == (f"shell: pid=1\n{PROMPT}poweroff\r\n[poweroff]\n", 0)
    assert session(shell, b"exit\r")[1] == 0
    for code in (b"300", b"18446744073709551620"):  # 2^64 + 4 must not wrap to 4
        output, status = session(shell, b"exit " + code + b"\r")
        assert "usage: exit [CODE], CODE from 0 to 255" in output
        assert status == 1  # went on, then the console ran dry


def test_a_child_runs_the_command_it_was_given(shell: Path) -> None:
    result = run(shell, b"", "fault null")
    assert (result.stdout.decode(), result.returncode) == ("[fault null]\n", 0)
    result = run(shell, b"", "dance")
    assert result.stdout.decode() == "pid 1: unknown child command: dance\n"
    assert result.returncode == 127
