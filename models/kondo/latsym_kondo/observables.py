"""Observables of spin configurations on the triangular lattice: scalar chirality, the spin structure
factor and its M points, and the free energy per site.

Geometry (latsym's ``triangular()``, ``a1 = (1, 0)``, ``a2 = (-1/2, √3/2)``; the array index ``[x, y]``
is the site ``x·a1 + y·a2``):

- the up triangle at ``[x, y]`` is ``[x, y], [x+1, y], [x+1, y+1]``, the down triangle
  ``[x, y], [x+1, y+1], [x, y+1]``, both counter-clockwise; there are ``2N`` triangles.
- the reciprocal vectors are ``b1 = 2π(1, 1/√3)``, ``b2 = 2π(0, 2/√3)``; the FFT index ``[k1, k2]``
  is ``q = (k1 b1 + k2 b2)/L``, and the three M points are ``[L/2, 0]``, ``[0, L/2]`` and
  ``[L/2, L/2]`` (``L`` even).

Spins are ``(3, L1, L2)`` or ``(B, 3, L1, L2)`` numpy arrays (array-likes are converted), components
first; outputs have the batch axis exactly when the input has one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latsym_kondo.ed import UNIT_TOL, ed_solve
from latsym_kondo.params import KondoParams


def _spins(spins: Any) -> np.ndarray:
    array = np.asarray(spins, dtype=np.float64)
    if array.ndim not in (3, 4) or array.shape[-3] != 3:
        raise ValueError(
            f"expected spins of shape (3, L1, L2) or (B, 3, L1, L2), components first, got shape "
            f"{tuple(array.shape)}"
        )
    return array


def chirality(spins: Any) -> np.ndarray:
    """The scalar chirality ``χ = S_i · (S_j × S_k)`` of every triangle, counter-clockwise.

    Args:
        spins: shape ``(3, L1, L2)`` or ``(B, 3, L1, L2)``.

    Returns:
        Shape ``(2, L1, L2)`` or ``(B, 2, L1, L2)``: index 0 the up triangle at ``[x, y]``
        (``[x, y], [x+1, y], [x+1, y+1]``), index 1 the down triangle (``[x, y], [x+1, y+1], [x, y+1]``).
        Dimensionless, in ``[-1, 1]`` for unit spins.

    >>> up = np.zeros((3, 4, 4)); up[2] = 1.0
    >>> chirality(up).shape, float(np.abs(chirality(up)).max())
    ((2, 4, 4), 0.0)
    """
    s = _spins(spins)
    right = np.roll(s, -1, axis=-2)  # [x+1, y]
    diagonal = np.roll(right, -1, axis=-1)  # [x+1, y+1]
    top = np.roll(s, -1, axis=-1)  # [x, y+1]
    up = np.einsum("...axy,...axy->...xy", s, np.cross(right, diagonal, axis=-3))
    down = np.einsum("...axy,...axy->...xy", s, np.cross(diagonal, top, axis=-3))
    return np.stack([up, down], axis=-3)


def structure_factor(spins: Any) -> np.ndarray:
    """The spin structure factor ``S(q) = (1/N) Σ_a |Σ_i S_i^a e^{-i q·r_i}|²`` on the FFT grid.

    Args:
        spins: shape ``(3, L1, L2)`` or ``(B, 3, L1, L2)``.

    Returns:
        Shape ``(L1, L2)`` or ``(B, L1, L2)``; entry ``[k1, k2]`` is ``q = k1 b1/L1 + k2 b2/L2``. It
        sums to ``Σ_i |S_i|²`` (``N`` for unit spins).

    >>> up = np.zeros((3, 4, 4)); up[2] = 1.0
    >>> float(structure_factor(up)[0, 0])  # a ferromagnet: all weight at q = 0
    16.0
    """
    s = _spins(spins)
    n_sites = s.shape[-1] * s.shape[-2]
    amplitudes = np.fft.fft2(s, axes=(-2, -1))
    return (amplitudes.real**2 + amplitudes.imag**2).sum(axis=-3) / n_sites


def m_points(l1: int, l2: int | None = None) -> tuple[tuple[int, int], ...]:
    """The FFT indices ``[k1, k2]`` of the three M points, ``q = b1/2, b2/2, (b1 + b2)/2``.

    Raises:
        ValueError: a side is odd (the M points are not on the grid).

    >>> m_points(12)
    ((6, 0), (0, 6), (6, 6))
    """
    l2 = l1 if l2 is None else l2
    if l1 % 2 or l2 % 2:
        raise ValueError(f"the M points need even sides, got {l1} x {l2}")
    return ((l1 // 2, 0), (0, l2 // 2), (l1 // 2, l2 // 2))


def m_point_intensities(spins: Any) -> np.ndarray:
    """``S(q)`` at the three M points (in the order of :func:`m_points`): shape ``(3,)`` or ``(B, 3)``.

    Raises:
        ValueError: the spins have the wrong shape, or a side is odd.
    """
    factor = structure_factor(spins)
    points = m_points(*factor.shape[-2:])
    return np.stack([factor[..., k1, k2] for k1, k2 in points], axis=-1)


def energy_per_site(spins: Any, params: KondoParams | None = None, *, normalise: bool = False,
                    unit_tol: float | None = UNIT_TOL) -> np.ndarray:
    """The free energy per site ``F/N`` (energy units) from :func:`latsym_kondo.ed_solve`: shape ``()``
    or ``(B,)``. At the default ``T = 0.01`` it is the ground-state energy per site to within ``T``."""
    array = np.asarray(spins, dtype=np.float64)
    result = ed_solve(array, params, normalise=normalise, unit_tol=unit_tol)
    return np.asarray(result.free_energy) / (array.shape[-1] * array.shape[-2])
