"""Boot fixtures: each configuration boots once, and many tests read that boot.

The configurations are parameters of session-scoped fixtures, so the tests of
every module read the same boot. Every test of one configuration is put in
one xdist group, so `--dist loadgroup` boots each configuration once, on one
worker, while other workers boot the others.

`--target` chooses where the boots run: QEMU's configurations
(tests/configurations.py, the default), or `serial:DEVICE,BAUD`, the board at
the end of that serial port, reset by `--power-hook`. labgrid's own option
`--lg-env ENV.yaml` chooses the target of that labgrid environment instead,
QEMU or a board on a farm, driven through its AubadeStrategy
(tools/aubade/labgrid_target.py). On a board only the tests marked `any_target`
run (the phase tests: test_boot.py, test_harts.py), and they do not know
which kind of target they read.

`--board NAME` says which board: the one on the serial port or labgrid's, or with QEMU
the only board whose configurations run. A test runs on one board if a
parameter of it is a configuration or a board (`boot_config`, `ktest_config`,
`(board, smp)`); the others' are deselected. A test that boots one machine of
its own, fixed in its body, is not parametrized by board and runs whatever
`--board` says. The options that describe a board on a serial port
(`--power-hook`, `--dtb`, `--sd-image`) are refused with QEMU, rather than
ignored; with labgrid, only `--dtb` has a use.
"""

from __future__ import annotations

import functools
import os
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
    AnyConfig,
    BootConfig,
    LabgridBootConfig,
    SerialBootConfig,
    built,
)
from harness.boot import KTEST_BOOT, Boot, run_boot
from harness.serial_target import SerialPort, SerialSpecError
from labgrid.pytestplugin.hooks import LABGRID_ENV_KEY

from aubade import boardcheck, sdimage
from aubade.boards import Board, UnknownBoardError, load_board
from aubade.devicetree import DeviceTree, read_device_tree
from aubade.elfcheck import CheckedElf, check_kernel_elf, check_user_elf
from aubade.labgrid_target import strategy_of
from aubade.qemu import format_command
from aubade.qemu_target import QemuTarget
from aubade.target import TargetError

# Every boot of the session, with its checks, on one page (build/test-report/).
pytest_plugins = ["harness.report"]

ANY_TARGET = "any_target"
SERIAL_BOARD_DEFAULT = "virt"
SERIAL_ONLY_OPTIONS = ("--power-hook", "--dtb", "--sd-image")
"""Options that describe a board on a serial port, meaningless for QEMU's machines."""
LABGRID_OPTIONS = ("--dtb",)
"""Options of a serial board that have a use with labgrid's target too."""
LABGRID_REFUSED_OPTIONS = {
    "--power-hook": "the environment's power driver switches the board",
    "--sd-image": "the strategy writes the environment's `image` to the card",
}
"""Options of a serial board that labgrid's environment answers itself."""
_BOARD_CONFIG = pytest.StashKey[SerialBootConfig | LabgridBootConfig | None]()
"""The one target of `--target serial:...` or `--lg-env`, or None for QEMU's configurations."""
_QEMU_BOARD = pytest.StashKey[Board | None]()
"""With QEMU, the one board whose configurations run (`--board`), or None for all."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aubade", "where the boot tests run")
    group.addoption(
        "--target",
        default="qemu",
        help="qemu (default): the QEMU machines of tests/configurations.py; "
        "serial:DEVICE,BAUD: the board at the end of that serial port "
        "(only the tests marked any_target run)",
    )
    group.addoption(
        "--power-hook",
        metavar="CMD",
        help="with a serial target: the command run as `CMD on` to reset the board and "
        "`CMD off` to switch it off (tools/power_hook_ask asks a person)",
    )
    group.addoption(
        "--board",
        help="the board in boards/: with a serial or labgrid target, the board it is, whose "
        "build it "
        f"boots (default: {SERIAL_BOARD_DEFAULT}); with QEMU, the only board whose "
        "configurations and board-parametrized tests run (default: every board)",
    )
    group.addoption(
        "--dtb",
        type=Path,
        help="with a serial or labgrid target: the device tree its firmware hands the kernel; "
        "without it, the tests that compare with it are skipped",
    )
    group.addoption(
        "--sd-image",
        type=Path,
        help="with a serial target: the SD image it boots (default: build/BOARD/sdcard.img); "
        "without one, the test of the command line it gives is skipped",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{ANY_TARGET}: runs on every target, a board on a serial port too"
    )
    config.stash[_BOARD_CONFIG] = _labgrid_config(config) or _serial_config(config)
    config.stash[_QEMU_BOARD] = _qemu_board(config) if config.stash[_BOARD_CONFIG] is None else None


def _labgrid_config(config: pytest.Config) -> LabgridBootConfig | None:
    """labgrid's target of `--lg-env` (or of LG_ENV, as labgrid reads it), or None."""
    if config.getoption("lg_env") is None and "LG_ENV" not in os.environ:
        return None
    spec = config.getoption("--target")
    if spec != "qemu":
        raise pytest.UsageError(f"--lg-env and --target {spec} name two targets: give one of them")
    for option, why in LABGRID_REFUSED_OPTIONS.items():
        if config.getoption(option) is not None:
            raise pytest.UsageError(f"{option} has no use with --lg-env: {why}")
    try:
        board = load_board(config.getoption("--board") or SERIAL_BOARD_DEFAULT)
    except UnknownBoardError as error:
        raise pytest.UsageError(str(error)) from error
    # labgrid's own pytest_configure, which runs after this one (trylast),
    # reads the file into its Environment: the harness drives that one.
    return LabgridBootConfig(board, lambda: config.stash[LABGRID_ENV_KEY], _dtb_option(config))


def _dtb_option(config: pytest.Config) -> Path | None:
    dtb = config.getoption("--dtb")
    if dtb is not None and not dtb.is_file():
        raise pytest.UsageError(f"--dtb {dtb}: no such file")
    return dtb


def _serial_config(config: pytest.Config) -> SerialBootConfig | None:
    """The board of `--target serial:...`, or None for QEMU's configurations."""
    spec = config.getoption("--target")
    if spec == "qemu":
        for option in SERIAL_ONLY_OPTIONS:
            if config.getoption(option) is not None:
                also = " (or labgrid's --lg-env ENV.yaml)" if option in LABGRID_OPTIONS else ""
                raise pytest.UsageError(
                    f"{option} describes a board on a serial port: it needs "
                    f"--target serial:DEVICE,BAUD{also}, and QEMU's machines (--target qemu, "
                    "the default) have no use for it"
                )
        return None
    try:
        port = SerialPort.parse(spec, config.getoption("--power-hook"))
        board = load_board(config.getoption("--board") or SERIAL_BOARD_DEFAULT)
    except (SerialSpecError, UnknownBoardError) as error:
        raise pytest.UsageError(str(error)) from error
    sd_image = config.getoption("--sd-image") or built(board, "sdcard.img")
    return SerialBootConfig(
        board, port, _dtb_option(config), sd_image if sd_image.is_file() else None
    )


def _qemu_board(config: pytest.Config) -> Board | None:
    """The board of `--board` with QEMU: one that some configuration boots."""
    name = config.getoption("--board")
    if name is None:
        return None
    try:
        board = load_board(name)
    except UnknownBoardError as error:
        raise pytest.UsageError(f"--board {name}: {error}") from error
    emulated = sorted({boot.board.name for boot in BOOT_CONFIGS + KTEST_CONFIGS})
    if board.name not in emulated:
        raise pytest.UsageError(
            f"--board {name}: no QEMU configuration boots it (tests/configurations.py boots "
            f"{', '.join(emulated)}); a board of its own is tested with "
            "--target serial:DEVICE,BAUD or --lg-env ENV.yaml"
        )
    return board


def _board_of(parameter: object) -> Board | None:
    """The board a test parameter is, or boots (a configuration's `.board`)."""
    if isinstance(parameter, Board):
        return parameter
    board = getattr(parameter, "board", None)
    return board if isinstance(board, Board) else None


def _on_another_board(item: pytest.Item, board: Board) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return False
    boards = {found.name for found in map(_board_of, callspec.params.values()) if found}
    return bool(boards - {board.name})


def _boot_configs(config: pytest.Config) -> tuple[AnyConfig, ...]:
    board = config.stash[_BOARD_CONFIG]
    return BOOT_CONFIGS if board is None else (board,)


# Before xdist starts its workers: they all test this one build.
@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Build every board first, so that the tests always check what the sources build to now."""
    if hasattr(session.config, "workerinput"):
        return
    board_config = session.config.stash[_BOARD_CONFIG]
    scons = Path(sys.executable).with_name("scons")
    # tools/boardcheck's program too: the tests ask it which harts a tree gives.
    boards = BOARDS if board_config is None else (board_config.board,)
    builds = [[f"board={board.name}"] for board in boards] + [["boardcheck"]]
    if isinstance(board_config, LabgridBootConfig):
        # The SD image an environment with U-Boot has its strategy write.
        builds.append([f"board={board_config.board.name}", "sdimage"])
    for arguments in builds:
        command = [str(scons), "-Q", *arguments]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            pytest.exit(
                f"the build `scons {' '.join(arguments)}` failed, so nothing was tested:\n"
                f"{result.stdout}{result.stderr}",
                2,
            )
    if isinstance(board_config, LabgridBootConfig):
        # A place that is not the user's, or an environment without the
        # strategy, is one message, not a failure in every test.
        try:
            strategy_of(board_config.environment())
        except TargetError as error:
            pytest.exit(str(error), pytest.ExitCode.USAGE_ERROR)


def pytest_report_header(config: pytest.Config) -> list[str]:
    board_config = config.stash[_BOARD_CONFIG]
    if board_config is not None:
        return [
            f"target: {board_config.id} (console log in build/test-logs/{board_config.id}.log): "
            f"{board_config.target().describe()}",
            f"only the tests marked {ANY_TARGET} run",
        ]
    board = config.stash[_QEMU_BOARD]
    configs = [
        boot
        for boot in BOOT_CONFIGS + KTEST_CONFIGS
        if board is None or boot.board.name == board.name
    ]
    chosen = (
        []
        if board is None
        else [
            f"--board {board.name}: only its configurations run, and the tests of one "
            "fixed machine (not parametrized by board)"
        ]
    )
    silent_boards = [
        each.name
        for each in BOARDS
        if not each.qemu.exits_on_poweroff and (board is None or each.name == board.name)
    ]
    return [
        *chosen,
        "boot configurations (console logs in build/test-logs/<id>.log):",
        *(f"  {boot.id}: {format_command(boot.qemu().command())}" for boot in configs),
        *(
            f"{name}: QEMU does not exit at power-off: the harness ends it, and the tests "
            "of its exit status check the power-off line instead"
            for name in silent_boards
        ),
    ]


# Before xdist's own hook, which reads the groups to schedule the tests.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    board = config.stash[_QEMU_BOARD]
    if config.stash[_BOARD_CONFIG] is not None:
        kept = [item for item in items if item.get_closest_marker(ANY_TARGET)]
    elif board is not None:
        kept = [item for item in items if not _on_another_board(item, board)]
    else:
        kept = items
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
    for item in items:
        callspec = getattr(item, "callspec", None)
        for name in ("boot_config", "ktest_config", "u_boot_config"):
            if callspec is not None and name in callspec.params:
                item.add_marker(pytest.mark.xdist_group(callspec.params[name].id))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A parameter set here rather than in the fixture, because the target is an option.
    if "boot_config" in metafunc.fixturenames:
        configs = _boot_configs(metafunc.config)
        metafunc.parametrize(
            "boot_config",
            configs,
            ids=[config.id for config in configs],
            indirect=True,
            scope="session",
        )


@pytest.fixture(scope="session")
def boot_config(request: pytest.FixtureRequest) -> AnyConfig:
    return request.param


def _require_build_output(path: Path) -> None:
    if not path.is_file():
        pytest.fail(f"{path} does not exist: build it with `scons`", pytrace=False)


@functools.cache
def _boot_media_written(config: AnyConfig) -> None:
    """Write what the configuration's firmware reads beyond the build, once per worker."""
    _require_build_output(built(config.board, "Image"))
    config.write_boot_media()


@functools.cache
def _poweroff_boot(config: AnyConfig) -> Boot:
    """The configuration's one boot with `poweroff`, shared by every fixture that asks."""
    _boot_media_written(config)
    return run_boot(config.id, config.target(), TEST_LOG_DIR / f"{config.id}.log")


@pytest.fixture(scope="session")
def boot(boot_config: AnyConfig) -> Boot:
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
def firmware_bootargs(boot_config: AnyConfig, request: pytest.FixtureRequest) -> str:
    """The command line the firmware was given for the kernel: QEMU's -append,
    which it puts in the device tree, the `append` line of the SD image's
    extlinux.conf, read back from the image, or with labgrid the one its
    strategy gave (at U-Boot's prompt, or as QEMU's -append)."""
    if isinstance(boot_config, LabgridBootConfig):
        return boot_config.append
    if isinstance(boot_config, BootConfig) and boot_config.sd_image is None:
        device_tree: DeviceTree = request.getfixturevalue("device_tree")
        return device_tree.bootargs
    if boot_config.sd_image is None:
        pytest.skip("needs the SD image the board boots, for its extlinux.conf: --sd-image")
    _boot_media_written(boot_config)
    append = sdimage.extlinux_append(boot_config.sd_image)
    if append is None:
        pytest.skip(
            "the SD image's extlinux.conf has no append line: "
            "the board's U-Boot gives its own bootargs"
        )
    return append


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


@functools.cache
def _device_tree_file(boot_config: AnyConfig) -> Path:
    """The device tree the configuration's firmware gets (QEMU's, kept beside its log)."""
    _boot_media_written(boot_config)
    dtb = boot_config.device_tree_file(TEST_LOG_DIR / f"{boot_config.id}.dtb")
    if dtb is None:
        pytest.skip("needs the device tree the board boots with: --dtb FILE")
    return dtb


@pytest.fixture(scope="session")
def device_tree(boot_config: AnyConfig) -> DeviceTree:
    return read_device_tree(_device_tree_file(boot_config))


@pytest.fixture(scope="session")
def kernel_harts(boot_config: AnyConfig) -> list[int]:
    """The harts the kernel runs on, sorted, as the loader's own code finds
    them in the configuration's device tree (tools/boardcheck's answer)."""
    return sorted(boardcheck.kernel_harts(_device_tree_file(boot_config)))


@pytest.fixture(scope="session")
def kernel_elf(boot_config: AnyConfig) -> CheckedElf:
    """The board's kernel.elf entry and program headers, read by the build's own validator."""
    path = built(boot_config.board, "kernel.elf")
    _require_build_output(path)
    return check_kernel_elf(path)


@pytest.fixture(scope="session")
def user_elf(boot_config: AnyConfig) -> CheckedElf:
    """The board's user program (PID 1), as the build's validator reads it."""
    path = built(boot_config.board, "user/init.elf")
    _require_build_output(path)
    return check_user_elf(path)
