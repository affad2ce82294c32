"""Observables of checkerboard (CDW) ordering and coarsening on the periodic square lattice (and
the simple cubic one).

Fields have shape ``(L1, L2)`` (one configuration) or ``(B, L1, L2)`` (a batch or a time series);
site ``(x, y)`` sits at ``r = (x, y)`` in lattice units. Every function takes numpy arrays (or
array-likes) and returns float64 numpy arrays whose leading ``batch`` shape is that of the input.
With ``dim=3`` the same functions work on the simple cubic lattice, fields ``(L1, L2, L3)`` or
``(B, L1, L2, L3)``: the checkerboard is ``(-1)^(x+y+z)``, its peak ``(π, π, π)``, and circles and
radial shells become spheres.

- :func:`order_parameter_field`: ``φ_i = (-1)^(x+y) (n_i - 1/2)`` (or ``(-1)^(x+y) Q_i``);
  :func:`order_parameter`: its lattice average ``⟨φ⟩`` or the average ``⟨|φ|⟩``.
- :func:`structure_factor` ``S(k) = |Σ_i x_i e^{ik·r_i}|² / N`` on the FFT grid (:func:`wavevectors`),
  peaked at ``(π, π)`` for checkerboard order; :func:`circular_average` around the peak.
- :func:`correlation` ``C(r) = (1/N) Σ_i φ_i φ_{i+r}`` and its :func:`radial_average`.
- Domain size ``L(t)``: :func:`domain_size_structure_factor` (inverse first moment of the peak) and
  :func:`domain_size_correlation` (half height of ``C(r)``).
- The growth exponent of ``L(t)``: :func:`latsym.coarsening.fit_coarsening_exponent` (importable
  from here too, as :func:`latsym.coarsening.format_estimate` and
  :class:`latsym.coarsening.CoarseningFit` are).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latsym.coarsening import CoarseningFit, fit_coarsening_exponent, format_estimate  # noqa: F401
from latsym_holstein.ed import lattice_shape

_FIELDS = ("density", "distortion")


def _lattice_fields(x: Any, name: str, dim: int = 2) -> np.ndarray:
    """``x`` as float64 of shape ``(L1, …, Ld)`` or ``(B, L1, …, Ld)`` (d = ``dim``, 2 or 3) with
    finite entries."""
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim not in (2, 3):
        raise ValueError(f"dim must be 2 (square lattice) or 3 (simple cubic lattice), got {dim!r}")
    array = np.asarray(x)
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    if array.ndim not in (dim, dim + 1) or min(array.shape[-dim:], default=0) < 1:
        axes = ", ".join(f"L{a + 1}" for a in range(dim))
        hint = "" if dim == 3 else "; pass dim=3 for simple cubic fields"
        raise ValueError(f"{name} must have shape ({axes}) or (B, {axes}), got shape {array.shape}{hint}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has {int(np.sum(~np.isfinite(array)))} non-finite entries (NaN or inf)")
    return array.astype(np.float64)


def _staggered_signs(*sides: int) -> np.ndarray:
    return (-1.0) ** np.indices(sides).sum(axis=0)


def _axes(dim: int) -> tuple[int, ...]:
    return tuple(range(-dim, 0))


def order_parameter_field(x: Any, field: str = "density", *, dim: int = 2) -> np.ndarray:
    """The local checkerboard order parameter, shape of ``x``.

    Args:
        x: densities ``n_i`` (``field="density"``: ``φ_i = (-1)^(x+y) (n_i - 1/2)``) or distortions
            ``Q_i`` (``field="distortion"``: ``φ_i = (-1)^(x+y) Q_i``), shape ``(L1, L2)`` or
            ``(B, L1, L2)``. Both signs agree: a CDW with ``Q > 0`` on even sites has ``n > 1/2`` there.
        dim: 2 (square lattice) or 3 (simple cubic, ``φ_i = (-1)^(x+y+z) …``).

    Warns:
        FrustratedLatticeWarning: a side is odd (the staggered sign jumps across the boundary).

    >>> n = np.array([[0.9, 0.1], [0.1, 0.9]])
    >>> order_parameter_field(n)
    array([[0.4, 0.4],
           [0.4, 0.4]])
    """
    if field not in _FIELDS:
        raise ValueError(f"field must be one of {_FIELDS}, got {field!r}")
    x = _lattice_fields(x, "x", dim)
    signs = _staggered_signs(*lattice_shape(x.shape, dim))
    return signs * (x - 0.5) if field == "density" else signs * x


def order_parameter(phi: Any, *, absolute: bool = False, dim: int = 2) -> np.ndarray:
    """Lattice average of the order-parameter field: ``⟨φ⟩``, or ``⟨|φ|⟩`` with ``absolute=True``.

    ``⟨φ⟩`` measures the net (single-domain) order and vanishes for equal domains of both signs;
    ``⟨|φ|⟩`` is the order inside the domains: it is the local amplitude averaged over all sites,
    reduced only by the domain walls. Shape: ``batch``.

    >>> phi = np.array([[0.5, 0.5], [-0.5, -0.5]])
    >>> float(order_parameter(phi)), float(order_parameter(phi, absolute=True))
    (0.0, 0.5)
    """
    phi = _lattice_fields(phi, "phi", dim)
    return np.mean(np.abs(phi) if absolute else phi, axis=_axes(dim))


def wavevectors(*sides: int) -> tuple[np.ndarray, ...]:
    """The FFT-grid wavevectors ``(kx, ky)`` (``(kx, ky, kz)`` for three sides), each of shape
    ``sides``: ``k = 2π (m1/l1, m2/l2, …)``.

    Entry ``[m1, m2]`` of :func:`structure_factor` belongs to ``k = (kx[m1, m2], ky[m1, m2])``, with
    components in ``[0, 2π)``: the peak ``(π, π)`` sits at the centre ``[l1/2, l2/2]``.

    >>> kx, ky = wavevectors(4, 4)
    >>> float(kx[2, 0] / np.pi), float(ky[2, 3] / np.pi)
    (1.0, 1.5)
    """
    return tuple(np.meshgrid(*(2 * np.pi * np.arange(side) / side for side in sides), indexing="ij"))


def structure_factor(x: Any, *, dim: int = 2) -> np.ndarray:
    """``S(k) = |Σ_i x_i e^{ik·r_i}|² / N`` on the FFT grid of :func:`wavevectors`; shape of ``x``.

    With ``x`` the densities this is the physics.md ``S(k)``; the CDW peak is at ``(π, π)``.

    >>> s = structure_factor(np.array([[1.0, 0.0], [0.0, 1.0]]))  # a perfect 2x2 checkerboard
    >>> s
    array([[1., 0.],
           [0., 1.]])
    """
    x = _lattice_fields(x, "x", dim)
    return np.abs(np.fft.fftn(x, axes=_axes(dim))) ** 2 / np.prod(x.shape[-dim:])


def _shell_average(values: np.ndarray, distance: np.ndarray, width: float, max_distance: float):
    """Average ``values[..., i, j]`` over shells ``round(distance / width)`` up to ``max_distance``.

    Returns the mean distance of each non-empty shell, shape ``(n,)``, and the shell averages,
    shape ``batch + (n,)``.
    """
    inside = distance <= max_distance + 1e-12
    shells = np.rint(distance[inside] / width).astype(int)
    members = np.zeros((inside.sum(), shells.max() + 1))
    members[np.arange(len(shells)), shells] = 1.0
    counts = members.sum(axis=0)
    keep = counts > 0
    centres = (distance[inside] @ members)[keep] / counts[keep]
    averages = (values[..., inside] @ members)[..., keep] / counts[keep]
    return centres, averages


def _peak_distance(*sides: int) -> np.ndarray:
    """``|k - (π, …, π)|`` on the FFT grid (``k - π`` already lies in ``[-π, π)``)."""
    return np.sqrt(sum((k - np.pi) ** 2 for k in wavevectors(*sides)))


def circular_average(s: Any, *, dim: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Average of ``S(k)`` over circles (spheres for ``dim=3``) around ``(π, π)``, up to
    ``|k - (π, π)| = π``.

    Shells have width ``Δq = 2π / min(L1, L2)`` (``|q|`` rounded to a multiple of ``Δq``).

    Returns:
        ``(q, s_q)``: the mean ``|k - (π, π)|`` of each shell, shape ``(n,)``, and the averages,
        shape ``batch + (n,)``; ``q[0] = 0`` is the peak itself on even lattices.

    >>> checkerboard = (-1.0) ** np.add.outer(np.arange(4), np.arange(4))
    >>> q, s_q = circular_average(structure_factor(0.5 + 0.5 * checkerboard))
    >>> q.round(3), s_q
    (array([0.   , 1.896, 3.142]), array([4., 0., 0.]))
    """
    s = _lattice_fields(s, "s", dim)
    sides = s.shape[-dim:]
    return _shell_average(s, _peak_distance(*sides), 2 * np.pi / min(sides), np.pi)


def correlation(phi: Any, *, dim: int = 2) -> np.ndarray:
    """``C(r) = (1/N) Σ_i φ_i φ_{i+r}`` (periodic) for every displacement, computed by FFT.

    Entry ``[dx, dy]`` is ``C`` at ``r = (dx, dy)`` (mod ``L``); ``C[0, 0] = ⟨φ²⟩``. No mean is
    subtracted, so a single domain gives ``C(r) = ⟨φ⟩²`` at large ``r``. Shape: that of ``phi``.

    >>> correlation(np.array([[1.0, -1.0], [1.0, -1.0]]))
    array([[ 1., -1.],
           [ 1., -1.]])
    """
    phi = _lattice_fields(phi, "phi", dim)
    spectrum = np.abs(np.fft.fftn(phi, axes=_axes(dim))) ** 2
    return np.fft.ifftn(spectrum, axes=_axes(dim)).real / np.prod(phi.shape[-dim:])


def _displacement_distance(*sides: int) -> np.ndarray:
    """Minimum-image length of the displacement ``(dx, dy, …)`` on the periodic lattice."""
    steps = (np.minimum(np.arange(side), side - np.arange(side)) for side in sides)
    return np.sqrt(sum(d**2 for d in np.meshgrid(*steps, indexing="ij")))


def radial_average(c: Any, *, dim: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Average of ``C(r)`` over shells of ``|r|`` (minimum image), up to ``|r| = min(L1, L2)/2``
    (``min(L1, L2, L3)/2`` for ``dim=3``).

    Shells have unit width (``|r|`` rounded to an integer).

    Returns:
        ``(r, c_r)``: the mean ``|r|`` of each shell, shape ``(n,)`` (``r[0] = 0``), and the averages,
        shape ``batch + (n,)``.

    >>> r, c_r = radial_average(np.ones((4, 4)))
    >>> r.round(3), c_r
    (array([0.   , 1.207, 2.   ]), array([1., 1., 1.]))
    """
    c = _lattice_fields(c, "c", dim)
    sides = c.shape[-dim:]
    return _shell_average(c, _displacement_distance(*sides), 1.0, min(sides) / 2)


def domain_size_structure_factor(s: Any, q_max: float = np.pi, *, dim: int = 2) -> np.ndarray:
    """Domain size from the width of the ``S(k)`` peak: ``L = 2π / ⟨|q|⟩``.

    ``⟨|q|⟩ = Σ |q| S(π + q) / Σ S(π + q)``, summed over the FFT grid with ``|q| ≤ q_max``, ``q`` the
    offset from ``(π, π)`` in ``[-π, π)²`` (``[-π, π)³`` for ``dim=3``). The default ``q_max = π``
    keeps the ``k = 0`` component (at ``|q| = π√2``, ``π√3``) out. A sinusoidal modulation of
    wavelength λ gives ``L = λ``; a perfect checkerboard gives ``inf``, a field with no weight within
    ``q_max`` gives ``nan``. Shape: ``batch``.

    >>> x = np.arange(8)[:, None]
    >>> phi = np.cos(2 * np.pi * x / 8) * np.ones((8, 8))
    >>> n = 0.5 + 0.3 * (-1.0) ** np.add.outer(np.arange(8), np.arange(8)) * phi
    >>> float(domain_size_structure_factor(structure_factor(n)))
    8.0
    """
    s = _lattice_fields(s, "s", dim)
    if not q_max > 0:
        raise ValueError(f"q_max must be positive, got {q_max}")
    distance = _peak_distance(*s.shape[-dim:])
    inside = distance <= q_max + 1e-12
    weight = s[..., inside].sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_q = (s[..., inside] @ distance[inside]) / weight
        return 2 * np.pi / mean_q


def domain_size_correlation(c: Any, *, dim: int = 2) -> np.ndarray:
    """Domain size from the half height of ``C(r)``: the ``r`` where ``C̄(r) = C(0)/2``.

    ``C̄`` is the :func:`radial_average`; the crossing is linearly interpolated between the last
    shell above ``C(0)/2`` and the first one below it. Returns ``inf`` when ``C̄`` stays above half
    height up to ``min(L1, L2)/2`` (domains as large as the system) and ``nan`` when ``C(0) = 0``
    (a zero field). Shape: ``batch``.

    >>> r = np.hypot(*np.meshgrid(*2 * [np.minimum(np.arange(16), 16 - np.arange(16))], indexing="ij"))
    >>> float(domain_size_correlation(np.maximum(0.0, 1.0 - r / 6.0)))  # a cone of radius 6
    3.0
    """
    c = _lattice_fields(c, "c", dim)
    r, c_r = radial_average(c, dim=dim)
    flat = c_r.reshape(-1, len(r))
    sizes = np.full(len(flat), np.inf)
    for b, profile in enumerate(flat):
        if profile[0] <= 0:
            sizes[b] = np.nan
            continue
        below = np.flatnonzero(profile < profile[0] / 2)
        if below.size:
            j = below[0]
            fraction = (profile[j - 1] - profile[0] / 2) / (profile[j - 1] - profile[j])
            sizes[b] = r[j - 1] + fraction * (r[j] - r[j - 1])
    return sizes.reshape(c_r.shape[:-1])
