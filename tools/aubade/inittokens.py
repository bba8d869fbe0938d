"""Init tokens: the kernel's startup order, worked out from declarations.

Each component says, in a small `*.init` file next to its code, which init
functions it has, in which group they run and what they must come before or
after (docs/init.md describes the format). This module reads those files,
checks them, orders every group so that all constraints hold, and writes the
C table the kernel calls (`render_c`) or the listing `scons listinit` prints
(`render_listing`).

The order is a function of the declarations alone: among tokens that no
constraint orders, the one whose name sorts first runs first. Neither the
order of files nor the order of lines in a file changes it, so a dependency
that nobody declared cannot hide behind where something happens to be
written.

How the tree runs: the boot hart calls every leaf of the tree in order; the
other harts call the leaves that run on every hart (`harts every`, the
default), in the same order, and skip those of the boot hart (`harts boot`).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

HARTS = ("boot", "every")
NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
C_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
INCLUDE = re.compile(r'include\s+("[^"\s]+"|<[^>\s]+>)\s*\Z')
TERM = re.compile(r"(!?)([a-z_][a-z0-9_]*)(?:(!?=)(\S+))?\Z")


@dataclass(frozen=True)
class Place:
    """Where a declaration, or one of its lines, was written."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Problem:
    place: Place
    message: str

    def __str__(self) -> str:
        return f"{self.place}: error: {self.message}"


class InitTokenError(Exception):
    """The declarations cannot give an order; every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.place.path, p.place.line, p.message))
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class Constraint:
    """`before OTHER: reason` or `after OTHER: reason`."""

    kind: str
    other: str
    reason: str
    place: Place


@dataclass(frozen=True)
class Term:
    """One term of a condition: an option that is on (`debug`), off
    (`!debug`), equal to a value (`board=virt`) or not (`board!=virt`)."""

    option: str
    value: str | None
    negated: bool
    text: str

    def holds(self, config: Mapping[str, str]) -> bool:
        actual = config[self.option]
        result = actual not in ("", "0") if self.value is None else actual == self.value
        return result != self.negated


@dataclass
class Declaration:
    """One `init NAME` block."""

    name: str
    place: Place
    description: str = ""
    during: str | None = None
    during_place: Place | None = None
    constraints: list[Constraint] = field(default_factory=list)
    function: str | None = None
    function_place: Place | None = None
    harts: str | None = None
    harts_place: Place | None = None
    condition: tuple[Term, ...] = ()
    condition_place: Place | None = None


@dataclass
class Declarations:
    """What a set of `*.init` files says."""

    tokens: list[Declaration] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)


# 1. Reading the files.


def _attribute(declaration: Declaration, key: str, value: str, place: Place) -> str | None:
    """Records one attribute line; the problem with it, if any."""
    if key in ("before", "after"):
        other, colon, reason = value.partition(":")
        other, reason = other.strip(), reason.strip()
        if not NAME.match(other):
            return f"`{key}` needs a token name, not `{other}`"
        if not colon or not reason:
            return f"`{key} {other}` needs a reason: `{key} {other}: why it must be so`"
        declaration.constraints.append(Constraint(key, other, reason, place))
        return None
    if key in ("during", "function", "harts", "condition") and getattr(declaration, f"{key}_place"):
        return f"`{key}` given twice for {declaration.name}"
    if key == "during":
        if not NAME.match(value):
            return f"`during` needs a group's token name, not `{value}`"
        declaration.during, declaration.during_place = value, place
    elif key == "function":
        if not C_NAME.match(value):
            return f"`function` needs a C function name, not `{value}`"
        declaration.function, declaration.function_place = value, place
    elif key == "harts":
        if value not in HARTS:
            return f"`harts {value}`: use `harts boot` or `harts every`"
        declaration.harts, declaration.harts_place = value, place
    elif key == "condition":
        terms = []
        for text in value.split():
            match = TERM.match(text)
            if not match or (match[1] and match[3]):
                return (
                    f"condition term `{text}`: use OPTION, !OPTION, OPTION=VALUE or OPTION!=VALUE"
                )
            negated = bool(match[1]) or match[3] == "!="
            terms.append(Term(match[2], match[4], negated, text))
        if not terms:
            return "`condition` needs at least one term"
        declaration.condition, declaration.condition_place = tuple(terms), place
    else:
        return f"unknown attribute `{key}`: use during, before, after, function, harts, condition"
    return None


def parse(text: str, path: str, into: Declarations | None = None) -> Declarations:
    """The declarations of one file; InitTokenError if it is malformed."""
    declarations = into if into is not None else Declarations()
    problems: list[Problem] = []
    current: Declaration | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        place = Place(path, number)
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indented = line[0].isspace()
        words = line.split(None, 1)
        key, value = words[0], words[1].strip() if len(words) > 1 else ""
        if not indented and key == "init":
            name, _, description = value.partition(":")
            name = name.strip()
            if not NAME.match(name):
                problems.append(
                    Problem(place, f"`init` needs a token name (a-z, 0-9, _), not `{name}`")
                )
                current = None
                continue
            current = Declaration(name, place, description.strip())
            declarations.tokens.append(current)
        elif not indented and key == "include":
            if not INCLUDE.match(line):
                problems.append(Problem(place, 'use `include "header.h"` or `include <header.h>`'))
            else:
                declarations.includes.append(line.split(None, 1)[1].strip())
        elif not indented:
            problems.append(Problem(place, f"`{key}`: a line starts with `init NAME` or `include`"))
        elif current is None:
            problems.append(Problem(place, "an attribute outside any `init NAME` block"))
        elif problem := _attribute(current, key, value, place):
            problems.append(Problem(place, problem))
    if problems:
        raise InitTokenError(problems)
    return declarations


def load(paths: Iterable[Path], relative_to: Path | None = None) -> Declarations:
    """Every declaration of the files, named relative to `relative_to`."""
    declarations = Declarations()
    problems: list[Problem] = []
    for path in sorted(paths):
        name = str(path.relative_to(relative_to)) if relative_to else str(path)
        try:
            parse(path.read_text(), name, declarations)
        except InitTokenError as error:
            problems.extend(error.problems)
    if problems:
        raise InitTokenError(problems)
    return declarations


# 2. The tree, checked.


@dataclass
class Node:
    """A token in the tree: a group (children) or a leaf (function)."""

    declaration: Declaration
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    enabled: bool = True
    harts: str = "every"

    @property
    def name(self) -> str:
        return self.declaration.name

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def path(self) -> list[Node]:
        """From the root down to this node."""
        return [*reversed(list(self.ancestors())), self]


@dataclass(frozen=True)
class Call:
    """One init function call of the generated table."""

    token: str
    function: str
    group: str
    harts: str
    place: Place


@dataclass
class InitPlan:
    """The ordered tree and the calls each hart makes."""

    root: Node
    nodes: dict[str, Node]
    includes: tuple[str, ...]
    config: dict[str, str]
    boot_hart: tuple[Call, ...]
    other_harts: tuple[Call, ...]


def _build_tree(declarations: Declarations) -> tuple[Node, dict[str, Node]]:
    problems: list[Problem] = []
    nodes: dict[str, Node] = {}
    for declaration in declarations.tokens:
        if first := nodes.get(declaration.name):
            problems.append(
                Problem(
                    declaration.place,
                    f"token {declaration.name} is declared twice "
                    f"(first at {first.declaration.place})",
                )
            )
        else:
            nodes[declaration.name] = Node(declaration)

    roots = []
    for node in nodes.values():
        d = node.declaration
        if d.during is None:
            roots.append(node)
        elif d.during not in nodes:
            problems.append(
                Problem(d.during_place or d.place, f"unknown token {d.during} in `during`")
            )
        else:
            node.parent = nodes[d.during]
        problems.extend(
            Problem(c.place, f"unknown token {c.other} in `{c.kind}`")
            for c in d.constraints
            if c.other not in nodes
        )
    if not nodes:
        # No declaration to point at: name the files that should hold one.
        problems.append(
            Problem(Place("*.init", 0), "no init tokens: no *.init file has an `init NAME` line")
        )
    elif not roots:
        first = declarations.tokens[0]
        problems.append(Problem(first.place, "no root token: exactly one token has no `during`"))
    for extra in roots[1:]:
        problems.append(
            Problem(
                extra.declaration.place,
                f"{extra.name} has no `during`, but {roots[0].name} "
                f"({roots[0].declaration.place}) is the root already: say which group it is in",
            )
        )

    for node in nodes.values():
        seen = [node]
        parent = node.parent
        while parent is not None and parent not in seen:
            seen.append(parent)
            parent = parent.parent
        if parent is node:
            chain = " during ".join(n.name for n in seen) + f" during {node.name}"
            problems.append(
                Problem(
                    node.declaration.during_place or node.declaration.place,
                    f"{node.name} is inside itself: {chain}, which contradicts the group hierarchy",
                )
            )
    if problems:
        raise InitTokenError(problems)

    for node in nodes.values():
        if node.parent is not None:
            node.parent.children.append(node)
    for node in nodes.values():
        d = node.declaration
        if d.function and node.children:
            members = ", ".join(child.name for child in node.children)
            problems.append(
                Problem(
                    d.function_place or d.place,
                    f"{node.name} is a group ({members} run during it) and cannot have a "
                    f"function: give the function a token of its own inside {node.name}",
                )
            )
    if problems:
        raise InitTokenError(problems)
    return roots[0], nodes


def _settle(root: Node, config: Mapping[str, str]) -> None:
    """Each node's harts and whether its condition holds, from the top down."""
    problems: list[Problem] = []
    stack = [root]
    while stack:
        node = stack.pop()
        d = node.declaration
        parent_harts = node.parent.harts if node.parent else "every"
        node.harts = d.harts or parent_harts
        if node.harts == "every" and parent_harts == "boot":
            problems.append(
                Problem(
                    d.harts_place or d.place,
                    f"{node.name} says `harts every`, but its group {node.parent.name} runs on "
                    f"the boot hart only, which contradicts the group hierarchy",
                )
            )
        unknown = [t.option for t in d.condition if t.option not in config]
        if unknown:
            problems.append(
                Problem(
                    d.condition_place or d.place,
                    f"condition names unknown build option {unknown[0]}: "
                    f"known are {', '.join(sorted(config))}",
                )
            )
        holds = not unknown and all(term.holds(config) for term in d.condition)
        node.enabled = holds and (node.parent is None or node.parent.enabled)
        stack.extend(node.children)
    if problems:
        raise InitTokenError(problems)


# 3. Ordering.


@dataclass(frozen=True)
class Edge:
    """`first` runs before `second` (both children of one group), because of
    `constraint`, written in `owner`'s declaration, between tokens `left`
    and `right` that may sit deeper inside `first` and `second`."""

    first: str
    second: str
    constraint: Constraint
    owner: str
    left: str
    right: str

    @property
    def lifted(self) -> bool:
        return (self.first, self.second) != (self.left, self.right)

    def explain(self) -> str:
        c = self.constraint
        text = f"{c.place}: {self.owner} `{c.kind} {c.other}` ({c.reason})"
        inside = [
            f"{token} is in {group}"
            for token, group in ((self.left, self.first), (self.right, self.second))
            if token != group
        ]
        return text + "".join(f"; {part}" for part in inside)


def _edges(nodes: dict[str, Node]) -> tuple[dict[str, list[Edge]], list[Problem]]:
    """Every constraint between enabled tokens, lifted to the children of the
    group that holds both; keyed by that group."""
    by_group: dict[str, list[Edge]] = {}
    problems = []
    for node in nodes.values():
        if not node.enabled:
            continue
        for constraint in node.declaration.constraints:
            other = nodes[constraint.other]
            if not other.enabled:
                continue  # disabled by its condition: nothing to order against
            left, right = (node, other) if constraint.kind == "before" else (other, node)
            left_path, right_path = left.path(), right.path()
            if left is right:
                problems.append(
                    Problem(constraint.place, f"{node.name} cannot run {constraint.kind} itself")
                )
                continue
            if left in right_path or right in left_path:
                inner, outer = (left, right) if right in left_path else (right, left)
                problems.append(
                    Problem(
                        constraint.place,
                        f"`{constraint.kind} {constraint.other}` contradicts the group "
                        f"hierarchy: {inner.name} runs during {outer.name}, so it can be "
                        f"neither before nor after it",
                    )
                )
                continue
            depth = 0
            while left_path[depth] is right_path[depth]:
                depth += 1
            group = left_path[depth - 1].name
            by_group.setdefault(group, []).append(
                Edge(
                    left_path[depth].name,
                    right_path[depth].name,
                    constraint,
                    node.name,
                    left.name,
                    right.name,
                )
            )
    return by_group, problems


def _find_cycle(remaining: set[str], edges: list[Edge]) -> list[Edge]:
    """A cycle among tokens that all still have a predecessor: walk back
    along incoming edges (the smallest name first) until a token repeats."""
    incoming: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.first in remaining and edge.second in remaining:
            incoming.setdefault(edge.second, []).append(edge)
    walk: list[Edge] = []
    seen: dict[str, int] = {}
    token = min(remaining)
    while token not in seen:
        seen[token] = len(walk)
        edge = min(incoming[token], key=lambda e: (e.first, e.constraint.place.line))
        walk.append(edge)
        token = edge.first
    cycle = list(reversed(walk[seen[token] :]))
    start = min(range(len(cycle)), key=lambda i: cycle[i].first)
    return cycle[start:] + cycle[:start]


def _cycle_problem(group: str, cycle: list[Edge]) -> Problem:
    path = " -> ".join([edge.first for edge in cycle] + [cycle[0].first])
    lifted = any(edge.lifted for edge in cycle)
    headline = (
        f"a constraint contradicts the group hierarchy: in group {group} it makes a cycle {path}"
        if lifted
        else f"cycle in the init order of group {group}: {path}"
    )
    because = "".join(f"\n    {e.first} -> {e.second}: {e.explain()}" for e in cycle)
    place = next((e for e in cycle if e.lifted), cycle[0]).constraint.place
    return Problem(place, headline + because)


def _order(group: Node, edges: list[Edge]) -> tuple[list[Node], Problem | None]:
    """Kahn's algorithm, the smallest name first among the ready."""
    children = {child.name: child for child in group.children if child.enabled}
    successors: dict[str, set[str]] = {name: set() for name in children}
    waiting = dict.fromkeys(children, 0)
    for edge in edges:
        if edge.second not in successors[edge.first]:
            successors[edge.first].add(edge.second)
            waiting[edge.second] += 1
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        name = heapq.heappop(ready)
        order.append(children[name])
        for successor in successors[name]:
            waiting[successor] -= 1
            if waiting[successor] == 0:
                heapq.heappush(ready, successor)
    if len(order) == len(children):
        return order, None
    remaining = set(children) - {node.name for node in order}
    return order, _cycle_problem(group.name, _find_cycle(remaining, edges))


def plan(declarations: Declarations, config: Mapping[str, str]) -> InitPlan:
    """The ordered tree for this build configuration, or InitTokenError."""
    root, nodes = _build_tree(declarations)
    _settle(root, config)
    edges, problems = _edges(nodes)
    ordered: dict[str, list[Node]] = {}
    for node in nodes.values():
        if node.enabled and node.children:
            ordered[node.name], problem = _order(node, edges.get(node.name, []))
            if problem:
                problems.append(problem)
    if problems:
        raise InitTokenError(problems)
    # Left-out tokens follow, by name: a group left out has only those, and
    # keeping them as declared would let the listing change with the files.
    for node in nodes.values():
        node.children = ordered.get(node.name, []) + sorted(
            (child for child in node.children if not child.enabled), key=lambda n: n.name
        )

    calls = [
        Call(
            node.name,
            node.declaration.function,
            node.parent.name if node.parent else "",  # the root alone: a tree of one call
            node.harts,
            node.declaration.place,
        )
        for node in _walk(root)
        if node.enabled and node.declaration.function
    ]
    return InitPlan(
        root,
        nodes,
        tuple(sorted(set(declarations.includes))),  # like the calls: not where they are written
        dict(config),
        tuple(calls),
        tuple(call for call in calls if call.harts == "every"),
    )


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


# 4. What comes out.


def _config_text(config: Mapping[str, str]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(config.items()))


def render_listing(plan: InitPlan) -> str:
    """The hierarchy with conditions, then each hart's calls in order."""
    lines = [f"Init tokens for {_config_text(plan.config)}", "", "Hierarchy:"]
    for node in _walk(plan.root):
        d = node.declaration
        notes = []
        if d.harts or node.parent is None:
            notes.append(f"{node.harts} hart" if node.harts == "boot" else "every hart")
        if d.condition:
            state = "yes" if node.enabled else "no: left out"
            notes.append(f"if {' '.join(t.text for t in d.condition)}: {state}")
        elif not node.enabled:
            notes.append("left out with its group")
        label = f"{d.function}()" if d.function else ""
        text = f"{'  ' * (len(node.path()) - 1)}{node.name}"
        text += f"  {label}" if label else ""
        text += f"  [{'; '.join(notes)}]" if notes else ""
        text += f"  {d.description}" if d.description else ""
        lines.append(text.rstrip())
    for title, calls in (("boot hart", plan.boot_hart), ("other harts", plan.other_harts)):
        lines += ["", f"Call order on the {title}:"]
        width = max((len(call.token) for call in calls), default=0)
        group = ""
        for number, call in enumerate(calls, start=1):
            path = " > ".join(node.name for node in plan.nodes[call.token].path()[:-1])
            if path != group:
                group = path
                lines.append(f"  {group}:")
            lines.append(f"    {number:3}  {call.token:{width}}  {call.function}()")
    return "\n".join(lines) + "\n"


def render_c(plan: InitPlan) -> str:
    """The kernel's startup: a direct call per init function, in order."""
    index = {call.token: number for number, call in enumerate(plan.boot_hart)}
    out = [
        "/*",
        " * Generated by tools/aubade/inittokens.py from the *.init declarations for",
        f" * {_config_text(plan.config)}: do not edit. `scons listinit` shows the order.",
        " */",
        '#include "init.h"',
        *(f"#include {header}" for header in plan.includes),
        "",
        "const struct init_token init_tokens[] = {",
        *(
            f'    {{"{c.token}", "{c.function}", "{c.group}"}}, /* {c.place} */'
            for c in plan.boot_hart
        ),
        "};",
        "const unsigned init_token_count = sizeof(init_tokens) / sizeof(init_tokens[0]);",
    ]
    for function, calls in (
        ("init_boot_hart", plan.boot_hart),
        ("init_other_hart", plan.other_harts),
    ):
        out += ["", f"void {function}(void)", "{"]
        out += [f"    INIT_CALL({index[call.token]}, {call.function});" for call in calls]
        out.append("}")
    return "\n".join(out) + "\n"


def find_declarations(top: Path) -> list[Path]:
    """Every `*.init` file under `top`."""
    return sorted(top.rglob("*.init"))
