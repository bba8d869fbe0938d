"""Pictures of a boot, drawn from its serial log (issue 19).

`draw` is what tools/bootmap and `scons bootmap` call: the five memory
pictures of the boot's steps (memory.py) and the per-hart timeline
(timeline.py), from the same log into the same folder.
"""

from __future__ import annotations

from pathlib import Path

from aubade.bootmap.memory import Drawn, draw_boot_steps
from aubade.bootmap.timeline import draw_timeline


def draw(text: str, out_dir: Path) -> Drawn:
    """Every picture of the log's last boot; what the log lacks, once each."""
    parts = (draw_boot_steps(text, out_dir), draw_timeline(text, out_dir))
    return Drawn(
        files=tuple(path for part in parts for path in part.files),
        missing=tuple(dict.fromkeys(fact for part in parts for fact in part.missing)),
        labels=tuple(box for part in parts for box in part.labels),
    )
