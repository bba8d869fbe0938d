"""tools/bench: the benchmarks, one subcommand each.

Each subcommand is a module of this package that has
- NAME, the subcommand, and SUMMARY, its line in `tools/bench --help`;
- a docstring, its `tools/bench NAME --help`: what it measures and how;
- add_arguments(parser), its options, each checked as the command line is
  read, so that a wrong one fails before anything is built or booted;
- run(args) -> int, the benchmark, its exit status; it raises
  BenchUsageError for a command line it cannot run, BenchError or
  BootFailure for a boot that failed, and this module reports them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from aubade.bench import boot, floor, initcalls, labgrid, rebuild, sched, shell, u_boot
from aubade.bench.errors import BenchError, BenchUsageError
from aubade.machine import BootFailure

SUBCOMMANDS: tuple[ModuleType, ...] = (
    boot,
    initcalls,
    sched,
    shell,
    u_boot,
    floor,
    labgrid,
    rebuild,
)
"""In the order `tools/bench --help` lists them."""

_DESCRIPTION = """\
Aubade's benchmarks: each boots the built Image in QEMU (or, for rebuild,
builds the kernel) several times and prints the median and the spread of
what it measures. `tools/bench COMMAND
--help` says what COMMAND measures and how. Needs the venv's Python (pexpect):

    .venv/bin/python tools/bench boot --runs 5
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """The message and where the help is, exit status 2 (not the whole usage)."""
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="bench",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for module in SUBCOMMANDS:
        command = commands.add_parser(
            module.NAME,
            help=module.SUMMARY,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(module=module, command_parser=command)
    return top


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    module: ModuleType = args.module
    try:
        status: int = module.run(args)
    except BenchUsageError as error:
        args.command_parser.error(str(error))
    except (BenchError, BootFailure) as error:
        print(f"bench {module.NAME}: boot failed: {error}", file=sys.stderr)
        return 1
    return status
