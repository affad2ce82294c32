"""Safe files for long jobs: atomic and verified saves, and a lock for one writer at a time.

- :func:`atomic_save`: ``torch.save`` through a temporary file, fsync and rename: a crash leaves the
  old file or the new one, never a partial one; :func:`remove_stale_temporaries` deletes what a
  killed write left behind.
- :func:`save_verified` / :func:`load_verified`: a dict of tensors and JSON-able state saved with a
  SHA-256 of each tensor and of the rest, checked on load (:class:`CorruptFileError`).
- :class:`FileLock`: ``with FileLock(out):`` refuses a second process writing ``out``
  (:class:`FileLockedError`) and takes over the lock of a process that died.
- :class:`StorageError`: the ``OSError`` these raise when storage fails, naming the file and cause.

Used by :func:`latsym.dynamics.run` for trajectories and checkpoints; equally for training
checkpoints or data-set generation.

>>> import tempfile, torch
>>> from pathlib import Path
>>> from latsym.io import FileLock, load_verified, save_verified
>>> out = Path(tempfile.mkdtemp()) / "train.pt"
>>> with FileLock(out):
...     _ = save_verified(out, {"epoch": 4, "weights": {"w": torch.zeros(2, 3)}})
>>> load_verified(out)["weights"]["w"].shape
torch.Size([2, 3])
"""

from latsym.io._atomic import atomic_save, remove_stale_temporaries
from latsym.io._errors import CorruptFileError, FileLockedError, StorageError
from latsym.io._lock import FileLock
from latsym.io._verified import load_verified, save_verified

__all__ = [
    "CorruptFileError",
    "FileLock",
    "FileLockedError",
    "StorageError",
    "atomic_save",
    "load_verified",
    "remove_stale_temporaries",
    "save_verified",
]
