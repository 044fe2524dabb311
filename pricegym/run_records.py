"""What every run folder records about itself: data hash, JSON-ready config, command line, versions, git commit."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from pricegym.safe_writes import RUN_RECORD, atomic_folder

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


SOURCE_FOLDER = Path(__file__).resolve().parent
"""The pricegym package's source folder, whose git checkout (if any) a run records."""

GIT_TIMEOUT_S = 10.0

UNKNOWN_COMMIT = {"commit": "unknown", "dirty": None}
"""What ``run.json`` records when the source is not a git checkout or git is missing."""


def _git(folder: Path, *arguments: str) -> str:
    """The stripped output of ``git arguments`` run in ``folder``; raises on any failure."""
    result = subprocess.run(["git", "-C", str(folder), *arguments], capture_output=True, text=True,
                            timeout=GIT_TIMEOUT_S, check=True)
    return result.stdout.strip()


def git_commit(folder: Path = SOURCE_FOLDER) -> dict[str, object]:
    """``{"commit": sha, "dirty": bool}`` of the git checkout ``folder`` is tracked in (dirty: tracked files
    changed since that commit); :data:`UNKNOWN_COMMIT` when ``folder`` is not tracked in a checkout (an
    installed copy), git is missing, or it fails. Never raises: a run must not fail for want of it."""
    try:
        _git(folder, "ls-files", "--error-unmatch", "__init__.py")  # an installed copy inside another repo is not
        commit = _git(folder, "rev-parse", "HEAD")
        dirty = bool(_git(folder, "status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError, UnicodeError):
        return dict(UNKNOWN_COMMIT)
    return {"commit": commit, "dirty": dirty}


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
    """``run.json``: the command line, the seed, the package versions and the git commit of a run."""
    record = {"argv": argv if argv is not None else sys.argv, "seed": seed, "versions": package_versions(),
              "git": git_commit()}
    (folder / RUN_RECORD).write_text(json.dumps(record, indent=1))


@contextmanager
def atomic_run_folder(output_dir: Path) -> Iterator[Path]:
    """Yield an empty scratch folder beside ``output_dir`` to write a run into; on success it replaces
    ``output_dir``, on any failure (Ctrl-C included) it is removed, so a run folder is complete or absent.
    See :func:`pricegym.safe_writes.atomic_folder` (missing parents created, one-line errors)."""
    with atomic_folder(output_dir) as partial:
        yield partial
