"""The options every benchmark takes to say what it boots, and the checks of
the board and the image they name."""

from __future__ import annotations

import argparse
from pathlib import Path

from aubade.bench.errors import BenchUsageError
from aubade.boards import Board, NotEmulatedError, UnknownBoardError, load_board

REPO = Path(__file__).resolve().parents[3]


def add_boot_options(
    parser: argparse.ArgumentParser, name: str, runs_per: str | None, image: bool = True
) -> None:
    """`--board`, `--image` (unless the benchmark boots only the build's),
    `--runs`, the boots per `runs_per` (in all, if None), and `--logs`, where
    the consoles of the benchmark `name` go."""
    parser.add_argument("--board", default="virt", help="board description (default: %(default)s)")
    parser.add_argument(
        "--logs",
        metavar="DIR",
        type=Path,
        default=REPO / "build" / "bench" / name,
        help=f"where each boot's console log goes (default: build/bench/{name})",
    )
    if image:
        parser.add_argument(
            "--image", type=Path, help="image to boot (default: build/<board>/Image)"
        )
    parser.add_argument(
        "--runs",
        type=at_least_one,
        default=5,
        help=f"boots{'' if runs_per is None else ' per ' + runs_per} (default: %(default)s)",
    )


def add_machine_options(parser: argparse.ArgumentParser, smps: list[int]) -> None:
    """`--smp`, the -smp counts to compare (default `smps`), and `--memory`,
    the one QEMU -m every boot gets."""
    parser.add_argument(
        "--smp",
        nargs="+",
        type=at_least_one,
        default=smps,
        help="QEMU -smp counts (default: %(default)s)",
    )
    parser.add_argument("--memory", default="256M", help="QEMU -m (default: %(default)s)")


def at_least_one(text: str) -> int:
    """An argparse type: a whole number from 1 (runs, jobs, rows)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1")
    return value


def benchmarked_board(name: str) -> Board:
    """The board, which must be one whose QEMU exits at power-off: each boot
    ends on its own, at the power-off its command line asks for."""
    try:
        board = load_board(name)
        exits_on_poweroff = board.qemu.exits_on_poweroff
    except (UnknownBoardError, NotEmulatedError) as error:
        raise BenchUsageError(str(error)) from None
    if not exits_on_poweroff:
        raise BenchUsageError(
            f"QEMU does not exit at power-off on {board.name}: benchmark another board"
        )
    return board


def image_of(args: argparse.Namespace, board: Board) -> Path:
    """`--image`, or the build's Image of the board; it must exist."""
    image: Path = getattr(args, "image", None) or REPO / "build" / board.name / "Image"
    if not image.is_file():
        raise BenchUsageError(f"no {image}: run `.venv/bin/scons board={board.name}` first")
    return image
