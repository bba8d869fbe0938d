"""The command-line options of the boot tests (tests/conftest.py), from a
pytest of their own that only collects: which tests `--board` keeps, and the
usage errors of options that do not fit the target.

Each run is `--collect-only` on two modules, so no machine boots; the runs
that get past the options build the boards first, as every session does,
which takes a few seconds once they are built.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from configurations import BOOT_CONFIGS, REPO, SIFIVE_U

PYTEST = (sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0")
MODULES = ("tests/test_boot.py", "tests/test_panics.py")
# A test of every boot configuration, and one parametrized by (board, smp).
PER_CONFIGURATION = "tests/test_boot.py::test_poweroff_status_is_ok"
PER_BOARD = "tests/test_panics.py::test_kernel_trap_reports_cause_address_registers_and_backtrace"
# A test that boots one fixed virt machine in its body: not parametrized by board.
FIXED_MACHINE = "tests/test_panics.py::test_corrupted_payload_panics_and_powers_off_failed"
USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR


def pytest_run(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PYTEST, "--collect-only", "-q", *MODULES, *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def collected(*options: str) -> list[str]:
    result = pytest_run(*options)
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def ids_of(test: str, ids: list[str]) -> set[str]:
    return {
        found.removeprefix(f"{test}[").removesuffix("]")
        for found in ids
        if found.startswith(f"{test}[")
    }


def usage_error(*options: str) -> str:
    """The error of a run that options refuse: one `ERROR:` line, status 4."""
    result = pytest_run(*options)
    assert result.returncode == USAGE_ERROR, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    return line


def test_without_board_every_boards_configurations_are_collected() -> None:
    ids = collected()
    assert ids_of(PER_CONFIGURATION, ids) == {config.id for config in BOOT_CONFIGS}
    assert {found.split("-")[0] for found in ids_of(PER_BOARD, ids)} == {"virt", "sifive_u"}


def test_board_keeps_only_that_boards_configurations_with_qemu() -> None:
    result = pytest_run("--board", "sifive_u")
    assert result.returncode == 0, result.stdout + result.stderr
    ids = [line for line in result.stdout.splitlines() if "::" in line]
    expected = {config.id for config in BOOT_CONFIGS if config.board.name == SIFIVE_U.name}
    assert expected, "tests/configurations.py has sifive_u configurations"
    assert ids_of(PER_CONFIGURATION, ids) == expected
    assert ids_of(PER_BOARD, ids) == {"sifive_u-smp2"}
    assert ids_of(FIXED_MACHINE, ids), "a test of a fixed machine still runs"
    assert "deselected" in result.stdout


def test_lg_env_keeps_only_the_tests_for_any_target_on_labgrids_target() -> None:
    ids = collected("--lg-env=boards/labgrid/qemu-virt.yaml")
    assert ids_of(PER_CONFIGURATION, ids) == {"virt-labgrid"}
    assert not ids_of(PER_BOARD, ids), "only the tests marked any_target run on labgrid's target"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--target", "serial:loop://,115200"), "--lg-env and --target serial:loop://,115200 name"),
        (("--power-hook", "true"), "--power-hook has no use with --lg-env: the environment's"),
        (("--sd-image", "x"), "--sd-image has no use with --lg-env: the strategy writes"),
    ],
)
def test_an_option_that_labgrid_answers_is_refused_with_lg_env(
    options: tuple[str, ...], message: str
) -> None:
    error = usage_error("--lg-env=boards/labgrid/qemu-virt.yaml", *options)
    assert error.startswith(f"ERROR: {message}"), error


def test_an_environment_without_the_strategy_is_refused_before_any_test(tmp_path: Path) -> None:
    env = tmp_path / "plain-qemu.yaml"
    env.write_text(
        "targets:\n  main:\n    drivers:\n      QEMUDriver:\n        qemu_bin: qemu\n"
        "        machine: virt\n        cpu: rv64\n        memory: 256M\n"
        "tools:\n  qemu: /usr/bin/qemu-system-riscv64\n"
    )
    result = pytest_run(f"--lg-env={env}")
    output = result.stdout + result.stderr
    assert result.returncode == USAGE_ERROR, output
    assert f"labgrid environment {env}: target 'main' has no strategy: add AubadeStrategy" in output


def test_board_names_the_board_on_a_serial_port() -> None:
    ids = collected(
        *("--target", "serial:loop://,115200", "--power-hook", "true", "--board", "sifive_u")
    )
    assert ids_of(PER_CONFIGURATION, ids) == {"sifive_u-serial"}
    assert not ids_of(PER_BOARD, ids), "only the tests marked any_target run on a board"


@pytest.mark.parametrize("option", ["--power-hook", "--dtb", "--sd-image"])
def test_an_option_of_a_serial_target_is_refused_with_qemu(option: str) -> None:
    error = usage_error(option, "x")
    assert error.startswith(f"ERROR: {option} describes a board on a serial port")
    assert "--target serial:DEVICE,BAUD" in error
    assert ("--lg-env" in error) == (option == "--dtb"), error


@pytest.mark.parametrize(
    "spec", ["usb:/dev/ttyUSB0,115200", "serial:/dev/ttyUSB0", "QEMU", "serial:/dev/ttyUSB0,"]
)
def test_a_bad_target_lists_every_accepted_form(spec: str) -> None:
    error = usage_error("--target", spec, "--power-hook", "true")
    assert error.startswith(f"ERROR: --target {spec}: expected qemu ")
    assert "or serial:DEVICE,BAUD" in error


def test_an_unknown_board_lists_the_known_ones() -> None:
    error = usage_error("--board", "nosuch")
    assert error.startswith("ERROR: --board nosuch: unknown board 'nosuch'; known boards: ")
    assert "sifive_u" in error and "virt" in error


def test_a_board_that_no_qemu_configuration_boots_is_refused_with_qemu() -> None:
    error = usage_error("--board", "visionfive2")
    assert "no QEMU configuration boots it" in error
    assert "--target serial:DEVICE,BAUD" in error
