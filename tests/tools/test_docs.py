"""The docs stay real: what README.md and docs/*.md point at exists.

For every one of those files: each relative link reaches a file (and a
heading, where it names one); each repository path written in backticks
exists; each `tools/X` command it names is there; each `scons TARGET` and
`scons option=value` it shows is one the build knows. README.md also stays
a front door, under 200 lines.

The build's targets and options are the ones SConstruct reads from
`tools/aubade/buildoptions.py`, which declares them once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from aubade import buildoptions

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCUMENTS = [README, *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 200

# The repository's top folders: a word in backticks that starts with one of
# these and a slash names a file of the repository. build/ is what the
# build writes, not checked.
TOP_FOLDERS = sorted(
    {
        entry.name
        for entry in REPO.iterdir()
        if entry.is_dir() and not entry.name.startswith(".") and entry.name != "build"
    }
    | {".ci"}
)
# Names of files the build writes (user/init.elf is build/BOARD/user/init.elf).
OUTPUT_SUFFIXES = (".elf", ".img", ".bin", ".o", ".a", ".ld", ".dtb", ".log")

FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"(?<!!)\[(?:[^\]`]|`[^`]*`)*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"(?<!`)`([^`]+)`(?!`)")
# A placeholder in a path: NAME, BOARD, SUITE, X (an all-capitals word).
PLACEHOLDER = re.compile(r"(?<![A-Za-z])[A-Z][A-Z0-9]*(?![A-Za-z])")
TOOL = re.compile(r"(?<![\w/.#-])tools/([A-Za-z0-9_.*-]+)")
# A scons command: at the start of a code span or a line of a code block,
# or after `&&`, `;` or a prompt's `$`; its words end at a comment, a pipe
# or a redirection.
SCONS = re.compile(r"(?:^|&&|;|\$)\s*(?:\.venv/bin/)?scons\b([^#&;|<>]*)")


def document_id(path: Path) -> str:
    return str(path.relative_to(REPO))


documents = pytest.mark.parametrize("document", DOCUMENTS, ids=document_id)


# ---------------------------------------------------------------- reading


def prose_and_code(text: str) -> tuple[str, list[str]]:
    """The document without its code blocks, and those blocks' lines."""
    prose: list[str] = []
    code: list[str] = []
    fenced = False
    previous_blank = True
    in_indented = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            prose.append("")
            continue
        indented = line.startswith("    ") and (previous_blank or in_indented)
        in_indented = indented or (in_indented and not line.strip())
        if fenced or (indented and not line.lstrip().startswith(("-", "|", "*"))):
            code.append(line)
            prose.append("")
        else:
            prose.append(line)
        previous_blank = not line.strip()
    return "\n".join(prose), code


def code_spans(text: str) -> list[str]:
    """The inline code of the prose, a span broken over lines made one."""
    prose, _ = prose_and_code(text)
    return [" ".join(span.split()) for span in CODE_SPAN.findall(prose)]


def commands(text: str) -> list[str]:
    """Every code span and every line of a code block: where commands are."""
    _, code = prose_and_code(text)
    return [*code_spans(text), *code]


def slug(heading: str) -> str:
    """The anchor a Markdown heading gets (GitHub's rule)."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    prose, _ = prose_and_code(path.read_text())
    for line in prose.splitlines():
        if match := re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line):
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


# ------------------------------------------------------------------ links


def broken_links(document: Path) -> Iterator[str]:
    prose, _ = prose_and_code(document.read_text())
    for target in LINK.findall(prose):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        name, _, anchor = target.partition("#")
        path = (document.parent / name).resolve() if name else document
        if not path.is_relative_to(REPO):
            # Beside the repository (../shared/spec/...): checked where the
            # folder it goes into is there, as in the shared checkout.
            outside = path.relative_to(REPO.parent).parts[0]
            if not (REPO.parent / outside).is_dir():
                continue
        if not path.exists():
            yield f"{target}: no {path}"
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            yield f"{target}: no heading #{anchor} in {path.name}"


@documents
def test_every_relative_link_reaches_a_file_and_heading(document: Path) -> None:
    broken = list(broken_links(document))
    assert not broken, f"{document_id(document)}: broken links:\n" + "\n".join(broken)


# ------------------------------------------------------------------ paths


def path_words(span: str) -> Iterator[str]:
    """The words of a code span that name something in a top folder."""
    for word in span.split():
        word = word.strip("()[],;:'\"").rstrip(".")
        top = word.split("/", 1)[0]
        if "/" in word and top in TOP_FOLDERS:
            yield word


def exists(word: str) -> bool:
    """Whether the repository has this path, placeholders and globs allowed."""
    # `FILE:LINE` and `FILE:SYMBOL` (a gdb location) name FILE.
    word = word.split(":", 1)[0]
    if (REPO / word).exists():
        return True
    if word.endswith(OUTPUT_SUFFIXES):
        return True
    pattern = word.replace("...", "*").replace("<", "").replace(">", "")
    pattern = re.sub(r"\{[^}]*\}", "*", pattern)
    pattern = PLACEHOLDER.sub("*", pattern).rstrip("/")
    return "*" in pattern and any(REPO.glob(pattern))


@documents
def test_every_repository_path_in_backticks_exists(document: Path) -> None:
    missing = sorted(
        {
            word
            for span in code_spans(document.read_text())
            for word in path_words(span)
            if not exists(word)
        }
    )
    assert not missing, f"{document_id(document)}: no such paths: {', '.join(missing)}"


@documents
def test_every_tool_it_names_exists(document: Path) -> None:
    missing = sorted(
        {
            f"tools/{name}"
            for line in commands(document.read_text())
            for name in TOOL.findall(line)
            if not any((REPO / "tools").glob(name.rstrip(".")))
        }
    )
    assert not missing, f"{document_id(document)}: no such tools: {', '.join(missing)}"


# -------------------------------------------------------- scons commands


def known_boards() -> set[str]:
    return {path.stem for path in (REPO / "boards").glob("*.toml")}


def unknown_scons_words(line: str) -> Iterator[str]:
    targets, options = set(buildoptions.TARGETS), set(buildoptions.option_names())
    for match in SCONS.finditer(line):
        for word in match.group(1).split():
            word = word.strip("[]`")
            if not word or word.startswith("-") or word in ("...", "…"):
                continue
            if "=" in word:
                option, _, value = word.partition("=")
                value = value.strip("\"'")
                if option not in options:
                    yield f"scons {word}: no option {option}"
                elif option == "board" and not PLACEHOLDER.fullmatch(value):
                    if value not in known_boards():
                        yield f"scons {word}: no board {value}"
            elif word not in targets:
                yield f"scons {word}: no target {word}"


@documents
def test_every_scons_target_and_option_is_known(document: Path) -> None:
    unknown = sorted(
        {word for line in commands(document.read_text()) for word in unknown_scons_words(line)}
    )
    assert not unknown, f"{document_id(document)}: " + "; ".join(unknown)


def test_the_readme_is_a_front_door() -> None:
    lines = len(README.read_text().splitlines())
    assert lines < README_MAX_LINES, (
        f"README.md has {lines} lines: keep it under {README_MAX_LINES}, "
        "and move the manual's parts to docs/"
    )
