"""Reading the kernel test cases from the C sources."""

from __future__ import annotations

from pathlib import Path

from aubade.ktest_cases import DeclaredCase, declared_cases


def test_cases_of_every_c_file_below_the_root_by_suite_and_name(tmp_path: Path) -> None:
    (tmp_path / "kernel" / "ktest").mkdir(parents=True)
    (tmp_path / "kernel" / "ktest" / "frames.c").write_text(
        '#include "ktest.h"\n\nKTEST(frames, alloc_single) {\n}\n\n'
        "KTEST( frames ,contiguous )\n{\n}\n"
    )
    (tmp_path / "kernel" / "heap.c").write_text("KTEST(heap, sizes) { }\n")
    (tmp_path / "kernel" / "notes.h").write_text("KTEST(header, ignored) { }\n")
    (tmp_path / "loader.c").write_text("KTEST(elsewhere, ignored) { }\n")
    assert declared_cases(tmp_path, "kernel") == [
        DeclaredCase("frames", "alloc_single", "kernel/ktest/frames.c:3"),
        DeclaredCase("frames", "contiguous", "kernel/ktest/frames.c:6"),
        DeclaredCase("heap", "sizes", "kernel/heap.c:1"),
    ]
    assert declared_cases(tmp_path, "kernel")[0].id == "frames.alloc_single"


def test_macro_definition_comments_and_calls_are_no_cases(tmp_path: Path) -> None:
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel" / "ktest.c").write_text(
        "#define KTEST(suite, case) static void ktest_##suite##_##case(void)\n"
        "/* KTEST(suite, case) declares a case.\n"
        " * KTEST(frames, example) too. */\n"
        "    KTEST(indented, call);\n"
        "MY_KTEST(other, macro)\n"
    )
    assert declared_cases(tmp_path, "kernel") == []
