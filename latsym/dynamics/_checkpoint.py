"""Atomic checkpoints of a :class:`State`: written to a temporary file, fsynced, then renamed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from latsym.dynamics._errors import ResumeError
from latsym.dynamics._state import State

_FORMAT = "latsym.dynamics.checkpoint/1"


def checkpoint_path(out: str | os.PathLike) -> Path:
    """Where a run writing trajectory ``out`` keeps its checkpoint: ``out`` + ``".ckpt"``.

    >>> checkpoint_path("runs/quench.h5").name
    'quench.h5.ckpt'
    """
    return Path(str(out) + ".ckpt")


def save_checkpoint(path: Path, state: State, *, n_snapshots: int, fingerprint: str) -> None:
    """Write ``state`` and the snapshot count to ``path`` atomically.

    The data go to a temporary file in the same directory, which is flushed, fsynced and then
    renamed over ``path`` (``os.replace``): a reader sees the old checkpoint or the new one, never a
    partial file. If writing fails, the temporary file is removed and the old checkpoint is intact.
    """
    payload = {
        "format": _FORMAT,
        "fingerprint": fingerprint,
        "n_snapshots": n_snapshots,
        "step": state.step,
        "time": state.time,
        "q": state.q.detach().cpu(),
        "v": None if state.v is None else state.v.detach().cpu(),
        "f": state.f.detach().cpu(),
        "generator": state.generator.get_state(),
    }
    atomic_save(payload, path)


def atomic_save(payload: Any, path: str | os.PathLike) -> Path:
    """``torch.save(payload)`` to ``path`` atomically; returns the path.

    The data go to a temporary file in the same directory (created if missing), which is flushed,
    fsynced and then renamed over ``path`` (``os.replace``): a reader sees the old file or the new
    one, never a partial file. If writing fails, the temporary file is removed and the old file is
    intact. Use it for any checkpoint that a crash or Ctrl-C must not corrupt.

    >>> import tempfile
    >>> path = atomic_save({"step": 3}, Path(tempfile.mkdtemp()) / "ckpt.pt")
    >>> torch.load(path, weights_only=True)
    {'step': 3}
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
    return path


def load_checkpoint(path: Path, *, fingerprint: str, device: torch.device) -> tuple[State, int]:
    """Read a checkpoint written by :func:`save_checkpoint`; returns ``(state, n_snapshots)``.

    Raises:
        ResumeError: the file is unreadable, or belongs to a run with another fingerprint.
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ResumeError(
            f"checkpoint {path} is unreadable ({exc}); delete it to restart the run from step 0"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ResumeError(f"{path} is not a latsym dynamics checkpoint")
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
    return state, payload["n_snapshots"]


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
