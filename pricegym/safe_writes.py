"""The one way pricegym's commands write their output: complete or absent, and one clear line when it cannot.

* :func:`check_target` refuses, before any slow work, a target that cannot be written: a parent
  path that is a file, a read-only folder, a file where a folder is expected or the reverse.
* :func:`atomic_file` and :func:`atomic_folder` create the missing parent folders, write under a
  temporary ``.NAME.partial`` name beside the target, and rename it into place on success. The
  partial file or folder is removed on every exit path (errors, Ctrl-C, and ``kill``, which the
  command line turns into Ctrl-C); one left by a killed run (``kill -9``, a power cut) is removed by
  the next run that writes the same target.
* An operating-system error on the target or its partial (read-only folder, full disk...) becomes
  a :class:`WriteError` that names the target, the problem and a fix.
* :func:`private_tempdir` gathers the temporary files a command makes (its own or its libraries')
  in one folder that is removed when the command ends.

Light on purpose (standard library only): the command line imports it before parsing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pricegym.errors import PricegymError

TargetKind = Literal["file", "folder"]

PARTIAL_SUFFIX = ".partial"


class WriteError(PricegymError, OSError):
    """An output file or folder that cannot be written where the user asked (an ``OSError`` too, so that
    code catching the operating system's errors keeps catching it)."""

    def __init__(self, target: object, problem: str, fix: str) -> None:
        self.target = str(target)
        self.problem = problem
        self.fix = fix
        super().__init__(f"cannot write {self.target}: {problem}; {fix}")


def partial_path(target: Path) -> Path:
    """Where ``target`` is written before it is renamed into place: ``.NAME.partial`` beside it."""
    return target.with_name(f".{target.name}{PARTIAL_SUFFIX}")


def check_target(target: str | Path, kind: TargetKind) -> Path:
    """``target`` as a path, after checking that a ``kind`` can be written there; creates nothing.

    Raises:
        WriteError: when a parent is a file, the nearest existing parent is not writable, or ``target``
            exists as the other kind.
    """
    target = Path(target)
    with _as_write_error(target, every_os_error=True):  # e.g. a parent that may not be looked into
        _check_parents(target)
        _check_writable(target)
        _check_existing(target, kind)
    return target


def _check_parents(target: Path) -> None:
    """Every existing parent of ``target`` must be a folder (missing ones will be created)."""
    for parent in reversed(target.parents):
        if parent.exists() and not parent.is_dir():
            raise WriteError(target, f"expected a folder at {parent}, found a file",
                             "choose an output path whose parents are folders, or move that file away")


def _check_writable(target: Path) -> None:
    """The nearest existing parent of ``target`` must let us create entries (the partial, missing folders)."""
    existing = next(parent for parent in target.absolute().parents if parent.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise WriteError(target, f"the folder {existing} is not writable (read-only or without permission)",
                         "choose an output path in a writable folder")


def _check_existing(target: Path, kind: TargetKind) -> None:
    if kind == "file" and target.is_dir():
        raise WriteError(target, "expected a file name, found a folder",
                         f"name a file inside it (e.g. {target / 'transactions.csv'}) or another file")
    if kind == "folder" and target.exists() and not target.is_dir():
        raise WriteError(target, "expected a folder, found a file", "choose another folder or remove that file")


def prepare_target(target: str | Path, kind: TargetKind) -> Path:
    """Check ``target`` (:func:`check_target`), create its missing parent folders and remove a stale partial
    left by an earlier run that was killed."""
    target = check_target(target, kind)
    with _as_write_error(target, every_os_error=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_path(partial_path(target))
    return target


def remove_path(path: Path) -> None:
    """Remove ``path`` (a file, a link or a folder tree) if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextmanager
def _as_write_error(target: Path, partial: Path | None = None, every_os_error: bool = False) -> Iterator[None]:
    """Turn an ``OSError`` about ``target`` or ``partial`` (or any, with ``every_os_error``) into a
    :class:`WriteError`; others pass through untouched."""
    try:
        yield
    except WriteError:
        raise
    except OSError as error:
        if not (every_os_error or _concerns(error, target) or (partial is not None and _concerns(error, partial))):
            raise
        raise WriteError(target, error.strerror or str(error),
                         "check that its folder is writable and the disk has room, or choose another path") from error


def _concerns(error: OSError, path: Path) -> bool:
    """Whether ``error`` is about ``path`` or something inside it."""
    for name in (error.filename, error.filename2):
        if name is None:
            continue
        named = os.path.abspath(os.fsdecode(name))
        root = os.path.abspath(path)
        if named == root or named.startswith(root + os.sep):
            return True
    return False


@contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """Yield the partial path to write the file ``target`` to; on success it is renamed onto ``target``.

    Any ``OSError`` inside the block counts as a failure to write ``target`` (keep the block to the
    writing itself) and becomes a :class:`WriteError`. The partial file is removed on every exit path.
    """
    target = prepare_target(target, "file")
    partial = partial_path(target)
    try:
        with _as_write_error(target, partial, every_os_error=True):
            yield partial
            partial.replace(target)
    finally:
        _remove_quietly(partial)


@contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield an empty partial folder to write the folder ``target`` into; on success it replaces ``target``
    (an existing folder is removed first: whether that is allowed is the caller's decision).

    ``OSError`` inside the block becomes a :class:`WriteError` only when it names the partial folder
    or the target (the block may read other files, whose errors keep their own message). The partial
    folder is removed on every exit path.
    """
    target = prepare_target(target, "folder")
    partial = partial_path(target)
    try:
        with _as_write_error(target, partial):
            partial.mkdir()
            yield partial
            _check_existing(target, "folder")
            remove_path(target)
            partial.replace(target)
    finally:
        _remove_quietly(partial)


def _remove_quietly(path: Path) -> None:
    """Remove ``path`` on the way out, without hiding the error that is already on its way."""
    try:
        remove_path(path)
    except OSError:
        pass


@contextmanager
def private_tempdir(prefix: str = "pricegym-") -> Iterator[Path]:
    """While inside, every temporary file or folder that Python's :mod:`tempfile` makes without being told
    where (by pricegym or a library) lives in one scratch folder, removed on the way out, however the
    block ends. What a command forgets to remove cannot outlive it."""
    previous = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as scratch:
        tempfile.tempdir = scratch
        try:
            yield Path(scratch)
        finally:
            tempfile.tempdir = previous
