"""Read the facts the boot log reports from a flattened device tree (DTB).

Which harts the kernel runs on is not read here: that is the loader's
decision, and tools/aubade/boardcheck.py asks the loader's own code.

The `fdt` package returns every property as flat 32-bit cells and guesses
types from content: a cell whose bytes look like ASCII comes back as a
string. The property's bytes are rebuilt from whatever type it guessed, and
`reg` is decoded with the parent's #address-cells/#size-cells here.
"""

from __future__ import annotations

import posixpath
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fdt

# Defaults of the devicetree specification when a parent does not say.
_DEFAULT_ADDRESS_CELLS = 2
_DEFAULT_SIZE_CELLS = 1
_CELL = struct.Struct(">I")


class DeviceTreeError(Exception):
    """The device tree lacks a node or property, or one has the wrong shape."""


@dataclass(frozen=True)
class MemoryBank:
    base: int
    size: int

    @property
    def end(self) -> int:
        return self.base + self.size


@dataclass(frozen=True)
class Cpu:
    """A /cpus/cpu node."""

    hart_id: int


@dataclass(frozen=True)
class DeviceTree:
    memory: tuple[MemoryBank, ...]
    """DRAM banks of all `device_type = "memory"` nodes, by address."""
    bootargs: str
    """/chosen/bootargs, empty if absent."""
    cpus: tuple[Cpu, ...]
    """Every /cpus/cpu node, by hart id."""
    timebase_frequency: int
    """Hz of the `time` CSR."""


def read_device_tree(dtb: bytes | Path) -> DeviceTree:
    tree = fdt.parse_dtb(dtb if isinstance(dtb, bytes) else dtb.read_bytes())
    cpus = _node(tree, "/cpus")
    cpu_nodes = [node for node in cpus.nodes if _string(node, "device_type") == "cpu"]
    return DeviceTree(
        memory=tuple(sorted(_memory_banks(tree.root), key=lambda bank: bank.base)),
        bootargs=_string(_node(tree, "/chosen"), "bootargs"),
        cpus=tuple(sorted(map(_cpu, cpu_nodes), key=lambda cpu: cpu.hart_id)),
        timebase_frequency=_timebase_frequency(cpus, cpu_nodes),
    )


def _memory_banks(node: fdt.Node) -> Iterator[MemoryBank]:
    if _string(node, "device_type") == "memory" and _is_enabled(node):
        for base_cells, size_cells in _reg_entries(node):
            yield MemoryBank(_cells_value(base_cells), _cells_value(size_cells))
    for child in node.nodes:
        yield from _memory_banks(child)


def _cpu(node: fdt.Node) -> Cpu:
    return Cpu(hart_id=_cells_value(_reg(node)))


def _timebase_frequency(cpus: fdt.Node, cpu_nodes: list[fdt.Node]) -> int:
    # The specification allows the property on /cpus or on each cpu node.
    for node in (cpus, *cpu_nodes):
        cells = _cells(node, "timebase-frequency")
        if cells:
            return _cells_value(cells)
    raise DeviceTreeError("no timebase-frequency in /cpus or its cpu nodes")


def _reg_entries(node: fdt.Node) -> list[tuple[list[int], list[int]]]:
    """(address cells, size cells) of each entry of the node's `reg`."""
    address_cells = _parent_cells(node, "#address-cells", _DEFAULT_ADDRESS_CELLS)
    size_cells = _parent_cells(node, "#size-cells", _DEFAULT_SIZE_CELLS)
    cells = _reg(node)
    entry_cells = address_cells + size_cells
    if entry_cells == 0 or len(cells) % entry_cells:
        raise DeviceTreeError(
            f"{_where(node)}: reg has {len(cells)} cells, not a multiple of "
            f"#address-cells {address_cells} + #size-cells {size_cells}"
        )
    return [
        (cells[start : start + address_cells], cells[start + address_cells : start + entry_cells])
        for start in range(0, len(cells), entry_cells)
    ]


def _parent_cells(node: fdt.Node, name: str, default: int) -> int:
    cells = _cells(node.parent, name) if node.parent is not None else []
    return _cells_value(cells) if cells else default


def _reg(node: fdt.Node) -> list[int]:
    cells = _cells(node, "reg")
    if not cells:
        raise DeviceTreeError(f"{_where(node)}: no reg property")
    return cells


def _cells_value(cells: list[int]) -> int:
    """Combine big-endian 32-bit cells (most significant first) into one number."""
    value = 0
    for cell in cells:
        value = value << 32 | cell
    return value


def _cells(node: fdt.Node, name: str) -> list[int]:
    """The property as 32-bit cells; empty if the node does not have it."""
    raw = _raw_bytes(node.get_property(name))
    if len(raw) % _CELL.size:
        raise DeviceTreeError(f"{_where(node)}: {name} is not a list of 32-bit cells")
    return [cell for (cell,) in _CELL.iter_unpack(raw)]


def _string(node: fdt.Node, name: str) -> str:
    """The property's first string; empty if the node does not have it."""
    raw = _raw_bytes(node.get_property(name))
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")


def _raw_bytes(prop: fdt.Property | None) -> bytes:
    """The property's value as stored in the DTB, whatever type fdt guessed."""
    if isinstance(prop, fdt.PropWords):
        return b"".join(_CELL.pack(word) for word in prop.data)
    if isinstance(prop, fdt.PropStrings):
        # fdt takes a value for strings only if it is non-empty, printable
        # ASCII pieces each ended by one NUL, so this rebuilds it exactly.
        return b"".join(string.encode("ascii") + b"\0" for string in prop.data)
    if isinstance(prop, fdt.PropBytes):
        return bytes(prop.data)
    return b""


def _is_enabled(node: fdt.Node) -> bool:
    return _string(node, "status") in ("", "okay", "ok")


def _node(tree: fdt.FDT, path: str) -> fdt.Node:
    if not tree.exist_node(path):
        raise DeviceTreeError(f"no node {path} in the device tree")
    return tree.get_node(path)


def _where(node: fdt.Node) -> str:
    """The node's full path, for messages."""
    return posixpath.join(node.path, node.name)
