"""Long runs: snapshots to HDF5, atomic checkpoints, bitwise-identical resume, clean stops."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from latsym.dynamics._guard import Check, Guard
from latsym.dynamics._integrators import ForceFn, Integrator
from latsym.dynamics._recorder import Observable, Recorder
from latsym.dynamics._state import State
from latsym.io import FileLock


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` returns.

    Attributes:
        state: the final state (step ``n_steps``).
        path: the trajectory file, or ``None`` for an in-memory run.
        n_snapshots: snapshots in the file.
        start_step: the step the run started from (``> 0`` when it resumed from a checkpoint).
    """

    state: State
    path: Path | None
    n_snapshots: int
    start_step: int


def run(
    integrator: Integrator,
    force_fn: ForceFn,
    q0: torch.Tensor,
    n_steps: int,
    *,
    seed: int,
    v0: torch.Tensor | None = None,
    out: str | os.PathLike | None = None,
    snapshot_every: int = 1,
    checkpoint_every: int | None = None,
    observables: Mapping[str, Observable] | None = None,
    metadata: Mapping | None = None,
    overwrite: bool = False,
    progress: bool = True,
    bound: float | Mapping[str, float] | None = None,
    check: Check | None = None,
    environment: Mapping[str, str | int | float | None] | None = None,
) -> RunResult:
    """Integrate from ``(q0, v0)`` to step ``n_steps``, writing snapshots and checkpoints to ``out``.

    The trajectory is a function of the integrator, ``force_fn``, ``q0``, ``v0`` and ``seed``. With
    ``out`` given:

    - Snapshots of the steps that are multiples of ``snapshot_every`` (step 0 included) go to the
      HDF5 file ``out``, as resizable chunked datasets with one row per snapshot: ``step`` (int64),
      ``time`` (float64), ``q``, ``v`` (inertial integrators only) and ``f`` of shape
      ``(N, *q0.shape)`` in ``q0``'s dtype, and ``observables/<name>`` of shape ``(N, *value_shape)``.
      File attributes: ``integrator`` (JSON of its parameters), ``seed``, ``snapshot_every``,
      ``observables`` (JSON list of names), ``initial_state`` (JSON: shape, dtype, device and
      SHA-256 of ``q0`` and ``v0``), ``metadata`` (JSON), ``latsym_version`` and ``format``.
    - The file is created under a temporary name and renamed to ``out`` once its attributes and the
      step-0 snapshot are on disk; a checkpoint of step 0 follows at once.
    - A checkpoint (state, generator state, snapshot count) is written atomically to
      ``checkpoint_path(out)`` every ``checkpoint_every`` steps and when the run ends or stops, after
      the trajectory is flushed; it carries a SHA-256 of each array and of the rest
      (:func:`latsym.io.save_verified`). A process killed at any moment leaves a resumable pair.
    - If ``out`` exists, the run resumes: the file's attributes must match this call (otherwise
      :class:`ResumeError`; ``overwrite=True`` starts afresh), the checkpoint must pass its checksums
      and agree with the trajectory (snapshot count, step, time, q, v, f of the snapshot of its step,
      and the SHA-256 of the bytes of every snapshot it counts, which it records), snapshots after
      the checkpoint are dropped, and integration continues from
      the checkpoint (from step 0 if there is none). A corrupt or mismatched checkpoint is refused
      with :class:`ResumeError` saying what to delete. The resumed trajectory is bitwise identical
      to an uninterrupted one on the same device. Calling again with a larger ``n_steps`` extends a
      finished run. Temporary files of interrupted writes are deleted.
    - One process at a time: ``out`` is locked by :class:`latsym.io.FileLock` (``out + ".lock"``);
      a second run on it, with ``overwrite=True`` too, raises :class:`latsym.io.FileLockedError`
      naming the holder's pid and host. The lock of a process that died is taken over.
    - On ``KeyboardInterrupt`` (or any other exception), a final checkpoint of the last completed
      step is written and the file closed before the exception propagates; re-running the call
      resumes.
    - If writing fails (disk full, read-only, a parent that is not a directory...),
      :class:`latsym.io.StorageError` (an ``OSError``) names the file and the cause; the last good
      checkpoint is kept and no new one is written. Once the cause is fixed, re-running resumes:
      a trajectory file that the failed write left shorter than its recorded end is extended back
      to it with zeros, and resumed if the snapshots the checkpoint counts pass its SHA-256 (else
      :class:`ResumeError`, and the file is left as found).
    - If fields, velocities or forces become NaN/inf, :class:`NonFiniteError` is raised naming the
      step and array; if a state fails the optional guard (``bound``, ``check``),
      :class:`DivergenceError` (a :class:`NonFiniteError`). In both cases the checkpoint holds the
      last state that passed (finite, within the bound), and nothing later is written.

    - ``environment`` (settings outside the run's identity that the forces' round-off depends on,
      e.g. BLAS thread counts) is stored as the attribute ``environment`` (JSON) when the file is
      created; a resume under other settings warns (``RuntimeWarning``) naming each setting's
      value then and now, and how to match them.

    Without ``out`` nothing is written (``checkpoint_every`` must then be ``None``).

    Args:
        integrator: e.g. :class:`LangevinVV` or :class:`Brownian`.
        force_fn: ``Tensor (*shape) -> Tensor (*shape)``; the caller keeps it the same across resumes
            (record what defines it in ``metadata``).
        q0: initial fields, floating tensor of any shape; sets dtype and device.
        n_steps: total number of steps from step 0 (not counting steps done before a resume).
        seed: non-negative int seeding the noise generator.
        v0: initial velocities (default zeros; ``None`` for overdamped integrators).
        out: HDF5 trajectory path.
        snapshot_every: steps between snapshots.
        checkpoint_every: steps between checkpoints (``None``: only at the end or on a stop).
        observables: ``name -> callable(State)`` returning a number or array of fixed shape,
            recorded with every snapshot.
        metadata: JSON-serialisable dict stored as the ``metadata`` attribute (model parameters...).
        overwrite: replace an existing ``out`` and its checkpoint instead of resuming.
        progress: show a tqdm progress bar (steps, rate, ETA).
        bound: divergence guard from the model's physical scale: the largest allowed ``max |q|``
            (a number, in the units of ``q``), or a dict bounding any of ``"q"``, ``"v"``, ``"f"``.
            Checked every step (no extra device sync); not part of the run's identity, so a resume
            may change it.
        check: divergence guard ``State -> str | None`` called every step: a reason the state is
            unphysical (e.g. ``"energy per site 1e6 > 10"``), or ``None``.
        environment: JSON-serialisable ``{setting: value}`` (``None`` for unset) that the forces'
            last bits depend on, e.g. ``{"OMP_NUM_THREADS": "1"}``; see above.

    >>> import torch
    >>> from latsym.dynamics import LangevinVV
    >>> res = run(LangevinVV(mass=1.0, gamma=1.0, temperature=0.5, dt=0.1), lambda q: -q,
    ...           torch.zeros(8, 8), 20, seed=0, progress=False)
    >>> res.state.step, res.state.q.shape
    (20, torch.Size([8, 8]))
    """
    observables = dict(observables or {})
    _check_run_args(n_steps, snapshot_every, checkpoint_every, observables, out)
    guard = Guard(bound, check, has_velocities=integrator.has_velocities)
    state = integrator.init_state(q0, force_fn, seed=seed, v0=v0)
    guard(state)
    if out is None:
        return _integrate(integrator, force_fn, state, n_steps, progress=progress, guard=guard, on_step=None)

    out = Path(out)
    if out.is_dir():
        raise ValueError(f"out={str(out)!r} is a directory; pass a file path, e.g. {out / 'run.h5'}")
    identity = _identity(integrator, state, seed, snapshot_every, observables, metadata)
    if environment is not None and not isinstance(environment, Mapping):
        raise TypeError(f"environment must be a dict of settings, got {type(environment).__name__}")
    recorder = Recorder(
        out,
        identity=identity,
        fingerprint=hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest(),
        snapshot_every=snapshot_every,
        checkpoint_every=checkpoint_every,
        observables=observables,
        environment=None if environment is None else _json(dict(environment), "environment"),
    )
    with FileLock(out):
        state = recorder.start(state, n_steps, overwrite=overwrite)
        try:
            result = _integrate(
                integrator, force_fn, state, n_steps, progress=progress, guard=guard, on_step=recorder.on_step
            )
        except BaseException as exc:
            # Ctrl-C, divergence, a failing force or storage: keep the last completed (guarded) state.
            recorder.fail(exc)
            raise
        recorder.finish(result.state)
    n_snapshots = recorder.traj.n_snapshots
    return RunResult(state=result.state, path=out, n_snapshots=n_snapshots, start_step=state.step)


def _integrate(
    integrator: Integrator,
    force_fn: ForceFn,
    state: State,
    n_steps: int,
    *,
    progress: bool,
    guard: Guard,
    on_step: Callable[[State], None] | None,
) -> RunResult:
    start_step = state.step
    with tqdm(total=n_steps, initial=start_step, unit="step", desc="dynamics", disable=not progress) as bar:
        while state.step < n_steps:
            state = integrator.step(state, force_fn)
            guard(state)
            if on_step is not None:
                on_step(state)
            bar.update(1)
    return RunResult(state=state, path=None, n_snapshots=0, start_step=start_step)


def _check_run_args(n_steps, snapshot_every, checkpoint_every, observables, out) -> None:
    counts = [("n_steps", n_steps, 0), ("snapshot_every", snapshot_every, 1)]
    if checkpoint_every is not None:
        counts.append(("checkpoint_every", checkpoint_every, 1))
    for name, value, low in counts:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if checkpoint_every is not None:
        if out is None:
            raise ValueError("checkpoint_every needs a trajectory file: pass out=PATH")
    if observables and out is None:
        raise ValueError("observables are recorded in the trajectory file: pass out=PATH")
    for name, fn in observables.items():
        if not isinstance(name, str) or not name or "/" in name or name == ".":
            raise ValueError(f"observable names must be non-empty strings without '/', got {name!r}")
        if not callable(fn):
            raise TypeError(f"observable {name!r} must be a callable State -> array, got {type(fn).__name__}")


def _identity(integrator, state, seed, snapshot_every, observables, metadata) -> dict:
    """Everything that defines the trajectory file's content, as HDF5-storable attribute values."""
    if metadata is not None and not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a JSON-serialisable dict, got {type(metadata).__name__}")
    metadata_json = _json(dict(metadata or {}), "metadata")
    initial = {
        "shape": list(state.q.shape),
        "dtype": str(state.q.dtype).removeprefix("torch."),
        "device": state.q.device.type,
        "q0_sha256": _sha256(state.q),
        "v0_sha256": None if state.v is None else _sha256(state.v),
    }
    return {
        "integrator": json.dumps(integrator.params(), sort_keys=True),
        "seed": seed,
        "snapshot_every": snapshot_every,
        "observables": json.dumps(sorted(observables)),
        "initial_state": json.dumps(initial, sort_keys=True),
        "metadata": metadata_json,
    }


def _json(values: dict, name: str) -> str:
    try:
        return json.dumps(values, sort_keys=True)
    except TypeError as exc:
        raise TypeError(f"{name} must be a JSON-serialisable dict: {exc}") from exc


def _sha256(x: torch.Tensor) -> str:
    return hashlib.sha256(np.ascontiguousarray(x.detach().cpu().numpy()).tobytes()).hexdigest()

