"""Linker script generation from templates and board files."""

from __future__ import annotations

from pathlib import Path

import pytest

from aubade.boards import UnknownBoardError, load_board
from aubade.linkerscript import LINKER_DIR, TemplateError, render


def test_loader_script_is_linked_at_the_boards_load_address() -> None:
    script = render(LINKER_DIR / "loader.ld.in", load_board("virt"))
    assert ". = 0x80200000;" in script
    assert "__image_text_offset = 0x200000;" in script
    assert "${" not in script


def test_kernel_script_is_linked_in_the_upper_half() -> None:
    script = render(LINKER_DIR / "kernel.ld.in", load_board("virt"))
    assert ". = 0xffffffff80000000;" in script
    assert "PT_TLS" in script


def test_unknown_placeholder_is_named(tmp_path: Path) -> None:
    template = tmp_path / "bad.ld.in"
    template.write_text(". = ${no_such_value};\n")
    with pytest.raises(TemplateError, match=r"unknown placeholder \$\{no_such_value\}"):
        render(template, load_board("virt"))


def test_board_from_another_directory(tmp_path: Path) -> None:
    (tmp_path / "tiny.toml").write_text(
        'description = "x"\n[image]\ndram_base = 0x40000000\ntext_offset = 0x200000\n'
        '[qemu]\nmachine = "x"\nfirmware = []\nmemory = "64M"\nsmp = 1\n'
    )
    board = load_board("tiny", tmp_path)
    assert board.load_address == 0x40200000
    script = render(LINKER_DIR / "loader.ld.in", board)
    assert ". = 0x40200000;" in script


def test_unknown_board_lists_known_boards(tmp_path: Path) -> None:
    (tmp_path / "one.toml").write_text("")
    (tmp_path / "two.toml").write_text("")
    with pytest.raises(UnknownBoardError, match="unknown board 'three'; known boards: one, two"):
        load_board("three", tmp_path)


def test_user_script_is_linked_low_in_the_lower_half() -> None:
    script = render(LINKER_DIR / "user.ld.in", load_board("virt"))
    assert ". = 0x10000;" in script
    assert "PT_TLS" not in script
    assert "${" not in script
