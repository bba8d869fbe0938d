"""Children that Linux kills when the process that started them dies.

A tool that starts QEMU kills it on every way out it can see (a failed boot,
Ctrl-C, atexit), but none of its code runs when it is killed by SIGKILL or
crashes. For that, the forked child asks Linux before exec to send it
SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), and the setting
survives the exec of QEMU.

Linux's "parent" is the *thread* that forked: a child started from a worker
thread is killed when that thread ends, so such a thread must outlive its
children (a thread-pool worker that waits for its QEMU does).
"""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent_hook() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    # Looked up here, in the parent: the forked child should run as little
    # code as it can before exec (and nothing that takes a lock another
    # thread may have held at the fork).
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return die_with_parent


DIE_WITH_PARENT = _die_with_parent_hook()
"""`preexec_fn` for subprocess.Popen or pexpect.spawn: the child gets SIGKILL
when its parent dies; None where there is no prctl (pass it as it is)."""
