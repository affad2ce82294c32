"""The HDF5 trajectory file: run attributes and resizable, chunked snapshot datasets.

Layout (``N`` snapshots, fields of shape ``(*shape)``)::

    /step (N,) int64    /time (N,) float64
    /q (N, *shape)      /v (N, *shape) (inertial integrators only)      /f (N, *shape)
    /observables/<name> (N, *obs_shape)

Attributes: ``format``, ``latsym_version``, ``integrator`` (JSON), ``seed``, ``snapshot_every``,
``observables`` (JSON list), ``initial_state`` (JSON: shape, dtype, device, SHA-256 of q0 and v0),
``metadata`` (JSON) and, where the run gave one, ``environment`` (JSON: the settings the forces'
round-off depends on, e.g. BLAS thread counts; not part of the run's identity).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
from pathlib import Path

import h5py
import numpy as np
import torch

from latsym._version import __version__
from latsym.dynamics._errors import ResumeError
from latsym.dynamics._state import State
from latsym.io import StorageError
from latsym.io._atomic import replace_durably, temporary_path

FORMAT = "latsym.dynamics.trajectory/1"
_CHUNK_BYTES = 1 << 18  # target chunk size; a chunk holds at least one and at most 1024 snapshots


class TrajectoryFile:
    """An open trajectory file that snapshots are appended to; use :meth:`create` or :meth:`open`.

    Every write that fails (``OSError``, or the ``RuntimeError`` h5py raises for a failed flush)
    abandons the file and raises :class:`~latsym.io.StorageError`: HDF5 cannot close a file whose
    flush failed (h5py then crashes the interpreter when it is collected), so the file's descriptor
    is pointed at ``os.devnull`` first; what was flushed before the failure stays on disk.
    """

    def __init__(self, file: h5py.File, path: Path, *, extended_from: int | None = None):
        self._file: h5py.File | None = file
        self.path = path
        self._datasets: dict[str, h5py.Dataset] = {}  # opened once: lookups by name are slow
        self.n_snapshots = len(file["step"]) if "step" in file else 0
        #: the file's size before :meth:`open` extended a file cut short by a failed write, else None
        self.extended_from = extended_from
        self._hasher = hashlib.sha256()  # of the snapshots' bytes, row by row (see digest)

    @classmethod
    def create(
        cls, path: Path, identity: dict, first: State, observables: dict[str, np.ndarray],
        environment: str | None = None,
    ) -> TrajectoryFile:
        """A new file at ``path`` holding ``identity`` (str or int attributes), the version, the
        ``environment`` attribute (JSON; omitted if ``None``) and ``first``.

        The file is written under a temporary name, flushed with its first snapshot and then renamed to
        ``path``: a process killed meanwhile leaves no ``path`` (and a temporary that
        :func:`~latsym.io.remove_stale_temporaries` deletes).
        """
        tmp = temporary_path(path)
        try:
            file = h5py.File(tmp, "w")
        except OSError as exc:
            raise StorageError(path, "create the trajectory file", exc) from exc
        traj = cls(file, path)  # errors name the final path
        try:
            attrs = {"format": FORMAT, "latsym_version": __version__, **identity}
            if environment is not None:
                attrs["environment"] = environment
            traj._write("write the attributes of", lambda: _set_attrs(file, attrs))
            traj.append(first, observables)
            traj.flush()
            traj._write("rename the new trajectory file to", lambda: replace_durably(tmp, path))
        except BaseException:
            traj.abandon()
            tmp.unlink(missing_ok=True)
            raise
        return traj

    @classmethod
    def open(cls, path: Path, identity: dict) -> TrajectoryFile:
        """Open an existing file for appending, after checking that its attributes equal ``identity``.

        A file that a failed write cut short of the end its superblock records (a full disk, a file
        size limit) is extended with zeros to that end so that it opens; ``extended_from`` then holds
        its size before, and the caller must verify the snapshots it keeps (:meth:`prefix_digest`
        against a checkpoint) or give the file back with :meth:`restore_size`.

        Raises:
            ResumeError: not a latsym trajectory, or written by a run with other parameters.
            StorageError: the file cannot be opened for writing (read-only file system, permissions).
        """
        extended_from = None
        try:
            file = h5py.File(path, "r+")
        except OSError as exc:
            if StorageError(path, "open", exc).errno not in (None, errno.ENOENT):
                raise StorageError(path, "open the trajectory file for writing", exc) from exc
            extended_from = _extend_cut_file(path, exc)
            file = None if extended_from is None else _try_open(path)
            if file is None:
                if extended_from is not None:
                    os.truncate(path, extended_from)
                raise ResumeError(
                    f"{path} exists but is not a readable HDF5 file ({exc}); if a run was killed while "
                    "writing it, its snapshots are lost: choose another path or pass overwrite=True to "
                    "restart"
                ) from exc
        traj = cls(file, path, extended_from=extended_from)
        try:
            _check_identity(file, path, identity)
        except BaseException:
            traj.restore_size()
            raise
        return traj

    def restore_size(self) -> None:
        """Close the file and, if :meth:`open` extended it, cut it back to the size it had."""
        if self._file is not None:
            self.abandon()
        if self.extended_from is not None:
            with contextlib.suppress(OSError):
                os.truncate(self.path, self.extended_from)
            self.extended_from = None

    def digest(self) -> str:
        """SHA-256 of the snapshots' bytes, row after row (each row's datasets in name order, in the
        datasets' dtypes): what a checkpoint records of the snapshots it counts."""
        return self._hasher.hexdigest()

    def prefix_digest(self, n: int):
        """The hasher of :meth:`digest` over the first ``n`` snapshots, read back from the file."""
        hasher = hashlib.sha256()
        datasets = self._all_datasets()
        for i in range(n):
            for name in sorted(datasets):
                hasher.update(np.ascontiguousarray(datasets[name][i]).tobytes())
        return hasher

    def truncate(self, n: int, hasher=None) -> None:
        """Drop the snapshots after the first ``n`` (those written after the last checkpoint);
        ``hasher`` is :meth:`prefix_digest` of ``n`` if the caller has it already."""
        if n > self.n_snapshots:
            raise ResumeError(
                f"the checkpoint counts {n} snapshots but the trajectory file holds only "
                f"{self.n_snapshots}; the file was modified or replaced, pass overwrite=True to restart"
            )
        self._hasher = self.prefix_digest(n) if hasher is None else hasher

        def resize(_, obj) -> None:
            if isinstance(obj, h5py.Dataset):
                obj.resize(n, axis=0)

        self._write("truncate", lambda: self._file.visititems(resize))
        self.n_snapshots = n

    def attribute(self, name: str):
        """The file attribute ``name`` as a Python value, ``None`` if the file has none."""
        return _attr(self._file, name)

    def row(self, i: int) -> dict[str, np.ndarray]:
        """Snapshot ``i``: ``step``, ``time``, ``q``, ``v`` (if stored) and ``f``."""
        return {name: self._file[name][i] for name in ("step", "time", "q", "v", "f") if name in self._file}

    def append(self, state: State, observables: dict[str, np.ndarray]) -> None:
        """Append one snapshot: step, time, q, v (if any), f and each observable's value."""
        rows = {"step": np.int64(state.step), "time": np.float64(state.time), "q": _numpy(state.q)}
        if state.v is not None:
            rows["v"] = _numpy(state.v)
        rows["f"] = _numpy(state.f)
        rows.update({f"observables/{name}": value for name, value in observables.items()})
        for name, value in rows.items():  # check every row before writing any
            self._check_shape(name, value, state.step)
        self._write("write a snapshot to", lambda: self._append_rows(rows))
        self.n_snapshots += 1

    def flush(self) -> None:
        """Write everything appended so far to disk."""
        self._write("flush", self._file.flush)

    def close(self) -> None:
        """Close the file (a no-op if closed); :class:`~latsym.io.StorageError` if its final write fails."""
        if self._file is not None:
            self._write("close", self._file.close)
            self._file = None

    def abandon(self) -> None:
        """Close without writing anything more: for a file whose storage failed."""
        if self._file is None:
            return
        with contextlib.suppress(Exception):
            sink = os.open(os.devnull, os.O_RDWR)
            os.dup2(sink, self._file.id.get_vfd_handle())
            os.close(sink)
        with contextlib.suppress(Exception):
            self._file.close()
        self._file = None

    def _write(self, action: str, write):
        if self._file is None:
            raise ValueError(f"the trajectory file {self.path} is closed")
        try:
            return write()
        except (OSError, RuntimeError) as exc:
            self.abandon()
            raise StorageError(
                self.path,
                f"{action} the trajectory file",
                exc,
                "the last checkpoint and the snapshots it counts are kept; fix the cause, re-run to resume",
            ) from exc

    def _check_shape(self, name: str, value: np.ndarray, step: int) -> None:
        if name not in self._datasets and name in self._file:
            self._datasets[name] = self._file[name]
        if name in self._datasets and self._datasets[name].shape[1:] != value.shape:
            raise ValueError(
                f"snapshot {name!r} at step {step} has shape {value.shape}, but earlier snapshots "
                f"have shape {self._datasets[name].shape[1:]}; an observable must keep its shape"
            )

    def _all_datasets(self) -> dict[str, h5py.Dataset]:
        found = {}

        def collect(name, obj) -> None:
            if isinstance(obj, h5py.Dataset):
                found[name] = obj

        self._file.visititems(collect)
        return found

    def _append_rows(self, rows: dict[str, np.ndarray]) -> None:
        n = self.n_snapshots
        hasher = self._hasher.copy()
        for name in sorted(rows):
            value = rows[name]
            if name not in self._datasets:
                self._datasets[name] = self._file.create_dataset(
                    name,
                    shape=(0, *value.shape),
                    maxshape=(None, *value.shape),
                    dtype=value.dtype,
                    chunks=(min(1024, max(1, _CHUNK_BYTES // max(1, value.nbytes))), *value.shape),
                )
            self._datasets[name].resize(n + 1, axis=0)
            self._datasets[name][n] = value
            hasher.update(np.ascontiguousarray(value, dtype=self._datasets[name].dtype).tobytes())
        self._hasher = hasher


def _extend_cut_file(path: Path, exc: OSError) -> int | None:
    """If HDF5 refused ``path`` as cut short of the end its superblock records (a write that failed
    after the superblock was updated), extend it with zeros to that end; returns the size before, or
    ``None`` if that is not why (or the file cannot be extended)."""
    found = re.search(r"truncated file: eof = (\d+),.*stored_eof = (\d+)", str(exc))
    if found is None or int(found[1]) >= int(found[2]):
        return None
    try:
        os.truncate(path, int(found[2]))
    except OSError:
        return None
    return int(found[1])


def _try_open(path: Path) -> h5py.File | None:
    try:
        return h5py.File(path, "r+")
    except OSError:
        return None


def _set_attrs(file: h5py.File, attrs: dict) -> None:
    for key, value in attrs.items():
        file.attrs[key] = value


def _check_identity(file: h5py.File, path: Path, identity: dict) -> None:
    if file.attrs.get("format") != FORMAT:
        raise ResumeError(
            f"{path} exists but is not a latsym trajectory; choose another path or pass overwrite=True"
        )
    differ = [key for key, value in identity.items() if _attr(file, key) != value]
    if differ:
        details = "; ".join(f"{k}: file {_attr(file, k)!r}, this run {identity[k]!r}" for k in differ)
        raise ResumeError(
            f"cannot resume into {path}: it was written by a different run ({details}); "
            "pass overwrite=True to replace it, or choose another path"
        )


def _attr(file: h5py.File, key: str):
    value = file.attrs.get(key)
    return value.item() if isinstance(value, np.generic) else value


def _numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()
