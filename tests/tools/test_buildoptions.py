"""The build's targets and options as tools/aubade/buildoptions.py declares them.

test_build.py runs scons to see that SConstruct obeys the declarations;
these check the declarations themselves, and that SConstruct names no alias
they leave out.
"""

from __future__ import annotations

import re

import pytest

from aubade import boards, buildoptions

REPO = boards.BOARDS_DIR.parent


def test_the_allowed_boards_are_the_board_files() -> None:
    assert buildoptions.option("board").allowed == tuple(boards.known_boards())
    assert buildoptions.option("board").default == "virt"


@pytest.mark.parametrize("option", buildoptions.options(), ids=lambda option: option.name)
def test_every_default_is_allowed(option: buildoptions.Option) -> None:
    if option.default is not None:
        assert buildoptions.value_problem(option.name, option.default) is None


def test_an_unknown_board_is_refused_listing_the_board_files() -> None:
    problem = buildoptions.value_problem("board", "nosuch")
    assert problem == f"unknown board 'nosuch'; known boards: {', '.join(boards.known_boards())}"


def test_an_unknown_option_gets_the_closest_name_and_the_known_ones() -> None:
    message = buildoptions.unknown_options_message({"boadr": "x", "zzz": "1"})
    assert message.splitlines() == [
        "unknown option boadr=x (did you mean board=x?)",
        "unknown option zzz=1",
        f"known options: {', '.join(buildoptions.option_names())} (scons -h says what each does)",
    ]


def test_run_refuses_a_board_without_a_qemu_machine_pointing_at_its_sd_image() -> None:
    problem = buildoptions.run_problem(boards.load_board("visionfive2"), "firmware")
    assert problem is not None
    assert "`scons sdimage board=visionfive2`" in problem
    assert buildoptions.run_problem(boards.load_board("spike"), "firmware") is None


def test_every_alias_sconstruct_makes_is_a_declared_target_and_back() -> None:
    sconstruct = (REPO / "SConstruct").read_text()
    aliases = re.findall(r"target_alias\(\s*\"([^\"]+)\"", sconstruct)
    assert sorted(aliases) == sorted(buildoptions.TARGETS)
    # target_alias is the one place that calls env.Alias.
    assert sconstruct.count("env.Alias(") == 1


def test_the_help_lists_each_target_option_and_board_once() -> None:
    lines = buildoptions.help_text().splitlines()
    first_words = [line.split()[0] for line in lines if line.startswith("  ") and line.strip()]
    for name in [*buildoptions.TARGETS, *boards.known_boards()]:
        assert first_words.count(name) == 1, name
    for name in buildoptions.option_names():
        assert first_words.count(f"{name}=") == 1, name
