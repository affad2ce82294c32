"""Verified, atomic checkpoints of a :class:`State` (see :func:`latsym.io.save_verified`)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from latsym.dynamics._errors import ResumeError
from latsym.dynamics._state import State
from latsym.io import CorruptFileError, load_verified, save_verified

_FORMAT = "latsym.dynamics.checkpoint/2"  # /1 had no checksums


def checkpoint_path(out: str | os.PathLike) -> Path:
    """Where a run writing trajectory ``out`` keeps its checkpoint: ``out`` + ``".ckpt"``.

    >>> checkpoint_path("runs/quench.h5").name
    'quench.h5.ckpt'
    """
    return Path(str(out) + ".ckpt")


def save_checkpoint(
    path: Path, state: State, *, n_snapshots: int, fingerprint: str, trajectory_sha256: str
) -> None:
    """Write ``state``, the snapshot count and the SHA-256 of those snapshots' bytes
    (:meth:`TrajectoryFile.digest`) to ``path`` atomically, with a SHA-256 of every part.

    Raises:
        StorageError: writing failed; the previous checkpoint is intact.
    """
    payload = {
        "format": _FORMAT,
        "fingerprint": fingerprint,
        "n_snapshots": n_snapshots,
        "trajectory_sha256": trajectory_sha256,
        "step": state.step,
        "time": state.time,
        "q": state.q.detach().cpu(),
        "v": None if state.v is None else state.v.detach().cpu(),
        "f": state.f.detach().cpu(),
        "generator": state.generator.get_state(),
    }
    save_verified(path, payload)


def load_checkpoint(path: Path, *, fingerprint: str, device: torch.device) -> tuple[State, int, str | None]:
    """Read and verify a checkpoint written by :func:`save_checkpoint`; returns ``(state, n_snapshots,
    trajectory_sha256)`` (the digest is ``None`` in checkpoints of versions that did not record it).

    Raises:
        ResumeError: the file is unreadable, truncated or fails its checksums, or belongs to a run
            with another fingerprint.
    """
    try:
        payload = load_verified(path)
    except CorruptFileError as exc:
        raise ResumeError(
            f"checkpoint {exc}; delete it to restart the run from step 0 (the trajectory is rewritten "
            "from there), or pass overwrite=True to start afresh"
        ) from exc
    if payload.get("format") != _FORMAT:
        raise ResumeError(
            f"{path} is not a latsym dynamics checkpoint of this version (format "
            f"{payload.get('format')!r}, expected {_FORMAT!r}); delete it to restart the run from step 0"
        )
    if payload["fingerprint"] != fingerprint:
        raise ResumeError(
            f"checkpoint {path} belongs to another run (different parameters, seed or initial state); "
            "pass overwrite=True to start afresh"
        )
    generator = torch.Generator(device=device)
    generator.set_state(payload["generator"])
    v = payload["v"]
    state = State(
        q=payload["q"].to(device),
        v=None if v is None else v.to(device),
        f=payload["f"].to(device),
        step=payload["step"],
        time=payload["time"],
        generator=generator,
    )
    return state, payload["n_snapshots"], payload.get("trajectory_sha256")
