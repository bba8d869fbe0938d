"""tools/boardcheck: the loader's and the kernel's own code on device trees.

The trees in tests/tools/data/boards/ each exercise one binding or one
refusal (their first comment says which); QEMU's own virt and sifive_u trees
are dumped from QEMU. All of them go through one run of the program, which
also checks that several files give one verdict each, in order.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from configurations import REPO, built

from aubade import boardcheck
from aubade.boards import load_board
from aubade.qemu import QemuConfig, dump_device_tree

DATA = Path(__file__).parent / "data" / "boards"
SOURCES = sorted(DATA.glob("*.dts"))
# Made from QEMU at test time: (name, board, -smp).
QEMU_TREES = (
    ("qemu-virt", "virt", 4),
    ("qemu-sifive_u", "sifive_u", 5),
    ("qemu-spike", "spike", 4),
)


def compile_tree(source: Path, dtb: Path) -> Path:
    subprocess.run(
        ["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(dtb), str(source)],
        check=True,
        timeout=60,
    )
    return dtb


@pytest.fixture(scope="module")
def dtbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every test tree, compiled, and QEMU's, dumped; by name."""
    directory = tmp_path_factory.mktemp("boards")
    files = {
        source.stem: compile_tree(source, directory / f"{source.stem}.dtb") for source in SOURCES
    }
    for name, board, smp in QEMU_TREES:
        config = QemuConfig(load_board(board), built(load_board(board), "Image"), smp=smp)
        files[name] = dump_device_tree(config, directory / f"{name}.dtb")
    # Cut short: the header promises more bytes than the file has.
    whole = files["bindings"].read_bytes()
    files["truncated"] = directory / "truncated.dtb"
    files["truncated"].write_bytes(whole[: len(whole) // 2])
    files["not-a-tree"] = directory / "not-a-tree.dtb"
    files["not-a-tree"].write_bytes(b"this is no device tree\n" * 8)
    return files


@pytest.fixture(scope="module")
def run(dtbs: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    return boardcheck.run(list(dtbs.values()))


@pytest.fixture(scope="module")
def verdicts(
    dtbs: dict[str, Path], run: subprocess.CompletedProcess[str]
) -> dict[str, boardcheck.Verdict]:
    parsed = boardcheck.parse(run.stdout)
    assert [verdict.file for verdict in parsed] == [str(path) for path in dtbs.values()]
    return dict(zip(dtbs, parsed, strict=True))


def fields(verdict: boardcheck.Verdict, event: str, key: str) -> list[str]:
    return [line.fields[key] for line in verdict.events(event)]


def test_one_verdict_per_file_each_after_a_blank_line(
    run: subprocess.CompletedProcess[str], dtbs: dict[str, Path]
) -> None:
    blocks = run.stdout.rstrip("\n").split("\n\n")
    assert len(blocks) == len(dtbs)
    for block, path in zip(blocks, dtbs.values(), strict=True):
        lines = block.splitlines()
        assert lines[0] == f"board: check file={path}"
        last = lines[-1]
        assert last == "board: supported" or "board: unsupported " in block, block


def test_exit_status_is_1_when_a_file_is_unsupported(
    run: subprocess.CompletedProcess[str],
) -> None:
    assert run.returncode == 1, run.stderr


def test_exit_status_is_0_when_every_file_is_supported(dtbs: dict[str, Path]) -> None:
    result = boardcheck.run([dtbs["qemu-virt"], dtbs["bindings"]])
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_missing_file_is_an_error_that_names_it(dtbs: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "no-such.dtb"
    result = boardcheck.run([missing, dtbs["qemu-virt"]])
    assert result.returncode == 2
    assert f"boardcheck: {missing}: No such file or directory" in result.stderr
    # The files after it are still checked.
    (verdict,) = boardcheck.parse(result.stdout)
    assert verdict.supported


@pytest.mark.parametrize("name", ["truncated", "not-a-tree"])
def test_a_malformed_tree_is_refused(verdicts: dict[str, boardcheck.Verdict], name: str) -> None:
    verdict = verdicts[name]
    assert verdict.reasons == ["dtb-invalid"]
    assert not verdict.supported
    assert not verdict.events("harts")


def test_wrapper_builds_and_runs(dtbs: dict[str, Path]) -> None:
    result = subprocess.run(
        [str(REPO / "tools" / "boardcheck"), str(dtbs["qemu-sifive_u"])],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "board: harts count=4 ids=1,2,3,4\n" in result.stdout


# QEMU's own trees.


def test_qemu_virt_is_supported_on_every_hart(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["qemu-virt"]
    assert verdict.supported, verdict
    assert verdict.hart_ids == [0, 1, 2, 3]
    assert fields(verdict, "console", "driver") == ["ns16550a"]
    assert fields(verdict, "irq", "driver") == ["sifive,plic-1.0.0"]
    assert fields(verdict, "timer", "kind") == ["sstc"] * 4


def test_qemu_sifive_u_leaves_the_e51_alone(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["qemu-sifive_u"]
    assert verdict.supported, verdict
    assert verdict.hart_ids == [1, 2, 3, 4]
    assert fields(verdict, "console", "node") == ["/soc/serial@10010000"]
    assert fields(verdict, "console", "driver") == ["sifive,uart0"]
    assert fields(verdict, "timer", "kind") == ["sbi"] * 4


def test_qemu_spike_writes_through_sbi(verdicts: dict[str, boardcheck.Verdict]) -> None:
    """Its stdout-path is /htif, which only firmware drives: the kernel boots
    there, its log through SBI, without typed input."""
    verdict = verdicts["qemu-spike"]
    assert verdict.supported, verdict
    assert verdict.hart_ids == [0, 1, 2, 3]
    assert [line.fields for line in verdict.events("console")] == [
        {"node": "/htif", "driver": "sbi"}
    ]
    assert fields(verdict, "warning", "reason") == ["console-no-driver"]
    assert not verdict.events("irq")


# Bindings.


def test_harts_by_riscv_isa_and_by_isa_extensions(verdicts: dict[str, boardcheck.Verdict]) -> None:
    """Hart 1 says riscv,isa, hart 2 riscv,isa-base and -extensions; the
    monitor core, the disabled hart and the RV32 one are left alone."""
    verdict = verdicts["bindings"]
    assert verdict.supported, verdict
    assert verdict.hart_ids == [1, 2]
    skipped = {line.int_field("hart"): line.fields["reason"] for line in verdict.events("skipped")}
    assert skipped == {0: "no-mmu", 3: "disabled", 4: "not-rv64"}
    timers = {line.int_field("hart"): line.fields["kind"] for line in verdict.events("timer")}
    assert timers == {1: "sstc", 2: "sbi"}


def test_console_by_alias_with_options(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["bindings"]
    (console,) = verdict.events("console")
    assert console.fields == {
        "node": "/soc/serial@10010000",
        "driver": "sifive,uart0",
        "reg": "0x10010000",
    }


def test_no_memory_node_is_a_warning(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["no-memory"]
    assert fields(verdict, "warning", "reason") == ["no-memory"]
    assert "firmware usually adds one" in verdict.events("warning")[0].fields["detail"]
    assert not verdict.events("memory")
    assert verdict.supported


def test_thirty_reserved_ranges(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["reserved-30"]
    assert verdict.supported, verdict
    ranges = fields(verdict, "reserved", "range")
    assert ranges == [
        f"{0x90000000 + i * 0x100000:#x}-{0x90010000 + i * 0x100000:#x}" for i in range(30)
    ]
    assert fields(verdict, "reserved", "node")[29] == "carveout29@91d00000"


def test_uart_above_4_gib(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["high-uart"]
    assert verdict.supported, verdict
    assert fields(verdict, "console", "reg") == ["0x7040000000"]
    assert fields(verdict, "console", "driver") == ["snps,dw-apb-uart"]


def test_aplic_in_direct_mode(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["aplic"]
    assert verdict.supported, verdict
    assert fields(verdict, "irq", "node") == ["/soc/interrupt-controller@d000000"]
    assert fields(verdict, "irq", "driver") == ["riscv,aplic"]


def test_aplic_forwarding_to_an_imsic(verdicts: dict[str, boardcheck.Verdict]) -> None:
    """In MSI mode the console's interrupt goes through the APLIC to the IMSIC:
    both need a driver."""
    verdict = verdicts["imsic"]
    assert verdict.supported, verdict
    assert fields(verdict, "irq", "driver") == ["riscv,aplic", "riscv,imsics"]
    assert fields(verdict, "irq", "node") == [
        "/soc/interrupt-controller@d000000",
        "/soc/interrupt-controller@28000000",
    ]


def test_two_numa_sockets(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["numa"]
    assert verdict.supported, verdict
    assert fields(verdict, "memory", "base") == ["0x80000000", "0xc0000000"]
    assert verdict.hart_ids == [0, 1, 2, 3]
    # The console's PLIC is the first socket's.
    assert fields(verdict, "irq", "node") == ["/soc/interrupt-controller@c000000"]


def test_console_through_sbi_without_stdout_path(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["spike-like"]
    assert verdict.supported, verdict
    assert [line.fields for line in verdict.events("console")] == [
        {"node": "none", "driver": "sbi"}
    ]
    assert fields(verdict, "warning", "reason") == ["console-none"]
    assert not verdict.events("irq")


def test_console_without_a_driver_writes_through_sbi(
    verdicts: dict[str, boardcheck.Verdict],
) -> None:
    """What both stages do with it: the log through the firmware's SBI
    console, and no input. Said, not refused (docs/boards.md says why)."""
    verdict = verdicts["console-no-driver"]
    assert verdict.supported, verdict
    assert [line.fields for line in verdict.events("console")] == [
        {"node": "/soc/serial@10000000", "driver": "sbi"}
    ]
    (warning,) = verdict.events("warning")
    assert warning.fields["reason"] == "console-no-driver"
    assert "vendor,fancy-uart" in warning.fields["detail"]
    assert "nothing typed reaches the shell" in warning.fields["detail"]
    assert not verdict.events("irq")


# Refusals.


def test_no_hart_with_an_mmu(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["no-mmu"]
    assert verdict.reasons == ["no-mmu-hart"]
    assert fields(verdict, "skipped", "reason") == ["no-mmu", "no-mmu"]
    assert not verdict.events("harts")


def test_console_interrupt_controller_without_a_driver(
    verdicts: dict[str, boardcheck.Verdict],
) -> None:
    verdict = verdicts["irq-no-driver"]
    assert verdict.reasons == ["irq-no-driver"]
    assert "vendor,fancy-intc" in verdict.events("unsupported")[0].fields["detail"]


def test_thead_c910_refused_for_its_page_attributes(
    verdicts: dict[str, boardcheck.Verdict],
) -> None:
    """TH1520: the PLIC variant and the UART at 0xffe7014000 are driven, but
    the cores need T-Head's own page attributes, which the kernel lacks."""
    verdict = verdicts["th1520"]
    assert not verdict.supported
    assert fields(verdict, "skipped", "reason") == ["vendor-page-attributes"] * 4
    assert verdict.reasons == ["vendor-page-attributes"]
    assert "thead,c910" in verdict.events("unsupported")[0].fields["detail"]
    assert fields(verdict, "console", "reg") == ["0xffe7014000"]
    assert fields(verdict, "irq", "driver") == ["thead,c900-plic"]


# The real boards of boards/, from the facts of Linux's trees.


def test_hifive_unmatched(verdicts: dict[str, boardcheck.Verdict]) -> None:
    verdict = verdicts["unmatched"]
    assert verdict.supported, verdict
    assert verdict.hart_ids == [1, 2, 3, 4]
    assert fields(verdict, "memory", "size") == ["0x400000000"]
    assert fields(verdict, "console", "driver") == ["sifive,uart0"]
    # Its first compatible, sifive,fu540-c000-plic, is no driver's.
    assert fields(verdict, "irq", "driver") == ["sifive,plic-1.0.0"]
    assert fields(verdict, "timer", "kind") == ["sbi"] * 4


def test_visionfive2(verdicts: dict[str, boardcheck.Verdict]) -> None:
    """Its UART names no interrupt-parent: /soc's is inherited."""
    verdict = verdicts["visionfive2"]
    assert verdict.supported, verdict
    assert verdict.hart_ids == [1, 2, 3, 4]
    assert fields(verdict, "console", "driver") == ["snps,dw-apb-uart"]
    assert fields(verdict, "irq", "node") == ["/soc/interrupt-controller@c000000"]
    assert fields(verdict, "timer", "kind") == ["sbi"] * 4
