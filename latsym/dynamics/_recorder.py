"""What a run writes to storage: snapshots to the trajectory file, checkpoints beside it, and resume."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch

from latsym.dynamics._checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from latsym.dynamics._errors import ResumeError
from latsym.dynamics._hdf5 import TrajectoryFile
from latsym.dynamics._state import State
from latsym.io import StorageError, remove_stale_temporaries

Observable = Callable[[State], "torch.Tensor | np.ndarray | float"]


class Recorder:
    """Writes one run to ``out`` (HDF5 snapshots) and ``checkpoint_path(out)``; resumes from them.

    The caller holds ``out``'s lock. Invariant: the checkpoint's snapshot count never exceeds the
    snapshots flushed to the trajectory, so a process killed at any moment leaves a resumable pair.
    """

    def __init__(
        self,
        out: Path,
        *,
        identity: dict,
        fingerprint: str,
        snapshot_every: int,
        checkpoint_every: int | None,
        observables: Mapping[str, Observable],
        environment: str | None = None,
    ):
        self.out = out
        self.environment = environment
        self.ckpt = checkpoint_path(out)
        self.identity = identity
        self.fingerprint = fingerprint
        self.snapshot_every = snapshot_every
        self.checkpoint_every = checkpoint_every
        self.observables = observables
        self.traj: TrajectoryFile | None = None
        self.last: State | None = None  # the last completed state: snapshot written if due

    def start(self, state: State, n_steps: int, *, overwrite: bool) -> State:
        """Open or create the files; returns the state to continue from (``state`` or the checkpoint's)."""
        for path in (self.out, self.ckpt):
            remove_stale_temporaries(path)
            if overwrite:
                _delete(path)
        if self.out.exists():
            self.traj = TrajectoryFile.open(self.out, self.identity)
            try:
                self._compare_environment()
                state = self._resume(state, n_steps)
            except BaseException:
                if self.traj.extended_from is not None:
                    self.traj.restore_size()  # leave a file that cannot be resumed as it was found
                self._close_quietly()
                raise
        elif self.ckpt.exists():
            raise ResumeError(
                f"checkpoint {self.ckpt} exists without its trajectory file {self.out}; delete the "
                "checkpoint or pass overwrite=True"
            )
        else:
            self.traj = TrajectoryFile.create(
                self.out, self.identity, state, self._observe(state), environment=self.environment
            )
            self.checkpoint(state)
        self.last = state
        return state

    def on_step(self, state: State) -> None:
        """Record a completed step: its snapshot and checkpoint when due."""
        if state.step % self.snapshot_every == 0:
            self.traj.append(state, self._observe(state))
        self.last = state
        if self.checkpoint_every is not None and state.step % self.checkpoint_every == 0:
            self.checkpoint(state)

    def checkpoint(self, state: State) -> None:
        """Flush the trajectory, then checkpoint ``state`` with the number of snapshots flushed."""
        self.traj.flush()
        save_checkpoint(self.ckpt, state, n_snapshots=self.traj.n_snapshots, fingerprint=self.fingerprint,
                        trajectory_sha256=self.traj.digest())

    def finish(self, state: State) -> None:
        """Checkpoint the final state and close the trajectory."""
        self.checkpoint(state)
        self.traj.close()

    def fail(self, exc: BaseException) -> None:
        """On an exception: checkpoint the last completed state (unless storage failed), then close."""
        if self.traj is None:
            return
        if not isinstance(exc, StorageError):
            try:
                self.checkpoint(self.last)
            except StorageError as err:
                exc.add_note(f"the final checkpoint could not be written, the previous one is kept: {err}")
        self._close_quietly()

    def _compare_environment(self) -> None:
        """Warn when the run resumes under other settings than those recorded when it started."""
        recorded = self.traj.attribute("environment")
        if recorded is None or self.environment is None:
            return  # a file of an older version, or a run that records none
        started, now = json.loads(recorded), json.loads(self.environment)
        changed = sorted(key for key in started.keys() | now.keys() if started.get(key) != now.get(key))
        if not changed:
            return
        details = "; ".join(f"{key}: started with {_setting(started.get(key))}, now {_setting(now.get(key))}"
                            for key in changed)
        restore = ", ".join(f"{key}={started[key]}" if started.get(key) is not None else f"{key} unset"
                            for key in changed)
        warnings.warn(
            f"resuming {self.out} under other settings than it started with ({details}); the forces' "
            f"round-off depends on them, so the resumed trajectory may differ from an uninterrupted one "
            f"in the last bits (about 1e-15 relative, growing along a chaotic trajectory). To match, "
            f"resume with the settings it started with ({restore}; environment variables are read when "
            "Python starts, e.g. `OMP_NUM_THREADS=1 latsym ...`)",
            RuntimeWarning,
            stacklevel=4,
        )

    def _resume(self, state: State, n_steps: int) -> State:
        n_done, digest, hasher = 0, None, None
        if self.ckpt.exists():
            state, n_done, digest = load_checkpoint(
                self.ckpt, fingerprint=self.fingerprint, device=state.q.device
            )
            if n_done <= self.traj.n_snapshots:
                self._cross_check(state, n_done)
                hasher = self.traj.prefix_digest(n_done)
                if digest is not None and hasher.hexdigest() != digest:
                    self._mismatch(state, f"the bytes of its {n_done} snapshots differ from those it "
                                   "recorded")
        if self.traj.extended_from is not None and (digest is None or n_done > self.traj.n_snapshots):
            raise ResumeError(
                f"{self.out} was cut short by a failed write (a full disk?) and "
                + ("there is no checkpoint " if not self.ckpt.exists() else "its checkpoint has no record ")
                + "to verify the snapshots it keeps; its snapshots are lost: choose another path or pass "
                "overwrite=True to restart"
            )
        self.traj.truncate(n_done, hasher)
        if state.step > n_steps:
            raise ValueError(
                f"{self.out} already holds this run up to step {state.step} > n_steps={n_steps}; "
                "pass n_steps >= that to extend it, or overwrite=True"
            )
        if n_done == 0:  # no checkpoint: restart from step 0
            self.traj.append(state, self._observe(state))
            self.checkpoint(state)
        return state

    def _cross_check(self, state: State, n_done: int) -> None:
        """The checkpoint must continue the trajectory: same snapshot count, step and arrays."""
        last_step = state.step // self.snapshot_every * self.snapshot_every
        expected = state.step // self.snapshot_every + 1
        if n_done != expected:
            self._mismatch(state, f"it counts {n_done} snapshots where the run has {expected}")
        row = self.traj.row(n_done - 1)
        if int(row["step"]) != last_step:
            self._mismatch(state, f"snapshot {n_done - 1} is of step {row['step']}, not {last_step}")
        if last_step != state.step:
            return
        mine = {"time": np.float64(state.time), "q": state.q, "v": state.v, "f": state.f}
        for name, value in mine.items():
            if value is not None and not _same_bits(value, row.get(name)):
                self._mismatch(state, f"its {name} differs from the trajectory's snapshot of that step")

    def _mismatch(self, state: State, detail: str) -> None:
        raise ResumeError(
            f"checkpoint {self.ckpt} (step {state.step}) does not match the trajectory {self.out}: {detail}. "
            "The files come from different attempts or were modified: delete the checkpoint to restart "
            "from step 0, or pass overwrite=True"
        )

    def _observe(self, state: State) -> dict[str, np.ndarray]:
        return {name: _observable_value(name, fn, state) for name, fn in self.observables.items()}

    def _close_quietly(self) -> None:
        try:
            self.traj.close()
        except StorageError:
            pass  # the file abandoned itself; the exception being handled matters more


def _setting(value) -> str:
    return "unset" if value is None else repr(value)


def _same_bits(value, stored) -> bool:
    if stored is None:
        return False
    mine = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    stored = np.asarray(stored)
    return mine.dtype == stored.dtype and mine.shape == stored.shape and mine.tobytes() == stored.tobytes()


def _delete(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise StorageError(path, "delete (overwrite=True)", exc) from exc


def _observable_value(name: str, fn: Observable, state: State) -> np.ndarray:
    value = fn(state)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.asarray(value)
    if value.dtype.kind not in "biufc":
        raise TypeError(f"observable {name!r} returned {value.dtype} values; it must return numbers")
    return value
