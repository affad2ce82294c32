"""Exact-diagonalization (ED) forces of the semiclassical Holstein model.

For a configuration ``Q`` of the lattice distortions on an ``L1 × L2`` periodic square lattice, the
electrons see the single-particle matrix ``h = h_hop - g diag(Q)`` with ``h_hop = -t`` on every
nearest-neighbour bond. Diagonalizing ``h = Σ_m ε_m φ_m φ_m†`` and filling the levels with
Fermi–Dirac occupations ``f_m = 1/(exp((ε_m - μ)/T) + 1)`` at the chemical potential ``μ`` that
holds ``N_e = filling · N`` electrons gives the densities ``⟨n_i⟩ = Σ_m f_m |φ_m(i)|²`` and the
Hellmann–Feynman forces

    F_i = -∂F_total/∂Q_i = g (⟨n_i⟩ - 1/2) - k Q_i - κ Σ_{j ∈ nn(i)} Q_j.

``F_total`` is the free energy at fixed particle number plus the elastic energy::

    F_total = F_el + (g/2) Σ_i Q_i + (k/2) Σ_i Q_i² + κ Σ_<ij> Q_i Q_j,
    F_el    = Ω(μ) + μ N_e,   Ω(μ) = -T Σ_m ln(1 + exp(-(ε_m - μ)/T)).

``F_el`` is the Legendre transform of the grand potential at the μ fixed by ``N_e``; because
``∂Ω/∂μ = -N_e`` there, the dependence of μ on Q drops out of the derivative and
``∂F_el/∂Q_i = Σ_m f_m ∂ε_m/∂Q_i = -g ⟨n_i⟩`` exactly. At ``T = 0``, ``F_el = Σ_m f_m ε_m``.

Bond convention: the sums over bonds ``<ij>`` run over the ``2N`` bonds ``(i, i + x̂)`` and
``(i, i + ŷ)``. On a side of length 2 the bonds to ``i + x̂`` and ``i - x̂`` join the same pair of
sites, which is then counted twice (the hopping and κ double); this keeps the model the restriction
of the infinite lattice to periodic configurations. Sides of length 1 are refused. Odd sides are
allowed but frustrate the checkerboard order: a :class:`FrustratedLatticeWarning` is emitted.

Site ``i`` is the C-order flat index of the array position ``(x, y)``: ``i = x · L2 + y``.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import warnings
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from latsym_holstein.params import HolsteinParams

# Levels closer than this (relative to the band width, at least 1) count as degenerate at T = 0.
_DEGENERACY_RTOL = 1e-9
# Upper bound on the memory of one stack of matrices handed to eigh, in bytes.
_CHUNK_BYTES = 2**27


class FrustratedLatticeWarning(UserWarning):
    """A lattice side is odd, so the checkerboard (π, π) order cannot close periodically."""


@dataclasses.dataclass(frozen=True)
class EDResult:
    """The outcome of :func:`ed_solve` for a configuration or a batch of them.

    Arrays are numpy float64, or torch tensors of the input's dtype and device when ``Q`` was a
    tensor. ``batch`` is ``()`` for one configuration ``(L1, L2)`` and ``(B,)`` for ``(B, L1, L2)``.

    Attributes:
        forces: ``F_i = -∂F_total/∂Q_i``, shape ``batch + (L1, L2)`` (energy per unit Q).
        density: electron densities ``⟨n_i⟩`` in ``[0, 1]``, shape ``batch + (L1, L2)``.
        free_energy: ``F_total`` of each configuration (whole lattice, energy units), shape ``batch``.
        mu: chemical potential of each configuration, shape ``batch``.
    """

    forces: Any
    density: Any
    free_energy: Any
    mu: Any


def lattice_shape(shape: tuple[int, ...]) -> tuple[int, int]:
    """Validate the lattice part ``(L1, L2)`` of a field shape ``(L1, L2)`` or ``(B, L1, L2)``.

    Raises:
        ValueError: the shape has another number of axes, or a side shorter than 2.

    Warns:
        FrustratedLatticeWarning: a side is odd.

    >>> lattice_shape((8, 6, 4))
    (6, 4)
    """
    if len(shape) not in (2, 3):
        raise ValueError(f"expected a field of shape (L1, L2) or (B, L1, L2), got shape {tuple(shape)}")
    l1, l2 = int(shape[-2]), int(shape[-1])
    if min(l1, l2) < 2:
        raise ValueError(f"lattice sides must be at least 2, got {l1} x {l2}")
    if l1 % 2 or l2 % 2:
        warnings.warn(
            f"lattice {l1} x {l2} has an odd side: the checkerboard (pi, pi) order is frustrated "
            f"by the periodic boundary; use even sides for CDW physics",
            FrustratedLatticeWarning,
            stacklevel=3,
        )
    return l1, l2


@functools.lru_cache(maxsize=16)
def _adjacency(l1: int, l2: int) -> np.ndarray:
    """Bond-count matrix of the periodic ``l1 × l2`` lattice (read-only), see the bond convention."""
    sites = np.arange(l1 * l2).reshape(l1, l2)
    adjacency = np.zeros((l1 * l2, l1 * l2))
    for axis in (0, 1):
        np.add.at(adjacency, (sites.ravel(), np.roll(sites, -1, axis=axis).ravel()), 1.0)
    adjacency += adjacency.T
    adjacency.flags.writeable = False
    return adjacency


def hopping_matrix(l1: int, l2: int, t: float = 1.0) -> np.ndarray:
    """The hopping part of ``h``: ``-t`` times the bond count between sites, shape ``(N, N)``.

    ``N = l1 · l2`` and sites are numbered ``i = x · l2 + y``. A side of length 2 counts its two
    bonds between the same pair of sites twice (see the module docstring).

    >>> hopping_matrix(3, 3)[0, [1, 2, 3, 4]]
    array([-1., -1., -1.,  0.])
    >>> float(hopping_matrix(2, 4)[0, 4])
    -2.0
    """
    if int(l1) < 2 or int(l2) < 2:
        raise ValueError(f"lattice sides must be at least 2, got {l1} x {l2}")
    return -t * _adjacency(int(l1), int(l2))


def occupations(energies: np.ndarray, filling: float, temperature: float) -> tuple[np.ndarray, float]:
    """Fermi–Dirac occupations of single-particle levels holding ``filling · N`` electrons.

    Args:
        energies: level energies ``ε_m``, shape ``(N,)``, any order.
        filling: electrons per level, strictly between 0 and 1.
        temperature: ``T ≥ 0``.

    Returns:
        ``(f, mu)``: occupations of shape ``(N,)`` in the order of ``energies``, and μ.

    Raises:
        ValueError: ``energies`` is not a finite 1-d array, or ``filling``/``temperature`` is out of range.

    For ``T > 0``, μ solves ``Σ_m f_m = N_e`` (``scipy.optimize.brentq`` on a bracket grown from the
    spectrum). For ``T = 0`` the occupations are the ``T → 0⁺`` limit: levels below the Fermi shell
    are full, levels above empty, and the electrons left over share the Fermi shell (the levels
    degenerate with the highest occupied one, within 1e-9 of the band width) equally, so the
    density is independent of the basis chosen inside a degenerate shell. μ is mid-gap when the
    shell is full and the shell energy when it is partly filled.

    >>> f, mu = occupations(np.array([1.0, -1.0, 0.0, 0.0]), 0.5, 0.0)
    >>> f, float(mu)
    (array([0. , 1. , 0.5, 0.5]), 0.0)
    """
    energies = np.asarray(energies, dtype=np.float64)
    if energies.ndim != 1 or energies.size == 0 or not np.all(np.isfinite(energies)):
        raise ValueError(
            f"energies must be a non-empty 1-d array of finite values, got shape {energies.shape}"
        )
    if not 0 < filling < 1:
        raise ValueError(f"filling must lie strictly between 0 and 1, got {filling}")
    if not temperature >= 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    n_electrons = filling * energies.size
    if temperature == 0:
        return _ground_state_occupations(energies, n_electrons)

    def excess(mu: float) -> float:
        # Σ_m f_m - N_e, summing the small quantities 1 - f (below μ) and f (above μ) so that the
        # root stays well defined deep inside a gap, where every f is within rounding of 0 or 1.
        x = (mu - energies) / temperature
        below = x > 0
        small = expit(-np.abs(x))
        return float(below.sum() - n_electrons + small[~below].sum() - small[below].sum())

    brackets = []
    for edge, direction in ((energies.min(), -1.0), (energies.max(), 1.0)):
        width = max(temperature, 1.0)
        while direction * excess(edge + direction * width) <= 0:
            width *= 2.0
        brackets.append(edge + direction * width)
    mu = brentq(excess, *brackets, xtol=1e-10 * temperature, rtol=4 * np.finfo(float).eps)
    return expit((mu - energies) / temperature), float(mu)


def _ground_state_occupations(energies: np.ndarray, n_electrons: float) -> tuple[np.ndarray, float]:
    """The ``T → 0⁺`` occupations and μ (see :func:`occupations`)."""
    levels = np.sort(energies)
    tolerance = _DEGENERACY_RTOL * max(1.0, levels[-1] - levels[0])
    fermi_level = levels[int(np.ceil(n_electrons - 1e-9)) - 1]
    below = energies < fermi_level - tolerance
    shell = np.abs(energies - fermi_level) <= tolerance
    f = below.astype(np.float64)
    f[shell] = (n_electrons - below.sum()) / shell.sum()
    shell_energy = energies[shell].mean()
    above = energies[energies > fermi_level + tolerance]
    if np.isclose(n_electrons, below.sum() + shell.sum(), rtol=0, atol=1e-9) and above.size:
        return f, float((shell_energy + above.min()) / 2)
    return f, float(shell_energy)


def _neighbour_sum(q: np.ndarray) -> np.ndarray:
    """``Σ_{j ∈ nn(i)} Q_j`` over the last two (periodic) axes, with the bond convention."""
    return sum(np.roll(q, shift, axis=axis) for axis in (-2, -1) for shift in (1, -1))


def _to_float64(q: Any) -> tuple[np.ndarray, Any]:
    """``q`` as a float64 numpy array, and a function giving outputs back in ``q``'s type."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(q, torch.Tensor):
        if not q.dtype.is_floating_point:
            raise TypeError(f"Q must be a real floating-point tensor, got dtype {q.dtype}")
        return q.detach().to("cpu", torch.float64).numpy(), lambda a: torch.as_tensor(
            a, dtype=q.dtype, device=q.device
        )
    array = np.asarray(q)
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise TypeError(f"Q must be a real numeric array, got dtype {array.dtype}")
    return array.astype(np.float64), np.asarray


def ed_solve(q: Any, params: HolsteinParams | None = None) -> EDResult:
    """Exact forces, densities, free energy and chemical potential of lattice configurations.

    Args:
        q: distortions ``Q_i``, shape ``(L1, L2)`` or ``(B, L1, L2)``; a numpy array (or array-like)
            or a torch tensor (results then come back as tensors of its dtype and device; the
            computation is float64 numpy either way).
        params: model parameters (default :class:`HolsteinParams()`).

    Returns:
        An :class:`EDResult`. Cost: one dense ``N × N`` eigendecomposition per configuration.

    Raises:
        ValueError: wrong number of axes, a side shorter than 2, or non-finite entries.
        TypeError: ``q`` is not real-valued, or ``params`` is not a :class:`HolsteinParams`.

    Warns:
        FrustratedLatticeWarning: a lattice side is odd.

    >>> q = 6.0 * (-1.0) ** np.add.outer(np.arange(4), np.arange(4))
    >>> result = ed_solve(q)
    >>> bool(np.all(result.density[q > 0] > 0.95)), abs(float(result.mu)) < 1e-12
    (True, True)
    """
    if params is None:
        params = HolsteinParams()
    if not isinstance(params, HolsteinParams):
        raise TypeError(f"params must be a HolsteinParams, got {type(params).__name__}")
    q, restore = _to_float64(q)
    l1, l2 = lattice_shape(q.shape)
    if not np.all(np.isfinite(q)):
        raise ValueError(f"Q has {int(np.sum(~np.isfinite(q)))} non-finite entries (NaN or inf)")
    batch_shape = q.shape[:-2]
    configs = q.reshape(-1, l1 * l2)
    n_sites = l1 * l2
    hopping = hopping_matrix(l1, l2, params.t)
    density = np.empty_like(configs)
    mu = np.empty(len(configs))
    electronic = np.empty(len(configs))
    n_electrons = params.filling * n_sites
    temperature = params.temperature
    diagonal = np.arange(n_sites)
    chunk = max(1, _CHUNK_BYTES // (8 * n_sites * n_sites))
    for start in range(0, len(configs), chunk):
        block = configs[start : start + chunk]
        h = np.repeat(hopping[None], len(block), axis=0)
        h[:, diagonal, diagonal] = -params.g * block
        energies, vectors = np.linalg.eigh(h)
        f = np.empty_like(energies)
        for b, levels in enumerate(energies):
            f[b], mu[start + b] = occupations(levels, params.filling, temperature)
            if temperature > 0:
                grand = -temperature * np.logaddexp(0.0, (mu[start + b] - levels) / temperature).sum()
                electronic[start + b] = grand + mu[start + b] * n_electrons
            else:
                electronic[start + b] = f[b] @ levels
        density[start : start + chunk] = np.einsum("bim,bim,bm->bi", vectors, vectors, f)
    elastic = 0.5 * params.k * np.sum(configs**2, axis=-1) + 0.5 * params.kappa * np.sum(
        q * _neighbour_sum(q), axis=(-2, -1)
    ).reshape(-1)
    free_energy = electronic + 0.5 * params.g * configs.sum(axis=-1) + elastic
    density = density.reshape(q.shape)
    forces = params.g * (density - 0.5) - params.k * q - params.kappa * _neighbour_sum(q)
    return EDResult(
        forces=restore(forces),
        density=restore(density),
        free_energy=restore(free_energy.reshape(batch_shape)),
        mu=restore(mu.reshape(batch_shape)),
    )


def ed_forces(q: Any, params: HolsteinParams | None = None) -> Any:
    """The forces of :func:`ed_solve` alone: same shape and type as ``q``.

    A force callable for ``latsym.dynamics`` is ``lambda q: ed_forces(q, params)``.

    >>> ed_forces(np.zeros((4, 4))).shape
    (4, 4)
    """
    return ed_solve(q, params).forces
