"""The benchmarks of tools/bench, one module per subcommand (floor.py: beside the firmware floor).

cli.py reads the command line and runs the subcommand; each subcommand's
module (boot.py, initcalls.py, sched.py, shell.py, u_boot.py) says what it
measures in its docstring, its `--help`. What they share: options.py (the
options that say what to boot), boots.py (a QEMU boot on aubade.machine's
console loop), errors.py and table.py.
"""
