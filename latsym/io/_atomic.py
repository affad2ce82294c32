"""Atomic file writes: a temporary file in the same directory, fsynced, then renamed over the target."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any

import torch

from latsym.io._errors import StorageError


def temporary_path(path: Path) -> Path:
    """The temporary file an atomic write of ``path`` goes through: ``.<name>.tmp<pid>`` beside it."""
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that interrupted atomic writes of ``path`` left; returns them.

    A write killed before its rename leaves ``.<name>.tmp<pid>`` beside ``path``. Those of processes
    that are no longer running on this host (and this process's own) are removed; a temporary of a
    live process is kept, since that process may still be writing it. Call it while holding the
    file's :class:`FileLock`, if it has one.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "ckpt.pt"
    >>> _ = (target.parent / ".ckpt.pt.tmp999999999").write_bytes(b"partial")
    >>> [p.name for p in remove_stale_temporaries(target)]
    ['.ckpt.pt.tmp999999999']
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.tmp(\d+)")
    try:
        candidates = sorted(path.parent.iterdir())
    except OSError:
        return []
    removed = []
    for candidate in candidates:
        match = pattern.fullmatch(candidate.name)
        if match and candidate.is_file() and not (int(match[1]) != os.getpid() and pid_alive(int(match[1]))):
            with contextlib.suppress(OSError):  # one that cannot be removed is left; writing it will fail
                candidate.unlink()
                removed.append(candidate)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OverflowError:
        return False
    return True


def make_parent(path: Path) -> None:
    """Create ``path``'s directory if missing; :class:`StorageError` if that is impossible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(path.parent, "create the directory", exc) from exc
    if not path.parent.is_dir():
        raise StorageError(path.parent, "use the directory", NotADirectoryError(20, "not a directory"))


def replace_durably(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` over ``path`` and fsync the directory, so that the rename survives a crash."""
    os.replace(tmp, path)
    _fsync_directory(path.parent)


def atomic_save(payload: Any, path: str | os.PathLike) -> Path:
    """``torch.save(payload)`` to ``path`` atomically; returns the path.

    The data go to a temporary file in the same directory (created if missing), which is flushed,
    fsynced and then renamed over ``path`` (``os.replace``): a reader sees the old file or the new
    one, never a partial file. If writing fails, the temporary file is removed and the old file is
    intact. Use it for any checkpoint that a crash or Ctrl-C must not corrupt; a temporary that a
    killed process left behind is removed by :func:`remove_stale_temporaries`.

    Raises:
        StorageError: an ``OSError`` naming ``path`` and the cause (disk full, read-only, a parent
            that is not a directory...); the old file at ``path`` is intact.

    >>> import tempfile
    >>> path = atomic_save({"step": 3}, Path(tempfile.mkdtemp()) / "ckpt.pt")
    >>> torch.load(path, weights_only=True)
    {'step': 3}
    """
    path = Path(path)
    make_parent(path)
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        replace_durably(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise StorageError(path, "write", exc, "the previous version of the file is intact") from exc
    except BaseException:
        _discard(tmp)
        raise
    return path


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
