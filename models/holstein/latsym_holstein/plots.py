"""PNG figures of checkerboard ordering and coarsening.

Every function draws with matplotlib's Agg renderer on its own ``Figure`` (pyplot's global state and
the user's backend are untouched), writes one PNG to ``path`` (parent folders are created) and returns
the path as a ``pathlib.Path``. Input arrays are those of :mod:`latsym_holstein.observables`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, NullFormatter, ScalarFormatter

from latsym.coarsening import fit_coarsening_exponent, format_estimate
from latsym_holstein.observables import (
    _lattice_fields,
    circular_average,
    domain_size_correlation,
    radial_average,
    wavevectors,
)


def _png_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"plots are written as PNG: give a path ending in .png, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=110)
    return path


def _colours(count: int) -> np.ndarray:
    """``count`` colours along viridis (dark to light-green), as RGBA rows."""
    return colormaps["viridis"](np.linspace(0.0, 0.9, count))


def _series(values: Any, times: Any, name: str, dim: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``values`` as ``(T, L1, …, Ld)`` and ``times`` as ``(T,)``, checked against each other."""
    values = _lattice_fields(values, name, dim)
    if values.ndim == dim:
        values = values[None]
    times = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if times.shape != (len(values),):
        raise ValueError(
            f"times must have one entry per {name} frame ({len(values)}), got shape {times.shape}"
        )
    return values, times


def plot_snapshots(
    phi: Any, times: Any, path: str | os.PathLike, *, ncols: int = 4, title: str | None = None
) -> Path:
    """A grid of panels of the order-parameter field ``φ_i``, one per time, on a shared colour scale.

    Args:
        phi: ``φ`` of shape ``(T, L1, L2)`` (or ``(L1, L2)`` for one panel).
        times: the time of each panel, shape ``(T,)``.
        path: the PNG file to write.
        ncols: panels per row.
        title: optional figure title.

    >>> import tempfile
    >>> phi = np.random.default_rng(0).standard_normal((2, 8, 8))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_snapshots(phi, [0.0, 5.0], Path(folder) / "snapshots.png").name
    'snapshots.png'
    """
    phi, times = _series(phi, times, "phi")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    path = _png_path(path)
    ncols = min(ncols, len(phi))
    nrows = math.ceil(len(phi) / ncols)
    figure = Figure(figsize=(2.6 * ncols + 0.8, 2.6 * nrows + (0.4 if title else 0.0)), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False)
    limit = max(float(np.abs(phi).max()), 1e-12)
    for ax, frame, time in zip(axes.flat, phi, times, strict=False):
        image = ax.imshow(frame.T, origin="lower", cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"t = {time:g}")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.flat[len(phi) :]:
        ax.set_axis_off()
    figure.colorbar(image, ax=axes, label=r"$\phi_i$", shrink=0.8)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_structure_factor(
    s: Any, path: str | os.PathLike, *, times: Any = None, zoom: float = np.pi / 2, dim: int = 2
) -> Path:
    """``S(k)`` around the ``(π, π)`` peak: a map of the last frame and the circular averages (for
    ``dim=3``: the map of the plane ``k_z = π`` through ``(π, π, π)`` and the spherical averages).

    Args:
        s: :func:`~latsym_holstein.observables.structure_factor` of shape ``(L1, L2)`` or
            ``(T, L1, L2)`` (``(L1, L2, L3)`` or ``(T, L1, L2, L3)`` for ``dim=3``).
        path: the PNG file to write.
        times: the time of each frame (labels of the averaged curves); default ``0, 1, ...``.
        zoom: half width of the map around ``(π, π)``, in ``(0, π]``; ``π`` shows the whole zone,
            including the ``k = 0`` corner where the mean density of ``S`` of ``n`` makes a large peak.
        dim: 2 (square lattice) or 3 (simple cubic).
    """
    s = _lattice_fields(s, "s", dim)
    frames = 1 if s.ndim == dim else len(s)
    s, times = _series(s, np.arange(frames) if times is None else times, "s", dim)
    if not 0 < zoom <= np.pi:
        raise ValueError(f"zoom must lie in (0, pi], got {zoom}")
    path = _png_path(path)
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    map_ax, curve_ax = figure.subplots(1, 2)
    plane, peak = s[-1], "(π, π)"
    if dim == 3:  # the plane k_z = 2π m / L3 nearest π from below (π itself on even L3)
        m, l3 = s.shape[-1] // 2, s.shape[-1]
        plane, peak = s[-1][..., m], "(π, π, π)" if 2 * m == l3 else f"(π, π, {2 * m / l3:.3g}π)"
    kx, ky = wavevectors(*plane.shape)
    near = (np.abs(kx[:, 0] - np.pi) <= zoom + 1e-12, np.abs(ky[0] - np.pi) <= zoom + 1e-12)
    window = plane[np.ix_(*near)]
    qx, qy = (kx[:, 0][near[0]] - np.pi) / np.pi, (ky[0][near[1]] - np.pi) / np.pi
    image = map_ax.pcolormesh(qx, qy, window.T, shading="nearest", cmap="viridis")
    figure.colorbar(image, ax=map_ax, label=r"$S(\mathbf{k})$")
    map_ax.set_xlabel(r"$(k_x - \pi)/\pi$")
    map_ax.set_ylabel(r"$(k_y - \pi)/\pi$")
    map_ax.set_title(f"S(k) near {peak}, t = {times[-1]:g}")
    map_ax.set_aspect("equal")
    q, s_q = circular_average(s, dim=dim)
    colours = _colours(len(s))
    for curve, time, colour in zip(s_q, times, colours, strict=True):
        positive = curve > 0
        curve_ax.semilogy(q[positive], curve[positive], "o-", ms=3, color=colour, label=f"t = {time:g}")
    curve_ax.set_xlabel(r"$|\mathbf{k} - (\pi, \pi)|$" if dim == 2 else r"$|\mathbf{k} - (\pi, \pi, \pi)|$")
    curve_ax.set_ylabel("circular average of S" if dim == 2 else "spherical average of S")
    curve_ax.legend(fontsize="small")
    return _save(figure, path)


def plot_correlation_collapse(c: Any, times: Any, path: str | os.PathLike, *, dim: int = 2) -> Path:
    """Dynamical scaling: ``C(r)/C(0)`` against ``r / L(t)`` for several times, ``L`` the half height.

    Frames whose half-height length is not finite (one domain filling the system, or a zero field)
    are left out; if none is left a ``ValueError`` is raised.

    Args:
        c: :func:`~latsym_holstein.observables.correlation` of shape ``(T, L1, L2)`` (``(T, L1, L2,
            L3)`` for ``dim=3``).
        times: the time of each frame, shape ``(T,)``.
        path: the PNG file to write.
        dim: 2 (square lattice) or 3 (simple cubic; radial shells are spheres).
    """
    c, times = _series(c, times, "c", dim)
    path = _png_path(path)
    lengths = np.atleast_1d(domain_size_correlation(c, dim=dim))
    usable = np.isfinite(lengths)
    if not usable.any():
        raise ValueError("no frame has a finite half-height length L(t): nothing to collapse")
    r, c_r = radial_average(c, dim=dim)
    figure = Figure(figsize=(5.5, 4.2), layout="constrained")
    ax = figure.subplots()
    frames = zip(c_r[usable], times[usable], lengths[usable], _colours(usable.sum()), strict=True)
    for curve, time, length, colour in frames:
        label = f"t = {time:g}, L = {length:.2f}"
        ax.plot(r / length, curve / curve[0], "o-", ms=3, color=colour, label=label)
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel(r"$r / L(t)$")
    ax.set_ylabel(r"$C(r, t) / C(0, t)$")
    ax.set_title("correlation collapse")
    ax.legend(fontsize="small")
    return _save(figure, path)


def plot_coarsening(
    t: Any, length: Any, path: str | os.PathLike, *, window: tuple[float, float] | None = None
) -> Path:
    """Log–log ``L(t)`` with the power-law fit over ``window`` (α ± error in the legend).

    A dashed Allen–Cahn line ``∝ t^{1/2}`` through the first fitted point is drawn for reference.

    Args:
        t: times, shape ``(n,)``.
        length: domain sizes, shape ``(n,)`` (non-positive or non-finite points are not drawn).
        path: the PNG file to write.
        window: ``(t_min, t_max)`` of the fit; ``None`` fits every point.

    Raises:
        ValueError: as :func:`~latsym_holstein.observables.fit_coarsening_exponent`.
    """
    fit = fit_coarsening_exponent(t, length, window)
    path = _png_path(path)
    t, length = np.asarray(t, dtype=np.float64), np.asarray(length, dtype=np.float64)
    drawable = np.isfinite(t) & np.isfinite(length) & (t > 0) & (length > 0)
    fitted = drawable if window is None else drawable & (t >= window[0]) & (t <= window[1])
    span = np.geomspace(t[fitted].min(), t[fitted].max(), 50)
    figure = Figure(figsize=(5.5, 4.2), layout="constrained")
    ax = figure.subplots()
    ax.loglog(t[drawable], length[drawable], "o", ms=4, color="C0", label="L(t)")
    ax.loglog(
        span,
        fit.prefactor * span**fit.alpha,
        "-",
        color="C3",
        label=r"fit: $\alpha = " + format_estimate(fit.alpha, fit.alpha_err, r" \pm ") + "$",
    )
    start = fit.prefactor * span[0] ** fit.alpha
    ax.loglog(span, start * (span / span[0]) ** 0.5, "--", color="grey", label=r"Allen–Cahn $\alpha = 1/2$")
    # plain numbers; times span decades (minor labels would overlap), domain sizes rarely one
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel("t")
    ax.set_ylabel("L(t)")
    ax.set_title(
        "coarsening" if window is None else f"coarsening, fit over t in [{window[0]:g}, {window[1]:g}]"
    )
    ax.legend()
    return _save(figure, path)
