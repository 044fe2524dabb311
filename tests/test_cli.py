"""The pricegym command line: help everywhere, describe, sample, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pricegym.cli import RESERVED_COMMANDS, build_parser, main
from pricegym.worlds.schema import read_transactions

TINY = ["--n-products", "12", "--n-customers", "40", "--n-exposures", "1500", "--n-days", "30", "--seed", "5"]


@pytest.mark.parametrize("command", [[], ["world"], ["world", "describe"], ["world", "sample"],
                                     *[[name] for name in RESERVED_COMMANDS]])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: pricegym" in capsys.readouterr().out


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


@pytest.mark.parametrize("name", ["sample.csv", "sample.parquet"])
def test_sample_writes_a_readable_transactions_file(tmp_path, name):
    out = tmp_path / name
    assert main(["world", "sample", "--out", str(out), *TINY]) == 0
    frame = read_transactions(out)
    assert len(frame) == 1500 and set(frame["split"]) == {"train", "validation", "test", "cold_start_test"}


def test_sample_of_one_split(tmp_path):
    out = tmp_path / "train.csv"
    assert main(["world", "sample", "--out", str(out), "--split", "train", *TINY]) == 0
    assert set(read_transactions(out)["split"]) == {"train"}


@pytest.mark.parametrize("arguments, message", [
    (["world", "sample", "--out", "OUT/sample.xlsx"], "unknown output format"),
    (["world", "describe", "--n-products", "-3"], "n_products must be a positive integer"),
    (["world", "describe", "--world", "online-retail", "--data", "OUT/missing.csv.gz"], "missing.csv.gz"),
    (["train"], "not available"),
])
def test_bad_input_gives_one_line_a_nonzero_exit_and_no_file(tmp_path, capsys, arguments, message):
    arguments = [argument.replace("OUT", str(tmp_path)) for argument in arguments]
    assert main(arguments) == 1
    error_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("pricegym: error")]
    assert len(error_lines) == 1 and message in error_lines[0]
    assert list(tmp_path.iterdir()) == []


def test_unknown_world_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["world", "describe", "--world", "atlantis"])
    assert exited.value.code == 2
    assert "invalid choice: 'atlantis'" in capsys.readouterr().err


def test_the_installed_console_script_runs():
    script = Path(sys.executable).with_name("pricegym")
    result = subprocess.run([str(script), "world", "sample", "--out", "x.txt"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("pricegym: error:")
