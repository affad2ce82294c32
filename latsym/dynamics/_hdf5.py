"""The HDF5 trajectory file: run attributes and resizable, chunked snapshot datasets.

Layout (``N`` snapshots, fields of shape ``(*shape)``)::

    /step (N,) int64    /time (N,) float64
    /q (N, *shape)      /v (N, *shape) (inertial integrators only)      /f (N, *shape)
    /observables/<name> (N, *obs_shape)

Attributes: ``format``, ``latsym_version``, ``integrator`` (JSON), ``seed``, ``snapshot_every``,
``observables`` (JSON list), ``initial_state`` (JSON: shape, dtype, device, SHA-256 of q0 and v0) and
``metadata`` (JSON).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import torch

from latsym._version import __version__
from latsym.dynamics._errors import ResumeError
from latsym.dynamics._state import State

FORMAT = "latsym.dynamics.trajectory/1"
_CHUNK_BYTES = 1 << 18  # target chunk size; a chunk holds at least one and at most 1024 snapshots


class TrajectoryFile:
    """An open trajectory file that snapshots are appended to; use :meth:`create` or :meth:`open`."""

    def __init__(self, file: h5py.File):
        self._file = file
        self._datasets: dict[str, h5py.Dataset] = {}  # opened once: lookups by name are slow
        self.n_snapshots = len(file["step"]) if "step" in file else 0

    @classmethod
    def create(cls, path: Path, identity: dict) -> TrajectoryFile:
        """A new file at ``path`` whose attributes are ``identity`` (str or int values) and the version."""
        file = h5py.File(path, "w")
        file.attrs["format"] = FORMAT
        file.attrs["latsym_version"] = __version__
        for key, value in identity.items():
            file.attrs[key] = value
        return cls(file)

    @classmethod
    def open(cls, path: Path, identity: dict) -> TrajectoryFile:
        """Open an existing file for appending, after checking that its attributes equal ``identity``.

        Raises:
            ResumeError: not a latsym trajectory, or written by a run with other parameters.
        """
        try:
            file = h5py.File(path, "r+")
        except OSError as exc:
            raise ResumeError(
                f"{path} exists but is not a readable HDF5 file ({exc}); choose another path or pass "
                "overwrite=True"
            ) from exc
        try:
            if file.attrs.get("format") != FORMAT:
                raise ResumeError(
                    f"{path} exists but is not a latsym trajectory; choose another path or pass "
                    "overwrite=True"
                )
            differ = [key for key, value in identity.items() if _attr(file, key) != value]
            if differ:
                details = "; ".join(f"{k}: file {_attr(file, k)!r}, this run {identity[k]!r}" for k in differ)
                raise ResumeError(
                    f"cannot resume into {path}: it was written by a different run ({details}); "
                    "pass overwrite=True to replace it, or choose another path"
                )
        except BaseException:
            file.close()
            raise
        return cls(file)

    def truncate(self, n: int) -> None:
        """Drop the snapshots after the first ``n`` (those written after the last checkpoint)."""
        if n > self.n_snapshots:
            raise ResumeError(
                f"the checkpoint counts {n} snapshots but the trajectory file holds only "
                f"{self.n_snapshots}; the file was modified or replaced, pass overwrite=True to restart"
            )
        self._file.visititems(lambda _, obj: obj.resize(n, axis=0) if isinstance(obj, h5py.Dataset) else None)
        self.n_snapshots = n

    def append(self, state: State, observables: dict[str, np.ndarray]) -> None:
        """Append one snapshot: step, time, q, v (if any), f and each observable's value."""
        rows = {"step": np.int64(state.step), "time": np.float64(state.time), "q": _numpy(state.q)}
        if state.v is not None:
            rows["v"] = _numpy(state.v)
        rows["f"] = _numpy(state.f)
        rows.update({f"observables/{name}": value for name, value in observables.items()})
        for name, value in rows.items():  # check every row before writing any
            if name not in self._datasets:
                if name not in self._file:
                    self._file.create_dataset(
                        name,
                        shape=(0, *value.shape),
                        maxshape=(None, *value.shape),
                        dtype=value.dtype,
                        chunks=(min(1024, max(1, _CHUNK_BYTES // max(1, value.nbytes))), *value.shape),
                    )
                self._datasets[name] = self._file[name]
            if self._datasets[name].shape[1:] != value.shape:
                raise ValueError(
                    f"snapshot {name!r} at step {state.step} has shape {value.shape}, but earlier snapshots "
                    f"have shape {self._datasets[name].shape[1:]}; an observable must keep its shape"
                )
        n = self.n_snapshots
        for name, value in rows.items():
            self._datasets[name].resize(n + 1, axis=0)
            self._datasets[name][n] = value
        self.n_snapshots = n + 1

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _attr(file: h5py.File, key: str):
    value = file.attrs.get(key)
    return value.item() if isinstance(value, np.generic) else value


def _numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()
