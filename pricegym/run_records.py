"""What every run folder records about itself: data hash, JSON-ready config, command line, versions."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

VERSIONED_PACKAGES = ("pricegym", "torch", "transformers", "numpy", "pandas", "gymnasium", "stable-baselines3")


def data_hash(world) -> str:
    """sha256 of the world's transactions (content, not file), to tie a model to its data."""
    hashed = pd.util.hash_pandas_object(world.transactions, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def package_versions() -> dict[str, str]:
    """Python's and the main packages' versions."""
    versions = {"python": sys.version.split()[0]}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def jsonable(value):
    """``value`` (a config as ``asdict`` gives it) with paths and tuples made JSON-ready."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_run_record(folder: Path, argv: list[str] | None, seed: int) -> None:
    """``run.json``: the command line, the seed and the package versions of a run."""
    record = {"argv": argv if argv is not None else sys.argv, "seed": seed, "versions": package_versions()}
    (folder / "run.json").write_text(json.dumps(record, indent=1))


@contextmanager
def atomic_run_folder(output_dir: Path) -> Iterator[Path]:
    """Yield a scratch folder beside ``output_dir`` to write a run into; on success it replaces
    ``output_dir``, on failure it is removed, so a run folder is complete or absent."""
    output_dir = Path(output_dir)
    partial = output_dir.with_name(f".{output_dir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        yield partial
        if output_dir.exists():
            shutil.rmtree(output_dir)
        partial.replace(output_dir)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
