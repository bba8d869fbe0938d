"""Boot fixtures: each QEMU configuration boots once, and many tests read that boot.

The configurations are parameters of session-scoped fixtures, so the tests of
every module read the same boot. Every test of one configuration is put in
one xdist group, so `--dist loadgroup` boots each configuration once, on one
worker, while other workers boot the others.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest
from configurations import (
    BOARDS,
    BOOT_CONFIGS,
    KTEST_CONFIGS,
    REPO,
    TEST_LOG_DIR,
    U_BOOT_CONFIGS,
    BootConfig,
    built,
)
from harness.boot import KTEST_BOOT, Boot, run_boot
from harness.qemu_target import QemuTarget

from aubade import sdimage
from aubade.devicetree import DeviceTree, read_device_tree
from aubade.elfcheck import CheckedElf, check_kernel_elf, check_user_elf
from aubade.qemu import dump_device_tree, format_command


# Before xdist starts its workers: they all test this one build.
@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Build every board first, so that the tests always check what the sources build to now."""
    if hasattr(session.config, "workerinput"):
        return
    scons = Path(sys.executable).with_name("scons")
    for board in BOARDS:
        command = [str(scons), "-Q", f"board={board.name}"]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            pytest.exit(
                f"the build of board {board.name} failed, so nothing was tested:\n"
                f"{result.stdout}{result.stderr}",
                2,
            )


def pytest_report_header() -> list[str]:
    silent_boards = [board.name for board in BOARDS if not board.qemu.exits_on_poweroff]
    return [
        "boot configurations (console logs in build/test-logs/<id>.log):",
        *(
            f"  {config.id}: {format_command(config.qemu().command())}"
            for config in BOOT_CONFIGS + KTEST_CONFIGS
        ),
        *(
            f"{name}: QEMU does not exit at power-off: the harness ends it, and the tests "
            "of its exit status check the power-off line instead"
            for name in silent_boards
        ),
    ]


# Before xdist's own hook, which reads the groups to schedule the tests.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        for name in ("boot_config", "ktest_config", "u_boot_config"):
            if callspec is not None and name in callspec.params:
                item.add_marker(pytest.mark.xdist_group(callspec.params[name].id))


@pytest.fixture(scope="session", params=BOOT_CONFIGS, ids=lambda config: config.id)
def boot_config(request: pytest.FixtureRequest) -> BootConfig:
    return request.param


def _require_build_output(path: Path) -> None:
    if not path.is_file():
        pytest.fail(f"{path} does not exist: build it with `scons`", pytrace=False)


@functools.cache
def _boot_media_written(config: BootConfig) -> BootConfig:
    """The configuration, once what firmware reads beyond the build is written (once per worker)."""
    _require_build_output(config.qemu().image)
    config.write_boot_media()
    return config


@functools.cache
def _poweroff_boot(config: BootConfig) -> Boot:
    """The configuration's one boot with `poweroff`, shared by every fixture that asks."""
    _boot_media_written(config)
    return run_boot(config.id, QemuTarget(config.qemu()), TEST_LOG_DIR / f"{config.id}.log")


@pytest.fixture(scope="session")
def boot(boot_config: BootConfig) -> Boot:
    """The configuration's one boot, with `poweroff` on its command line, run to its end."""
    return _poweroff_boot(boot_config)


@pytest.fixture(scope="session", params=U_BOOT_CONFIGS, ids=lambda config: config.id)
def u_boot_config(request: pytest.FixtureRequest) -> BootConfig:
    return request.param


@pytest.fixture(scope="session")
def u_boot_boot(u_boot_config: BootConfig) -> Boot:
    """The boot of a configuration that boots through U-Boot (the same boot as `boot`'s)."""
    return _poweroff_boot(u_boot_config)


@pytest.fixture(scope="session")
def firmware_bootargs(boot_config: BootConfig, device_tree: DeviceTree) -> str:
    """The command line the firmware was given for the kernel: QEMU's -append,
    which it puts in the device tree, or the `append` line of the SD image's
    extlinux.conf, read back from the image."""
    if boot_config.sd_image is None:
        return device_tree.bootargs
    _boot_media_written(boot_config)
    return sdimage.extlinux_append(boot_config.sd_image)


@pytest.fixture(scope="session", params=KTEST_CONFIGS, ids=lambda config: config.id)
def ktest_config(request: pytest.FixtureRequest) -> BootConfig:
    return request.param


@pytest.fixture(scope="session")
def ktest_boot(ktest_config: BootConfig) -> Boot:
    """The configuration's one boot with `-append ktest`: the kernel's test report."""
    _require_build_output(ktest_config.qemu().image)
    return run_boot(
        ktest_config.id,
        QemuTarget(ktest_config.qemu()),
        TEST_LOG_DIR / f"{ktest_config.id}.log",
        KTEST_BOOT,
    )


@pytest.fixture(scope="session")
def device_tree(boot_config: BootConfig) -> DeviceTree:
    """The device tree QEMU hands this configuration's guest (kept beside its log)."""
    _boot_media_written(boot_config)
    dtb = dump_device_tree(boot_config.qemu(), TEST_LOG_DIR / f"{boot_config.id}.dtb")
    return read_device_tree(dtb)


@pytest.fixture(scope="session")
def kernel_elf(boot_config: BootConfig) -> CheckedElf:
    """The board's kernel.elf entry and program headers, read by the build's own validator."""
    path = built(boot_config.board, "kernel.elf")
    _require_build_output(path)
    return check_kernel_elf(path)


@pytest.fixture(scope="session")
def user_elf(boot_config: BootConfig) -> CheckedElf:
    """The board's user program (PID 1), as the build's validator reads it."""
    path = built(boot_config.board, "user/init.elf")
    _require_build_output(path)
    return check_user_elf(path)
