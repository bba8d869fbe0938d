"""The boot test harness: targets, machines and the boots the tests read.

The fixtures choose the target (QEMU today, a board on a serial port later)
and call `run_boot`; the phase tests read the `Boot` it returns and never
learn which kind of target ran it.
"""
