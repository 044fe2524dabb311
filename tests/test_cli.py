"""The pricegym command line: help everywhere, describe, sample, one-line errors, safe writes, fast help."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pricegym import cli_defaults
from pricegym.cli import RESERVED_COMMANDS, build_parser, main
from pricegym.cli_interrupts import terminate_as_interrupt
from pricegym.cli_parsing import (
    INTERRUPTED_EXIT,
    QUIET_LIBRARIES,
    quiet_libraries,
    run_command,
    status,
    user_error_message,
)
from pricegym.errors import ConfigError
from pricegym.run_records import UNKNOWN_COMMIT, git_commit, write_run_record
from pricegym.worlds.schema import read_transactions

TINY = ["--n-products", "12", "--n-customers", "40", "--n-exposures", "1500", "--n-days", "30", "--seed", "5"]


def error_lines(captured: str, program: str = "pricegym") -> list[str]:
    return [line for line in captured.splitlines() if line.startswith(f"{program}: error")]


# --- help and version ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["world"], ["world", "describe"], ["world", "sample"], ["fit-demand"],
                                     ["fit-pricer"], ["bench-speed"], *[[name] for name in RESERVED_COMMANDS]])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: pricegym" in capsys.readouterr().out


@pytest.mark.parametrize("name", list(RESERVED_COMMANDS))
def test_a_reserved_command_says_it_is_not_available_yet(name, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([name, "--help"])
    assert exited.value.code == 0
    description = capsys.readouterr().out.split("\n\n")[1]
    assert description.startswith("not available yet in pricegym")
    assert main([name]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pricegym: error: not available yet")


HEAVY_MODULES = ("torch", "transformers", "pandas", "gymnasium", "stable_baselines3", "pricegym.worlds")

IMPORTS_AFTER = """
import json, sys
from pricegym.cli import main
main(sys.argv[1:])
print(json.dumps([name for name in {heavy!r} if name in sys.modules]), file=sys.stderr)
"""


@pytest.mark.parametrize("arguments", [["--help"], ["--version"], ["fit-demand", "--help"], ["train", "--help"],
                                       ["world", "describe", "--seed", "-1"]])
def test_help_version_and_argument_errors_import_no_heavy_library(arguments):
    code = IMPORTS_AFTER.format(heavy=HEAVY_MODULES)
    result = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True, timeout=120)
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []


def test_version_and_help_exit_0(capsys):
    assert main(["--version"]) == 0 and capsys.readouterr().out.startswith("pricegym ")
    assert main(["world", "--help"]) == 0 and capsys.readouterr().out.startswith("usage: pricegym world")


def test_the_light_defaults_mirror_the_configs():
    from pricegym.agents.fit_pricer import FitPricerConfig
    from pricegym.agents.pricer_training import PricerTrainingConfig
    from pricegym.agents.pricing_texts import CONTEXT_SCHEMES
    from pricegym.encoders.demand_training import DemandTrainingConfig
    from pricegym.encoders.fit_demand import FitDemandConfig
    from pricegym.encoders.text_encoder import TextEncoderConfig
    from pricegym.worlds import WORLD_NAMES
    from pricegym.worlds.registry import WorldConfig
    from pricegym.worlds.splits import SPLIT_NAMES
    from pricegym.worlds.synthetic.config import SyntheticWorldConfig, demand_log

    def default(config_class, name):
        return next(field.default for field in dataclasses.fields(config_class) if field.name == name)

    from pricegym import cli_parsing, config_checks

    assert cli_defaults.WORLD_NAMES == WORLD_NAMES and cli_defaults.SPLIT_NAMES == SPLIT_NAMES
    assert cli_parsing.LARGEST_SEED == config_checks.LARGEST_SEED
    assert cli_defaults.CONTEXT_SCHEMES == tuple(CONTEXT_SCHEMES)
    world = cli_defaults.WORLD
    for name in ("seed", "n_products", "n_customers", "n_exposures", "n_days", "exploration_share"):
        assert getattr(world, name) == default(SyntheticWorldConfig, name), name
    assert world.unit_cost_share == default(WorldConfig, "unit_cost_share")
    logged = demand_log(SyntheticWorldConfig())
    for name in ("seed", "n_products", "n_customers", "n_exposures", "n_days", "exploration_share"):
        assert getattr(cli_defaults.DEMAND_LOG, name) == getattr(logged, name), name
    demand = cli_defaults.DEMAND_FIT
    assert (demand.model, demand.max_length) == (default(TextEncoderConfig, "model_name"),
                                                 default(TextEncoderConfig, "max_length"))
    for name in ("epochs", "products_per_step", "customer_texts_per_step", "max_steps_per_epoch"):
        assert getattr(demand, name) == default(DemandTrainingConfig, name), name
    assert demand.encoder_lr == default(DemandTrainingConfig, "encoder_learning_rate")
    assert demand.bootstrap_rounds == default(FitDemandConfig, "bootstrap_rounds")
    assert cli_defaults.CACHE_DIR == default(FitDemandConfig, "cache_dir") == default(FitPricerConfig, "cache_dir")
    pricer = cli_defaults.PRICER_FIT
    for name in ("epochs", "batch_size", "max_train_texts"):
        assert getattr(pricer, name) == default(PricerTrainingConfig, name), name
    assert pricer.encoder_lr == default(PricerTrainingConfig, "encoder_learning_rate")
    assert pricer.context == default(FitPricerConfig, "context_buckets")
    assert pricer.max_eval_rows == default(FitPricerConfig, "max_eval_rows")


# --- describe and sample -----------------------------------------------------------------------------------


def test_describe_prints_the_summary_and_true_elasticities(capsys):
    assert main(["world", "describe", *TINY]) == 0
    out = capsys.readouterr().out
    for fact in ("products", "customers", "date range", "within-product CV of price", "true elasticity",
                 "True price elasticity at list price"):
        assert fact in out


def test_describe_json_is_one_object(capsys):
    assert main(["world", "describe", "--json", *TINY]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["products"] == 12 and summary["rows"] == 1500


@pytest.mark.parametrize("name", ["sample.csv", "sample.parquet", "new/nested/sample.csv.gz"])
def test_sample_writes_a_readable_transactions_file(tmp_path, name):
    out = tmp_path / name
    assert main(["world", "sample", "--out", str(out), *TINY]) == 0
    frame = read_transactions(out)
    assert len(frame) == 1500 and set(frame["split"]) == {"train", "validation", "test", "cold_start_test"}
    assert [path.name for path in out.parent.iterdir()] == [out.name]  # no partial file beside it


def test_sample_of_one_split(tmp_path):
    out = tmp_path / "train.csv"
    assert main(["world", "sample", "--out", str(out), "--split", "train", *TINY]) == 0
    assert set(read_transactions(out)["split"]) == {"train"}


# --- argument errors: one line, exit 1, from the parser ----------------------------------------------------


@pytest.mark.parametrize("arguments, message", [
    (["world", "describe", "--seed", "abc"], "argument --seed: expected an integer >= 0; got 'abc'"),
    (["world", "describe", "--seed", "-1"], "argument --seed: expected an integer >= 0; got '-1'"),
    (["world", "describe", "--world", "nowhere"], "argument --world: invalid choice: 'nowhere'"),
    (["world", "describe", "--n-products", "-3"], "argument --n-products: expected a positive integer"),
    (["world", "sample", "--exploration-share", "2", "--out", "x.csv"], "expected a number between 0 and 1"),
    (["world", "sample"], "the following arguments are required: --out"),
    (["fit-demand", "--bootstrap-rounds", "-2"], "argument --bootstrap-rounds: expected an integer >= 0; got '-2'"),
    (["fit-demand", "--encoder-lr", "nan"], "argument --encoder-lr: expected a finite number > 0; got 'nan'"),
    (["fit-demand", "--encoder-lr=-1e-5"], "argument --encoder-lr: expected a finite number > 0"),
    (["fit-demand", "--epochs", "0"], "argument --epochs: expected a positive integer"),
    (["fit-pricer", "--batch-size", "1.5"], "argument --batch-size: expected a positive integer"),
    (["fit-pricer", "--context", "weekly"], "argument --context: invalid choice: 'weekly'"),
    (["world", "describe", "--unknown-option"], "unrecognized arguments: --unknown-option"),
    (["nothing"], "argument COMMAND: invalid choice: 'nothing'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_argument_errors_are_one_line_and_exit_1(arguments, message, capsys):
    assert main(arguments) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pricegym: error: ") and message in lines[0]
    assert re.search(r"\(see `pricegym[a-z -]* --help`\)$", lines[0])


CONSOLE_SCRIPT = str(Path(sys.executable).with_name("pricegym"))


@pytest.mark.parametrize("command", [[CONSOLE_SCRIPT], [sys.executable, "-m", "pricegym"]])
def test_the_console_script_and_python_m_give_one_line_and_exit_1(command):
    for arguments in (["world", "sample", "--out", "x.txt"], ["world", "describe", "--seed", "-1"]):
        result = subprocess.run([*command, *arguments], capture_output=True, text=True, timeout=300)
        assert result.returncode == 1
        assert len(error_lines(result.stderr)) == 1 and result.stderr.strip().splitlines()[-1].startswith(
            "pricegym: error:")


# --- errors found while running: one line, exit 1, nothing written ----------------------------------------


@pytest.mark.parametrize("arguments, message", [
    (["world", "sample", "--out", "OUT/sample.xlsx"], "unknown output format"),
    (["world", "describe", "--n-products", "3"], "n_products must be an integer in"),
    (["world", "describe", "--seed", "5000000000"], "seed must be an integer in"),
    (["world", "describe", "--world", "online-retail", "--data", "OUT/missing.csv.gz"], "missing.csv.gz"),
    (["sweep"], "not available"),
])
def test_bad_input_gives_one_line_a_nonzero_exit_and_no_file(tmp_path, capsys, arguments, message):
    arguments = [argument.replace("OUT", str(tmp_path)) for argument in arguments]
    assert main(arguments) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and message in lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def obstacles(tmp_path: Path) -> Path:
    """``tmp_path`` with a file ``a-file`` and a folder ``a-folder.csv``."""
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "a-folder.csv").mkdir()
    return tmp_path


@pytest.mark.parametrize("arguments, message", [
    (["world", "sample", "--out", "OUT/a-file/sample.csv"], "expected a folder at"),
    (["world", "sample", "--out", "OUT/a-file/deeper/sample.parquet"], "expected a folder at"),
    (["world", "sample", "--out", "OUT/a-folder.csv"], "expected a file name, found a folder"),
    (["fit-demand", "--out", "OUT/a-file"], "expected a folder, found a file"),
    (["fit-demand", "--out", "OUT/a-file/run"], "expected a folder at"),
    (["fit-pricer", "--out", "OUT/a-file/run"], "expected a folder at"),
    (["fit-demand", "--out", "OUT/run", "--cache-dir", "OUT/a-file"], "expected a folder, found a file"),
    (["bench-speed", "--cache-dir", "OUT/a-file"], "expected a folder, found a file"),
    pytest.param(["world", "sample", "--out", "/proc/pricegym-sample.csv"], "does not accept new files",
                 marks=pytest.mark.skipif(os.geteuid() != 0, reason="root passes the permission check")),
    pytest.param(["fit-demand", "--out", "/proc/pricegym-run"], "does not accept new files",
                 marks=pytest.mark.skipif(os.geteuid() != 0, reason="root passes the permission check")),
])
def test_an_unwritable_target_is_one_line_before_any_work(obstacles, capsys, monkeypatch, arguments, message):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # so that the slow part would say it started
    arguments = [argument.replace("OUT", str(obstacles)) for argument in arguments]
    assert main([*arguments, *TINY] if arguments[0] == "world" else arguments) == 1
    captured = capsys.readouterr()
    lines = error_lines(captured.err)
    assert len(lines) == 1 and "cannot write" in lines[0] and message in lines[0]
    assert "building" not in captured.err and "fitting" not in captured.err  # refused before the slow part
    assert sorted(path.name for path in obstacles.iterdir()) == ["a-file", "a-folder.csv"]


def _half_written_then(error: BaseException):
    def broken_writer(self, target, **kwargs):
        Path(target).write_text("half")
        raise error

    return broken_writer


@pytest.mark.parametrize("name", ["sample.csv", "new/deeper/sample.csv"])
def test_a_write_that_fails_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys, name):
    out = tmp_path / name
    denied = PermissionError(13, "Permission denied", str(out.parent / ".sample.csv.partial"))
    monkeypatch.setattr(pd.DataFrame, "to_csv", _half_written_then(denied))
    assert main(["world", "sample", "--out", str(out), *TINY]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and f"cannot write {out}: Permission denied" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_a_write_leaves_nothing(tmp_path, monkeypatch, capsys):
    out = tmp_path / "sample.parquet"
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _half_written_then(KeyboardInterrupt()))
    assert main(["world", "sample", "--out", str(out), *TINY]) == INTERRUPTED_EXIT
    assert "pricegym: interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_stale_partial_file_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "sample.csv"
    (tmp_path / ".sample.csv.partial").write_text("left by a run killed with -9")
    assert main(["world", "sample", "--out", str(out), *TINY]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sample.csv"]


def test_sigterm_is_turned_into_ctrl_c_so_that_cleanup_runs():
    import os
    import signal

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1_000_000):  # the handler runs between two bytecodes
            pass
    assert signal.getsignal(signal.SIGTERM) is before


def test_temporary_files_a_command_forgets_are_removed(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def leaky() -> int:
        Path(tempfile.mkdtemp(prefix="forgotten-")).joinpath("x").write_text("x")
        tempfile.mkstemp()
        return 0

    assert run_command("pricegym", leaky) == 0
    assert list(tmp_path.iterdir()) == [] and tempfile.tempdir == str(tmp_path)


# --- errors from typed configs -----------------------------------------------------------------------------


def test_a_pydantic_validation_error_is_one_line(capsys):
    import pydantic

    class Limits(pydantic.BaseModel):
        size: int = pydantic.Field(gt=0)
        rate: float = pydantic.Field(allow_inf_nan=False)

    def bad() -> int:
        Limits(size=-1, rate=float("nan"))
        return 0

    assert run_command("pricegym", bad) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pricegym: error: Limits: size: Input should be greater than 0; got -1; rate:")


def test_a_multi_line_config_error_is_folded_into_one_line():
    message = user_error_message(ConfigError("Markdown-v0: horizon must be positive\n  got 0\n"))
    assert message == "Markdown-v0: horizon must be positive; got 0"
    assert user_error_message(FileNotFoundError(2, "No such file or directory", "x.csv")).startswith(
        "x.csv: No such file or directory")
    assert user_error_message(ZeroDivisionError()) is None  # a bug keeps its traceback


# --- run.json records the git commit -----------------------------------------------------------------------


def test_run_json_records_the_git_commit_of_the_source(tmp_path):
    write_run_record(tmp_path, ["pricegym", "fit-demand"], seed=3)
    record = json.loads((tmp_path / "run.json").read_text())
    assert set(record["git"]) == {"commit", "dirty"}
    git = record["git"]
    assert git == UNKNOWN_COMMIT or (re.fullmatch(r"[0-9a-f]{40}", git["commit"]) and isinstance(git["dirty"], bool))


def test_the_git_commit_is_unknown_outside_a_checkout_or_without_git(tmp_path, monkeypatch):
    (tmp_path / "__init__.py").write_text("")
    assert git_commit(tmp_path) == UNKNOWN_COMMIT

    def no_git(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", "git")

    monkeypatch.setattr(subprocess, "run", no_git)
    assert git_commit() == UNKNOWN_COMMIT


# --- found by trying bad inputs as a new user --------------------------------------------------------------


@pytest.fixture
def no_fit(monkeypatch):
    """The fits fail the test if they start: a refusal must come before any work."""
    import pricegym.agents.fit_pricer
    import pricegym.encoders.fit_demand

    def must_not_run(*args, **kwargs):
        pytest.fail("the fit started; the bad input should have been refused before")

    monkeypatch.setattr(pricegym.encoders.fit_demand, "fit_demand", must_not_run)
    monkeypatch.setattr(pricegym.agents.fit_pricer, "fit_pricer", must_not_run)


@pytest.mark.parametrize("command", ["fit-demand", "fit-pricer"])
@pytest.mark.parametrize("out, overwrite, message", [
    ("mine", True, "holds no run.json, so it is not an earlier output that --overwrite may replace"),
    ("earlier-run", False, "it already exists; pass --overwrite to replace it"),
    (".", True, "expected a path ending in a folder name"),
    ("..", True, "expected a path ending in a folder name"),
    ("/", True, "expected a path ending in a folder name"),
    ("", False, "argument --out: expected a path; got ''"),
])
def test_a_fit_never_replaces_a_folder_that_is_not_an_earlier_run(tmp_path, monkeypatch, capsys, no_fit, command,
                                                                  out, overwrite, message):
    (tmp_path / "mine" / "photos").mkdir(parents=True)
    (tmp_path / "mine" / "notes.txt").write_text("a user's own file")
    (tmp_path / "earlier-run").mkdir()
    (tmp_path / "earlier-run" / "run.json").write_text("{}")
    (tmp_path / "work").mkdir()
    before = sorted(tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path / "work")
    out = str(tmp_path / out) if out in ("mine", "earlier-run") else out
    assert main([command, "--out", out, *(["--overwrite"] if overwrite else []), *TINY]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pricegym: error: ") and message in lines[0]
    assert sorted(tmp_path.rglob("*")) == before


def test_sample_replaces_an_existing_file_only_with_overwrite(tmp_path, capsys):
    out = tmp_path / "sample.csv"
    out.write_text("the user's data")
    assert main(["world", "sample", "--out", str(out), *TINY]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "it already exists; pass --overwrite to replace it" in lines[0]
    assert out.read_text() == "the user's data"
    assert main(["world", "sample", "--out", str(out), "--overwrite", *TINY]) == 0
    assert len(read_transactions(out)) == 1500


@pytest.mark.parametrize("arguments, message", [
    (["world", "sample", "--out", "OUT/x.csv/"], "argument --out: expected a file name; got"),
    (["world", "describe", "--data", "OUT/retail.csv.gz"], "--data only applies to --world online-retail"),
    (["world", "describe", "--unit-cost-share", "0.3"], "--unit-cost-share only applies to --world online-retail"),
    (["world", "describe", "--world", "online-retail", "--n-products", "20", "--n-days", "9"],
     "--n-products, --n-days only apply to --world synthetic"),
    (["world", "describe", "--world", "online-retail", "--data", "OUT"], "is a folder; expected the UCI Online Retail"),
    (["world", "describe", "--world", "online-retail", "--data", ""], "argument --data: expected a path; got ''"),
    (["world", "describe", "--world", "online-retail", "--data", "OUT/garbage.csv.gz"], "could not be read"),
    (["--bogus"], "unrecognized arguments: --bogus; the following arguments are required: COMMAND"),
    (["world", "sample", "--bogus"], "unrecognized arguments: --bogus; the following arguments are required: --out"),
    (["world", "sample", "--n-prod", "20"], "the following arguments are required: --out (see"),  # an abbreviation
    (["world", "describe", "--bogus"], "unrecognized arguments: --bogus (see `pricegym world describe --help`)"),
])
def test_more_bad_input_is_exactly_one_line_on_stderr(tmp_path, capsys, arguments, message):
    (tmp_path / "garbage.csv.gz").write_text("hello, not gzip")
    arguments = [argument.replace("OUT", str(tmp_path)) for argument in arguments]
    assert main(arguments) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pricegym: error: ") and message in lines[0], captured.err
    assert captured.out == "" and sorted(path.name for path in tmp_path.iterdir()) == ["garbage.csv.gz"]


def test_status_lines_go_to_a_terminal_only(monkeypatch, capsys):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    status("building the world ...")
    assert capsys.readouterr().err == ""  # a pipe or a log: the one error line stays the only line
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    status("building the world ...")
    assert terminal.getvalue() == "pricegym: building the world ...\n"


class BrokenOutput:
    """Standard output whose reader went away."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("arguments", [["world", "describe", *TINY], ["--help"], ["bench-speed", "--list"]])
def test_a_closed_standard_output_is_one_line_not_a_path_error(monkeypatch, capsys, arguments):
    import sys

    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", BrokenOutput())
    assert main(arguments) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["pricegym: error: cannot write to standard output: the reader of its output went away "
                     "(broken pipe); the printed output is incomplete"]


class Finaliser:
    """An object whose ``__del__`` is interrupted, as Ctrl-C can land in any finaliser (tokenizers' regex...)."""

    def __del__(self) -> None:
        import signal

        signal.raise_signal(signal.SIGINT)
        for _ in range(1_000):  # the handler runs between two bytecodes, still inside the finaliser
            pass


def test_ctrl_c_swallowed_by_a_finaliser_still_interrupts_and_writes_nothing(tmp_path, capsys):
    from pricegym.safe_writes import atomic_file

    target = tmp_path / "new" / "out.csv"

    def command() -> int:
        with atomic_file(target) as partial:
            partial.write_text("complete")
            Finaliser()  # made and dropped at once: its __del__ runs here
            for _ in range(1_000):
                pass
        return 0

    assert run_command("pricegym", command) == INTERRUPTED_EXIT
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["pricegym: interrupted"]  # no "Exception ignored" traceback
    assert list(tmp_path.iterdir()) == []


def test_the_retry_of_a_swallowed_ctrl_c_does_not_cut_short_the_cleanup_it_started(capsys):
    import signal
    import time

    from pricegym.cli_interrupts import RETRY_INTERRUPT_S
    from pricegym.safe_writes import raise_if_interrupted

    cleaned = []

    def command() -> int:
        try:
            Finaliser()  # the interrupt is swallowed there, so an alarm will raise it again shortly...
            raise_if_interrupted()  # ...but a write helper raises it first
        finally:
            time.sleep(4 * RETRY_INTERRUPT_S)  # a slow clean-up (a big partial folder, the scratch folder)
            cleaned.append(True)
        return 0

    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
    assert run_command("pricegym", command) == INTERRUPTED_EXIT
    assert cleaned == [True]
    assert capsys.readouterr().err.strip().splitlines() == ["pricegym: interrupted"]
    assert {number: signal.getsignal(number) for number in before} == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_libraries_are_quiet_unless_the_user_says_otherwise(monkeypatch):
    for name in (*QUIET_LIBRARIES, "HF_HUB_DISABLE_PROGRESS_BARS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRANSFORMERS_VERBOSITY", "info")
    quiet_libraries(progress=False)
    assert os.environ["TRANSFORMERS_VERBOSITY"] == "info" and os.environ["HF_HUB_VERBOSITY"] == "error"
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
