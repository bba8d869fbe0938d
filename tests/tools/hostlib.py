"""lib/'s freestanding C built for the host as a shared library, for ctypes.

The stages' code is compiled with clang-14 (which tools/setup installs) with
warnings as errors, as the board's build is; the host's libc stands in for
lib/string.c unless a test builds that file itself.
"""

from __future__ import annotations

import ctypes
import subprocess
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLANG = "clang-14"


def build(library: Path, sources: Sequence[str], flags: Sequence[str] = ("-O1",)) -> ctypes.CDLL:
    """`sources` (paths from the repository's root) linked into `library`, loaded."""
    subprocess.run(
        [
            CLANG,
            "-std=gnu11",
            "-shared",
            "-fPIC",
            *flags,
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{REPO / 'lib' / 'include'}",
            "-o",
            str(library),
            *(str(REPO / source) for source in sources),
        ],
        check=True,
        timeout=120,
    )
    return ctypes.CDLL(str(library))
