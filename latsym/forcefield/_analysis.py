"""Analysis of a simulation trajectory through the plugin that made it.

:func:`analyze` reads any trajectory written by :func:`~latsym.forcefield.simulate`, plots the
observables recorded with its snapshots against time, hands the fields to the plugin's ``analysis``
hook for the model's own observables and plots, and writes everything to ``analysis.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from latsym._errors import LatsymError


class TrajectoryError(LatsymError, ValueError):
    """A file is not a readable latsym trajectory of the expected model."""


def load_trajectory(path: str | os.PathLike, plugin: str | None = None) -> dict[str, Any]:
    """The content of a trajectory file written by :func:`~latsym.forcefield.simulate`.

    Returns:
        ``{"time": (T,), "q": (T, R, *site_shape, L1, …, Ld) float64, "observables": {name: (T, R, …)},
        "metadata": dict}``; a run without replicas gets ``R = 1``.

    Raises:
        TrajectoryError: the file is missing, not HDF5, not a trajectory, of another model (when
            ``plugin`` is given), or its snapshots do not match the layout in its metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise TrajectoryError(f"no trajectory at {path}; run `latsym {plugin or '<model>'} simulate` first")
    try:
        with h5py.File(path, "r") as f:
            if "q" not in f or "time" not in f:
                raise TrajectoryError(f"{path} is not a latsym trajectory (no 'q' and 'time' datasets)")
            q, t = f["q"][()], f["time"][()]
            observables = {name: f["observables"][name][()] for name in f.get("observables", {})}
            metadata = json.loads(f.attrs.get("metadata", "{}"))
    except OSError as exc:
        raise TrajectoryError(f"{path} is not a readable HDF5 file ({exc})") from exc
    if plugin is not None and metadata.get("model", plugin) != plugin:
        raise TrajectoryError(
            f"{path} is a trajectory of the {metadata['model']!r} model, not of {plugin!r}; analyse it "
            f"with `latsym {metadata['model']} analyze`"
        )
    replicas = metadata.get("replicas")
    layout = metadata.get("layout", {})
    site = [n for n in (layout.get("channels", 1), layout.get("sublattices", 1)) if n > 1]
    cells = metadata.get("shape", list(q.shape[-layout.get("dim", 2):]))
    expected = [*([replicas] if replicas else []), *site, *cells]
    if list(q.shape[1:]) != expected:
        axes = ", ".join(map(str, expected))
        raise TrajectoryError(
            f"{path}: expected snapshots of shape (T, {axes}) from its metadata, got {q.shape}")
    if not replicas:
        q = q[:, None]
        observables = {name: value[:, None] for name, value in observables.items()}
    return {"time": t, "q": q.astype(np.float64), "observables": observables, "metadata": metadata}


def analyze(plugin: Any, trajectory: str | os.PathLike, out_dir: str | os.PathLike, **options: Any) -> dict:
    """Observables and plots of a trajectory; returns the summary also written to ``analysis.json``.

    Writes ``observables.png`` (every recorded observable against time, averaged over replicas with
    their spread) and whatever the plugin's ``analysis(time, q, out_dir, **options)`` hook writes
    (``q`` is ``(T, R, *site_shape, L1, …)``; the hook returns a dict merged into the summary, with
    the paths of its plots under ``"plots"``).

    Returns:
        ``{"trajectory", "model", "time", "replicas", "observables": {name: replica means},
        "plots": [...], …the plugin's keys}``.

    Raises:
        TrajectoryError: see :func:`load_trajectory`.
    """
    data = load_trajectory(trajectory, getattr(plugin, "name", None))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t, q = data["time"], data["q"]
    means = {name: value.mean(axis=1) for name, value in data["observables"].items()}
    plots = []
    if data["observables"]:
        plots.append(_plot_observables(t, data["observables"], out_dir / "observables.png"))
    own = dict(plugin.analysis(t, q, out_dir, **options))
    summary = {
        "trajectory": str(trajectory),
        "model": data["metadata"].get("model"),
        "time": t.tolist(),
        "replicas": int(q.shape[1]),
        "observables": {name: _finite_or_none(v) for name, v in means.items() if v.ndim == 1},
        **own,
        "plots": [str(p) for p in plots + list(own.get("plots", []))],
    }
    (out_dir / "analysis.json").write_text(json.dumps(summary, indent=1))
    return summary


def _plot_observables(t: np.ndarray, observables: dict[str, np.ndarray], path: Path) -> Path:
    """One panel per scalar observable: the replica mean against time, with the replicas' range."""
    scalar = {name: v for name, v in observables.items() if v.ndim == 2}
    figure = Figure(figsize=(4.2 * max(len(scalar), 1), 3.4), layout="constrained")
    FigureCanvasAgg(figure)
    for k, (name, value) in enumerate(scalar.items()):
        ax = figure.add_subplot(1, len(scalar), k + 1)
        ax.plot(t, value.mean(axis=1), color="C0", label="mean over replicas" if value.shape[1] > 1 else None)
        if value.shape[1] > 1:
            ax.fill_between(t, value.min(axis=1), value.max(axis=1), color="C0", alpha=0.25, label="range")
            ax.legend()
        ax.set_xlabel("time t")
        ax.set_ylabel(name)
    figure.savefig(path, dpi=110)
    return path


def _finite_or_none(x: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in x]
