"""The board files under boards/, as the build and the QEMU runner read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from aubade.boards import BOARDS_DIR, NotEmulatedError, known_boards, load_board

DOCS = BOARDS_DIR.parent / "docs"
# Dev boards on the desk: built and written to an SD card, never run in QEMU.
REAL_BOARDS = ("unmatched", "visionfive2")


@pytest.mark.parametrize("name", known_boards())
def test_every_board_file_loads_with_a_page_aligned_load_address(name: str) -> None:
    board = load_board(name)
    assert board.description
    # The loader's first page is linked there and booti puts it there.
    assert board.load_address % 0x1000 == 0


@pytest.mark.parametrize("name", REAL_BOARDS)
def test_a_board_qemu_does_not_model_says_where_to_read_instead(name: str) -> None:
    board = load_board(name)
    assert board.emulated is None
    with pytest.raises(NotEmulatedError, match=rf"board '{name}' has no QEMU machine") as raised:
        _ = board.qemu
    assert "docs/boards.md" in str(raised.value)
    # The message sends the reader to the document: it must be there.
    assert (DOCS / "boards.md").is_file()


@pytest.mark.parametrize(
    ("name", "load_address"), [("visionfive2", 0x40200000), ("unmatched", 0x80200000)]
)
def test_real_boards_load_where_their_u_boot_puts_the_image(name: str, load_address: int) -> None:
    assert load_board(name).load_address == load_address


@pytest.mark.parametrize("name", known_boards())
def test_every_board_has_a_row_in_docs_building_and_in_docs_boards(name: str) -> None:
    row = f"| `{name}` |"
    assert row in (DOCS / "building.md").read_text()
    assert row in (DOCS / "boards.md").read_text()


def test_a_board_names_the_u_boot_qemu_boots_and_says_what_to_do_if_it_is_missing(
    tmp_path: Path,
) -> None:
    description = (BOARDS_DIR / "virt.toml").read_text()
    assert load_board("virt").u_boot.is_file()
    missing = description.replace(str(load_board("virt").qemu.u_boot), str(tmp_path / "u-boot.bin"))
    (tmp_path / "virt.toml").write_text(missing)
    with pytest.raises(NotEmulatedError, match=r"no U-Boot at .*u-boot.bin: run tools/setup"):
        _ = load_board("virt", tmp_path).u_boot
    (tmp_path / "sifive_u.toml").write_text((BOARDS_DIR / "sifive_u.toml").read_text())
    with pytest.raises(NotEmulatedError, match=r"names no U-Boot for QEMU"):
        _ = load_board("sifive_u", tmp_path).u_boot
