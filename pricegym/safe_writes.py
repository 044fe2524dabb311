"""The one way pricegym's commands write their output: complete or absent, and one clear line when it cannot.

* :func:`check_target` refuses, before any slow work, a target that cannot be written: a path that
  names no new entry (``.``, ``..``, ``/``), a parent path that is a file, a folder that does not
  accept new files (read-only, ``/proc``, ``/sys``: tried, not guessed from permissions, since root
  passes every permission check), a file where a folder is expected or the reverse.
* :func:`check_replaceable` refuses an existing target unless asked to overwrite it, and never
  replaces a folder that holds the current folder or is not an earlier output (no marker file in
  it): ``--overwrite`` must not delete a user's own files.
* :func:`atomic_file` and :func:`atomic_folder` create the missing parent folders, write under a
  temporary ``.NAME.partial`` name beside the target, and rename it into place on success. The
  partial file or folder, and the parent folders created for it, are removed on every exit path
  (errors, Ctrl-C, and ``kill``, which the command line turns into Ctrl-C); one left by a killed run
  (``kill -9``, a power cut) is removed by the next run that writes the same target. Nothing is
  renamed into place after an interrupt, even one that a library swallowed (:data:`INTERRUPTED`).
* An operating-system error on the target or its partial (read-only folder, full disk...) becomes
  a :class:`WriteError` that names the target, the problem and a fix.
* :func:`private_tempdir` gathers the temporary files a command makes (its own or its libraries')
  in one folder that is removed when the command ends.

Light on purpose (standard library only): the command line imports it before parsing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pricegym.errors import PricegymError

TargetKind = Literal["file", "folder"]

PARTIAL_SUFFIX = ".partial"

NAME_MAX = 255
"""The longest file name, in bytes, that Linux and macOS file systems accept."""

INTERRUPTED = threading.Event()
"""Set by the command line's signal handler on Ctrl-C or SIGTERM (:mod:`pricegym.cli_parsing`): once set,
no partial output is renamed into place, even if a library swallowed the :class:`KeyboardInterrupt`."""


def raise_if_interrupted() -> None:
    """Raise :class:`KeyboardInterrupt` if the command was interrupted (:data:`INTERRUPTED`)."""
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt


class WriteError(PricegymError, OSError):
    """An output file or folder that cannot be written where the user asked (an ``OSError`` too, so that
    code catching the operating system's errors keeps catching it)."""

    def __init__(self, target: object, problem: str, fix: str) -> None:
        self.target = str(target)
        self.problem = problem
        self.fix = fix
        super().__init__(f"cannot write {self.target}: {problem}; {fix}")


def partial_path(target: Path) -> Path:
    """Where ``target`` is written before it is renamed into place: ``.NAME.partial`` beside it, or, when
    that name would be longer than :data:`NAME_MAX`, ``.NAM~HASH.partial`` (the name cut, plus a hash of it)."""
    name = f".{target.name}{PARTIAL_SUFFIX}"
    if len(os.fsencode(name)) <= NAME_MAX:
        return target.with_name(name)
    digest = hashlib.sha256(os.fsencode(target.name)).hexdigest()[:16]
    room = NAME_MAX - len(os.fsencode(f".~{digest}{PARTIAL_SUFFIX}"))
    kept = os.fsencode(target.name)[:room].decode("utf-8", errors="ignore")
    return target.with_name(f".{kept}~{digest}{PARTIAL_SUFFIX}")


def check_target(target: str | Path, kind: TargetKind) -> Path:
    """``target`` as a path, after checking that a ``kind`` can be written there; leaves nothing behind
    (whether the nearest existing folder accepts new files is tried with a probe file, removed at once).

    Raises:
        WriteError: when ``target`` names no new entry (``.``, ``..``, the root) or a name too long, a
            parent is a file, the nearest existing parent does not accept new files, or ``target``
            exists as the other kind.
    """
    target = Path(target)
    _check_name(target, kind)
    with _as_write_error(target, every_os_error=True):  # e.g. a parent that may not be looked into
        _check_parents(target)
        _check_writable(target)
        _check_existing(target, kind)
    return target


def _check_name(target: Path, kind: TargetKind) -> None:
    """``target`` must end in a name of its own, short enough for the file system."""
    if target.name in ("", ".", ".."):
        raise WriteError(target, f"expected a path ending in a {kind} name, got the current folder, a parent "
                                 "or the root", f"name a new {kind} inside it (e.g. {_example(target, kind)})")
    length = len(os.fsencode(target.name))
    if length > NAME_MAX:
        raise WriteError(target, f"its name is {length} bytes long; file systems allow at most {NAME_MAX}",
                         "choose a shorter name")


def _example(target: Path, kind: TargetKind) -> Path:
    return target / ("transactions.csv" if kind == "file" else "my-run")


def _check_parents(target: Path) -> None:
    """Every existing parent of ``target`` must be a folder (missing ones will be created)."""
    for parent in reversed(target.parents):
        if parent.exists() and not parent.is_dir():
            raise WriteError(target, f"expected a folder at {parent}, found a file",
                             "choose an output path whose parents are folders, or move that file away")


def _check_writable(target: Path) -> None:
    """The nearest existing parent of ``target`` must let us create entries (the partial, missing folders):
    asked of the permissions, then tried, since root passes every permission check (``/proc``, ``/sys``)."""
    existing = next(parent for parent in target.absolute().parents if parent.exists())
    fix = "choose an output path in a writable folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        raise WriteError(target, f"the folder {existing} is not writable (read-only or without permission)", fix)
    try:
        handle, probe = tempfile.mkstemp(prefix=".pricegym-probe-", dir=existing)
    except OSError as error:
        raise WriteError(target, f"the folder {existing} does not accept new files ({error.strerror or error})",
                         fix) from None
    os.close(handle)
    os.unlink(probe)


def _check_existing(target: Path, kind: TargetKind) -> None:
    if kind == "file" and target.is_dir():
        raise WriteError(target, "expected a file name, found a folder",
                         f"name a file inside it (e.g. {target / 'transactions.csv'}) or another file")
    if kind == "folder" and target.exists() and not target.is_dir():
        raise WriteError(target, "expected a folder, found a file", "choose another folder or remove that file")


def check_replaceable(target: str | Path, overwrite: bool, marker: str | None = None) -> Path:
    """``target`` as a path, after checking that it is new, or may be replaced: only with ``overwrite``, and
    for a folder only if it is empty or holds ``marker`` (the file every output of its kind has, e.g.
    ``run.json``), and never the current folder or one that holds it.

    Raises:
        WriteError: naming the target, why it may not be replaced and what to do instead.
    """
    target = Path(target)
    if not (target.exists() or target.is_symlink()):
        return target
    if not overwrite:
        raise WriteError(target, "it already exists", "pass --overwrite to replace it, or choose another path")
    if target.is_dir():
        _refuse_current_folder(target)
        if marker is not None and not (target / marker).is_file() and any(target.iterdir()):
            raise WriteError(target, f"the folder is not empty and holds no {marker}, so it is not an earlier "
                                     "output that --overwrite may replace", "choose a new folder, or empty that "
                                                                            "one yourself")
    return target


RUN_RECORD = "run.json"
"""The file every run folder holds (:func:`pricegym.run_records.write_run_record`): what marks a folder as one
that ``--overwrite`` may replace."""


def check_run_folder(target: str | Path, overwrite: bool) -> Path:
    """``target`` as a path, after checking that a run folder can be written there (:func:`check_target`)
    and that an existing one may be replaced (:func:`check_replaceable`, marked by :data:`RUN_RECORD`)."""
    return check_replaceable(check_target(target, "folder"), overwrite, RUN_RECORD)


def prepare_run_output(target: str | Path, overwrite: bool, what: str = "run") -> bool:
    """A new run folder must be new, empty, or (with ``overwrite``) an earlier run's (it holds
    :data:`RUN_RECORD`); whether the caller is to remove the earlier run before writing. Without ``overwrite``
    an earlier run is refused with a hint at ``--resume`` (which continues ``what``)."""
    folder = check_target(target, "folder")
    if folder.is_dir() and any(folder.iterdir()):
        if (folder / RUN_RECORD).is_file() and not overwrite:
            raise WriteError(folder, "it already holds a run", f"pass --resume to continue {what}, --overwrite to "
                                                               "replace it, or choose another --out folder")
        check_replaceable(folder, overwrite=True, marker=RUN_RECORD)
        return overwrite
    return False


def _refuse_current_folder(target: Path) -> None:
    """``target`` must not be the current folder or one of its parents (replacing it would delete it)."""
    try:
        here = Path.cwd().resolve()
    except OSError:  # the current folder was deleted: nothing to protect
        return
    resolved = target.resolve()
    if resolved == here or resolved in here.parents:
        raise WriteError(target, f"it is the current folder or holds it ({here}), which would be deleted",
                         f"name a new folder inside it (e.g. {_example(target, 'folder')})")


def _prepare(target: str | Path, kind: TargetKind) -> tuple[Path, list[Path]]:
    """Check ``target`` (:func:`check_target`), create its missing parent folders and remove a stale partial
    left by an earlier run that was killed; ``target`` as a path, and the parent folders created (outermost
    first)."""
    target = check_target(target, kind)
    created = [parent for parent in reversed(target.parents) if not parent.exists()]
    with _as_write_error(target, every_os_error=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_path(partial_path(target))
    return target, created


def _remove_empty_folders(folders: list[Path]) -> None:
    """Remove ``folders`` (outermost first) from the innermost out, stopping at the first one not empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


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
    writing itself) and becomes a :class:`WriteError`. The partial file, and the parent folders created
    for it, are removed on every exit path but success.
    """
    target, created = _prepare(target, "file")
    partial = partial_path(target)
    done = False
    try:
        with _as_write_error(target, partial, every_os_error=True):
            yield partial
            raise_if_interrupted()
            partial.replace(target)
            done = True
    finally:
        _remove_quietly(partial)
        if not done:
            _remove_empty_folders(created)


@contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield an empty partial folder to write the folder ``target`` into; on success it replaces ``target``
    (an existing folder is removed first: whether that is allowed is the caller's decision).

    ``OSError`` inside the block becomes a :class:`WriteError` only when it names the partial folder
    or the target (the block may read other files, whose errors keep their own message). The partial
    folder, and the parent folders created for it, are removed on every exit path but success. The
    current folder, or one that holds it, is never replaced.
    """
    target, created = _prepare(target, "folder")
    partial = partial_path(target)
    done = False
    try:
        with _as_write_error(target, partial):
            partial.mkdir()
            yield partial
            raise_if_interrupted()
            _check_existing(target, "folder")
            _refuse_current_folder(target)
            remove_path(target)
            partial.replace(target)
            done = True
    finally:
        _remove_quietly(partial)
        if not done:
            _remove_empty_folders(created)


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
