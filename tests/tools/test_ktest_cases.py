"""Reading the kernel test cases from the C sources."""

from __future__ import annotations

from pathlib import Path

from aubade.ktest_cases import DeclaredCase, declared_cases


def test_cases_of_every_c_file_below_the_root_by_suite_and_name(tmp_path: Path) -> None:
    (tmp_path / "ktest").mkdir()
    (tmp_path / "ktest" / "frames.c").write_text(
        '#include "ktest.h"\n\nKTEST(frames, alloc_single) {\n}\n\n'
        "KTEST( frames ,contiguous )\n{\n}\n"
    )
    (tmp_path / "heap.c").write_text("KTEST(heap, sizes) { }\n")
    (tmp_path / "notes.h").write_text("KTEST(header, ignored) { }\n")
    assert declared_cases(tmp_path) == [
        DeclaredCase("frames", "alloc_single", "ktest/frames.c:3"),
        DeclaredCase("frames", "contiguous", "ktest/frames.c:6"),
        DeclaredCase("heap", "sizes", "heap.c:1"),
    ]
    assert declared_cases(tmp_path)[0].id == "frames.alloc_single"


def test_macro_definition_comments_and_calls_are_no_cases(tmp_path: Path) -> None:
    (tmp_path / "ktest.c").write_text(
        "#define KTEST(suite, case) static void ktest_##suite##_##case(void)\n"
        "/* KTEST(suite, case) declares a case.\n"
        " * KTEST(frames, example) too. */\n"
        "    KTEST(indented, call);\n"
        "MY_KTEST(other, macro)\n"
    )
    assert declared_cases(tmp_path) == []
