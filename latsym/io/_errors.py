"""The exceptions of safe file handling."""

from __future__ import annotations

import errno as errno_codes
import os
import re

from latsym._errors import LatsymError


class StorageError(LatsymError, OSError):
    """Writing to storage failed (disk full, read-only, missing or non-directory parent...).

    An ``OSError`` (``errno`` and ``filename`` are those of the failure) whose message names the
    file, what was being written and the cause. Whatever was saved before the failure is intact.

    Attributes:
        path: the file that could not be written.
        cause: the original exception (also ``__cause__``).
    """

    def __init__(self, path: str | os.PathLike, action: str, cause: BaseException, advice: str = ""):
        self.path = os.fspath(path)
        self.cause = cause
        code = _errno(cause)
        reason = getattr(cause, "strerror", None) or (code and os.strerror(code)) or str(cause)
        message = f"could not {action} {self.path}: {reason or type(cause).__name__}"
        super().__init__(message + (f"; {advice}" if advice else ""))
        self.errno = code
        self.strerror = reason
        self.filename = self.path

    def __str__(self) -> str:
        return str(self.args[0])


def _errno(cause: BaseException) -> int | None:
    """The error number of an ``OSError``, or the one HDF5 quotes in its message (``errno = 28``)."""
    if getattr(cause, "errno", None):
        return cause.errno
    match = re.search(r"errno = (\d+)", str(cause))
    return int(match[1]) if match and int(match[1]) in errno_codes.errorcode else None


class CorruptFileError(LatsymError, ValueError):
    """A file written by :func:`save_verified` fails its checksums, or cannot be read at all.

    Attributes:
        path: the file.
        detail: what failed (which tensor, the state, or the reader's error).
    """

    def __init__(self, path: str | os.PathLike, detail: str):
        self.path = os.fspath(path)
        self.detail = detail
        super().__init__(f"{self.path} is corrupt: {detail}")


class FileLockedError(LatsymError, RuntimeError):
    """Another live process holds the lock on a file (see :class:`FileLock`).

    Attributes:
        lock_path: the lock file.
        owner: what the lock file says of its holder: ``pid``, ``host``, ``started`` (may be empty
            if the lock file is unreadable).
    """

    def __init__(self, lock_path: str | os.PathLike, owner: dict, message: str):
        self.lock_path = os.fspath(lock_path)
        self.owner = owner
        super().__init__(message)
