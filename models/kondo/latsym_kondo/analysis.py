"""The chirality analysis of a Kondo-lattice spin trajectory: snapshots, S(q) at the M points,
chirality domain size L(t) and its coarsening exponent (the ``kondo`` plugin's analysis hook).

Definitions (spins ``(3, L1, L2)``, geometry of :mod:`latsym_kondo.observables`):

- cell chirality ``χ_c(x, y)``: the mean of the scalar chiralities of the up and down triangles at
  ``[x, y]``; the tetrahedral state has ``|χ_c| = 4/(3√3) ≈ 0.770`` with one sign per domain;
- domain size ``L(t) = 1/p``, ``p`` the fraction of nearest-neighbour cell pairs (along ``a1``,
  ``a2`` and ``a1 + a2``) whose ``χ_c`` differ in sign: the mean distance between chirality domain
  walls along a line, in lattice spacings (``L = 2`` for uncorrelated signs; infinite, reported as
  ``None``, for a single domain);
- coarsening fit: ``L(t) = A t^α`` by least squares on ``log L`` against ``log t`` over a window of
  times (default the later half of the snapshots with a finite ``L`` and ``t > 0``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from latsym.coarsening import fit_coarsening_exponent
from latsym_kondo.observables import chirality, m_points, structure_factor

#: ``|χ|`` of every triangle in the tetrahedral state, ``4/(3√3)``.
TETRAHEDRAL_CHIRALITY = 4 / (3 * math.sqrt(3))


def cell_chirality(spins: np.ndarray) -> np.ndarray:
    """``χ_c`` ``(…, L1, L2)``: the mean chirality of the two triangles of each cell, of spins
    ``(…, 3, L1, L2)`` (dimensionless)."""
    shape = spins.shape
    chi = chirality(spins.reshape(-1, *shape[-3:]))
    return chi.mean(axis=1).reshape(*shape[:-3], *shape[-2:])


def domain_size(chi: np.ndarray) -> np.ndarray:
    """Chirality domain size ``L = 1/p`` (lattice spacings; ``inf`` for one domain) of cell chiralities
    ``(…, L1, L2)``: ``p`` the fraction of nearest-neighbour cell pairs whose signs differ."""
    sign = np.sign(chi)
    walls = [sign != np.roll(sign, -1, axis=-2), sign != np.roll(sign, -1, axis=-1),
             sign != np.roll(np.roll(sign, -1, axis=-2), -1, axis=-1)]
    p = np.mean(np.stack(walls), axis=(0, -2, -1))
    with np.errstate(divide="ignore"):
        return np.where(p > 0, 1.0 / np.maximum(p, 1e-300), np.inf)


def fit_domain_growth(t: np.ndarray, length: np.ndarray, window: tuple[float, float]) -> dict[str, Any]:
    """``L = A t^α`` (:func:`latsym.coarsening.fit_coarsening_exponent`) on the snapshots in ``window``
    whose domain size is finite (a single domain has ``L = inf``).

    Returns:
        ``{"alpha", "alpha_err", "prefactor", "window", "n_points"}`` (``alpha_err`` the standard
        error of the slope).

    Raises:
        ValueError: fewer than three snapshots with a finite ``L`` and ``t > 0`` in the window.
    """
    t, length = np.asarray(t, float), np.asarray(length, float)
    keep = np.isfinite(length) & (length > 0) & (t > 0)
    fit = fit_coarsening_exponent(t[keep], length[keep], window)
    inside = (t[keep] >= window[0]) & (t[keep] <= window[1])
    return {"alpha": fit.alpha, "alpha_err": fit.alpha_err, "prefactor": fit.prefactor,
            "window": [float(window[0]), float(window[1])], "n_points": int(inside.sum())}


def chirality_analysis(t: np.ndarray, q: np.ndarray, out_dir, *, window=None, n_panels: int = 6) -> dict:
    """Observables and plots of spins ``q`` ``(T, R, 3, L1, L2)`` at times ``t`` ``(T,)``.

    ``S(q)``, the M-point intensities and ``L(t)`` are averaged over the ``R`` replicas; the snapshots
    show replica 0.

    Writes ``chirality_snapshots.png``, ``structure_factor.png`` (the last snapshot, M points
    marked) and, when a fit was made, ``domain_size.png`` to ``out_dir``.

    Returns:
        ``{"chirality_abs", "m_point_intensity", "domain_size", "fit", "plots"}``: per-snapshot lists
        (``domain_size`` ``None`` where infinite), ``fit`` of :func:`fit_domain_growth` (``None`` with too
        few finite sizes; ``{"error"}`` when it failed, which also sets ``"failed"``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    chi = cell_chirality(q)  # (T, R, L1, L2)
    size = _replica_mean_size(chi)  # (T,)
    sq = structure_factor(q.reshape(-1, *q.shape[2:])).reshape(*q.shape[:2], *q.shape[-2:]).mean(axis=1)
    sides = q.shape[-2:]
    points = m_points(*sides) if sides[0] % 2 == 0 and sides[1] % 2 == 0 else ()
    m_int = np.stack([sq[:, k1, k2] for k1, k2 in points], axis=-1).mean(axis=-1) if points else None

    finite = np.flatnonzero(np.isfinite(size) & (t > 0))
    fit = None
    if window is None and len(finite) >= 4:
        late = t[finite[len(finite) // 2:]]
        window = (float(late[0]), float(late[-1]))
    if window is not None:
        try:
            fit = fit_domain_growth(t, size, tuple(window))
        except ValueError as exc:
            fit = {"error": str(exc), "window": list(window)}

    frames = np.unique(np.linspace(0, len(t) - 1, min(n_panels, len(t))).round().astype(int))
    plots = [_plot_snapshots(chi[frames, 0], t[frames], out_dir / "chirality_snapshots.png"),
             _plot_structure_factor(sq[-1], points, t[-1], out_dir / "structure_factor.png")]
    if fit is not None and "alpha" in fit:
        plots.append(_plot_domain_size(t[finite], size[finite], fit, out_dir / "domain_size.png"))
    summary = {
        "chirality_abs": np.abs(chirality(q.reshape(-1, *q.shape[2:]))).reshape(len(t), -1).mean(1).tolist(),
        "m_point_intensity": None if m_int is None else m_int.tolist(),
        "domain_size": [float(v) if np.isfinite(v) else None for v in size],
        "fit": fit,
        "plots": [str(p) for p in plots],
    }
    if fit is not None and "error" in fit:
        summary["failed"] = f"no coarsening fit: {fit['error']}"
    return summary


def _replica_mean_size(chi: np.ndarray) -> np.ndarray:
    """The replica mean of the domain sizes of ``chi`` ``(T, R, L1, L2)``, ``(T,)``: infinite when a
    replica is a single domain."""
    sizes = domain_size(chi)
    finite = np.isfinite(sizes).all(axis=1)
    return np.where(finite, np.where(np.isfinite(sizes), sizes, 0.0).mean(axis=1), np.inf)


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _plot_snapshots(chi: np.ndarray, times: np.ndarray, path: Path) -> Path:
    figure = _figure(3.0 * len(chi) + 1.0, 3.2)
    axes = figure.subplots(1, len(chi), squeeze=False)[0]
    image = None
    for ax, frame, time in zip(axes, chi, times, strict=True):
        image = ax.imshow(frame.T, origin="lower", cmap="RdBu_r", vmin=-TETRAHEDRAL_CHIRALITY,
                          vmax=TETRAHEDRAL_CHIRALITY, interpolation="nearest")
        ax.set_title(f"t = {time:g}")
        ax.set_xlabel("x (cells along a1)")
        ax.set_ylabel("y (cells along a2)")
    figure.colorbar(image, ax=list(axes), label="cell scalar chirality χ_c")
    figure.savefig(path, dpi=100)
    return path


def _plot_structure_factor(sq: np.ndarray, points, time: float, path: Path) -> Path:
    figure = _figure(4.6, 3.8)
    ax = figure.subplots()
    image = ax.imshow(sq.T, origin="lower", cmap="viridis", interpolation="nearest")
    for k, (k1, k2) in enumerate(points):
        ax.plot(k1, k2, "o", mfc="none", mec="red", ms=10, label="M points" if k == 0 else None)
    if points:
        ax.legend(loc="upper right")
    ax.set_title(f"spin structure factor, t = {time:g}")
    ax.set_xlabel("k1 (FFT index along b1)")
    ax.set_ylabel("k2 (FFT index along b2)")
    figure.colorbar(image, ax=ax, label="S(q)")
    figure.savefig(path, dpi=100)
    return path


def _plot_domain_size(t: np.ndarray, size: np.ndarray, fit: dict, path: Path) -> Path:
    figure = _figure(4.6, 3.6)
    ax = figure.subplots()
    ax.loglog(t, size, "o", label="L(t)")
    lo, hi = fit["window"]
    grid = np.geomspace(max(lo, t.min()), hi, 20)
    ax.loglog(grid, fit["prefactor"] * grid ** fit["alpha"], "-", label=f"t^{fit['alpha']:.2f} fit")
    ax.set_xlabel("time t (ħ/t)")
    ax.set_ylabel("chirality domain size L (lattice spacings)")
    ax.legend()
    figure.savefig(path, dpi=100)
    return path
