"""Aubade's gdb commands: harts, tasks, per-hart variables, the log, secondary harts.

Sourced by build/BOARD/gdbinit (tools/aubade/gdbinit.py writes it), inside
gdb's own Python: the standard library and the `gdb` module only. The gdbinit
calls `aubade_configure(...)` with the build's ELF paths before anything
here needs them.

QEMU's gdb stub shows each hart as a thread (`Thread 1.N` is CPU N-1), and
reads memory through the selected thread's MMU: a hart still running with
the MMU off (the loader, or a secondary hart in secondary_entry) cannot see
the kernel's upper half. The commands that read kernel data therefore read
it through a thread that can (_kernel_view), and say so when none can.

Per-hart state is C11 `_Thread_local`, reached through each hart's tp (the
kernel is built with -ftls-model=local-exec). gdb would ask the stub for
the TLS address (qGetTLSAddr), which QEMU does not serve, so `print
current_hart` fails; `aubade-percpu NAME` works it out instead: RISC-V uses
TLS variant I, so tp is the start of the hart's TLS block, and a TLS
symbol's st_value in the ELF is its offset in the PT_TLS segment, hence
address = tp + st_value.
"""

from __future__ import annotations

import os
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import gdb

# The function every panic calls first, before the other harts stop and the
# machine powers off (kernel/debug/panic.c): the gdbinit breaks there.
PANIC_BREAKPOINT = "panic_breakpoint"

# current_hart's value in the TLS template, until percpu_init() (kernel/boot/percpu.c).
HART_UNKNOWN = (1 << 64) - 1
_PRIVILEGE = {0: "U", 1: "S", 3: "M"}
_TASK_STATES = {0: "running", 1: "runnable", 2: "sleeping", 3: "blocked", 4: "dead"}

_paths: dict[str, str] = {}
# Per kernel.elf path and mtime: its STT_TLS symbols, name -> offsets.
_tls_cache: dict[tuple[str, float], dict[str, list[int]]] = {}

T = TypeVar("T")


def aubade_configure(kernel: str, loader: str, user: str, objcopy: str = "") -> None:
    """Called by the gdbinit: the build's ELFs, and the objcopy that
    aubade-break-secondary uses to cut secondary_entry's symbols out."""
    _paths.update(kernel=kernel, loader=loader, user=user, objcopy=objcopy)


class AubadeError(gdb.GdbError):
    pass


def _path(name: str) -> str:
    if name not in _paths:
        raise AubadeError("aubade: aubade_configure() has not run: source build/BOARD/gdbinit")
    return _paths[name]


# --- The kernel's ELF: TLS offsets ------------------------------------------


def _elf_tls_symbols(path: str) -> dict[str, list[int]]:
    """STT_TLS symbols of an ELF64 little-endian file: name -> st_values."""
    key = (path, os.path.getmtime(path))
    if key in _tls_cache:
        return _tls_cache[key]
    with open(path, "rb") as elf:
        data = elf.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise AubadeError(f"aubade: {path} is not a 64-bit little-endian ELF")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
    ]
    symbols: dict[str, list[int]] = {}
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        strtab_offset = sections[link][4]
        for at in range(offset, offset + size, entsize):
            st_name, st_info, _other, _shndx, st_value, _size = struct.unpack_from(
                "<IBBHQQ", data, at
            )
            if st_info & 0xF != 6:  # STT_TLS
                continue
            end = data.index(b"\0", strtab_offset + st_name)
            name = data[strtab_offset + st_name : end].decode()
            symbols.setdefault(name, []).append(st_value)
    _tls_cache[key] = symbols
    return symbols


def _symbol_type(name: str) -> gdb.Type:
    symbol = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    if symbol is None:
        symbol = gdb.lookup_symbol(name)[0]
    if symbol is None:
        raise AubadeError(f"aubade: no symbol {name!r} in the kernel's debug information")
    return symbol.type


# --- Threads, harts and reading kernel memory ----------------------------


@contextmanager
def _on_thread(thread: gdb.InferiorThread) -> Iterator[None]:
    """Selects `thread` for the block, then the thread (and frame) selected before."""
    before = gdb.selected_thread()
    try:
        frame = gdb.selected_frame() if before is not None else None
    except gdb.error:
        frame = None
    thread.switch()
    try:
        yield
    finally:
        if before is not None and before.is_valid():
            before.switch()
            if frame is not None and frame.is_valid():
                frame.select()


@contextmanager
def _no_confirm() -> Iterator[None]:
    """Loading symbols asks `(y or n)` at a terminal: not in a command."""
    confirm = gdb.parameter("confirm")
    gdb.execute("set confirm off")
    try:
        yield
    finally:
        gdb.execute(f"set confirm {'on' if confirm else 'off'}")


def _threads() -> list[gdb.InferiorThread]:
    return sorted(gdb.selected_inferior().threads(), key=lambda thread: thread.num)


def _cpu_index(thread: gdb.InferiorThread) -> int:
    """QEMU's CPU index of a thread (`Thread 1.N` is CPU N-1): on QEMU's
    machines, the hart id."""
    return thread.ptid[1] - 1


def _read_kernel(reader: Callable[[], T]) -> T:
    """reader()'s answer through the selected thread, or through the first
    that can read the kernel's half (the selected one may run with the MMU off)."""
    try:
        return reader()
    except gdb.MemoryError:
        pass
    for thread in _threads():
        with _on_thread(thread):
            try:
                return reader()
            except gdb.MemoryError:
                continue
    raise AubadeError("aubade: no hart can read the kernel's memory yet (MMU off everywhere?)")


def _boot_info() -> gdb.Value | None:
    """The kernel's BootInfo (a struct boot_info *), or None before the
    kernel has it: boot_info, then handed_boot_info (set first in
    kernel_main), then kernel_main's argument in the selected thread."""
    unreadable: gdb.MemoryError | None = None
    for name in ("boot_info", "handed_boot_info"):
        try:
            pointer = gdb.parse_and_eval(name)
            if int(pointer) != 0 and int(pointer["magic"]) == 0x4F464E49544F4F42:
                return pointer
        except gdb.MemoryError as error:
            unreadable = error  # this hart's MMU does not map it: _read_kernel tries another
        except gdb.error:
            continue
    # Stopped at kernel_main's first line, before it keeps its argument.
    try:
        frame: gdb.Frame | None = gdb.newest_frame()
        while frame is not None:
            if frame.name() == "kernel_main":
                pointer = frame.read_var("info")
                if int(pointer["magic"]) == 0x4F464E49544F4F42:
                    return pointer
            frame = frame.older()
    except gdb.error:
        pass
    if unreadable is not None:
        raise unreadable
    return None


def _hart_tls_blocks() -> list[tuple[int, int, int]]:
    """(index, hart id, TLS block) of each hart BootInfo lists."""

    def read() -> list[tuple[int, int, int]]:
        info = _boot_info()
        if info is None:
            return []
        harts = info["harts"]
        return [
            (i, int(harts[i]["hart_id"]), int(harts[i]["tls"]))
            for i in range(int(info["hart_count"]))
        ]

    return _read_kernel(read)


def _register(name: str) -> int | None:
    try:
        return int(gdb.parse_and_eval(f"${name}"))
    except gdb.error:
        return None


def _describe_pc(pc: int) -> str:
    block = gdb.current_progspace().block_for_pc(pc)
    function = block.function if block is not None else None
    while block is not None and function is None:
        block = block.superblock
        function = block.function if block is not None else None
    name = function.name if function is not None else None
    if name is None:
        minimal = gdb.execute(f"info symbol {pc:#x}", to_string=True).strip()
        name = None if minimal.startswith("No symbol") else minimal.split(" in section")[0]
    where = gdb.find_pc_line(pc)
    line = f" at {where.symtab.filename}:{where.line}" if where.symtab is not None else ""
    return f"{pc:#x} {name or '??'}{line}"


# --- Tasks ---------------------------------------------------------------


def _task_fields(task: gdb.Value) -> dict[str, object]:
    """A struct task read into Python: gdb's values are lazy, and must be
    read while a thread that can see the kernel's half is selected."""
    return {
        "id": int(task["id"]),
        "name": task["name"].string(length=-1).split("\0")[0],
        "state": int(task["state"]),
        "hart": int(task["hart"]),
        "on_cpu": bool(task["on_cpu"]),
        "idle": bool(task["idle"]),
        "pinned": bool(task["pinned"]),
        "ra": int(task["context"]["ra"]),
        "sp": int(task["context"]["sp"]),
    }


def _task_text(task: dict[str, object]) -> str:
    return f"{task['name']!r} id={task['id']}"


def _current_tasks() -> dict[int, dict[str, object]]:
    """Each hart's running task, by its index in BootInfo, from sched.c's run
    queues (a hart whose scheduler has not started has none)."""

    def read() -> dict[int, dict[str, object]]:
        info = _boot_info()
        if info is None:
            return {}
        queues = gdb.parse_and_eval("'sched.c'::run_queues")
        current = {}
        for i in range(int(info["hart_count"])):
            if not bool(queues[i]["started"]):
                continue
            task = queues[i]["current"]
            if int(task) != 0:
                current[i] = _task_fields(task.dereference())
        return current

    try:
        return _read_kernel(read)
    except (gdb.error, gdb.GdbError):
        return {}


def _all_tasks() -> list[dict[str, object]]:
    """Every task, from task.c's list of every task (all_tasks, next_in_list)."""

    def read() -> list[dict[str, object]]:
        tasks = []
        task = gdb.parse_and_eval("'task.c'::all_tasks")
        while int(task) != 0 and len(tasks) < 100000:
            tasks.append(_task_fields(task.dereference()))
            task = task["next_in_list"]
        return tasks

    return _read_kernel(read)


def _kernel_tp(blocks: dict[int, int]) -> int | None:
    """The TLS block of the selected thread's hart: its tp in the kernel; in
    U-mode, where tp is the user's, the kernel_tp of the struct user_entry
    that sscratch points at (kernel/trap/entry.S). None before the hart has
    a TLS block the kernel knows (`blocks`: TLS block -> hart id)."""
    tp = _register("tp")
    if tp in blocks:
        return tp
    if blocks and _register("priv") == 0:
        sscratch = _register("sscratch")
        if sscratch:
            kernel_tp = _read_kernel(
                lambda: int(gdb.Value(sscratch + 8).cast(_u64_pointer()).dereference())
            )
            if kernel_tp in blocks:
                return kernel_tp
    return None


def _u64_pointer() -> gdb.Type:
    return gdb.lookup_type("unsigned long").pointer()


class Harts(gdb.Command):
    """aubade-harts: each hart (gdb thread): its hart id, privilege mode, PC and
    running task.

    The hart id is the one BootInfo lists for the TLS block at the hart's tp;
    before the hart has its TLS block (the loader, a secondary hart's first
    instructions), QEMU's CPU index, marked `cpu`. The privilege is QEMU's
    $priv virtual register (U, S or M). The task is the one its run queue
    says runs there, once the hart's scheduler has started."""

    def __init__(self) -> None:
        super().__init__("aubade-harts", gdb.COMMAND_STATUS)

    def invoke(self, argument: str, from_tty: bool) -> None:
        try:
            harts = _hart_tls_blocks()
        except AubadeError:
            # Every hart in M-mode (firmware) or running with the MMU off.
            gdb.write("(no hart maps the kernel now: ids are QEMU's CPU indexes)\n")
            harts = []
        by_tls = {tls: (index, hart_id) for index, hart_id, tls in harts}
        blocks = {tls: hart_id for _index, hart_id, tls in harts}
        current = _current_tasks()
        selected = gdb.selected_thread()
        for thread in _threads():
            with _on_thread(thread):
                pc = _register("pc")
                tp = _register("tp")
                priv = _register("priv")
                where = _describe_pc(pc) if pc is not None else "pc unknown"
                kernel_tp = _kernel_tp(blocks)
            mark = "*" if selected is not None and thread.num == selected.num else " "
            if kernel_tp is not None:
                index, hart_id = by_tls[kernel_tp]
                who = f"hart {hart_id}"
                task = current.get(index)
                task_text = f" task {_task_text(task)}" if task is not None else ""
            else:
                who = f"cpu {_cpu_index(thread)}"
                task_text = ""
            mode = _PRIVILEGE.get(priv, "?") if priv is not None else "?"
            tp_text = f"{tp:#x}" if tp is not None else "?"
            line = f"{mark} thread {thread.num}: {who} mode={mode} pc={where} tp={tp_text}"
            gdb.write(f"{line}{task_text}\n")


class Tasks(gdb.Command):
    """aubade-tasks: every task in the kernel's list of every task, with its
    state, the hart whose run queue it is on (or last ran from), and its saved
    context: the PC it resumes at (context.ra) and its sp. A task running on a
    hart has no saved context: its ra and sp are stale, marked `(on cpu)`;
    see aubade-harts for where it runs."""

    def __init__(self) -> None:
        super().__init__("aubade-tasks", gdb.COMMAND_STATUS)

    def invoke(self, argument: str, from_tty: bool) -> None:
        tasks = _all_tasks()
        if not tasks:
            gdb.write("no tasks yet (the scheduler has not started)\n")
            return
        gdb.write(f"{'id':>4} {'name':<16} {'state':<9} hart  saved pc / sp\n")
        for task in tasks:
            name = task["name"]
            state = _TASK_STATES.get(task["state"], str(task["state"]))
            flags = "".join(
                text for field, text in (("idle", " idle"), ("pinned", " pinned")) if task[field]
            )
            ra = task["ra"]
            sp = task["sp"]
            if task["on_cpu"]:
                saved = "(on cpu)"
            else:
                saved = f"{_describe_pc(ra)} sp={sp:#x}" if ra else f"- sp={sp:#x}"
            gdb.write(f"{task['id']:>4} {name:<16} {state:<9} {task['hart']:>4}  {saved}{flags}\n")


def _percpu_address(name: str, tls: int) -> int:
    offsets = _elf_tls_symbols(_path("kernel")).get(name)
    if not offsets:
        raise AubadeError(f"aubade: {name!r} is not a _Thread_local variable of the kernel")
    if len(offsets) > 1:
        gdb.write(f"warning: {len(offsets)} TLS variables named {name!r}; showing the first\n")
    return tls + offsets[0]


class Percpu(gdb.Command):
    """aubade-percpu NAME [HART]: the kernel's _Thread_local variable NAME on a hart.

    Without HART: on the selected thread's hart, through its tp. With HART:
    the hart with that id, through its TLS block in BootInfo
    (boot_info->harts[i].tls), whichever thread is selected. The address is
    tp + the variable's offset in the PT_TLS segment (its ELF st_value)."""

    def __init__(self) -> None:
        super().__init__("aubade-percpu", gdb.COMMAND_DATA, gdb.COMPLETE_SYMBOL)

    def invoke(self, argument: str, from_tty: bool) -> None:
        words = gdb.string_to_argv(argument)
        if len(words) not in (1, 2):
            raise AubadeError("usage: aubade-percpu NAME [HART]")
        name = words[0]
        if len(words) == 2:
            hart_id = int(words[1], 0)
            blocks = {hart: tls for _index, hart, tls in _hart_tls_blocks()}
            if hart_id not in blocks:
                raise AubadeError(f"aubade: BootInfo lists no hart {hart_id}")
            tls = blocks[hart_id]
            whose = f"hart {hart_id}"
        else:
            try:
                known = {tls: hart for _index, hart, tls in _hart_tls_blocks()}
            except AubadeError:
                known = {}  # no hart maps the kernel now: tp cannot be checked
            kernel_tp = _kernel_tp(known)
            tp = _register("tp")
            if kernel_tp is not None:
                tls, whose = kernel_tp, f"hart {known[kernel_tp]}"
            elif known:
                # secondary_entry before its `ld tp`, the loader, firmware.
                raise AubadeError(
                    f"aubade: this hart's tp ({tp:#x}) is no TLS block BootInfo lists: it has "
                    "not loaded it yet (stop at secondary_continue or later), or give HART"
                )
            elif tp is None:
                raise AubadeError("aubade: cannot read tp")
            elif tp < 1 << 63:
                # Every TLS block is in the kernel's half: this tp is the firmware's,
                # the loader's or a user program's.
                raise AubadeError(
                    f"aubade: this hart's tp ({tp:#x}) is no kernel TLS block: it has not "
                    "loaded one yet (stop at secondary_continue or later)"
                )
            else:
                # Before BootInfo: the loader set tp before it entered the kernel.
                tls, whose = tp, f"tp {tp:#x}, unchecked (no BootInfo to check it against)"
        address = _percpu_address(name, tls)
        value_type = _symbol_type(name)

        def read() -> str:
            value = gdb.Value(address).cast(value_type.pointer()).dereference()
            return value.format_string()  # reads through this thread's MMU

        text = _read_kernel(read)
        if name == "current_hart" and text == str(HART_UNKNOWN):
            text += " (HART_UNKNOWN: percpu_init() has not run on this hart yet)"
        gdb.write(f"{name}@{whose} (at {address:#x}) = {text}\n")


class Log(gdb.Command):
    """aubade-log: the last lines the log wrote, and any line a hart is writing.

    lib/log.c keeps the last 4 KiB it wrote (`log_history`) in each stage:
    the kernel's once the kernel has logged and a hart can read its half,
    else the loader's. Then, for each hart in the middle of a log call, the
    line it is composing (its `struct line` on the stack), which a hart
    stopped in a panic or on a hung console has not written yet."""

    _FUNCTIONS = ("log_vline", "log_vdetail", "log_write", "log_text", "line_flush", "line_sink")

    def __init__(self) -> None:
        super().__init__("aubade-log", gdb.COMMAND_STATUS)

    def invoke(self, argument: str, from_tty: bool) -> None:
        for stage in ("kernel", "loader"):
            history = self._history(_paths.get(stage, ""))
            if history:
                gdb.write(f"the {stage}'s log, its last {len(history)} bytes:\n")
                gdb.write(history.decode(errors="replace").replace("\r", ""))
                break
        else:
            gdb.write("nothing logged yet\n")
        for thread in _threads():
            with _on_thread(thread):
                text = self._line_in_progress()
            if text is not None:
                gdb.write(f"thread {thread.num} is writing: {text!r}\n")

    @staticmethod
    def _history(path: str) -> bytes | None:
        """The stage's log history in the order written, None if unreadable."""
        objfile = next((o for o in gdb.objfiles() if o.filename == path), None)
        if objfile is None:
            return None
        buffer = objfile.lookup_static_symbol("log_history")
        written = objfile.lookup_static_symbol("log_history_written")
        if buffer is None or written is None:
            return None

        def read() -> tuple[bytes, int]:
            address = int(buffer.value().address)
            size = buffer.type.sizeof
            data = bytes(gdb.selected_inferior().read_memory(address, size))
            return data, int(written.value())

        try:
            data, count = _read_kernel(read)
        except AubadeError:
            return None
        if count <= len(data):
            return data[:count]
        start = count % len(data)
        return data[start:] + data[:start]

    def _line_in_progress(self) -> str | None:
        try:
            frame: gdb.Frame | None = gdb.newest_frame()
        except gdb.error:
            return None
        depth = 0
        while frame is not None and depth < 64:
            if frame.name() in self._FUNCTIONS:
                try:
                    line = frame.read_var("line")
                    if line.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
                        line = line.dereference()
                    length = min(int(line["len"]), 256)
                    return bytes(int(line["text"][i]) & 0xFF for i in range(length)).decode(
                        errors="replace"
                    )
                except (gdb.error, ValueError):
                    pass
            try:
                frame = frame.older()
            except gdb.error:
                return None
            depth += 1
        return None


class Symbols(gdb.Command):
    """aubade-symbols: reloads kernel.elf's symbols where the running boot put the kernel.

    The loader maps the kernel at BootInfo's kernel_virt.start, its link
    address plus KASLR's slide, and the breakpoint at its handoff reloads the
    symbols there on its own. For a session attached after the handoff, run
    it once the kernel has BootInfo (from kernel_main on): it reads
    kernel_virt.start, and, when that differs from where the symbols are,
    reloads them at the difference (`symbol-file kernel.elf -o DELTA`)."""

    def __init__(self) -> None:
        super().__init__("aubade-symbols", gdb.COMMAND_FILES)

    def invoke(self, argument: str, from_tty: bool) -> None:
        kernel = _path("kernel")
        info = _read_kernel(_boot_info)
        if info is None:
            raise AubadeError("aubade: the kernel has no BootInfo yet: stop in kernel_main first")
        running = _read_kernel(lambda: int(info["kernel_virt"]["start"]))
        linked = _elf_entry_base(kernel)
        delta = running - linked
        if delta == _kernel_delta[0]:
            where = "its link address" if delta == 0 else f"{delta:+#x} from its link address,"
            gdb.write(f"kernel at {where} {running:#x}: symbols are right\n")
            return
        _reload_kernel(delta)
        gdb.write(f"kernel.elf's symbols reloaded at offset {delta:#x}\n")


class _KernelPlacement(gdb.Breakpoint):
    """Where the loader hands over (enter_kernel, loader/start.S), before the
    kernel's first instruction: the entry it jumps to (a1) against
    kernel.elf's says where the kernel will run, which KASLR makes a new
    place each boot. Where that is not where the symbols are, it reloads
    them at the difference and goes on without stopping, so that every
    breakpoint in the kernel, set before or after, lands where the kernel
    really runs."""

    def __init__(self) -> None:
        super().__init__("enter_kernel", internal=True)

    def stop(self) -> bool:
        # gdb reads a register as signed; the difference is one either way.
        distance = int(gdb.parse_and_eval("$a1")) - _elf_entry(_path("kernel"))
        delta = (distance + (1 << 63)) % (1 << 64) - (1 << 63)
        if delta != _kernel_delta[0]:
            _reload_kernel(delta)
            gdb.write(
                f"aubade: the loader places the kernel {delta:+#x} from its link address "
                "(KASLR): its symbols are reloaded there\n"
            )
        return False


# The offset kernel.elf's symbols are loaded at (0: its link address).
_kernel_delta = [0]


def _watch_kernel_placement() -> None:
    """Called by the gdbinit: the kernel's symbols follow where it is placed."""
    _KernelPlacement()


def _elf_entry(path: str) -> int:
    with open(path, "rb") as elf:
        return struct.unpack_from("<Q", elf.read(0x20), 0x18)[0]


def _reload_kernel(delta: int) -> None:
    """kernel.elf's symbols `delta` bytes from its link address; the loader's
    and PID 1's again (symbol-file drops every symbol file)."""
    with _no_confirm():
        gdb.execute(f"symbol-file {_path('kernel')} -o {delta:#x}")
        for name in ("loader", "user"):
            gdb.execute(f"add-symbol-file {_path(name)}")
    _kernel_delta[0] = delta
    _entry_symbols.clear()


def _elf_entry_base(path: str) -> int:
    """The lowest p_vaddr of a PT_LOAD segment: the kernel's link base."""
    with open(path, "rb") as elf:
        data = elf.read()
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    bases = []
    for i in range(phnum):
        kind, _flags, _offset, vaddr = struct.unpack_from("<IIQQ", data, phoff + i * phentsize)
        if kind == 1:  # PT_LOAD
            bases.append(vaddr)
    return min(bases)


# The symbols of start.S's entry, loaded at the physical alias by
# aubade-break-secondary: (objfile path, delta) once loaded.
_entry_symbols: dict[str, object] = {}


class BreakSecondary(gdb.Command):
    """aubade-break-secondary [continue]: stops each secondary hart as it enters the kernel.

    A secondary hart enters at the PHYSICAL address of secondary_entry
    (kernel/start.S) with the MMU off, so `break secondary_entry` (virtual)
    never hits. This breaks at the physical alias, kernel_phys.start +
    (secondary_entry - kernel_virt.start), from the kernel's BootInfo, and
    loads start.S's entry symbols there, so that gdb names the stop
    `secondary_entry`: a small ELF, cut out of kernel.elf with objcopy
    (the one symbol, no debug information, so that nothing else, not even
    secondary_continue, gets a second address). There tp is not yet loaded: step to
    secondary_continue (virtual, MMU on, tp set) or on to percpu_init()'s
    return before reading per-hart variables.

    `aubade-break-secondary continue` breaks at secondary_continue instead:
    the first virtual instruction, where tp and the stack are the hart's.

    Run it once the kernel has BootInfo (a stop in kernel_main or later) and
    before the boot hart starts the others (init_boot_hart's SMP step)."""

    def __init__(self) -> None:
        super().__init__("aubade-break-secondary", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, argument: str, from_tty: bool) -> None:
        if argument.strip() == "continue":
            gdb.execute("break secondary_continue")
            return
        if argument.strip():
            raise AubadeError("usage: aubade-break-secondary [continue]")
        info = _read_kernel(_boot_info)
        if info is None:
            raise AubadeError(
                "aubade: the kernel has no BootInfo yet: stop in kernel_main or later first"
            )

        def read() -> tuple[int, int, int]:
            return (
                int(info["kernel_phys"]["start"]),
                int(info["kernel_virt"]["start"]),
                int(gdb.parse_and_eval("(unsigned long)&secondary_entry")),
            )

        phys_start, virt_start, entry = _read_kernel(read)
        delta = phys_start - virt_start
        # The cut-out has kernel.elf's link addresses: where the kernel runs
        # is delta away, and the link address a slide below that.
        self._load_entry_symbols(delta + _kernel_delta[0])
        gdb.execute(f"break *{entry + delta:#x}")
        gdb.write(f"secondary_entry's physical alias: {entry + delta:#x} (virtual {entry:#x})\n")

    @staticmethod
    def _load_entry_symbols(delta: int) -> None:
        if _entry_symbols.get("delta") == delta:
            return
        objcopy = _path("objcopy") or "riscv64-unknown-elf-objcopy"
        out = os.path.join(tempfile.gettempdir(), f"aubade-entry-{os.getpid()}.elf")
        command = [
            objcopy,
            "--only-section=.text",
            "--strip-all",
            "--keep-symbol=secondary_entry",
            _path("kernel"),
            out,
        ]
        try:
            subprocess.run(command, check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as error:
            gdb.write(f"warning: no entry symbols ({error}): the stop will be unnamed\n")
            return
        with _no_confirm():
            if "path" in _entry_symbols:
                gdb.execute(f"remove-symbol-file {_entry_symbols['path']}", to_string=True)
            gdb.execute(f"add-symbol-file {out} -o {delta:#x}", to_string=True)
        _entry_symbols.update(path=out, delta=delta)


def _set_panic_breakpoint() -> None:
    """The breakpoint every panic stops at before the power-off."""
    if gdb.lookup_global_symbol(PANIC_BREAKPOINT) is None:
        gdb.write(f"warning: the kernel has no {PANIC_BREAKPOINT}(): no panic stop\n")
        return
    gdb.Breakpoint(PANIC_BREAKPOINT)


Harts()
Tasks()
Percpu()
Log()
Symbols()
BreakSecondary()
