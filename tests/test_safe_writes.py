"""The one write helper: complete or absent outputs, partials removed on every exit path, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pricegym.errors import PricegymError
from pricegym.run_records import atomic_run_folder
from pricegym.safe_writes import (
    INTERRUPTED,
    NAME_MAX,
    WriteError,
    atomic_file,
    atomic_folder,
    check_replaceable,
    check_run_folder,
    check_target,
    partial_path,
)


def test_a_file_appears_complete_with_its_missing_folders(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    with atomic_file(target) as partial:
        assert partial == partial_path(target) and partial.parent.is_dir()
        partial.write_text("done")
    assert target.read_text() == "done" and [path.name for path in target.parent.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("failure", [RuntimeError("bug"), KeyboardInterrupt(), SystemExit(1)])
def test_a_failed_file_leaves_neither_partial_nor_target(tmp_path, failure):
    target = tmp_path / "out.txt"
    with pytest.raises(type(failure)), atomic_file(target) as partial:
        partial.write_text("half")
        raise failure
    assert list(tmp_path.iterdir()) == []


def test_an_os_error_while_writing_a_file_is_a_write_error(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(WriteError, match=r"cannot write .*out.txt: No space left on device; check"), \
            atomic_file(target) as partial:
        partial.write_text("half")
        raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("make_obstacle, kind, message", [
    (lambda root: (root / "parent").write_text("x"), "file", "expected a folder at"),
    (lambda root: (root / "parent").write_text("x"), "folder", "expected a folder at"),
    (lambda root: (root / "parent" / "target").mkdir(parents=True), "file", "expected a file name, found a folder"),
    (lambda root: ((root / "parent").mkdir(), (root / "parent" / "target").write_text("x")), "folder",
     "expected a folder, found a file"),
])
def test_a_target_of_the_wrong_kind_is_one_clear_error(tmp_path, make_obstacle, kind, message):
    make_obstacle(tmp_path)
    target = tmp_path / "parent" / "target"
    with pytest.raises(WriteError, match=message) as raised:
        check_target(target, kind)
    assert isinstance(raised.value, PricegymError) and "\n" not in str(raised.value)
    helper = atomic_file if kind == "file" else atomic_folder
    with pytest.raises(WriteError, match=message), helper(target):
        pytest.fail("the block must not run")


def test_a_folder_replaces_the_old_one_only_when_complete(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_run_folder(target) as partial:
        (partial / "new.txt").write_text("new")
        raise KeyboardInterrupt
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"] and (target / "old.txt").is_file()
    with atomic_run_folder(target) as partial:
        (partial / "new.txt").write_text("new")
    assert sorted(path.name for path in target.iterdir()) == ["new.txt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]


def test_stale_partials_of_the_same_target_are_removed(tmp_path):
    stale_folder = partial_path(tmp_path / "run")
    (stale_folder / "checkpoints").mkdir(parents=True)
    partial_path(tmp_path / "out.csv").write_text("half")
    with atomic_folder(tmp_path / "run") as partial:
        assert list(partial.iterdir()) == []  # a fresh, empty folder
        (partial / "card.json").write_text("{}")
    with atomic_file(tmp_path / "out.csv") as partial:
        partial.write_text("a,b\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv", "run"]


def test_an_os_error_inside_the_partial_folder_is_a_write_error_and_others_keep_theirs(tmp_path):
    target = tmp_path / "run"
    with pytest.raises(WriteError, match="Permission denied"), atomic_folder(target) as partial:
        raise PermissionError(13, "Permission denied", str(partial / "head.pt"))
    with pytest.raises(FileNotFoundError) as raised, atomic_folder(target):
        Path(tmp_path / "missing-input.csv").read_text()
    assert not isinstance(raised.value, WriteError)
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    import os

    read_only = tmp_path / "read-only"
    read_only.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != read_only and real_access(path, mode))
    with pytest.raises(WriteError, match=r"the folder .*read-only is not writable"):  # tests run as root: no chmod
        check_target(read_only / "new" / "out.csv", "file")
    assert list(read_only.iterdir()) == []


# --- found by trying bad inputs as a new user ------------------------------------------------------------


@pytest.mark.parametrize("make_folder", [
    lambda root: (root / "notes.txt").write_text("a user's own file"),
    lambda root: (root / "sub" / "deeper").mkdir(parents=True),
])
def test_overwrite_never_deletes_a_folder_that_is_not_an_earlier_run(tmp_path, make_folder):
    folder = tmp_path / "mine"
    folder.mkdir()
    make_folder(folder)
    before = sorted(folder.rglob("*"))
    with pytest.raises(WriteError, match="holds no run.json, so it is not an earlier output"):
        check_run_folder(folder, overwrite=True)
    assert sorted(folder.rglob("*")) == before
    (folder / "run.json").write_text("{}")
    assert check_run_folder(folder, overwrite=True) == folder  # an earlier run may be replaced
    assert check_run_folder(tmp_path / "empty", overwrite=False) == tmp_path / "empty"


def test_an_existing_target_needs_overwrite(tmp_path):
    (tmp_path / "out.csv").write_text("old")
    with pytest.raises(WriteError, match="it already exists; pass --overwrite"):
        check_replaceable(tmp_path / "out.csv", overwrite=False)
    assert check_replaceable(tmp_path / "out.csv", overwrite=True) == tmp_path / "out.csv"


@pytest.mark.parametrize("target", [".", "..", "/", "sub/..", "sub/../.."])
@pytest.mark.parametrize("kind", ["file", "folder"])
def test_the_current_folder_a_parent_or_the_root_is_never_a_target(tmp_path, monkeypatch, target, kind):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "sub" / "keep.txt").write_text("keep")
    monkeypatch.chdir(work)
    with pytest.raises(WriteError, match="expected a path ending in a"):
        check_target(target, kind)
    with pytest.raises(WriteError), atomic_folder(target):
        pytest.fail("the block must not run")
    assert (work / "sub" / "keep.txt").is_file()


def test_a_folder_that_holds_the_current_folder_is_never_replaced(tmp_path, monkeypatch):
    run = tmp_path / "run"
    (run / "inside").mkdir(parents=True)
    (run / "run.json").write_text("{}")
    monkeypatch.chdir(run / "inside")
    with pytest.raises(WriteError, match="is the current folder or holds it"):
        check_run_folder(run, overwrite=True)
    with pytest.raises(WriteError, match="is the current folder or holds it"), atomic_folder(run) as partial:
        (partial / "run.json").write_text("{}")
    assert (run / "inside").is_dir() and sorted(path.name for path in tmp_path.iterdir()) == ["run"]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("target", ["/proc/pricegym-out.csv", "/proc/pricegym-run/out.csv"])
def test_a_folder_that_refuses_new_files_is_refused_up_front_even_for_root(target):
    with pytest.raises(WriteError, match=r"cannot write /proc/pricegym-.*(does not accept new files|not writable)"):
        check_target(target, "file")


def test_a_name_at_the_length_limit_is_written_through_a_shorter_partial(tmp_path):
    target = tmp_path / ("x" * (NAME_MAX - 4) + ".csv")
    assert len(partial_path(target).name) <= NAME_MAX
    assert partial_path(target) != partial_path(tmp_path / ("x" * (NAME_MAX - 5) + "y.csv"))
    with atomic_file(target) as partial:
        partial.write_text("a,b\n")
    assert [path.name for path in tmp_path.iterdir()] == [target.name]
    with pytest.raises(WriteError, match=f"file systems allow at most {NAME_MAX}"):
        check_target(tmp_path / ("y" * (NAME_MAX + 1)), "file")


@pytest.mark.parametrize("helper", [atomic_file, atomic_folder])
def test_the_parent_folders_made_for_a_failed_write_are_removed(tmp_path, helper):
    (tmp_path / "kept").mkdir()
    with pytest.raises(KeyboardInterrupt), helper(tmp_path / "kept" / "new" / "deeper" / "out.csv"):
        raise KeyboardInterrupt
    assert [path.relative_to(tmp_path) for path in tmp_path.rglob("*")] == [Path("kept")]


@pytest.mark.parametrize("helper", [atomic_file, atomic_folder])
def test_nothing_is_renamed_into_place_after_an_interrupt_a_library_swallowed(tmp_path, helper):
    INTERRUPTED.set()  # what the command line's signal handler does, before a library catches the interrupt
    try:
        with pytest.raises(KeyboardInterrupt), helper(tmp_path / "new" / "out") as partial:
            (partial / "x" if partial.is_dir() else partial).write_text("complete")
    finally:
        INTERRUPTED.clear()
    assert list(tmp_path.iterdir()) == []
