"""A lock file that gives one process at a time the right to write a file (or a set of files)."""

from __future__ import annotations

import json
import os
import socket
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path

from latsym.io._atomic import make_parent, pid_alive
from latsym.io._errors import FileLockedError, StorageError

_HELD: set[str] = set()  # lock files this process holds


class FileLock:
    """Exclusive use of ``path`` by one process: a context manager around the lock file ``<path>.lock``.

    Entering creates the lock file with ``O_CREAT | O_EXCL`` and writes its owner into it (JSON:
    ``pid``, ``host``, ``started`` in UTC ISO format, a random ``token``); leaving deletes it. If the
    lock file exists, its owner is read: a process still running (or one on another host, which
    cannot be checked) makes entering raise :class:`FileLockedError` naming the owner and the lock
    file; a process that no longer runs on this host left a stale lock, which is taken over with a
    ``RuntimeWarning``. Not re-entrant: a second ``FileLock`` on the same path in the same process
    is refused too.

    Use it around any long write that a second process must not interleave with (a simulation, a
    training run, a data-set generation). On network file systems without ``O_EXCL`` semantics
    (old NFS) the exclusion is not guaranteed.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "run.h5"
    >>> with FileLock(out) as lock:
    ...     lock.lock_path.name, lock.lock_path.exists()
    ('run.h5.lock', True)
    >>> lock.lock_path.exists()
    False
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.lock_path = Path(str(path) + ".lock")
        self._token: str | None = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock; raises :class:`FileLockedError` if a live process holds it."""
        make_parent(self.lock_path)
        key = os.path.realpath(self.lock_path)
        for _ in range(3):  # a stale lock taken over can be re-taken by a racing process
            if key in _HELD:
                owner = _owner(self.lock_path)
                raise FileLockedError(self.lock_path, owner, self._held_message("this process"))
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = _owner(self.lock_path)
                if not _is_stale(owner):
                    message = self._held_message(_describe(owner))
                    raise FileLockedError(self.lock_path, owner, message) from None
                self._take_over(owner)
                continue
            except OSError as exc:
                raise StorageError(self.lock_path, "create the lock file", exc) from exc
            self._token = uuid.uuid4().hex
            record = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
                "token": self._token,
            }
            with os.fdopen(fd, "w") as fh:
                json.dump(record, fh)
                fh.flush()
                os.fsync(fh.fileno())
            _HELD.add(key)
            return
        raise FileLockedError(self.lock_path, _owner(self.lock_path), self._held_message("another process"))

    def release(self) -> None:
        """Delete the lock file if this object holds it (a no-op otherwise)."""
        if self._token is None:
            return
        if _owner(self.lock_path).get("token") == self._token:
            self.lock_path.unlink(missing_ok=True)
        _HELD.discard(os.path.realpath(self.lock_path))
        self._token = None

    def _take_over(self, owner: dict) -> None:
        warnings.warn(
            f"taking over the stale lock {self.lock_path} of {_describe(owner)}, which is no longer running",
            RuntimeWarning,
            stacklevel=4,
        )
        if _owner(self.lock_path) == owner:  # not replaced meanwhile by a process that took it over
            self.lock_path.unlink(missing_ok=True)

    def _held_message(self, who: str) -> str:
        return (
            f"{self.path} is in use by {who}: its lock file {self.lock_path} exists. Wait for that process "
            f"to finish or stop it; if it is no longer running (e.g. it ran on another host), delete "
            f"{self.lock_path}"
        )


def _owner(lock_path: Path) -> dict:
    """The lock file's owner record; ``{}`` if it is missing, empty or not JSON."""
    try:
        owner = json.loads(lock_path.read_text())
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _is_stale(owner: dict) -> bool:
    """A lock of a process on this host that no longer runs (a reused pid of ours counts as gone)."""
    pid = owner.get("pid")
    if owner.get("host") != socket.gethostname() or not isinstance(pid, int) or isinstance(pid, bool):
        return False
    return pid == os.getpid() or not pid_alive(pid)  # held by us would be in _HELD


def _describe(owner: dict) -> str:
    if not owner:
        return "an unknown process (the lock file is unreadable)"
    return f"pid {owner.get('pid')} on host {owner.get('host')} (started {owner.get('started')})"
