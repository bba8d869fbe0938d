"""The payload: what the loader carries (`.incbin`) and loads at boot.

For now the payload is the kernel ELF, byte for byte; the loader parses it
itself. Other programs may later travel beside the kernel in the same file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from aubade.elfcheck import CheckedElf, check_kernel_elf


def write_payload(kernel: Path, out: Path) -> CheckedElf:
    """Checks the kernel ELF, then writes the payload; nothing is written if the check fails."""
    checked_kernel = check_kernel_elf(kernel)
    shutil.copyfile(kernel, out)
    return checked_kernel
