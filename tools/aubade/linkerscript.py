"""Linker scripts, generated from the templates under linker/ and a board.

Templates use `string.Template` placeholders (`${load_address}`); a
placeholder without a value is an error, not an empty string.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from aubade.boards import Board

LINKER_DIR = Path(__file__).resolve().parents[2] / "linker"

PAGE_SIZE = 0x1000
# Sv39's top 2 GiB: reachable with -mcmodel=medany from anywhere in it.
KERNEL_BASE = 0xFFFFFFFF80000000
# User programs: low in the lower half, above the unmapped pages that catch
# null pointers (a small offset into a null struct pointer faults too).
USER_BASE = 0x10000
LOADER_STACK_SIZE = 0x4000


class TemplateError(Exception):
    """A template names a value the generator does not provide."""


def values_for(board: Board) -> dict[str, str]:
    """Everything a template may use, as the text that goes in the script."""
    return {
        "board": board.name,
        "load_address": hex(board.load_address),
        "text_offset": hex(board.text_offset),
        "kernel_base": hex(KERNEL_BASE),
        "user_base": hex(USER_BASE),
        "page_size": hex(PAGE_SIZE),
        "stack_size": hex(LOADER_STACK_SIZE),
    }


def render(template_path: Path, board: Board) -> str:
    template = Template(template_path.read_text())
    try:
        return template.substitute(values_for(board))
    except KeyError as missing:
        raise TemplateError(
            f"{template_path}: unknown placeholder ${{{missing.args[0]}}}; "
            f"known: {', '.join(sorted(values_for(board)))}"
        ) from None
    except ValueError as bad:
        raise TemplateError(f"{template_path}: {bad}") from None


def write(template_path: Path, board: Board, output: Path) -> None:
    output.write_text(render(template_path, board))
