"""Host tests of aubade.elfcheck's rules for a user program, and of what the
kernel's and the user program's rules keep apart."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from aubade.elfcheck import (
    KERNEL_RULES,
    USER_RULES,
    ElfCheckError,
    check_kernel_elf,
    check_user_elf,
    main,
)
from tools.elfbuilder import (
    ET_DYN,
    PF_R,
    PF_W,
    PF_X,
    PT_DYNAMIC,
    PT_GNU_STACK,
    PT_INTERP,
    PT_LOAD,
    PT_RISCV_ATTRIBUTES,
    PT_TLS,
    ProgramHeader,
    build_elf,
)

USER_BASE = 0x10000
ENTRY = USER_BASE
USER_END = 0x3F00000000
# Indices of the headers of user_headers(), in table order.
ATTRIBUTES, TEXT, RODATA, DATA, STACK = range(5)


def user_headers() -> list[ProgramHeader]:
    """A well-formed user program, as linker/user.ld.in lays it out."""
    return [
        ProgramHeader(PT_RISCV_ATTRIBUTES, vaddr=0, data=b"A\x1b\x00\x00\x00riscv\x00"),
        ProgramHeader(PT_LOAD, vaddr=USER_BASE, flags=PF_R | PF_X, data=b"\x13" * 0x1200),
        ProgramHeader(PT_LOAD, vaddr=USER_BASE + 0x2000, data=b"r" * 0x80),
        ProgramHeader(
            PT_LOAD, vaddr=USER_BASE + 0x3000, flags=PF_R | PF_W, data=b"d" * 0x40, memsz=0x800
        ),
        ProgramHeader(PT_GNU_STACK, vaddr=0, flags=PF_R | PF_W),
    ]


def write_user(tmp_path: Path, headers: list[ProgramHeader], **elf_fields: int) -> Path:
    path = tmp_path / "init.elf"
    path.write_bytes(build_elf(headers, **{"entry": ENTRY, **elf_fields}))
    return path


def assert_rejected(path: Path, *fragments: str) -> ElfCheckError:
    with pytest.raises(ElfCheckError) as caught:
        check_user_elf(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message, message
    return caught.value


def test_good_user_program_passes(tmp_path: Path) -> None:
    checked = check_user_elf(write_user(tmp_path, user_headers()))
    assert checked.entry == ENTRY
    assert [(load.vaddr, load.perm) for load in checked.loads] == [
        (USER_BASE, "r-x"),
        (USER_BASE + 0x2000, "r--"),
        (USER_BASE + 0x3000, "rw-"),
    ]
    assert checked.tls is None


def test_user_program_may_use_everything_up_to_its_end(tmp_path: Path) -> None:
    headers = user_headers()
    headers.insert(
        STACK, ProgramHeader(PT_LOAD, vaddr=USER_END - 0x2000, flags=PF_R | PF_W, memsz=0x2000)
    )
    assert check_user_elf(write_user(tmp_path, headers)).loads[-1].end == USER_END


def test_user_program_keeps_out_of_page_zero(tmp_path: Path) -> None:
    headers = user_headers()
    headers.insert(TEXT, ProgramHeader(PT_LOAD, vaddr=0, data=b"z" * 0x10))
    assert_rejected(
        write_user(tmp_path, headers),
        "segment 1 (PT_LOAD at 0x0): starts below 0x1000; page 0 stays unmapped",
    )


def test_user_program_ends_below_its_stack(tmp_path: Path) -> None:
    headers = user_headers()
    headers.insert(
        STACK, ProgramHeader(PT_LOAD, vaddr=USER_END - 0x1000, flags=PF_R | PF_W, memsz=0x1001)
    )
    assert_rejected(
        write_user(tmp_path, headers),
        "segment 4 (PT_LOAD at 0x3efffff000): memsz 0x1001 runs past the end of a user "
        "program's memory, below its stack (0x3f00000000)",
    )


def test_a_kernel_is_not_a_user_program(tmp_path: Path) -> None:
    base = 0xFFFFFFFF80000000
    headers = [ProgramHeader(PT_LOAD, vaddr=base, flags=PF_R | PF_X, data=b"\x13" * 16)]
    assert_rejected(
        write_user(tmp_path, headers, entry=base), "segment 0 (PT_LOAD at 0xffffffff80000000)"
    )


def test_a_user_program_is_not_a_kernel(tmp_path: Path) -> None:
    path = write_user(tmp_path, user_headers())
    with pytest.raises(ElfCheckError) as caught:
        check_kernel_elf(path)
    assert (
        "segment 1 (PT_LOAD at 0x10000): starts below 0xffffffc000000000; "
        "the kernel lives in the upper half (kernel)"
    ) in str(caught.value)


def test_user_program_has_no_tls(tmp_path: Path) -> None:
    headers = user_headers()
    headers.insert(STACK, ProgramHeader(PT_TLS, vaddr=USER_BASE + 0x3000, filesz=8, memsz=16))
    assert_rejected(
        write_user(tmp_path, headers),
        "segment 4 (PT_TLS at 0x13000): a user program may have no PT_TLS",
    )


@pytest.mark.parametrize(("kind", "name"), [(PT_INTERP, "PT_INTERP"), (PT_DYNAMIC, "PT_DYNAMIC")])
def test_user_program_is_static(tmp_path: Path, kind: int, name: str) -> None:
    headers = user_headers()
    headers.insert(TEXT, ProgramHeader(kind, vaddr=USER_BASE + 0x100, data=b"/lib/ld.so\x00"))
    assert_rejected(
        write_user(tmp_path, headers),
        f"segment 1 ({name} at 0x10100): asks for a dynamic linker; only static executables load",
    )


def test_user_program_is_an_executable(tmp_path: Path) -> None:
    assert_rejected(
        write_user(tmp_path, user_headers(), elf_type=ET_DYN),
        "e_type is ET_DYN, expected ET_EXEC",
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            {"flags": PF_R | PF_W | PF_X},
            "segment 3 (PT_LOAD at 0x13000): writable and executable; a segment must be W^X",
            id="wx",
        ),
        pytest.param(
            {"vaddr": USER_BASE + 0x3010},
            "segment 3 (PT_LOAD at 0x13010): vaddr is not page-aligned (4096)",
            id="misaligned",
        ),
        pytest.param(
            {"vaddr": USER_BASE + 0x1000},
            "segment 3 (PT_LOAD at 0x11000): comes after segment 2 (PT_LOAD at 0x12000)",
            id="unsorted",
        ),
    ],
)
def test_user_program_segments_follow_the_kernels_rules(
    tmp_path: Path, edit: dict[str, int], message: str
) -> None:
    headers = user_headers()
    headers[DATA] = replace(headers[DATA], **edit)
    assert_rejected(write_user(tmp_path, headers), message)


def test_user_entry_is_in_its_text(tmp_path: Path) -> None:
    assert_rejected(
        write_user(tmp_path, user_headers(), entry=USER_BASE + 0x2000),
        "entry 0x12000 lies in segment 2 (PT_LOAD at 0x12000), which is not executable",
    )


def test_at_most_eight_loads(tmp_path: Path) -> None:
    headers = [
        ProgramHeader(PT_LOAD, vaddr=USER_BASE + 0x1000 * i, flags=PF_R | PF_X, data=b"\x13" * 4)
        for i in range(9)
    ]
    assert_rejected(write_user(tmp_path, headers), "9 PT_LOAD segments; the loader takes at most 8")


def test_errors_say_where_to_look(tmp_path: Path) -> None:
    headers = user_headers()
    headers[DATA] = replace(headers[DATA], flags=PF_R | PF_W | PF_X)
    error = assert_rejected(write_user(tmp_path, headers), "W^X")
    assert error.advice == USER_RULES.advice
    assert "linker/user.ld.in" in error.advice
    assert "linker/kernel.ld.in" in KERNEL_RULES.advice


def test_main_checks_a_user_program_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_user(tmp_path, user_headers())
    assert main(["--user", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: entry 0x10000; PT_LOAD r-x 0x10000+0x1200")
    assert main([str(path)]) == 1
    assert "the kernel lives in the upper half" in capsys.readouterr().err
