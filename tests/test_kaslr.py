"""KASLR: where the loader puts the kernel and the harts' stacks and TLS blocks.

Every boot of the suite checks the map against the ELF moved by the boot's
slide (test_boot.py); these boot for the layout itself: twenty boots must
spread the kernel and the per-hart area, `nokaslr` and a tree without a seed
keep the link addresses, /chosen/kaslr-seed decides the layout as the loader
documents (checked here by computing it), and the kernel's own tests pass
with the kernel at the smallest, a middle and the largest slide the layout
allows (`kaslr.slide=`).
"""

from __future__ import annotations

import hashlib
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import fdt
import pytest
from configurations import SIFIVE_U, TEST_LOG_DIR, VIRT, built
from harness.boot import KTEST_BOOT, POWEROFF_BOOT, Boot, BootStep, run_boot
from test_panics import boot_until_panic

from aubade.bootlog import Event
from aubade.elfcheck import PAGE_SIZE, CheckedElf, check_kernel_elf
from aubade.ktap import parse_ktap
from aubade.qemu import QemuConfig, dump_device_tree
from aubade.qemu_target import QemuTarget

pytestmark = pytest.mark.xdist_group("kaslr")

IMAGE = built(VIRT, "Image")
CONFIG = QemuConfig(VIRT, IMAGE, smp=1, memory="128M", append="poweroff")
BOOTS = 20
# loader/loader.h and loader/kaslr.c: where the per-hart area may start.
PERCPU_BASE = 0xFFFFFFE000000000
PERCPU_WINDOW_SIZE = 0x800000000
PERCPU_SLOT_SIZE = 0x100000
MAX_HARTS = 128
ADDRESS_SPACE_END = 1 << 64


def kernel() -> CheckedElf:
    return check_kernel_elf(built(VIRT, "kernel.stripped.elf"))


def kernel_choices(elf: CheckedElf) -> int:
    """How many slides the loader chooses from: page steps, up to the one
    that puts the kernel's last page just below the address space's last."""
    end = -(-elf.loads[-1].end // PAGE_SIZE) * PAGE_SIZE
    return (ADDRESS_SPACE_END - PAGE_SIZE - end) // PAGE_SIZE + 1


PERCPU_CHOICES = (PERCPU_WINDOW_SIZE - MAX_HARTS * PERCPU_SLOT_SIZE) // PAGE_SIZE + 1


def boot(name: str, config: QemuConfig, steps: tuple[BootStep, ...] = POWEROFF_BOOT) -> Boot:
    log = TEST_LOG_DIR / f"kaslr-{name}.log"
    return run_boot(f"kaslr-{name}", QemuTarget(config), log, steps)


def kaslr_event(result: Boot) -> Event:
    result.require_complete("loader", "handoff")
    return result.event("loader", "kaslr")


def assert_ran_at(result: Boot, elf: CheckedElf, slide: int, percpu: int) -> None:
    """The loader mapped, handed over and placed the harts where it said."""
    maps = [event.range_field("virt")[0] for event in result.events_of("loader", "map")]
    assert maps == [load.vaddr + slide for load in elf.loads], result.failure
    assert result.event("loader", "handoff").int_field("entry") == elf.entry + slide
    stacks = [event.range_field("stack")[0] for event in result.events_of("loader", "percpu")]
    assert stacks[0] == percpu + PAGE_SIZE  # after the first slot's guard page


def test_twenty_boots_spread_the_kernel_and_the_harts_blocks() -> None:
    elf = kernel()
    with ThreadPoolExecutor(4) as pool:
        boots = list(pool.map(lambda n: boot(f"spread-{n}", CONFIG), range(BOOTS)))
    slides, percpus = [], []
    for result in boots:
        event = kaslr_event(result)
        assert result.exit_status() == 0, result.failure
        assert event.field("source") == "rng-seed", event.line
        slide, percpu = event.int_field("slide"), event.int_field("percpu")
        assert slide % PAGE_SIZE == 0 and 0 <= slide < kernel_choices(elf) * PAGE_SIZE
        assert percpu % PAGE_SIZE == 0
        assert PERCPU_BASE <= percpu < PERCPU_BASE + PERCPU_CHOICES * PAGE_SIZE
        assert event.int_field("entropy") == kernel_choices(elf).bit_length() - 1, event.line
        assert event.int_field("percpu_entropy") == PERCPU_CHOICES.bit_length() - 1, event.line
        assert_ran_at(result, elf, slide, percpu)
        slides.append(slide)
        percpus.append(percpu)
    assert len(set(slides)) >= 15, [hex(slide) for slide in slides]
    assert len(set(percpus)) >= 15, [hex(percpu) for percpu in percpus]


def test_nokaslr_keeps_the_link_addresses() -> None:
    elf = kernel()
    result = boot("nokaslr", replace(CONFIG, append="nokaslr poweroff"))
    event = kaslr_event(result)
    assert (event.int_field("slide"), event.int_field("entropy")) == (0, 0), event.line
    assert (event.field("source"), event.field("why")) == ("none", "nokaslr"), event.line
    assert_ran_at(result, elf, 0, PERCPU_BASE)
    assert result.exit_status() == 0, result.failure


@pytest.fixture(scope="module")
def qemu_tree(tmp_path_factory: pytest.TempPathFactory) -> fdt.FDT:
    dtb = dump_device_tree(CONFIG, tmp_path_factory.mktemp("kaslr") / "qemu.dtb")
    return fdt.parse_dtb(dtb.read_bytes())


def with_tree(tree: fdt.FDT, path: Path) -> QemuConfig:
    path.write_bytes(tree.to_dtb(version=17))
    return replace(CONFIG, extra_args=("-dtb", str(path)))


def test_a_tree_without_a_seed_keeps_the_link_addresses_and_says_so() -> None:
    """QEMU's sifive_u, like many boards' firmware, gives no seed (QEMU's virt
    always does, even to a tree of -dtb)."""
    config = QemuConfig(SIFIVE_U, built(SIFIVE_U, "Image"), smp=2, append="poweroff")
    result = boot("no-seed", config)
    event = kaslr_event(result)
    assert (event.int_field("slide"), event.field("why")) == (0, "no-seed"), event.line
    assert event.int_field("percpu") == PERCPU_BASE, event.line
    elf = check_kernel_elf(built(SIFIVE_U, "kernel.stripped.elf"))
    assert_ran_at(result, elf, 0, PERCPU_BASE)


def expected_layout(seed: bytes, elf: CheckedElf) -> tuple[int, int]:
    """loader/kaslr.c's from_seed(), computed here: SHA-256 of its label (with
    its NUL) and the seed, two little-endian u64s, each taken modulo the
    choices."""
    digest = hashlib.sha256(b"aubade kaslr\0" + seed).digest()
    kernel_random, percpu_random = struct.unpack_from("<QQ", digest)
    slide = kernel_random % kernel_choices(elf) * PAGE_SIZE
    return slide, PERCPU_BASE + percpu_random % PERCPU_CHOICES * PAGE_SIZE


def test_kaslr_seed_is_taken_before_rng_seed_and_decides_the_layout(
    qemu_tree: fdt.FDT, tmp_path: Path
) -> None:
    seed = bytes.fromhex("0123456789abcdef")
    tree = fdt.parse_dtb(qemu_tree.to_dtb(version=17))
    tree.set_property("kaslr-seed", list(struct.unpack(">II", seed)), path="/chosen")
    config = with_tree(tree, tmp_path / "kaslr-seed.dtb")
    elf = kernel()
    slide, percpu = expected_layout(seed, elf)
    for run in range(2):
        result = boot(f"kaslr-seed-{run}", config)
        event = kaslr_event(result)
        assert event.field("source") == "kaslr-seed", event.line
        assert (event.int_field("slide"), event.int_field("percpu")) == (slide, percpu)
        assert_ran_at(result, elf, slide, percpu)


def forced_slides() -> dict[str, int]:
    largest = (kernel_choices(kernel()) - 1) * PAGE_SIZE
    return {
        "smallest": PAGE_SIZE,
        "middle": largest // 2 // PAGE_SIZE * PAGE_SIZE,
        "largest": largest,
    }


@pytest.mark.parametrize("where", forced_slides())
def test_the_kernels_tests_pass_at_a_forced_slide(where: str) -> None:
    slide = forced_slides()[where]
    config = replace(CONFIG, smp=2, memory="256M", append=f"ktest kaslr.slide={slide:#x}")
    result = boot(f"ktest-{where}", config, KTEST_BOOT)
    event = kaslr_event(result)
    assert (event.int_field("slide"), event.field("source")) == (slide, "cmdline"), event.line
    assert_ran_at(result, kernel(), slide, event.int_field("percpu"))
    result.require_complete("kernel", "ktest")
    report = parse_ktap("\n".join(result.lines))
    assert not report.errors, report.errors
    assert result.event("kernel", "ktest").int_field("failed") == 0, result.log_path
    assert result.exit_status() == 0, result.failure


@pytest.mark.parametrize("value", ["0x1001", "largest+page", "12345"])
def test_a_slide_the_layout_cannot_take_is_refused_by_name(value: str) -> None:
    if value == "largest+page":
        value = hex(forced_slides()["largest"] + PAGE_SIZE)
    config = replace(CONFIG, append=f"kaslr.slide={value} poweroff")
    machine, panic = boot_until_panic(f"kaslr-bad-slide-{value}", config, "loader")
    report = machine.report("unexpected refusal")
    assert panic.field("reason") == "bad-cmdline", report
    assert f"kaslr.slide={value}: want 0x-hex" in "\n".join(machine.lines), report
    assert "kernel: early" not in "\n".join(machine.lines), report
