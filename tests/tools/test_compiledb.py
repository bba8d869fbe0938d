"""`scons compiledb`: compile_commands.json, for clangd, in a copy of the tree.

The expected compiles are derived from the tree's files, not from the
build's own lists: a C or assembly file added to kernel/, loader/, lib/,
user/ or host/ that the build compiles must have an entry, and one the build
stops compiling must lose it. Each entry's command is run with -E, as an
editor's compiler would read it: every include it names has to resolve.
"""

from __future__ import annotations

import ast
import json
import shlex
import subprocess
from pathlib import Path

import pytest

from aubade import toolchain
from aubade.buildoptions import DEFAULT_BOARD
from tools.test_build import copy_sources, scons

pytestmark = pytest.mark.xdist_group("build")

CROSS_CC = f"{toolchain.CROSS_PREFIX}gcc"
# host/SConscript's compiler, the one tools/setup installs for tools/fuzz.
HOST_CC = "clang-14"
BUILD = f"build/{DEFAULT_BOARD}"
# user/SConscript compiles these two of lib/ again, for U-mode.
USER_SHARED = ("lib/fmt.c", "lib/string.c")
# Written by the build and compiled by it: `scons compiledb` writes all but
# the second symbol table, which comes from the kernel's first link, so it
# exists only after a build. (The loader's payload_key.c holds the key= the
# loader requires, or none.)
GENERATED = {
    "kernel": {f"{BUILD}/kernel/init_table.c"},
    "loader": {f"{BUILD}/loader/payload_key.c"},
    "symbols": {f"{BUILD}/ksyms.empty.S", f"{BUILD}/ksyms.S"},
}
MADE_BY_A_BUILD_ONLY = {f"{BUILD}/ksyms.S"}


def tree_files(tree: Path, folder: str, *patterns: str) -> set[str]:
    return {
        str(path.relative_to(tree))
        for pattern in patterns
        for path in (tree / folder).glob(pattern)
    }


def host_sources(tree: Path) -> set[str]:
    """host/SConscript's SOURCES: the loader's and lib/'s files built for the host."""
    module = ast.parse((tree / "host" / "SConscript").read_text())
    (declared,) = [
        node.value
        for node in module.body
        if isinstance(node, ast.Assign)
        and [target.id for target in node.targets if isinstance(target, ast.Name)] == ["SOURCES"]
    ]
    return set(ast.literal_eval(declared))


def expected_compiles(tree: Path) -> dict[str, set[str]]:
    """Per part of the build, the source files it compiles (debug=1, the default)."""
    c_and_assembly = ("**/*.c", "**/*.S")
    return {
        "kernel": tree_files(tree, "kernel", *c_and_assembly) | GENERATED["kernel"],
        "symbols": GENERATED["symbols"],
        "loader": tree_files(tree, "loader", *c_and_assembly) | GENERATED["loader"],
        "lib": tree_files(tree, "lib", *c_and_assembly),
        "user": tree_files(tree, "user", *c_and_assembly) | set(USER_SHARED),
        "host": tree_files(tree, "host", *c_and_assembly) | host_sources(tree),
    }


def part(tree: Path, output: str) -> str:
    """The part of the build an object belongs to, from where it is written."""
    relative = Path(output).relative_to(tree)
    if relative.parts[:2] == ("build", "host"):
        return "host"
    assert relative.parts[:2] == ("build", DEFAULT_BOARD), output
    # build/BOARD/ksyms*.o: the kernel's symbol tables, data that includes
    # nothing, assembled with the flags the loader's assembly has.
    return relative.parts[2] if len(relative.parts) > 3 else "symbols"


def arguments(entry: dict[str, str]) -> list[str]:
    return shlex.split(entry["command"])


def include_flags(entry: dict[str, str]) -> list[str]:
    return [argument for argument in arguments(entry) if argument.startswith("-I")]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_sources(tmp_path_factory.mktemp("tree"))


@pytest.fixture(scope="module")
def database(tree: Path) -> list[dict[str, str]]:
    result = scons(tree, "compiledb")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((tree / "compile_commands.json").read_text())


@pytest.fixture(scope="module")
def by_part(tree: Path, database: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    parts: dict[str, list[dict[str, str]]] = {}
    for entry in database:
        parts.setdefault(part(tree, entry["output"]), []).append(entry)
    return parts


def test_the_default_build_writes_no_database(tmp_path: Path) -> None:
    copy = copy_sources(tmp_path)
    result = scons(copy, "-n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compile_commands.json" not in result.stdout


def test_every_file_the_build_compiles_has_an_entry_and_nothing_else_does(
    tree: Path, by_part: dict[str, list[dict[str, str]]]
) -> None:
    expected = expected_compiles(tree)
    assert set(by_part) == set(expected)
    for name, files in expected.items():
        listed = [str(Path(entry["file"]).relative_to(tree)) for entry in by_part[name]]
        assert len(listed) == len(set(listed)), f"{name}: a file listed twice"
        missing = sorted(files - set(listed))
        assert not missing, f"{name}: no entry for {', '.join(missing)}"
        unexpected = sorted(set(listed) - files)
        assert not unexpected, f"{name}: entries for {', '.join(unexpected)}"


def test_entries_name_real_directories_and_files(
    tree: Path, database: list[dict[str, str]]
) -> None:
    absent = set()
    for entry in database:
        assert Path(entry["directory"]) == tree, entry
        file = Path(entry["file"])
        assert file.is_absolute(), entry
        # The command names the file relative to the directory.
        assert (Path(entry["directory"]) / arguments(entry)[-1]).resolve() == file.resolve(), entry
        if not file.is_file():
            absent.add(str(file.relative_to(tree)))
    assert absent == MADE_BY_A_BUILD_ONLY


def test_cross_entries_carry_the_builds_target_warning_and_include_flags(
    tree: Path, by_part: dict[str, list[dict[str, str]]]
) -> None:
    thread_pointer = str(tree / "kernel" / "thread_pointer.h")
    for name in ("kernel", "symbols", "loader", "lib", "user"):
        for entry in by_part[name]:
            command = arguments(entry)
            assert command[0] == CROSS_CC, entry
            march = [argument for argument in command if argument.startswith("-march=")]
            expected_march = "-march=rv64imac_zicsr" + ("" if name == "user" else "_zifencei")
            assert march == [expected_march], entry
            assert "-mabi=lp64" in command, entry
            assert "-Ilib/include" in include_flags(entry), entry
            if name == "kernel":
                assert "-Ikernel" in include_flags(entry), entry
            # Assembly is built without -Werror and the C flags, as the build does.
            if entry["file"].endswith(".c"):
                assert {"-Werror", "-Wall", "-Wextra", "-std=gnu11", "-ffreestanding"} <= set(
                    command
                ), entry
                if name == "kernel":
                    at = command.index("-include")
                    assert command[at + 1] == thread_pointer, entry
                    assert "-DAUBADE_DEBUG=1" in command, entry
            if name == "loader":
                assert any(argument.startswith("-DPAYLOAD_FILE=") for argument in command), entry


def test_host_entries_use_the_host_compiler(by_part: dict[str, list[dict[str, str]]]) -> None:
    for entry in by_part["host"]:
        command = arguments(entry)
        assert command[0] == HOST_CC, entry
        assert not any(argument.startswith(("-march=", "-mabi=")) for argument in command), entry
        assert "-Werror" in command, entry
        assert {"-Ilib/include", "-Iloader", "-Ifuzz"} <= set(include_flags(entry)), entry


def test_a_file_compiled_more_than_once_lists_its_cross_compile_first(
    database: list[dict[str, str]],
) -> None:
    # clangd takes the first; docs/building.md says so.
    first: dict[str, dict[str, str]] = {}
    compiled_again = set()
    for entry in database:
        if entry["file"] in first:
            compiled_again.add(entry["file"])
        first.setdefault(entry["file"], entry)
    assert compiled_again, "lib/'s files are compiled for the host and for U-mode too"
    for file in compiled_again:
        assert arguments(first[file])[0] == CROSS_CC, first[file]


def test_every_entrys_includes_resolve_with_its_own_command(
    tree: Path, database: list[dict[str, str]]
) -> None:
    for entry in database:
        if str(Path(entry["file"]).relative_to(tree)) in MADE_BY_A_BUILD_ONLY:
            continue
        command = arguments(entry)
        output = command.index("-o")
        del command[output : output + 2]
        command = [argument for argument in command if argument != "-c"]
        result = subprocess.run(
            [*command, "-E", "-o", "/dev/null"],
            cwd=entry["directory"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"{entry['file']}:\n{result.stderr}"


def test_debug_0_lists_the_kernel_without_its_deliberate_faults(tmp_path: Path) -> None:
    copy = copy_sources(tmp_path)
    result = scons(copy, "compiledb", "debug=0")
    assert result.returncode == 0, result.stdout + result.stderr
    kernel = [
        entry
        for entry in json.loads((copy / "compile_commands.json").read_text())
        if part(copy, entry["output"]) == "kernel"
    ]
    files = {str(Path(entry["file"]).relative_to(copy)) for entry in kernel}
    assert files == expected_compiles(copy)["kernel"] - {"kernel/debug/fault.c"}
    assert not any("-DAUBADE_DEBUG=1" in entry["command"] for entry in kernel)
