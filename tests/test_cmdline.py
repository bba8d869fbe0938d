"""A kernel command line of many words: the kernel takes every one.

virt boots once with 40 words ending in `poweroff`, past the 32 the kernel
once kept, dropping the rest without a word: it powers off only if it took
the last one, and `kernel: cmdline` must list all 40. The other limits are
tested where their boots are: the longest line BootInfo holds, one word, in
test_shell.py (which powers it off from the shell and reads its `cmdline`),
and a line longer than that, refused by the loader, in test_panics.py.
"""

from __future__ import annotations

import pytest
from configurations import CMDLINE_MAX, TEST_LOG_DIR, VIRT, built
from harness.boot import Boot, run_boot

from aubade.qemu import QemuConfig
from aubade.qemu_target import QemuTarget

NAME = "virt-smp2-40-words"
WORDS = [*(f"word{number}" for number in range(39)), "poweroff"]
assert len(" ".join(WORDS)) <= CMDLINE_MAX
pytestmark = pytest.mark.xdist_group(NAME)


@pytest.fixture(scope="module")
def many_words() -> Boot:
    config = QemuConfig(VIRT, built(VIRT, "Image"), smp=2, memory="256M", append=" ".join(WORDS))
    return run_boot(NAME, QemuTarget(config), TEST_LOG_DIR / f"{NAME}.log")


def test_the_fortieth_word_powers_off(many_words: Boot) -> None:
    assert many_words.failure is None, many_words.failure
    assert many_words.event("kernel", "poweroff").field("status") == "ok", many_words.log_path
    assert many_words.exit_status() == 0, many_words.log_path


def test_cmdline_lists_all_40_words_in_order(many_words: Boot) -> None:
    cmdline = many_words.event("kernel", "cmdline")
    assert cmdline.list_field("args") == WORDS, f"{cmdline.line}\n{many_words.log_path}"
