"""The kernel's house rules (docs/kernel.md), read from the sources.

One folder per subsystem with one header as its face, the boot story at the
top, the layers in their order (an include of a higher layer says why), and
no header included by a file that uses nothing of it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

KERNEL = Path(__file__).resolve().parents[2] / "kernel"
# Lowest first: a file may include the face of its own layer or a lower one;
# an include of a higher layer carries a `/* up: why */` comment.
LAYERS = ("debug", "boot", "smp", "mm", "trap", "sched", "dev", "proc", "ktest", "top")
TOP_SOURCES = {"main.c", "init.c", "init_task.c"}
TOP_HEADERS = {"init.h", "thread_pointer.h"}
INCLUDE = re.compile(r'^#include "([^"]+)"(.*)$', re.M)
UP_COMMENT = re.compile(r"\s*/\* up: \S.* \*/\s*\Z")
# Words that look like declarations to the scan below but name nothing.
NOT_NAMES = {"sizeof", "offsetof", "_Static_assert", "__attribute__", "format", "printf"}
NOT_NAMES |= {"__typeof__", "void", "bool", "int", "char", "unsigned", "uint64_t", "uint32_t"}
NOT_NAMES |= {"uintptr_t", "size_t", "if", "while", "for", "return", "asm", "section", "aligned"}
NOT_NAMES |= {"used", "no_reorder", "defined", "__builtin_types_compatible_p"}


def folders() -> list[str]:
    return sorted(p.name for p in KERNEL.iterdir() if p.is_dir())


def sources() -> list[Path]:
    return sorted(p for p in KERNEL.rglob("*") if p.suffix in (".c", ".h", ".S"))


def layer_of(path: Path) -> str:
    """A file's layer: its folder's, but a ktest suite (ktest_NAME.c, beside
    what it tests) is a test, and may use anything below the ktests."""
    relative = path.relative_to(KERNEL)
    if path.name.startswith("ktest_"):
        return "ktest"
    return relative.parts[0] if len(relative.parts) > 1 else "top"


def header_path(including: Path, name: str) -> Path:
    """Where `#include "name"` resolves: beside the file, else from kernel/."""
    beside = including.parent / name
    return beside if beside.exists() else KERNEL / name


def code(text: str) -> str:
    """Text without comments and string contents."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def declared(header: Path) -> set[str]:
    """What a header gives its includer: macros, types, enum constants,
    functions and variables (a scan of its top-level lines, not a parser)."""
    text = code(header.read_text())
    names = set(re.findall(r"#define\s+(\w+)", text))
    names |= {f"struct {n}" for n in re.findall(r"\bstruct\s+(\w+)\s*\{", text)}
    names |= {f"enum {n}" for n in re.findall(r"\benum\s+(\w+)\s*\{", text)}
    names |= set(re.findall(r"typedef[^;]*?\(\s*\*\s*(\w+)\)", text))
    for body in re.findall(r"\benum\s+\w+\s*\{(.*?)\}", text, flags=re.S):
        names |= set(re.findall(r"(?:^|,|\{)\s*([A-Z][A-Z0-9_]*)\s*(?==|,|$)", body, flags=re.M))
    for line in text.splitlines():
        if line.startswith("extern"):
            names |= set(re.findall(r"\b(\w+)\s*(?:\[[^\]]*\])?\s*;", line))
        elif not line.startswith((" ", "\t", "#")):
            names |= set(re.findall(r"\b(\w+)\s*\(", line))
    guard = {n for n in names if n.endswith("_H")}
    return names - NOT_NAMES - guard


def used(path: Path) -> set[str]:
    text = re.sub(r"#include[^\n]*", "", code(path.read_text()))
    words = set(re.findall(r"\b\w+\b", text))
    words |= {f"struct {n}" for n in re.findall(r"\bstruct\s+(\w+)", text)}
    return words | {f"enum {n}" for n in re.findall(r"\benum\s+(\w+)", text)}


def test_the_top_holds_only_the_boot_story() -> None:
    top = {p.name for p in KERNEL.iterdir() if p.is_file() and p.suffix in (".c", ".h")}
    assert not (KERNEL / "kernel.h").exists()
    assert top <= TOP_SOURCES | TOP_HEADERS, f"files at kernel/'s top: {sorted(top)}"


def test_every_folder_is_a_layer_with_one_face() -> None:
    assert set(folders()) == set(LAYERS) - {"top"}, "place a new folder in LAYERS"
    for folder in folders():
        assert (KERNEL / folder / f"{folder}.h").exists(), f"kernel/{folder}/ has no {folder}.h"


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(KERNEL)))
def test_includes_keep_the_house_rules(path: Path) -> None:
    here = layer_of(path)
    folder = path.parent.name if path.parent != KERNEL else "top"
    for name, rest in INCLUDE.findall(path.read_text()):
        header = header_path(path, name)
        assert header.exists(), f"{name}: no such header"
        there = layer_of(header)
        if there != folder and there != "top":
            face = KERNEL / there / f"{there}.h"
            assert header == face, f"{name} is kernel/{there}/'s inside: include {there}/{there}.h"
        if LAYERS.index(there) > LAYERS.index(here):
            assert UP_COMMENT.match(rest), f'#include "{name}" reaches up: say why, /* up: ... */'
        if path.suffix != ".S" and header.name != "thread_pointer.h":
            assert declared(header) & used(path), f"{name} is included but nothing of it is used"
