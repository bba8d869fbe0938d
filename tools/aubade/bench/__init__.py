"""The benchmarks of tools/bench, one module per subcommand (floor.py: beside the firmware floor).

cli.py reads the command line and runs the subcommand; each subcommand's
module (boot.py, initcalls.py, sched.py, shell.py, u_boot.py, labgrid.py)
says what it measures in its docstring, its `--help`. What they share:
options.py (the options that say what to boot), boots.py (a QEMU boot on
aubade.machine's console loop), errors.py and table.py.

Before anything imports gRPC (labgrid's client, for `tools/bench labgrid`):
its fork handlers, which pexpect's fork of QEMU runs while the client's
threads are alive, now and then crash the child before it runs QEMU
(QEMU's target then ends with signal 11 at once, and the kernel's log
names gRPC's event_engine). gRPC reads the setting once, when it is
imported.
"""

import os

os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
