"""Init tokens: reading `*.init` declarations, the errors they can make, and the plan."""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import pytest
from configurations import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from aubade.inittokens import (
    Call,
    Declarations,
    InitPlan,
    InitTokenError,
    Place,
    Problem,
    find_declarations,
    load,
    parse,
    plan,
    render_c,
    render_listing,
)

PATH = "fixture.init"
CONFIG = {"board": "virt", "debug": "1"}

# A small tree that uses every attribute; most tests change a line or two of it.
STARTUP = dedent("""\
    include "kernel.h"
    # The root: everything runs during it.
    init startup: the kernel's startup
    init early: memory before anything else
        during startup
        harts boot
    init frames: the page frame allocator
        during early
        function frames_init
    init heap
        during early
        function heap_init
        after frames: the heap takes its pages from the frame allocator
    init traps
        during startup
        function traps_init
        after early: a trap handler may allocate
    init checks
        during startup
        function checks_init
        condition debug board=virt
    init timer
        during startup
        function timer_init
        before traps: the trap handler reads the timer's state
""")


def line_of(text: str, snippet: str) -> int:
    """The number of the one line of `text` that holds `snippet`."""
    numbers = [n for n, line in enumerate(text.splitlines(), start=1) if snippet in line]
    assert len(numbers) == 1, f"{snippet!r} is on lines {numbers}"
    return numbers[0]


def planned(text: str, config: dict[str, str] | None = None) -> InitPlan:
    return plan(parse(text, PATH), CONFIG if config is None else config)


def failure(text: str, config: dict[str, str] | None = None) -> InitTokenError:
    """The error of reading and planning `text`: there must be one."""
    with pytest.raises(InitTokenError) as caught:
        planned(text, config)
    return caught.value


def only_error(text: str, config: dict[str, str] | None = None) -> str:
    """The error text (`path:line: error: message`, perhaps more lines) of the one problem."""
    error = failure(text, config)
    assert len(error.problems) == 1, str(error)
    return str(error)


def tokens(calls: tuple[Call, ...]) -> list[str]:
    return [call.token for call in calls]


def edit(text: str, old: str, new: str) -> str:
    """`text` with its one occurrence of `old` replaced."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


# Reading: each malformed line is named with its file and line.


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "    requires frames",
            "unknown attribute `requires`: use during, before, after, function, harts, condition",
        ),
        ("    before traps", "`before traps` needs a reason: `before traps: why it must be so`"),
        ("    after traps:", "`after traps` needs a reason: `after traps: why it must be so`"),
        ("    after traps:   ", "`after traps` needs a reason: `after traps: why it must be so`"),
        ("    before : no token", "`before` needs a token name, not ``"),
        (
            "    before: no space",
            "unknown attribute `before:`: use during, before, after, function, harts, condition",
        ),
        ("    before Traps: capital", "`before` needs a token name, not `Traps`"),
        ("    harts all", "`harts all`: use `harts boot` or `harts every`"),
        ("    function 2fast", "`function` needs a C function name, not `2fast`"),
        ("    condition", "`condition` needs at least one term"),
    ],
)
def test_malformed_attribute_is_named_with_its_line(line: str, message: str) -> None:
    text = edit(STARTUP, "init frames: the page frame allocator\n", f"init frames\n{line}\n")
    with pytest.raises(InitTokenError) as caught:
        parse(text, PATH)
    assert str(caught.value) == f"{PATH}:{line_of(text, 'init frames') + 1}: error: {message}"


@pytest.mark.parametrize("line", ["during early", "function f", "harts boot", "condition debug"])
def test_attribute_given_twice_is_named_at_the_second(line: str) -> None:
    text = edit(STARTUP, "kernel's startup\n", f"kernel's startup\n    {line}\n    {line}\n")
    with pytest.raises(InitTokenError) as caught:
        parse(text, PATH)
    key = line.split()[0]
    assert str(caught.value) == f"{PATH}:5: error: `{key}` given twice for startup"


@pytest.mark.parametrize("term", ["!board=virt", "!board!=virt", "Debug", "board=", "=virt", "-x"])
def test_bad_condition_term_is_named(term: str) -> None:
    text = edit(STARTUP, "condition debug board=virt", f"condition debug {term}")
    with pytest.raises(InitTokenError) as caught:
        parse(text, PATH)
    assert str(caught.value) == (
        f"{PATH}:{line_of(text, 'condition debug')}: error: condition term `{term}`: "
        "use OPTION, !OPTION, OPTION=VALUE or OPTION!=VALUE"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("init Frames", "`init` needs a token name (a-z, 0-9, _), not `Frames`"),
        ("init two words: x", "`init` needs a token name (a-z, 0-9, _), not `two words`"),
        ("token frames", "`token`: a line starts with `init NAME` or `include`"),
        ("include kernel.h", 'use `include "header.h"` or `include <header.h>`'),
        ('include "kernel.h" extra', 'use `include "header.h"` or `include <header.h>`'),
    ],
)
def test_malformed_top_level_line_is_named(line: str, message: str) -> None:
    text = STARTUP + line + "\n"
    with pytest.raises(InitTokenError) as caught:
        parse(text, PATH)
    assert str(caught.value) == f"{PATH}:{len(text.splitlines())}: error: {message}"


def test_attribute_before_any_init_is_named() -> None:
    with pytest.raises(InitTokenError) as caught:
        parse("# a comment\n    during startup\ninit startup\n", PATH)
    assert str(caught.value) == f"{PATH}:2: error: an attribute outside any `init NAME` block"


def test_every_malformed_line_of_a_file_is_named_in_line_order() -> None:
    text = dedent("""\
        init startup
            during
        init x
            during startup
            before startup
            colour blue
    """)
    with pytest.raises(InitTokenError) as caught:
        parse(text, PATH)
    assert [(p.place, p.message.split(":")[0]) for p in caught.value.problems] == [
        (Place(PATH, 2), "`during` needs a group's token name, not ``"),
        (Place(PATH, 5), "`before startup` needs a reason"),
        (Place(PATH, 6), "unknown attribute `colour`"),
    ]


def test_parse_reads_every_attribute() -> None:
    declarations = parse(STARTUP, PATH)
    assert declarations.includes == ['"kernel.h"']
    by_name = {d.name: d for d in declarations.tokens}
    assert list(by_name) == ["startup", "early", "frames", "heap", "traps", "checks", "timer"]
    startup, early, heap, checks = (by_name[n] for n in ("startup", "early", "heap", "checks"))
    assert (startup.place, startup.description, startup.during) == (
        Place(PATH, 3),
        "the kernel's startup",
        None,
    )
    assert (early.during, early.during_place, early.harts) == ("startup", Place(PATH, 5), "boot")
    assert (heap.function, heap.function_place) == ("heap_init", Place(PATH, 12))
    (constraint,) = heap.constraints
    assert (constraint.kind, constraint.other, constraint.place) == (
        "after",
        "frames",
        Place(PATH, 13),
    )
    assert constraint.reason == "the heap takes its pages from the frame allocator"
    assert [(t.option, t.value, t.negated) for t in checks.condition] == [
        ("debug", None, False),
        ("board", "virt", False),
    ]


def test_comments_and_blank_lines_count_as_lines() -> None:
    text = "# one\n\ninit startup\n   # three\n\ninit x\n    during nowhere\n"
    assert only_error(text) == f"{PATH}:7: error: unknown token nowhere in `during`"


# Planning errors: each names the file and line of the declaration at fault.


@pytest.mark.parametrize("kind", ["before", "after"])
def test_unknown_token_in_a_constraint_is_named(kind: str) -> None:
    text = edit(STARTUP, "after frames: the heap", f"{kind} frame: the heap")
    assert only_error(text) == f"{PATH}:{line_of(text, 'frame: the heap')}: error: " + (
        f"unknown token frame in `{kind}`"
    )


def test_unknown_group_in_during_is_named() -> None:
    text = edit(
        STARTUP, "during early\n    function heap_init", "during earyl\n    function heap_init"
    )
    assert only_error(text) == f"{PATH}:{line_of(text, 'during earyl')}: error: " + (
        "unknown token earyl in `during`"
    )


def test_cycle_is_printed_as_its_whole_path_with_each_constraint() -> None:
    text = dedent("""\
        init g
        init a
            during g
            function a_init
            before b: a first
        init b
            during g
            function b_init
        init c
            during g
            function c_init
            after b: c second
            before a: c wraps around
    """)
    assert only_error(text) == (
        f"{PATH}:5: error: cycle in the init order of group g: a -> b -> c -> a\n"
        f"    a -> b: {PATH}:5: a `before b` (a first)\n"
        f"    b -> c: {PATH}:12: c `after b` (c second)\n"
        f"    c -> a: {PATH}:13: c `before a` (c wraps around)"
    )


def test_cycle_starts_at_its_smallest_name_and_leaves_out_who_waits_for_it() -> None:
    # aa waits for the cycle and is the smallest name left, but is not in it.
    text = dedent("""\
        init g
        init aa
            during g
            after y: waits
        init x
            during g
            before z: one
        init z
            during g
            before y: two
        init y
            during g
            before x: three
        init free
            during g
    """)
    assert only_error(text).splitlines()[0] == (
        f"{PATH}:7: error: cycle in the init order of group g: x -> z -> y -> x"
    )


def test_two_token_cycle_from_before_and_after_of_one_token() -> None:
    text = edit(STARTUP, "before traps: the trap", "after traps: the trap")
    text = edit(
        text, "after early: a trap", "after timer: it reads the timer\n    after early: a trap"
    )
    # The cycle starts from its smallest name; the error is at its first constraint.
    assert only_error(text).splitlines()[0] == (
        f"{PATH}:{line_of(text, 'after timer: it reads')}: error: "
        "cycle in the init order of group startup: timer -> traps -> timer"
    )


def test_cycle_in_every_group_is_reported() -> None:
    text = dedent("""\
        init root
        init g
            during root
        init a
            during g
            before b: x
        init b
            during g
            before a: x
        init c
            during root
            before d: x
        init d
            during root
            before c: x
    """)
    assert [line for line in str(failure(text)).splitlines() if "error" in line] == [
        f"{PATH}:6: error: cycle in the init order of group g: a -> b -> a",
        f"{PATH}:12: error: cycle in the init order of group root: c -> d -> c",
    ]


def test_function_on_a_group_is_named() -> None:
    text = edit(STARTUP, "    harts boot\n", "    harts boot\n    function early_init\n")
    assert only_error(text) == (
        f"{PATH}:{line_of(text, 'function early_init')}: error: early is a group "
        "(frames, heap run during it) and cannot have a function: "
        "give the function a token of its own inside early"
    )


def test_token_declared_twice_is_named_at_the_second() -> None:
    text = STARTUP + "init frames: again\n    during startup\n"
    assert only_error(text) == (
        f"{PATH}:{line_of(text, 'init frames: again')}: error: token frames is declared twice "
        f"(first at {PATH}:{line_of(STARTUP, 'init frames')})"
    )


def test_token_declared_twice_in_two_files_names_both(tmp_path: Path) -> None:
    (tmp_path / "a.init").write_text(STARTUP)
    (tmp_path / "b.init").write_text("\n\ninit heap\n    during startup\n")
    with pytest.raises(InitTokenError) as caught:
        plan(load([tmp_path / "b.init", tmp_path / "a.init"], tmp_path), CONFIG)
    assert str(caught.value) == (
        "b.init:3: error: token heap is declared twice "
        f"(first at a.init:{line_of(STARTUP, 'init heap')})"
    )


def test_second_root_is_named() -> None:
    text = STARTUP + "init late\n    function late_init\n"
    assert only_error(text) == (
        f"{PATH}:{line_of(text, 'init late')}: error: late has no `during`, but startup "
        f"({PATH}:3) is the root already: say which group it is in"
    )


@pytest.mark.parametrize(
    ("snippet", "replacement", "inner", "outer"),
    [
        # A token ordered against its own group, or a group against a member.
        ("after frames: the heap", "before early: the heap", "heap", "early"),
        ("after frames: the heap", "after startup: the heap", "heap", "startup"),
        ("harts boot", "harts boot\n    before frames: the group", "frames", "early"),
        ("harts boot", "harts boot\n    after heap: the group", "heap", "early"),
    ],
)
def test_constraint_against_own_group_contradicts_the_hierarchy(
    snippet: str, replacement: str, inner: str, outer: str
) -> None:
    text = edit(STARTUP, snippet, replacement)
    constraint = replacement.split("\n")[-1].strip()
    kind_other = constraint.split(":")[0]
    assert only_error(text) == (
        f"{PATH}:{line_of(text, constraint)}: error: `{kind_other}` contradicts the group "
        f"hierarchy: {inner} runs during {outer}, so it can be neither before nor after it"
    )


def test_constraint_on_itself_is_named() -> None:
    text = edit(STARTUP, "after frames: the heap", "after heap: the heap")
    assert only_error(text) == (
        f"{PATH}:{line_of(text, 'after heap: the heap')}: error: heap cannot run after itself"
    )


def test_lifted_constraint_that_reverses_two_groups_contradicts_the_hierarchy() -> None:
    # traps runs after the group early; frames, inside early, asks to run after traps.
    text = edit(
        STARTUP, "function frames_init\n", "function frames_init\n    after traps: a wish\n"
    )
    line = line_of(text, "after traps: a wish")
    assert only_error(text) == (
        f"{PATH}:{line}: error: a constraint contradicts the group hierarchy: "
        "in group startup it makes a cycle early -> traps -> early\n"
        f"    early -> traps: {PATH}:{line_of(text, 'after early')}: traps `after early` "
        "(a trap handler may allocate)\n"
        f"    traps -> early: {PATH}:{line}: frames `after traps` (a wish); "
        "frames is in early"
    )


def test_lifted_constraints_that_interleave_two_groups_contradict_the_hierarchy() -> None:
    # No constraint names a group, but the groups cannot run one after the other.
    text = dedent("""\
        init root
        init left
            during root
        init right
            during root
        init l1
            during left
        init l2
            during left
        init r1
            during right
            after l1: x
        init r2
            during right
            before l2: y
    """)
    assert only_error(text).splitlines()[0] == (
        f"{PATH}:12: error: a constraint contradicts the group hierarchy: "
        "in group root it makes a cycle left -> right -> left"
    )


def test_token_inside_itself_contradicts_the_hierarchy() -> None:
    text = STARTUP + dedent("""\
        init a
            during b
        init b
            during a
    """)
    error = failure(text)
    assert [str(problem) for problem in error.problems] == [
        f"{PATH}:{line_of(text, 'during b')}: error: a is inside itself: a during b during a, "
        "which contradicts the group hierarchy",
        f"{PATH}:{line_of(text, 'during a')}: error: b is inside itself: b during a during b, "
        "which contradicts the group hierarchy",
    ]


def test_no_root_is_named_at_the_first_declaration() -> None:
    text = "# nobody is at the top\ninit a\n    during b\ninit b\n    during a\n"
    assert str(failure(text)).splitlines() == [
        f"{PATH}:2: error: no root token: exactly one token has no `during`",
        f"{PATH}:3: error: a is inside itself: a during b during a, "
        "which contradicts the group hierarchy",
        f"{PATH}:5: error: b is inside itself: b during a during b, "
        "which contradicts the group hierarchy",
    ]


def test_every_hart_token_in_a_boot_hart_group_contradicts_the_hierarchy() -> None:
    text = edit(STARTUP, "    function heap_init\n", "    function heap_init\n    harts every\n")
    assert only_error(text) == (
        f"{PATH}:{line_of(text, 'harts every')}: error: heap says `harts every`, but its group "
        "early runs on the boot hart only, which contradicts the group hierarchy"
    )


def test_every_hart_token_under_an_inherited_boot_hart_group_contradicts_the_hierarchy() -> None:
    text = STARTUP + dedent("""\
        init pools
            during early
        init pool_init
            during pools
            harts every
    """)
    assert only_error(text).startswith(
        f"{PATH}:{line_of(text, 'harts every')}: error: pool_init says `harts every`, "
        "but its group pools runs on the boot hart only"
    )


def test_condition_on_unknown_build_option_is_named() -> None:
    text = edit(STARTUP, "condition debug board=virt", "condition debug smp_max=4")
    assert only_error(text) == (
        f"{PATH}:{line_of(text, 'smp_max')}: error: condition names unknown build option "
        "smp_max: known are board, debug"
    )


def test_every_problem_is_reported_in_line_order() -> None:
    text = STARTUP + dedent("""\
        init timer
            during startup
        init idle
            during startup
            after tiemr: typo
    """)
    error = failure(text)
    assert [(p.place.line, p.message.split(" (")[0]) for p in error.problems] == [
        (len(STARTUP.splitlines()) + 1, "token timer is declared twice"),
        (line_of(text, "after tiemr"), "unknown token tiemr in `after`"),
    ]


def test_load_names_each_file_as_given_or_relative(tmp_path: Path) -> None:
    (tmp_path / "kernel").mkdir()
    path = tmp_path / "kernel" / "startup.init"
    path.write_text(STARTUP)
    assert {d.place.path for d in load([path]).tokens} == {str(path)}
    assert {d.place.path for d in load([path], tmp_path).tokens} == {"kernel/startup.init"}


def test_errors_from_several_files_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel" / "a.init").write_text("init a\n    colour red\n")
    (tmp_path / "kernel" / "b.init").write_text("init b\n    before\n")
    with pytest.raises(InitTokenError) as caught:
        load(find_declarations(tmp_path), tmp_path)
    assert [str(problem).split(":")[:3] for problem in caught.value.problems] == [
        ["kernel/a.init", "2", " error"],
        ["kernel/b.init", "2", " error"],
    ]


# Conditions.


def test_token_whose_condition_fails_is_left_out() -> None:
    result = planned(STARTUP, {"board": "virt", "debug": "0"})
    assert "checks" not in tokens(result.boot_hart) + tokens(result.other_harts)
    assert not result.nodes["checks"].enabled
    assert tokens(planned(STARTUP).boot_hart) == ["checks", "frames", "heap", "timer", "traps"]


def test_group_whose_condition_fails_leaves_out_its_members() -> None:
    text = edit(STARTUP, "    harts boot\n", "    harts boot\n    condition board!=virt\n")
    result = planned(text)
    assert tokens(result.boot_hart) == ["checks", "timer", "traps"]
    assert [result.nodes[name].enabled for name in ("early", "frames", "heap")] == [False] * 3
    assert tokens(planned(text, {"board": "sifive_u", "debug": "1"}).boot_hart) == [
        "frames",
        "heap",
        "timer",
        "traps",
    ]


CYCLE_THROUGH_C = dedent("""\
    init g
    init a
        during g
        function a_init
        before b: a first
    init b
        during g
        function b_init
        before c: b second
    init c
        during g
        function c_init
        before a: c wraps around
        condition !debug
""")


def test_constraints_naming_a_disabled_token_are_ignored() -> None:
    assert tokens(planned(CYCLE_THROUGH_C).boot_hart) == ["a", "b"]
    error = only_error(CYCLE_THROUGH_C, {"board": "virt", "debug": "0"})
    assert error.startswith(
        f"{PATH}:5: error: cycle in the init order of group g: a -> b -> c -> a"
    )


def test_constraints_naming_a_token_of_a_disabled_group_are_ignored() -> None:
    text = CYCLE_THROUGH_C.replace("    condition !debug\n", "") + dedent("""\
        init off
            during g
            condition board=sifive_u
        init inner
            during off
            function inner_init
            after a: x
            before a: y
    """)
    text = edit(text, "before a: c wraps around", "before inner: c wraps around")
    result = planned(text)
    assert tokens(result.boot_hart) == ["a", "b", "c"]
    assert not result.nodes["inner"].enabled
    # On the board where the group runs, the same constraints cannot be met.
    assert only_error(text, {"board": "sifive_u", "debug": "1"}).splitlines()[0] == (
        f"{PATH}:{line_of(text, 'after a: x')}: error: a constraint contradicts the group "
        "hierarchy: in group g it makes a cycle a -> off -> a"
    )


def test_unknown_option_is_an_error_even_in_a_disabled_group() -> None:
    text = STARTUP + "init off\n    during startup\n    condition !debug\n"
    text += "init inner\n    during off\n    condition smp\n"
    assert ": error: condition names unknown build option smp" in only_error(text)


@pytest.mark.parametrize(
    ("condition", "board", "debug", "holds"),
    [
        ("debug", "virt", "1", True),
        ("debug", "virt", "0", False),
        ("!debug", "virt", "1", False),
        ("!debug", "virt", "0", True),
        ("board=virt", "virt", "1", True),
        ("board=virt", "sifive_u", "1", False),
        ("board!=virt", "virt", "1", False),
        ("board!=virt", "sifive_u", "1", True),
        ("debug=0", "virt", "0", True),
        ("debug!=0", "virt", "0", False),
        ("debug board=virt", "virt", "1", True),
        ("debug board=virt", "virt", "0", False),
        ("debug board=virt", "sifive_u", "1", False),
        ("!debug board!=virt", "sifive_u", "0", True),
        ("board", "virt", "1", True),
    ],
)
def test_condition_terms(condition: str, board: str, debug: str, holds: bool) -> None:
    text = edit(STARTUP, "condition debug board=virt", f"condition {condition}")
    result = planned(text, {"board": board, "debug": debug})
    assert ("checks" in tokens(result.boot_hart)) is holds
    assert result.nodes["checks"].enabled is holds


def test_an_empty_option_is_off() -> None:
    text = edit(STARTUP, "condition debug board=virt", "condition debug")
    assert "checks" not in tokens(planned(text, {"board": "virt", "debug": ""}).boot_hart)


# Harts.


def test_boot_hart_tokens_are_not_called_on_the_other_harts() -> None:
    result = planned(STARTUP)
    assert tokens(result.boot_hart) == ["checks", "frames", "heap", "timer", "traps"]
    assert tokens(result.other_harts) == ["checks", "timer", "traps"]
    assert {call.harts for call in result.boot_hart if call.token in ("frames", "heap")} == {"boot"}
    assert {call.harts for call in result.other_harts} == {"every"}


def test_harts_are_inherited_from_the_group() -> None:
    text = STARTUP + dedent("""\
        init pools
            during early
        init pool_a
            during pools
            function pool_a_init
        init percpu
            during startup
            function percpu_init
        init boot_only
            during startup
            function boot_only_init
            harts boot
    """)
    result = planned(text)
    harts = {name: node.harts for name, node in result.nodes.items()}
    assert harts == {
        "startup": "every",
        "early": "boot",
        "frames": "boot",
        "heap": "boot",
        "pools": "boot",
        "pool_a": "boot",
        "traps": "every",
        "checks": "every",
        "timer": "every",
        "percpu": "every",
        "boot_only": "boot",
    }
    assert tokens(result.other_harts) == ["checks", "percpu", "timer", "traps"]
    assert set(tokens(result.boot_hart)) - set(tokens(result.other_harts)) == {
        "frames",
        "heap",
        "pool_a",
        "boot_only",
    }


def test_root_on_the_boot_hart_leaves_the_other_harts_nothing() -> None:
    text = edit(STARTUP, "init startup: the kernel's startup", "init startup\n    harts boot")
    result = planned(text)
    assert tokens(result.boot_hart) == ["checks", "frames", "heap", "timer", "traps"]
    assert result.other_harts == ()


def test_calls_name_their_group_and_declaration() -> None:
    result = planned(STARTUP)
    heap = next(call for call in result.boot_hart if call.token == "heap")
    assert (heap.function, heap.group, heap.harts, heap.place) == (
        "heap_init",
        "early",
        "boot",
        Place(PATH, line_of(STARTUP, "init heap")),
    )
    assert [n.name for n in result.nodes["heap"].path()] == ["startup", "early", "heap"]
    assert [n.name for n in result.nodes["startup"].children] == [
        "checks",
        "early",
        "timer",
        "traps",
    ]


# Order: constraints, then names.


def test_unconstrained_siblings_run_in_name_order() -> None:
    names = ["zeta", "alpha", "mid", "beta_2", "beta", "a0"]
    text = "init g\n" + "".join(f"init {n}\n    during g\n    function {n}_init\n" for n in names)
    assert tokens(planned(text).boot_hart) == sorted(names)


def test_smallest_ready_name_runs_first() -> None:
    text = dedent("""\
        init g
        init c
            during g
            function c_init
            before a: c first
        init a
            during g
            function a_init
        init b
            during g
            function b_init
        init d
            during g
            function d_init
            after b: d second
    """)
    # Ready at first: b, c. Then a (freed by c) and d (freed by b).
    assert tokens(planned(text).boot_hart) == ["b", "c", "a", "d"]


def test_group_runs_as_one_block_at_its_place_among_its_siblings() -> None:
    result = planned(STARTUP + "init aaa\n    during early\n    function aaa_init\n")
    assert tokens(result.boot_hart) == ["checks", "aaa", "frames", "heap", "timer", "traps"]


def test_constraint_between_groups_members_orders_the_groups() -> None:
    text = STARTUP + dedent("""\
        init late
            during startup
        init console
            during late
            function console_init
            before frames: frames prints
    """)
    result = planned(text)
    assert tokens(result.boot_hart) == ["checks", "console", "frames", "heap", "timer", "traps"]
    assert [n.name for n in result.nodes["startup"].children] == [
        "checks",
        "late",
        "early",
        "timer",
        "traps",
    ]


# Determinism.


def blocks(text: str) -> list[str]:
    """The text cut into its top-level declarations, each with the comments above it."""
    parts = [""]
    for line in text.splitlines(keepends=True):
        comments_only = all(
            not old.strip() or old.lstrip().startswith("#") for old in parts[-1].splitlines()
        )
        if line.startswith(("init ", "include ")) and not comments_only:
            parts.append("")
        parts[-1] += line
    return parts


SHUFFLED = STARTUP + dedent("""\
    init late: a group whose members wait for others
        during startup
    include "kernel.h"
    include <sbi.h>
    init console
        during late
        function console_init
        before heap: the heap reports its size
    init logs
        during late
        function logs_init
    init sifive_clocks
        during startup
        function sifive_clocks_init
        condition board=sifive_u
        before timer: the timer's frequency
    init debug_only
        during startup
        condition debug
    init redzones
        during debug_only
        function redzones_init
        after heap: they guard its blocks
    init poison
        during debug_only
        function poison_init
""")


def without_places(c: str) -> str:
    """Generated C without the `/* path:line */` comments, which move with the text."""
    return re.sub(r" /\* \S+:\d+ \*/", "", c)


@pytest.mark.parametrize("config", [CONFIG, {"board": "sifive_u", "debug": "0"}])
def test_the_same_declarations_give_the_same_bytes(config: dict[str, str]) -> None:
    first, second = planned(SHUFFLED, config), planned(SHUFFLED, dict(config))
    assert render_c(first).encode() == render_c(second).encode()
    assert render_listing(first).encode() == render_listing(second).encode()


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("config", [CONFIG, {"board": "sifive_u", "debug": "0"}])
def test_order_of_declarations_and_files_changes_nothing(
    seed: int, config: dict[str, str], tmp_path: Path
) -> None:
    expected = planned(SHUFFLED, config)
    parts = blocks(SHUFFLED)
    assert "".join(parts) == SHUFFLED
    shuffler = random.Random(seed)
    shuffler.shuffle(parts)
    files = shuffler.randint(1, 4)
    cuts = sorted(shuffler.sample(range(1, len(parts)), files - 1))
    for number, (start, end) in enumerate(zip([0, *cuts], [*cuts, len(parts)], strict=True)):
        (tmp_path / f"{shuffler.randint(0, 99):02}_{number}.init").write_text(
            "".join(parts[start:end])
        )
    result = plan(load(tmp_path.glob("*.init"), tmp_path), config)
    assert render_listing(result) == render_listing(expected)
    assert without_places(render_c(result)) == without_places(render_c(expected))


def test_places_in_the_generated_c_name_each_declaration(tmp_path: Path) -> None:
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel" / "startup.init").write_text(STARTUP)
    result = plan(load([tmp_path / "kernel" / "startup.init"], tmp_path), CONFIG)
    assert '    {"heap", "heap_init", "early"}, /* kernel/startup.init:10 */\n' in render_c(result)


def test_members_of_a_left_out_group_are_listed_in_name_order() -> None:
    text = STARTUP + dedent("""\
        init debug_only
            during startup
            condition debug
        init zz_last
            during debug_only
            function zz_last_init
        init aa_first
            during debug_only
            function aa_first_init
    """)
    listing = render_listing(planned(text, {"board": "virt", "debug": "0"}))
    assert "  debug_only  [if debug: no: left out]\n" in listing
    assert listing.index("    aa_first  aa_first_init()  [left out") < listing.index(
        "    zz_last  zz_last_init()  [left out"
    )


# What comes out.


def test_render_c_calls_each_function_by_its_boot_hart_index() -> None:
    result = planned(SHUFFLED)
    c = render_c(result)
    table = re.findall(r'^    \{"(\w+)", "(\w+)", "(\w+)"\}, /\* \S+ \*/$', c, re.M)
    boot, other = c.split("void init_boot_hart(void)\n")[1].split("void init_other_hart(void)\n")
    boot_calls = re.findall(r"^    INIT_CALL\((\d+), (\w+)\);$", boot, re.M)
    other_calls = re.findall(r"^    INIT_CALL\((\d+), (\w+)\);$", other, re.M)
    # Every line of a function body is a call.
    for body in (boot, other):
        lines = body.strip().splitlines()
        assert lines[0] == "{" and lines[-1] == "}"
        assert all(re.fullmatch(r"    INIT_CALL\(\d+, \w+\);", line) for line in lines[1:-1])
    assert [(t, f, g) for t, f, g in table] == [
        (c.token, c.function, c.group) for c in result.boot_hart
    ]
    assert boot_calls == [(str(i), function) for i, (_, function, _) in enumerate(table)]
    assert other_calls == [
        (str(tokens(result.boot_hart).index(c.token)), c.function) for c in result.other_harts
    ]
    assert all(table[int(index)][1] == function for index, function in other_calls)
    every = {c.function for c in result.boot_hart if c.harts == "every"}
    assert {function for _, function in other_calls} == every
    assert {"frames_init", "heap_init"} & {function for _, function in other_calls} == set()


def test_render_c_in_full() -> None:
    text = dedent("""\
        include <arch.h>
        include "kernel.h"
        init startup
        init mem
            during startup
            harts boot
            function mem_init
        init cpu
            during startup
            function cpu_init
            after mem: needs memory
        include <arch.h>
    """)
    assert render_c(planned(text)) == dedent("""\
        /*
         * Generated by tools/aubade/inittokens.py from the *.init declarations for
         * board=virt debug=1: do not edit. `scons listinit` shows the order.
         */
        #include "init.h"
        #include "kernel.h"
        #include <arch.h>

        const struct init_token init_tokens[] = {
            {"mem", "mem_init", "startup"}, /* fixture.init:4 */
            {"cpu", "cpu_init", "startup"}, /* fixture.init:8 */
        };
        const unsigned init_token_count = sizeof(init_tokens) / sizeof(init_tokens[0]);

        void init_boot_hart(void)
        {
            INIT_CALL(0, mem_init);
            INIT_CALL(1, cpu_init);
        }

        void init_other_hart(void)
        {
            INIT_CALL(1, cpu_init);
        }
    """)


def test_render_listing_in_full() -> None:
    assert render_listing(planned(STARTUP, {"board": "virt", "debug": "0"})) == dedent("""\
        Init tokens for board=virt debug=0

        Hierarchy:
        startup  [every hart]  the kernel's startup
          early  [boot hart]  memory before anything else
            frames  frames_init()  the page frame allocator
            heap  heap_init()
          timer  timer_init()
          traps  traps_init()
          checks  checks_init()  [if debug board=virt: no: left out]

        Call order on the boot hart:
          startup > early:
              1  frames  frames_init()
              2  heap    heap_init()
          startup:
              3  timer   timer_init()
              4  traps   traps_init()

        Call order on the other harts:
          startup:
              1  timer  timer_init()
              2  traps  traps_init()
    """)


# Properties: any consistent constraints are met; any cycle is named by real edges.


@dataclass
class Tree:
    """Random declarations: leaves (with a function each) and groups under `root`."""

    parents: dict[str, str]
    groups: set[str]
    constraints: list[tuple[str, str, str]]
    """(owner, kind, other): `kind other` written in owner's declaration."""

    def leaves_under(self, name: str) -> set[str]:
        if name not in self.groups:
            return {name}
        return set().union(*(self.leaves_under(c) for c, p in self.parents.items() if p == name))

    def ancestors(self, name: str) -> list[str]:
        chain = []
        while name in self.parents:
            name = self.parents[name]
            chain.append(name)
        return chain

    def members(self, group: str) -> list[str]:
        return sorted(name for name, parent in self.parents.items() if parent == group)

    def expected_order(self, group: str) -> list[str]:
        """The group's members as the declarations order them: the constraints lifted to
        the members, then, among those free to run, the smallest name first."""
        members = self.members(group)
        edges = set()
        for owner, kind, other in self.constraints:
            first, second = (owner, other) if kind == "before" else (other, owner)
            lifted = [
                next((n for n in [token, *self.ancestors(token)] if n in members), None)
                for token in (first, second)
            ]
            if None not in lifted and lifted[0] != lifted[1]:
                edges.add((lifted[0], lifted[1]))
        order: list[str] = []
        waiting = set(members)
        while waiting:
            free = [m for m in waiting if not any((p, m) in edges for p in waiting)]
            order.append(min(free))
            waiting.remove(order[-1])
        return order

    def text(self, order: list[str]) -> tuple[str, dict[int, tuple[str, str]]]:
        """The declarations in `order` (root first), and each constraint line's edge."""
        lines = ["init root"]
        edges: dict[int, tuple[str, str]] = {}
        for name in order:
            lines += [f"init {name}", f"    during {self.parents[name]}"]
            if name not in self.groups:
                lines.append(f"    function {name}_init")
            for owner, kind, other in self.constraints:
                if owner == name:
                    lines.append(f"    {kind} {other}: {owner} {kind} {other}")
                    edges[len(lines)] = (owner, other) if kind == "before" else (other, owner)
        return "\n".join(lines) + "\n", edges


LEAF_NAME = st.from_regex(r"[a-h][a-h0-9_]{0,3}", fullmatch=True)


@st.composite
def shapes(draw: st.DrawFn, min_leaves: int = 2) -> tuple[dict[str, str], set[str]]:
    """2..12 leaves in `root` and, maybe, in 2-3 nested groups (z1, z2, ...)."""
    leaves = draw(st.lists(LEAF_NAME, min_size=min_leaves, max_size=12, unique=True))
    groups = [f"z{i}" for i in range(1, draw(st.sampled_from([0, 2, 3])) + 1)]
    parents = {}
    for number, group in enumerate(groups):
        parents[group] = draw(st.sampled_from(["root", *groups[:number]]))
    for leaf in leaves:
        parents[leaf] = draw(st.sampled_from(["root", *groups]))
    return parents, set(groups)


@st.composite
def consistent_trees(draw: st.DrawFn) -> tuple[Tree, list[str]]:
    """A tree, constraints that one order of it (drawn) meets, and an order to write it in."""
    parents, groups = draw(shapes())
    tree = Tree(parents, groups, [])
    # The truth: each group's members in a drawn order, the whole read depth first.
    truth: list[str] = []

    def walk(group: str) -> None:
        for member in draw(st.permutations(tree.members(group))):
            truth.append(member)
            if member in groups:
                walk(member)

    walk("root")
    names = sorted(parents)
    pairs = st.tuples(st.sampled_from(names), st.sampled_from(names), st.booleans())
    for one, two, written_before in draw(
        st.lists(pairs, min_size=len(names) // 2, max_size=3 * len(names))
    ):
        if one == two or one in tree.ancestors(two) or two in tree.ancestors(one):
            continue
        first, second = sorted((one, two), key=truth.index)
        tree.constraints.append(
            (first, "before", second) if written_before else (second, "after", first)
        )
    return tree, draw(st.permutations(names))


@settings(max_examples=200, deadline=None)
@given(consistent_trees())
def test_any_consistent_constraints_are_met(case: tuple[Tree, list[str]]) -> None:
    tree, order = case
    text, _ = tree.text(sorted(tree.parents, reverse=True))
    result = planned(text)
    calls = tokens(result.boot_hart)
    assert sorted(calls) == sorted(set(tree.parents) - tree.groups)
    assert calls == tokens(result.other_harts)
    position = {token: index for index, token in enumerate(calls)}
    for owner, kind, other in tree.constraints:
        first, second = (owner, other) if kind == "before" else (other, owner)
        before, after = tree.leaves_under(first), tree.leaves_under(second)
        if before and after:
            assert max(position[t] for t in before) < min(position[t] for t in after), (
                f"{owner} {kind} {other}: {calls}"
            )
    # Within each group, the smallest name first among those free to run.
    for group in ["root", *tree.groups]:
        assert [n.name for n in result.nodes[group].children] == tree.expected_order(group)
    # Written in another order, the same declarations give the same plan.
    shuffled = planned(tree.text(order)[0])
    assert render_listing(shuffled) == render_listing(result)
    assert without_places(render_c(shuffled)) == without_places(render_c(result))


@st.composite
def cyclic_trees(draw: st.DrawFn) -> tuple[Tree, list[str]]:
    """A tree with a cycle of 2..5 constraints among leaves of one group, and more."""
    parents, groups = draw(shapes(min_leaves=5))
    tree = Tree(parents, groups, [])
    by_group: dict[str, list[str]] = {}
    for name, parent in sorted(parents.items()):
        by_group.setdefault(parent, []).append(name)
    leaves_by_group = {
        group: [m for m in members if m not in groups] for group, members in by_group.items()
    }
    candidates = sorted(g for g, leaves in leaves_by_group.items() if len(leaves) >= 2)
    # With five leaves or more and at most four groups, some group has two leaves.
    group = draw(st.sampled_from(candidates))
    length = draw(st.integers(2, min(5, len(leaves_by_group[group]))))
    ring = draw(st.permutations(leaves_by_group[group]))[:length]
    for first, second in zip(ring, [*ring[1:], ring[0]], strict=True):
        written_before = draw(st.booleans())
        tree.constraints.append(
            (first, "before", second) if written_before else (second, "after", first)
        )
    # More constraints between siblings (any group), whatever they make.
    siblings = [(a, b) for m in by_group.values() for a in m for b in m if a != b]
    for (first, second), written_before in draw(
        st.lists(st.tuples(st.sampled_from(siblings), st.booleans()), max_size=8)
    ):
        tree.constraints.append(
            (first, "before", second) if written_before else (second, "after", first)
        )
    return tree, draw(st.permutations(sorted(parents)))


CYCLE = re.compile(r"cycle in the init order of group (\w+): (\w+(?: -> \w+)+)\Z")


@settings(max_examples=200, deadline=None)
@given(cyclic_trees())
def test_any_cycle_is_named_by_declared_constraints(case: tuple[Tree, list[str]]) -> None:
    tree, order = case
    text, lines = tree.text(order)
    with pytest.raises(InitTokenError) as caught:
        planned(text)
    declared = set(lines.values())
    assert caught.value.problems
    for problem in caught.value.problems:
        headline = problem.message.splitlines()[0]
        match = CYCLE.match(headline)
        assert match, str(caught.value)
        group, path = match[1], match[2].split(" -> ")
        assert path[0] == path[-1] and len(set(path)) == len(path) - 1 >= 2, headline
        edges = list(itertools.pairwise(path))
        assert set(edges) <= declared, (headline, sorted(declared))
        assert {tree.parents[token] for token in path} == {group}
        assert problem.place.path == PATH and lines.get(problem.place.line) in edges, (
            problem.place,
            headline,
        )


# The kernel's own declarations.


@pytest.mark.parametrize("debug", ["0", "1"])
@pytest.mark.parametrize("board", ["virt", "sifive_u"])
def test_the_kernels_declarations_plan(board: str, debug: str) -> None:
    paths = find_declarations(REPO / "kernel")
    if not paths:
        pytest.skip("no *.init declarations under kernel/ yet")
    result = plan(load(paths, REPO), {"board": board, "debug": debug})
    assert result.boot_hart
    assert set(tokens(result.other_harts)) <= set(tokens(result.boot_hart))
    assert render_c(result).count("INIT_CALL(") == len(result.boot_hart) + len(result.other_harts)
    render_listing(result)


def test_no_declarations_is_an_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "empty.init").write_text('# nothing yet\ninclude "kernel.h"\n')
    for declarations in (Declarations(), load([tmp_path / "empty.init"], tmp_path)):
        with pytest.raises(InitTokenError) as caught:
            plan(declarations, CONFIG)
        assert str(caught.value) == (
            "*.init:0: error: no init tokens: no *.init file has an `init NAME` line"
        )


def test_a_root_alone_may_be_the_one_call() -> None:
    result = planned("init startup\n    function start_kernel\n")
    call = Call("startup", "start_kernel", "", "every", Place(PATH, 1))
    assert (result.boot_hart, result.other_harts) == ((call,), (call,))
    c = render_c(result)
    assert '    {"startup", "start_kernel", ""}, /* fixture.init:1 */\n' in c
    assert c.count("    INIT_CALL(0, start_kernel);\n") == 2
    assert render_listing(result).endswith(
        "Call order on the other harts:\n      1  startup  start_kernel()\n"
    )


def test_problem_and_error_text() -> None:
    problems = [Problem(Place("b.init", 1), "two"), Problem(Place("a.init", 9), "one")]
    error = InitTokenError(problems)
    assert str(error) == "a.init:9: error: one\nb.init:1: error: two"
    assert error.problems == sorted(problems, key=lambda p: p.place.path)
