"""The kernel test cases the C sources declare, read without building anything.

A case is declared at file scope as `KTEST(suite, case) { ... }`. Only a
declaration at the start of a line counts, so the macro's own `#define` and a
mention in a comment are not cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_DECLARATION = re.compile(
    r"^KTEST\(\s*(?P<suite>[A-Za-z_]\w*)\s*,\s*(?P<case>[A-Za-z_]\w*)\s*\)", re.MULTILINE
)


@dataclass(frozen=True, order=True)
class DeclaredCase:
    suite: str
    name: str
    source: str
    """`path:line` of the declaration, the path relative to the repository."""

    @property
    def id(self) -> str:
        return f"{self.suite}.{self.name}"


def declared_cases(repository: Path, directory: str) -> list[DeclaredCase]:
    """Every case declared in the `.c` files under `directory` of the
    repository, by suite and name."""
    cases = []
    for path in sorted((repository / directory).rglob("*.c")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _DECLARATION.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            source = f"{path.relative_to(repository)}:{line}"
            cases.append(DeclaredCase(match["suite"], match["case"], source))
    return sorted(cases)
