"""The CDW analysis of a Holstein quench: order parameter, S(k), C(r), domain sizes, coarsening fit, plots.

:func:`cdw_analysis` is the Holstein plugin's analysis hook: from the distortion fields of a
trajectory it computes the observables of ``physics.md`` (``φ_i = (-1)^(x+y) Q_i``) and draws them.
:func:`analyze` is latsym's generic :func:`latsym.forcefield.analyze` with the Holstein plugin: it
reads an HDF5 trajectory written by :func:`latsym_holstein.simulate.quench` (or ``latsym holstein
simulate``) and writes ``analysis.json``, ``observables.png`` and the plots below to a directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from latsym.coarsening import fit_coarsening_exponent
from latsym.forcefield import analyze as _analyze
from latsym.forcefield import load_trajectory as _load_trajectory
from latsym_holstein import observables as obs
from latsym_holstein import plots


def load_trajectory(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Times ``(T,)`` and distortions ``(T, L1, L2)`` (``(T, L1, L2, L3)`` for a simple cubic quench)
    of a trajectory file; ``(T, R, L1, …)`` for a run of ``R`` replicas.

    Raises:
        ValueError: the file is missing, not HDF5, or its snapshots do not match its metadata
            (:class:`latsym.forcefield.TrajectoryError`).
    """
    data = _load_trajectory(path)
    q = data["q"] if data["metadata"].get("replicas") else data["q"][:, 0]
    return data["time"], q


def analyze(
    trajectory: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    window: tuple[float, float] | None = None,
    n_panels: int = 8,
) -> dict[str, Any]:
    """Observables and plots of a Holstein quench on the square lattice; returns the summary also
    written to ``analysis.json`` (see :func:`cdw_analysis` and :func:`latsym.forcefield.analyze`).
    For another lattice, pass its plugin to :func:`latsym.forcefield.analyze`."""
    from latsym_holstein.plugin import HolsteinPlugin

    return _analyze(HolsteinPlugin(), trajectory, out_dir, window=window, n_panels=n_panels)


def cdw_analysis(
    t: np.ndarray,
    q: np.ndarray,
    out_dir: str | os.PathLike,
    *,
    window: tuple[float, float] | None = None,
    n_panels: int = 8,
) -> dict[str, Any]:
    """The CDW observables and plots of distortions ``q`` ``(T, R, L1, …, Ld)`` at times ``t`` ``(T,)``.

    For a run of several replicas, ``S(k)``, ``C(r)`` and the order parameters are averaged over
    the replicas (domain sizes from the averaged ``S`` and ``C``: the ensemble averages of the
    theory of coarsening), and the snapshots show replica 0.

    Args:
        t, q: the trajectory's times and fields.
        out_dir: directory for the PNGs (``snapshots.png``, ``structure_factor.png``,
            ``correlation_collapse.png``, ``coarsening.png``).
        window: ``(t_min, t_max)`` of the coarsening fit; default: the later half of the times with
            a finite domain size. Snapshots without a finite positive size (a field ordered across
            the whole system, or zero) are left out of the fit.
        n_panels: snapshots shown.

    Returns:
        ``{"order_parameter", "order_abs", "domain_size_sk", "domain_size_cr", "fit", "plots"}``
        (lists of floats per snapshot; ``fit`` holds ``alpha``, ``alpha_err``, ``prefactor`` and
        ``window``, or ``None`` when too few points have a finite size, or ``error`` when the fit
        failed, which also sets ``"failed"``).
    """
    dim = q.ndim - 2
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fields = q.reshape(-1, *q.shape[2:])  # the observables take one batch axis

    def replica_mean(x: np.ndarray) -> np.ndarray:
        return x.reshape(q.shape[:2] + x.shape[1:]).mean(axis=1)

    phi_all = obs.order_parameter_field(fields, field="distortion", dim=dim)
    phi = phi_all.reshape(q.shape)[:, 0]  # replica 0, for the snapshots
    s = replica_mean(obs.structure_factor(fields, dim=dim))
    c = replica_mean(obs.correlation(phi_all, dim=dim))
    size_sk = obs.domain_size_structure_factor(s, dim=dim)
    size_cr = obs.domain_size_correlation(c, dim=dim)

    finite = np.flatnonzero(np.isfinite(size_cr) & (size_cr > 0) & (t > 0))
    fit = None
    if window is None and len(finite) >= 6:
        late = t[finite[len(finite) // 2 :]]
        window = (float(late[0]), float(late[-1]))
    if window is not None:
        try:  # over the finite sizes only: a snapshot ordered across the system has L = inf
            f = fit_coarsening_exponent(t[finite], size_cr[finite], window)
            fit = {
                "alpha": f.alpha,
                "alpha_err": f.alpha_err,
                "prefactor": f.prefactor,
                "window": list(window),
            }
        except ValueError as exc:
            fit = {"error": str(exc), "window": list(window)}

    frames = np.unique(np.linspace(0, len(t) - 1, min(n_panels, len(t))).round().astype(int))
    panels, title = (phi[frames], None) if dim == 2 else (phi[frames][..., 0], "the plane z = 0")
    written = [
        plots.plot_snapshots(panels, t[frames], out_dir / "snapshots.png", title=title),
        plots.plot_structure_factor(s[frames], out_dir / "structure_factor.png", times=t[frames], dim=dim),
    ]
    collapsible = frames[np.isfinite(size_cr[frames]) & (t[frames] > 0)]
    if len(collapsible):
        written.append(
            plots.plot_correlation_collapse(
                c[collapsible], t[collapsible], out_dir / "correlation_collapse.png", dim=dim
            )
        )
    if fit is not None and "alpha" in fit:
        written.append(
            plots.plot_coarsening(
                t[finite], size_cr[finite], out_dir / "coarsening.png", window=tuple(fit["window"])
            )
        )

    summary = {
        "order_parameter": replica_mean(obs.order_parameter(phi_all, dim=dim)).tolist(),
        "order_abs": replica_mean(obs.order_parameter(phi_all, absolute=True, dim=dim)).tolist(),
        "domain_size_sk": _finite_or_none(size_sk),
        "domain_size_cr": _finite_or_none(size_cr),
        "fit": fit,
        "plots": [str(p) for p in written],
    }
    if fit is not None and "error" in fit:
        summary["failed"] = f"no coarsening fit: {fit['error']}"
    return summary


def _finite_or_none(x: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in x]
