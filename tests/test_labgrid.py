"""The harness on labgrid (`pytest --lg-env ENV.yaml`), run for real.

The phase tests run in a pytest of their own, as a person runs them: on
labgrid's QEMU environments (boards/labgrid/: OpenSBI entering the Image,
and U-Boot's prompt, where the strategy sets the command line), and on a
place of a farm on this machine (aubade.labgrid_farm: labgrid's coordinator
and exporter, the pretend board's serial port served through ser2net), which
the test acquires, and which fails with the lock's owner named when someone
else holds it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from configurations import REPO, VIRT, built
from harness.phase_run import PHASE_TEST_TIMEOUT_SECONDS, assert_phase_tests_pass
from labgrid import Environment
from labgrid.config import Config

from aubade import sdimage
from aubade.labgrid_farm import Farm, loopback_farm
from aubade.labgrid_target import strategy_of
from aubade.qemu import QemuConfig, dump_device_tree

# One group: the runs share the console log build/test-logs/virt-labgrid.log.
pytestmark = pytest.mark.xdist_group("labgrid")

LABGRID_ENVS = REPO / "boards" / "labgrid"
ENVIRONMENTS = sorted(
    path.name for path in LABGRID_ENVS.glob("*.yaml") if not path.name.endswith("-exporter.yaml")
)
"""The environment files (an exporter's configuration is the farm host's side)."""
STRATEGY = REPO / "tools" / "aubade" / "labgrid_strategy.py"
# The farm's pretend board, the machine of the environments' QEMU.
SMP, MEMORY = 4, "256M"
CONFIG_ID = "virt-labgrid"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_shipped_environment_drives_its_target_through_the_strategy(env: str) -> None:
    config = Config(str(LABGRID_ENVS / env))
    assert [Path(path).resolve() for path in config.get_imports()] == [STRATEGY]
    drivers = config.get_targets()["main"]["drivers"]
    assert "AubadeStrategy" in drivers, drivers
    # The card the strategy writes is one the build makes (`scons sdimage`).
    image = drivers["AubadeStrategy"].get("image")
    if image is not None:
        card = Path(config.get_image_path(image)).resolve()
        assert card.parent.parent == REPO / "build" and card.name == "sdcard.img", card


@pytest.fixture(scope="module")
def dtb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The farm's board's device tree, which a board's user gives with --dtb."""
    directory = tmp_path_factory.mktemp("labgrid-dtb")
    return dump_device_tree(
        QemuConfig(VIRT, built(VIRT, "Image"), smp=SMP, memory=MEMORY), directory / "virt.dtb"
    )


@pytest.mark.parametrize("env", ["qemu-virt.yaml", "qemu-virt-uboot.yaml"])
def test_phase_tests_pass_through_labgrids_qemu(env: str, tmp_path: Path) -> None:
    """Without --dtb: the harness asks labgrid's QEMU for its device tree."""
    report = tmp_path / "report.xml"
    assert_phase_tests_pass(CONFIG_ID, report, f"--lg-env={LABGRID_ENVS / env}")


@pytest.fixture(scope="module")
def built_card() -> Path:
    """The SD image the U-Boot environment's strategy writes, which the
    build makes (`pytest --lg-env` builds it too, this session does not)."""
    scons = Path(sys.executable).with_name("scons")
    result = subprocess.run(
        [str(scons), "-Q", f"board={VIRT.name}", "sdimage"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return built(VIRT, "sdcard.img")


def test_the_strategy_boots_with_the_command_line_it_sets_at_u_boots_prompt(
    built_card: Path,
) -> None:
    """Any command line, not only the SD image's: the strategy types it at
    U-Boot's prompt, and the kernel reports it."""
    env = Environment(str(LABGRID_ENVS / "qemu-virt-uboot.yaml"))
    strategy = strategy_of(env)
    strategy.bootargs = "poweroff set-at-the-prompt"
    try:
        strategy.transition("booted")
        log = strategy.take_console_log().decode(errors="replace")
        # At once, while the kernel powers off and QEMU ends: off all the same.
        strategy.transition("off")
    finally:
        env.cleanup()
    assert "=> " in log, log
    assert "kernel: cmdline args=poweroff,set-at-the-prompt " in log, log


def test_the_strategy_reaches_the_shell_and_the_shell_answers() -> None:
    """`shell`: booted without `poweroff`, read to PID 1's prompt, which a
    test of labgrid's own then drives through the console."""
    env = Environment(str(LABGRID_ENVS / "qemu-virt.yaml"))
    strategy = strategy_of(env)
    strategy.bootargs = ""
    try:
        strategy.transition("shell")
        strategy.console.write(b"echo said-through-labgrid\r")
        _, before, _, _ = strategy.console.expect("aubade> ", timeout=10)
        log = strategy.take_console_log().decode(errors="replace")
        strategy.transition("off")
    finally:
        env.cleanup()
    assert "kernel: init pid=1" in log, log
    # The typed line, echoed, then the shell's answer on a line of its own.
    answer = before.decode(errors="replace").replace("\r", "").split("\n")
    assert answer[:2] == ["echo said-through-labgrid", "said-through-labgrid"], answer


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    # A short path: the board's unix socket must fit in 108 bytes.
    work = Path(tmp_path_factory.mktemp("farm"))
    card = sdimage.write_sd_image(
        built(VIRT, "Image"), work / "card.img", VIRT.name, "poweroff"
    ).path
    with loopback_farm(work, card, SMP, MEMORY) as farm:
        yield farm


def test_phase_tests_pass_on_a_farms_place(farm: Farm, dtb: Path, tmp_path: Path) -> None:
    assert_phase_tests_pass(
        CONFIG_ID,
        tmp_path / "report.xml",
        f"--lg-env={farm.env_file}",
        f"--lg-coordinator={farm.address}",
        f"--dtb={dtb}",
    )
    # Still this user's: the run used the place, and leaves its lock to whoever took it.
    places = farm.client("show")
    assert "acquired: " in places.stdout and "acquired: None" not in places.stdout, places


def test_a_place_locked_by_someone_else_fails_the_run_naming_the_owner(farm: Farm) -> None:
    assert farm.client("release").returncode == 0
    assert farm.client("acquire", user="someone-else").returncode == 0
    try:
        result = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider"),
                "tests/test_boot.py",
                *(f"--lg-env={farm.env_file}", f"--lg-coordinator={farm.address}"),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=PHASE_TEST_TIMEOUT_SECONDS,
            check=False,
        )
    finally:
        assert farm.client("release", user="someone-else").returncode == 0
        assert farm.client("acquire").returncode == 0
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert f"place {farm.place} is not acquired by your user, acquired by someone-else" in output, (
        output
    )
    assert " passed" not in output and " failed" not in output, output
