"""The boot test harness: the serial target and the boots the tests read.

The fixtures choose the target (QEMU today, a board on a serial port later)
and call `run_boot`; the phase tests read the `Boot` it returns and never
learn which kind of target ran it. The machine that reads a console, the
target interface and the QEMU target are shared with the tools, in
tools/aubade (machine.py, target.py, qemu_target.py). Every machine closed
in a session goes into the boot report (report.py, report_records.py,
report_page.py): build/test-report/index.html.
"""
