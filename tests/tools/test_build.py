"""The SCons build, run for real in a copy of the source tree.

A copy, so that editing a template to see what rebuilds never touches the
developer's tree, and the build can run beside the QEMU tests.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from aubade import boards, buildoptions, payloadkey, sdimage
from aubade.image import read_header
from aubade.payload import unpack

REPO = Path(__file__).resolve().parents[2]
SCONS = Path(sys.executable).with_name("scons")

pytestmark = pytest.mark.xdist_group("build")


def scons(tree: Path, *arguments: str, path: str | None = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PATH=path if path is not None else os.environ["PATH"])
    return subprocess.run(
        [str(SCONS), "-Q", *arguments],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_sources(copy: Path) -> Path:
    """`copy` filled with the tracked source tree, nothing built."""
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in tracked:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, copy / name)
    return copy


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built copy of the tracked source tree."""
    copy = copy_sources(tmp_path_factory.mktemp("tree"))
    result = scons(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    return copy


def is_up_to_date(tree: Path) -> bool:
    """`scons -q` exits 0 exactly when there is nothing to rebuild."""
    return scons(tree, "-q").returncode == 0


def test_unknown_board_is_an_error_listing_the_known_ones() -> None:
    result = scons(REPO, "board=no-such-board", "-n")
    assert result.returncode != 0
    expected = (
        "unknown board 'no-such-board'; known boards: sifive_u, spike, unmatched, virt, visionfive2"
    )
    assert expected in result.stdout


def test_an_unknown_option_is_refused_naming_it_and_the_known_ones() -> None:
    result = scons(REPO, "-n", "boadr=sifive_u")
    assert result.returncode != 0, "a mistyped option was taken as the default"
    lines = result.stdout.splitlines()
    assert "scons: unknown option boadr=sifive_u (did you mean board=sifive_u?)" in lines
    assert f"scons: known options: {', '.join(buildoptions.option_names())}" in result.stdout
    assert "gcc" not in result.stdout


@pytest.mark.parametrize(
    "option",
    [option for option in buildoptions.options() if option.allowed],
    ids=lambda option: option.name,
)
def test_a_value_an_option_does_not_allow_is_refused_listing_those_it_does(
    option: buildoptions.Option,
) -> None:
    result = scons(REPO, "-n", f"{option.name}=no-such-value")
    assert result.returncode != 0
    (message,) = [line for line in result.stdout.splitlines() if "no-such-value" in line]
    assert message.startswith("scons: ")
    assert all(allowed in message for allowed in option.allowed), message


def test_help_is_the_projects_own_and_lists_every_target_option_and_board(
    tmp_path: Path,
) -> None:
    # Without a cross-compiler too: -h is what a newcomer runs first.
    for path in (None, str(tmp_path)):
        result = scons(REPO, "-h", path=path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith(buildoptions.help_text()), result.stdout
    first_words = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert set(buildoptions.TARGETS) <= first_words
    assert {f"{name}=" for name in buildoptions.option_names()} <= first_words
    assert set(boards.known_boards()) <= first_words
    # SCons's own options are -H's, not -h's.
    assert "--cache-debug" not in result.stdout
    assert "--cache-debug" in scons(REPO, "-H").stdout


def test_every_target_the_help_lists_is_one_scons_knows() -> None:
    result = scons(REPO, "-n", *buildoptions.TARGETS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("arguments", "why"),
    [
        (
            ("board=visionfive2",),
            "scons: cannot run: board 'visionfive2' has no QEMU machine: boot it on the "
            "board itself (`scons sdimage board=visionfive2`",
        ),
        (("board=sifive_u", "via=u-boot"), "scons: cannot run: board 'sifive_u' names no U-Boot"),
    ],
    ids=["no-qemu-machine", "no-u-boot"],
)
def test_run_refuses_a_board_qemu_cannot_boot_before_building_anything(
    tmp_path: Path, arguments: tuple[str, ...], why: str
) -> None:
    copy = copy_sources(tmp_path)
    result = scons(copy, "run", *arguments)
    assert result.returncode != 0
    assert result.stdout.startswith(why), result.stdout
    assert "gcc" not in result.stdout
    assert not (copy / "build").exists()


def test_missing_cross_compiler_names_the_setup_command(tmp_path: Path) -> None:
    result = scons(REPO, "-n", path=str(tmp_path))
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines == [
        "error: riscv64-unknown-elf-gcc not found on PATH; run tools/setup "
        "(it installs the Debian package gcc-riscv64-unknown-elf)"
    ]


def test_build_writes_the_outputs(tree: Path) -> None:
    for name in ("kernel.elf", "user/init.elf", "loader.elf", "Image"):
        assert (tree / "build/virt" / name).stat().st_size > 0


def test_noop_build_does_nothing(tree: Path) -> None:
    assert is_up_to_date(tree)


@pytest.mark.parametrize(
    ("edited", "old", "new"),
    [
        ("linker/kernel.ld.in", "ENTRY(_start)", "ENTRY(_start) /* edited */"),
        ("linker/user.ld.in", "ENTRY(_start)", "ENTRY(_start) /* edited */"),
        ("user/shell.c", "#define PROMPT", "/* edited */\n#define PROMPT"),
        ("tools/aubade/payload.py", '"""', '"""Edited. '),
        ("tools/aubade/linkerscript.py", "PAGE_SIZE = 0x1000", "PAGE_SIZE = 0x1000  # edited"),
        ("boards/virt.toml", "text_offset = 0x200000", "text_offset = 0x400000"),
        ("tools/aubade/elfcheck.py", '"""', '"""Edited. '),
        ("tools/aubade/inittokens.py", '"""', '"""Edited. '),
        ("kernel/mm/mm.init", "init heap: kmalloc and kfree", "init heap: kmalloc, kfree"),
    ],
)
def test_editing_a_build_input_rebuilds(tree: Path, edited: str, old: str, new: str) -> None:
    path = tree / edited
    original = path.read_text()
    assert old in original
    try:
        path.write_text(original.replace(old, new, 1))
        assert not is_up_to_date(tree), f"editing {edited} left the build up to date"
    finally:
        path.write_text(original)
    assert is_up_to_date(tree)


def symbol(elf_path: Path, name: str) -> int:
    with elf_path.open("rb") as stream:
        (found,) = ELFFile(stream).get_section_by_name(".symtab").get_symbol_by_name(name)
        return found["st_value"]


def test_image_header_matches_the_loader(tree: Path) -> None:
    loader = tree / "build/virt/loader.elf"
    header = read_header(tree / "build/virt/Image")
    assert header.text_offset == 0x200000
    assert header.image_size == symbol(loader, "__loader_end") - symbol(loader, "__loader_start")
    assert header.image_size >= (tree / "build/virt/Image").stat().st_size
    assert symbol(loader, "_start") == 0x80200000


def test_sdimage_holds_the_built_image_and_rebuilds_for_another_command_line(
    tree: Path, tmp_path: Path
) -> None:
    result = scons(tree, "sdimage", "append=poweroff extlinux")
    assert result.returncode == 0, result.stdout + result.stderr
    card = tree / "build/virt/sdcard.img"
    assert f"{card}: {card.stat().st_size} bytes" in result.stdout
    assert sdimage.extlinux_append(card) == "poweroff extlinux"
    subprocess.run(
        ["mcopy", "-i", f"{card}@@{sdimage.PARTITION_OFFSET}", "::/Image", str(tmp_path)],
        check=True,
        env=dict(os.environ, MTOOLS_SKIP_CHECK="1"),
    )
    assert (tmp_path / "Image").read_bytes() == (tree / "build/virt/Image").read_bytes()
    assert scons(tree, "-q", "sdimage", "append=poweroff extlinux").returncode == 0
    assert scons(tree, "-q", "sdimage", "append=poweroff").returncode != 0


def test_sdimage_refuses_an_append_u_boot_cannot_hold(tree: Path) -> None:
    result = scons(tree, "sdimage", "append=" + "z" * 300)
    assert result.returncode != 0
    assert "append= is 300 characters" in result.stdout


def test_a_board_without_qemu_builds_its_loader_at_its_own_dram_base(tree: Path) -> None:
    # The VisionFive 2's DRAM starts at 0x40000000, not at QEMU's 0x80000000.
    result = scons(tree, "board=visionfive2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert symbol(tree / "build/visionfive2/loader.elf", "_start") == 0x40200000
    assert read_header(tree / "build/visionfive2/Image").text_offset == 0x200000


def function_names(elf_path: Path) -> set[str]:
    with elf_path.open("rb") as stream:
        table = ELFFile(stream).get_section_by_name(".symtab")
        return {item.name for item in table.iter_symbols() if item["st_info"]["type"] == "STT_FUNC"}


# What only the lock checks of debug builds have (kernel/smp/spinlock.c).
LOCK_CHECKS = {"spin_check_none_held_at", "misused"}


def test_debug_0_leaves_the_lock_checks_out(tree: Path) -> None:
    kernel = tree / "build/virt/kernel.elf"
    assert LOCK_CHECKS <= function_names(kernel), "the default build is debug=1"
    try:
        result = scons(tree, "debug=0")
        assert result.returncode == 0, result.stdout + result.stderr
        names = function_names(kernel)
        assert "spin_lock" in names
        assert not LOCK_CHECKS & names
    finally:
        assert scons(tree).returncode == 0


def test_kernel_is_linked_in_the_upper_half_with_separate_segments(tree: Path) -> None:
    with (tree / "build/virt/kernel.elf").open("rb") as stream:
        elf = ELFFile(stream)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        tls = [s for s in elf.iter_segments() if s["p_type"] == "PT_TLS"]
        assert elf["e_entry"] == 0xFFFFFFFF80000000
    assert [s["p_flags"] for s in loads] == [5, 4, 6, 4]  # r-x, r--, rw-, r-- symbol table
    assert all(s["p_vaddr"] % 0x1000 == 0 for s in loads)
    assert len(tls) == 1


def test_user_program_is_linked_in_the_lower_half_with_separate_segments(tree: Path) -> None:
    with (tree / "build/virt/user/init.elf").open("rb") as stream:
        elf = ELFFile(stream)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        types = {s["p_type"] for s in elf.iter_segments()}
        assert elf["e_entry"] == 0x10000
    assert [s["p_flags"] for s in loads] == [5, 4, 6]  # r-x, r--, rw-
    assert all(s["p_vaddr"] % 0x1000 == 0 for s in loads)
    assert loads[0]["p_vaddr"] == 0x10000
    assert loads[-1]["p_vaddr"] + loads[-1]["p_memsz"] < 0x3F00000000
    assert not types & {"PT_TLS", "PT_INTERP", "PT_DYNAMIC"}


def test_the_payload_holds_the_two_embedded_elves(tree: Path) -> None:
    unpacked = unpack((tree / "build/virt/payload.bin").read_bytes())
    assert unpacked.kernel == (tree / "build/virt/kernel.stripped.elf").read_bytes()
    assert unpacked.user == (tree / "build/virt/user/init.stripped.elf").read_bytes()


def test_a_bad_user_program_fails_the_build_saying_why_and_where_to_fix_it(tree: Path) -> None:
    """A user program linked where its stack goes: the build refuses to embed it."""
    script = tree / "linker/user.ld.in"
    original = script.read_text()
    assert ". = ${user_base};" in original
    try:
        script.write_text(original.replace(". = ${user_base};", ". = 0x3f00000000;", 1))
        result = scons(tree)
        assert result.returncode != 0
        assert re.search(
            r"^error: \S+/build/virt/user/init.stripped.elf: segment \d+ \(PT_LOAD at "
            r"0x3f00000000\): memsz 0x[0-9a-f]+ runs past the end of a user program's memory",
            result.stdout,
            re.MULTILINE,
        ), result.stdout
        assert "note: user programs are linked statically" in result.stdout
        assert "linker/user.ld.in" in result.stdout
        assert not (tree / "build/virt/payload.bin").exists()
    finally:
        script.write_text(original)
    assert scons(tree).returncode == 0


def test_a_symbol_table_that_moves_code_fails_the_build(tree: Path) -> None:
    """.ksyms inside the rodata segment grows it in the second link and moves
    everything after it: the build must refuse, naming what moved."""
    script = tree / "linker/kernel.ld.in"
    original = script.read_text()
    assert "*(.rodata .rodata.*" in original
    try:
        script.write_text(
            original.replace("*(.rodata .rodata.*", "KEEP(*(.ksyms)) *(.rodata .rodata.*", 1)
        )
        result = scons(tree)
        assert result.returncode != 0
        assert "the symbol table moved symbols" in result.stdout
        assert re.search(
            r"^  \S+: 0x[0-9a-f]+ in kernel.pre.elf, 0x[0-9a-f]+ in kernel.elf$",
            result.stdout,
            re.MULTILINE,
        ), result.stdout
    finally:
        script.write_text(original)
    assert scons(tree).returncode == 0


INIT_TABLE = "build/virt/kernel/init_table.c"


def test_only_declarations_regenerate_the_init_table(tree: Path) -> None:
    """Editing C code leaves the generated table alone; editing a declaration does not."""
    source = tree / "kernel/mm/heap.c"
    original = source.read_text()
    try:
        source.write_text(original + "/* edited */\n")
        assert scons(tree, "-q", INIT_TABLE).returncode == 0, "a C edit regenerated the table"
    finally:
        source.write_text(original)


def test_a_cycle_in_the_init_declarations_fails_the_build_and_writes_no_table(
    tree: Path,
) -> None:
    declarations = tree / "kernel/mm/mm.init"
    original = declarations.read_text()
    line = "    function heap_init\n"
    assert line in original
    cycle_line = original[: original.index(line)].count("\n") + 2
    try:
        declarations.write_text(
            original.replace(line, line + "    before frames: a made-up need\n", 1)
        )
        result = scons(tree)
        assert result.returncode != 0
        assert re.search(
            r"^kernel/mm/mm.init:\d+: error: cycle in the init order of group main: "
            r"frames -> heap -> frames$",
            result.stdout,
            re.MULTILINE,
        ), result.stdout
        # Each step of the cycle names the line that asks for it.
        assert (
            f"heap -> frames: kernel/mm/mm.init:{cycle_line}: heap `before frames`" in result.stdout
        ), result.stdout
        assert not (tree / INIT_TABLE).exists()
    finally:
        declarations.write_text(original)
    assert scons(tree).returncode == 0


def test_listinit_prints_the_hierarchy_and_the_call_orders(tree: Path) -> None:
    result = scons(tree, "listinit")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == (REPO / "tests/golden/listinit.txt").read_text()


def test_keygen_writes_a_key_pair_and_never_overwrites_it(tmp_path: Path) -> None:
    """No build: keygen alone, in the developer's tree, writing only under tmp_path."""
    private = tmp_path / "keys" / "a.key"
    result = scons(REPO, "keygen", f"key={private}")
    assert result.returncode == 0, result.stdout + result.stderr
    fingerprint = payloadkey.fingerprint(
        payloadkey.raw_public_key(payloadkey.load_private_key(private))
    )
    assert f"{private}: Ed25519 private key {fingerprint}" in result.stdout
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (tmp_path / "keys" / "a.key.pub").is_file()
    before = private.read_bytes()

    again = scons(REPO, "keygen", f"key={private}")

    assert again.returncode == 2, again.stdout + again.stderr
    assert f"scons: keygen: {private} exists: keygen never overwrites a key" in again.stdout
    assert private.read_bytes() == before


def test_keygen_without_a_key_path_says_what_it_needs() -> None:
    result = scons(REPO, "keygen")
    assert result.returncode == 2
    assert "scons: keygen needs key=PATH" in result.stdout


@pytest.mark.parametrize(
    ("contents", "message"),
    [(None, "cannot read it"), (b"-----BEGIN PRIVATE KEY-----\n", "not an unencrypted PEM")],
    ids=["missing", "not-a-key"],
)
def test_a_key_that_cannot_sign_stops_the_build_naming_the_file(
    tmp_path: Path, contents: bytes | None, message: str
) -> None:
    key = tmp_path / "bad.key"
    if contents is not None:
        key.write_bytes(contents)
    result = scons(REPO, "-n", f"key={key}")
    assert result.returncode == 2
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("scons: key=")]
    assert line.startswith(f"scons: key={key}: {message}"), line
    assert f"`scons keygen key={key}`" in line
    assert "gcc" not in result.stdout


def test_signing_with_another_key_or_none_rebuilds_the_payload_and_the_loader(
    tree: Path,
) -> None:
    assert scons(tree, "keygen", "key=tmp/a.key").returncode == 0
    assert scons(tree, "keygen", "key=tmp/b.key").returncode == 0
    try:
        signed = {}
        for name in ("a", "b"):
            result = scons(tree, f"key=tmp/{name}.key")
            assert result.returncode == 0, result.stdout + result.stderr
            assert "Writing build/virt/loader/payload_key.c" in result.stdout
            assert scons(tree, "-q", f"key=tmp/{name}.key").returncode == 0, "not up to date"
            signed[name] = unpack((tree / "build/virt/payload.bin").read_bytes())
        assert signed["a"].signed and signed["b"].signed
        assert signed["a"].digest == signed["b"].digest
        assert signed["a"].signature != signed["b"].signature
    finally:
        result = scons(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not unpack((tree / "build/virt/payload.bin").read_bytes()).signed
    assert "payload_key_present = false" in (tree / "build/virt/loader/payload_key.c").read_text()
    assert is_up_to_date(tree)
