"""tools/bench as a person runs it: its subcommands and their help, the
command-line errors it reports before booting anything, and a boot on a
stand-in QEMU (a script that prints a boot log) to show that the benchmarks
read the console through the harness's machine: its times, its panic report,
and no QEMU left behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from configurations import REPO

from aubade.bench import cli
from aubade.bootlog import KNOWN_EVENTS

BENCH = REPO / "tools" / "bench"
NAMES = ("boot", "initcalls", "sched", "shell", "u-boot", "floor", "labgrid", "rebuild")
# Reading the command line takes well under this, even on a loaded machine
# (a boot that ran into its timeout would take 120 s; whether anything was
# booted at all, the stand-in QEMU's pid file tells).
PARSE_SECONDS = 10.0

# Prints the boot log of the mode in $STAND_IN_MODE after writing its pid to
# $STAND_IN_PIDS: `boot` powers off with status 0, `panic` panics and then
# runs on, silent, as a hung QEMU would, and `shell` answers `uptime` and
# `poweroff` at its prompt. Its terminal is raw, as QEMU makes it.
STAND_IN_QEMU = """\
import os, sys, time, tty
tty.setraw(0)
with open(os.environ["STAND_IN_PIDS"], "a") as pids:
    pids.write(f"{os.getpid()}\\n")
mode = os.environ["STAND_IN_MODE"]
print("OpenSBI v1.3", flush=True)
print("[    0.001000] loader: start hart=0 dtb=0x87e00000", flush=True)
if mode == "shell":
    for typed, answer in (("uptime", "uptime 0.500000 s\\n"), ("poweroff", "")):
        print("aubade> ", end="", flush=True)
        line = b""
        while not line.endswith(b"\\r"):
            line += os.read(0, 1)
        assert line == typed.encode() + b"\\r", line
        print(typed + "\\n" + answer, end="", flush=True)
    sys.exit(0)
if mode == "panic":
    print("[    0.002000] kernel: panic reason=stand-in", flush=True)
    print("epc: 0x80200042", flush=True)
    time.sleep(600)
time.sleep(0.2)
print("[    0.003500] kernel: late hart=0 timer=sstc cpu=0", flush=True)
print("[    0.004000] kernel: poweroff status=ok cpu=0", flush=True)
"""


def bench(
    *arguments: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_the_command_is_executable_and_finds_its_package() -> None:
    assert os.access(BENCH, os.X_OK)
    # Run by its own #! line, as a person would, from another directory.
    result = subprocess.run(
        [str(BENCH), "--help"], capture_output=True, text=True, cwd="/", check=False
    )
    assert result.returncode == 0, result.stderr
    assert "usage: bench" in result.stdout


def test_help_lists_every_subcommand_with_what_it_measures() -> None:
    result = bench("--help")
    assert result.returncode == 0, result.stderr
    # argparse wraps the summaries to the terminal's width.
    words = " ".join(result.stdout.split())
    for module in cli.SUBCOMMANDS:
        assert f"{module.NAME} {module.SUMMARY}" in words
    assert [module.NAME for module in cli.SUBCOMMANDS] == list(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_subcommand_has_help_saying_what_it_measures(name: str) -> None:
    result = bench(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: bench {name} ")
    (module,) = [module for module in cli.SUBCOMMANDS if module.NAME == name]
    # The whole description, examples included, under the subcommand's own name.
    assert module.__doc__ is not None
    first_line = module.__doc__.splitlines()[0]
    assert first_line in result.stdout
    assert f"tools/bench {name}" in result.stdout
    assert "--runs" in result.stdout and "--board" in result.stdout


def test_an_unknown_subcommand_lists_the_subcommands() -> None:
    result = bench("nosuch")
    assert result.returncode == 2
    assert "invalid choice: 'nosuch'" in result.stderr
    for name in NAMES:
        assert repr(name) in result.stderr


def test_no_subcommand_is_an_error_naming_the_command() -> None:
    result = bench()
    assert result.returncode == 2
    assert "COMMAND" in result.stderr


def worktrees() -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), "worktree", "list"], capture_output=True, text=True, check=True
    ).stdout


def test_rebuild_refuses_a_revision_git_does_not_know_before_building() -> None:
    before = worktrees()
    result = bench("rebuild", "HEAD", "no-such-revision", timeout=PARSE_SECONDS)
    assert result.returncode == 2, result.stderr
    assert "no-such-revision: not a revision" in result.stderr
    assert worktrees() == before


def test_rebuild_counts_what_each_edit_recompiles_and_leaves_no_worktree() -> None:
    before = worktrees()
    result = bench("rebuild", "--runs", "1", timeout=600)
    assert result.returncode == 0, result.stderr
    # Each row: the step's name, then `median (spread), N cc`.
    compiles = {
        line.split()[0]: int(re.findall(r"(\d+) cc", line)[0])
        for line in result.stdout.splitlines()[1:]
    }
    # Nothing changed: nothing compiles. One function more: its file (and
    # the symbol table the kernel embeds). One declaration more in the heap's
    # header: every file that includes it, which is more than one.
    assert compiles["no-op"] == 0, result.stdout
    assert 1 <= compiles[".c"] < compiles["header"], result.stdout
    assert worktrees() == before


@pytest.fixture
def stand_in_qemu(tmp_path: Path) -> dict[str, str]:
    """The environment of a tools/bench whose QEMU is the stand-in (mode `boot`)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    qemu = bin_dir / "qemu-system-riscv64"
    qemu.write_text(f"#!{sys.executable}\n{STAND_IN_QEMU}")
    qemu.chmod(0o755)
    (tmp_path / "Image").write_bytes(bytes(4096))
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STAND_IN_PIDS": str(tmp_path / "pids"),
        "STAND_IN_MODE": "boot",
    }


def started_pids(env: dict[str, str]) -> list[int]:
    pids = Path(env["STAND_IN_PIDS"])
    return [int(pid) for pid in pids.read_text().split()] if pids.exists() else []


def boot_arguments(tmp_path: Path) -> list[str]:
    return ["--image", str(tmp_path / "Image"), "--logs", str(tmp_path / "logs")]


def test_an_unknown_until_event_fails_at_once_and_boots_nothing(
    stand_in_qemu: dict[str, str], tmp_path: Path
) -> None:
    began = time.monotonic()
    result = bench("boot", "--until", "nosuch", *boot_arguments(tmp_path), env=stand_in_qemu)
    assert time.monotonic() - began < PARSE_SECONDS
    assert result.returncode == 2
    assert "'nosuch' is not an event of the boot log" in result.stderr
    for event in ("kernel:frames", "kernel:late", "loader:start", "init:call"):
        assert event in result.stderr
    assert started_pids(stand_in_qemu) == []
    assert not (tmp_path / "logs").exists()


def test_an_until_event_with_an_unknown_name_of_a_known_component_fails(
    stand_in_qemu: dict[str, str], tmp_path: Path
) -> None:
    result = bench("boot", "--until", "kernel:nosuch", *boot_arguments(tmp_path), env=stand_in_qemu)
    assert result.returncode == 2
    assert "'kernel:nosuch' is not an event of the boot log" in result.stderr
    assert started_pids(stand_in_qemu) == []


def test_every_known_event_is_a_valid_until() -> None:
    parser = cli.parser()
    for kind in KNOWN_EVENTS:
        component, name = kind.split(": ")
        args = parser.parse_args(["boot", "--until", f"{component}:{name}"])
        assert args.until == (component, name)


def test_the_boot_benchmark_times_the_stand_ins_log(
    stand_in_qemu: dict[str, str], tmp_path: Path
) -> None:
    result = bench(
        "boot",
        *boot_arguments(tmp_path),
        *("--runs", "2", "--smp", "1", "--memory", "128M", "--until", "kernel:late"),
        env=stand_in_qemu,
    )
    assert result.returncode == 0, result.stderr
    # 3.5 ms - 1.0 ms on the stand-in's clock, every boot.
    assert "  1  2.500 (2.500-2.500)" in result.stdout.splitlines()
    assert len(started_pids(stand_in_qemu)) == 2
    assert sorted(path.name for path in (tmp_path / "logs").iterdir()) == [
        "smp1-128M-run1.log",
        "smp1-128M-run2.log",
    ]


def test_the_shell_benchmark_types_at_the_prompt_and_times_the_answer(
    stand_in_qemu: dict[str, str], tmp_path: Path
) -> None:
    result = bench(
        "shell",
        *boot_arguments(tmp_path),
        *("--runs", "1", "--smp", "2"),
        env={**stand_in_qemu, "STAND_IN_MODE": "shell"},
    )
    assert result.returncode == 0, result.stderr
    tables = result.stdout.split("\n\n")
    # The guest clock: the `uptime` answer (0.5 s) less `loader: start` (1 ms).
    assert "  2  499.000 (499.000-499.000)" in tables[1].splitlines()
    # The host clock: the stand-in starts in well under a minute.
    (row,) = [line for line in tables[2].splitlines() if line.startswith("  2  ")]
    assert 0 < float(row.split()[1]) < 60_000


def test_a_panic_fails_the_benchmark_at_once_and_leaves_no_qemu(
    stand_in_qemu: dict[str, str], tmp_path: Path
) -> None:
    began = time.monotonic()
    result = bench(
        "boot",
        *boot_arguments(tmp_path),
        *("--runs", "1", "--smp", "1", "--memory", "128M"),
        env={**stand_in_qemu, "STAND_IN_MODE": "panic"},
    )
    # Not after the boot's timeout (120 s): the machine's panic report waits
    # a few seconds for the registers only.
    assert time.monotonic() - began < 30
    assert result.returncode == 1
    assert "bench boot: boot failed: " in result.stderr
    assert "panicked while awaiting the machine to power off" in result.stderr
    assert "kernel: panic reason=stand-in" in result.stderr and "epc: 0x80200042" in result.stderr
    assert str(tmp_path / "logs" / "smp1-128M-run1.log") in result.stderr
    (pid,) = started_pids(stand_in_qemu)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_an_image_not_built_is_a_usage_error(stand_in_qemu: dict[str, str], tmp_path: Path) -> None:
    result = bench("boot", "--image", str(tmp_path / "nosuch"), env=stand_in_qemu)
    assert result.returncode == 2
    assert f"no {tmp_path / 'nosuch'}" in result.stderr
    assert started_pids(stand_in_qemu) == []


@pytest.mark.parametrize(
    ("board", "message"),
    [
        ("sifive_u", "QEMU does not exit at power-off on sifive_u"),
        ("nosuch", "unknown board 'nosuch'"),
        ("unmatched", "unmatched"),
    ],
)
def test_a_board_qemu_cannot_benchmark_is_refused(board: str, message: str) -> None:
    result = bench("boot", "--board", board)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
