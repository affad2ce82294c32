"""Exact-diagonalization (ED) forces of the semiclassical Holstein model.

For a configuration ``Q`` of the lattice distortions on a periodic hypercubic lattice of ``d``
dimensions — the chain (``d = 1``), the square lattice ``L1 × L2`` (``d = 2``, the default) or the
simple cubic lattice ``L1 × L2 × L3`` (``d = 3``) — the electrons see the single-particle matrix
``h = h_hop - g diag(Q)`` with ``h_hop = -t`` on every nearest-neighbour bond. Diagonalizing
``h = Σ_m ε_m φ_m φ_m†`` and filling the levels with Fermi–Dirac occupations
``f_m = 1/(exp((ε_m - μ)/T) + 1)`` at the chemical potential ``μ`` that holds
``N_e = filling · N`` electrons gives the densities ``⟨n_i⟩ = Σ_m f_m |φ_m(i)|²`` and the
Hellmann–Feynman forces

    F_i = -∂F_total/∂Q_i = g (⟨n_i⟩ - 1/2) - k Q_i - κ Σ_{j ∈ nn(i)} Q_j.

``F_total`` is the free energy at fixed particle number plus the elastic energy::

    F_total = F_el + (g/2) Σ_i Q_i + (k/2) Σ_i Q_i² + κ Σ_<ij> Q_i Q_j,
    F_el    = Ω(μ) + μ N_e,   Ω(μ) = -T Σ_m ln(1 + exp(-(ε_m - μ)/T)).

``F_el`` is the Legendre transform of the grand potential at the μ fixed by ``N_e``; because
``∂Ω/∂μ = -N_e`` there, the dependence of μ on Q drops out of the derivative and
``∂F_el/∂Q_i = Σ_m f_m ∂ε_m/∂Q_i = -g ⟨n_i⟩`` exactly. At ``T = 0``, ``F_el = Σ_m f_m ε_m``.

Bond convention: the sums over bonds ``<ij>`` run over the ``d·N`` bonds ``(i, i + ê_a)``, one per
axis ``a`` (in 2D the ``2N`` bonds ``(i, i + x̂)`` and ``(i, i + ŷ)``). On a side of length 2 the
bonds to ``i + ê_a`` and ``i - ê_a`` join the same pair of sites, which is then counted twice (the
hopping and κ double); this keeps the model the restriction of the infinite lattice to periodic
configurations. Sides of length 1 are refused. Odd sides are allowed but frustrate the checkerboard
order ``(-1)^(x_1 + … + x_d)`` (``(π, π)`` in 2D, ``(π, π, π)`` in 3D): a
:class:`FrustratedLatticeWarning` is emitted. The elastic energy is bounded below only for
``k > 2d|κ|`` (its eigenvalues are ``k + 2κ Σ_a cos q_a``); :class:`HolsteinParams` checks the 2D
bound and the solver the bound of its ``d``.

The dimension: a field has shape ``(L1, …, Ld)`` (one configuration) or ``(B, L1, …, Ld)`` (a
batch), so ``(B, L1, L2)`` cannot be told from a 3D configuration by its shape alone. Every function
here therefore takes the lattice dimension as the keyword ``dim`` (default 2, the square lattice);
a 3D caller passes ``dim=3``.

Site ``i`` is the C-order flat index of the array position ``(x_1, …, x_d)``: in 2D ``i = x · L2 + y``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
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
    """A lattice side is odd, so the checkerboard order ``(-1)^(x_1 + … + x_d)`` (``(π, π)`` in 2D)
    cannot close periodically."""


@dataclasses.dataclass(frozen=True)
class EDResult:
    """The outcome of :func:`ed_solve` for a configuration or a batch of them.

    Arrays are numpy float64, or torch tensors of the input's dtype and device when ``Q`` was a
    tensor. ``batch`` is ``()`` for one configuration ``(L1, …, Ld)`` and ``(B,)`` for
    ``(B, L1, …, Ld)``.

    Attributes:
        forces: ``F_i = -∂F_total/∂Q_i``, shape ``batch + (L1, …, Ld)`` (energy per unit Q).
        density: electron densities ``⟨n_i⟩`` in ``[0, 1]``, shape ``batch + (L1, …, Ld)``.
        free_energy: ``F_total`` of each configuration (whole lattice, energy units), shape ``batch``.
        mu: chemical potential of each configuration, shape ``batch``.
    """

    forces: Any
    density: Any
    free_energy: Any
    mu: Any


def lattice_shape(shape: tuple[int, ...], dim: int = 2) -> tuple[int, ...]:
    """Validate the lattice part ``(L1, …, Ld)`` of a field shape ``(L1, …, Ld)`` or ``(B, L1, …, Ld)``.

    Args:
        shape: the shape of a field.
        dim: the lattice dimension ``d`` (2: the square lattice; 3: the simple cubic lattice).

    Returns:
        The ``dim`` lattice sides.

    Raises:
        ValueError: ``dim`` is not a positive integer, the shape has neither ``dim`` nor ``dim + 1``
            axes, or a side is shorter than 2.

    Warns:
        FrustratedLatticeWarning: a side is odd.

    >>> lattice_shape((8, 6, 4))
    (6, 4)
    >>> lattice_shape((8, 6, 4), dim=3)
    (8, 6, 4)
    """
    dim = _check_dim(dim)
    if len(shape) not in (dim, dim + 1):
        axes = ", ".join(f"L{a + 1}" for a in range(dim))
        raise ValueError(
            f"expected a field of shape ({axes}) or (B, {axes}) for a lattice of dimension {dim}, got "
            f"shape {tuple(shape)}; pass dim= to match the field (dim=3 for the simple cubic lattice)"
        )
    sides = tuple(int(s) for s in shape[len(shape) - dim :])
    _check_sides(sides)
    if any(side % 2 for side in sides):
        warnings.warn(
            f"lattice {_size_text(sides)} has an odd side: the checkerboard order (-1)^(x_1 + ... + x_d) "
            f"is frustrated by the periodic boundary; use even sides for CDW physics",
            FrustratedLatticeWarning,
            stacklevel=3,
        )
    return sides


def check_stable(params: HolsteinParams, dim: int = 2) -> int:
    """Check that the elastic energy of ``params`` is bounded below on the ``dim``-dimensional lattice,
    ``k > 2·dim·|κ|`` (:class:`HolsteinParams` itself checks the 2D bound); returns ``dim``.

    Raises:
        ValueError: ``dim`` is not a positive integer, or the bound fails (the message suggests a κ).

    >>> check_stable(HolsteinParams(kappa=0.12), dim=3)
    3
    """
    dim = _check_dim(dim)
    if params.k <= 2 * dim * abs(params.kappa):
        raise ValueError(
            f"the elastic energy is unbounded below on the {dim}-dimensional lattice for k={params.k}, "
            f"kappa={params.kappa}: need k > {2 * dim}|kappa| (e.g. kappa={0.72 / (2 * dim):.3g} keeps "
            f"the 2D value of k - 2d|kappa|)"
        )
    return dim


def _check_dim(dim: int) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
        raise ValueError(f"the lattice dimension dim must be a positive integer (2 or 3), got {dim!r}")
    return int(dim)


def _check_sides(sides: tuple[int, ...]) -> None:
    if min(sides) < 2:
        raise ValueError(f"lattice sides must be at least 2, got {_size_text(sides)}")


def _size_text(sides: tuple[int, ...]) -> str:
    return " x ".join(str(side) for side in sides)


@functools.lru_cache(maxsize=16)
def _adjacency(sides: tuple[int, ...]) -> np.ndarray:
    """Bond-count matrix of the periodic hypercubic lattice ``sides`` (read-only), see the bond
    convention."""
    n_sites = math.prod(sides)
    site_ids = np.arange(n_sites).reshape(sides)
    adjacency = np.zeros((n_sites, n_sites))
    for axis in range(len(sides)):
        np.add.at(adjacency, (site_ids.ravel(), np.roll(site_ids, -1, axis=axis).ravel()), 1.0)
    adjacency += adjacency.T
    adjacency.flags.writeable = False
    return adjacency


def hopping_matrix(*sides: int, t: float = 1.0) -> np.ndarray:
    """The hopping part of ``h``: ``-t`` times the bond count between sites, shape ``(N, N)``.

    Args:
        sides: the lattice sides ``L1, …, Ld`` (two for the square lattice, three for the cubic one).
        t: the hopping.

    ``N = L1 · … · Ld`` and sites are numbered in C order (``i = x · L2 + y`` in 2D). A side of length
    2 counts its two bonds between the same pair of sites twice (see the module docstring).

    Raises:
        ValueError: no side, or a side shorter than 2.
        TypeError: a side is not an integer.

    >>> hopping_matrix(3, 3)[0, [1, 2, 3, 4]]
    array([-1., -1., -1.,  0.])
    >>> float(hopping_matrix(2, 4)[0, 4])
    -2.0
    >>> int((hopping_matrix(4, 4, 4) != 0).sum(axis=1)[0])  # six neighbours on the cubic lattice
    6
    """
    if not sides:
        raise ValueError("hopping_matrix needs the lattice sides, e.g. hopping_matrix(4, 4)")
    if any(isinstance(s, bool) or not isinstance(s, int | np.integer) for s in sides):
        raise TypeError(f"lattice sides must be integers, got {sides!r} (pass the hopping as t=...)")
    sides = tuple(int(s) for s in sides)
    _check_sides(sides)
    return -t * _adjacency(sides)


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


def _neighbour_sum(q: np.ndarray, dim: int) -> np.ndarray:
    """``Σ_{j ∈ nn(i)} Q_j`` over the last ``dim`` (periodic) axes, with the bond convention."""
    return sum(np.roll(q, shift, axis=axis) for axis in range(-dim, 0) for shift in (1, -1))


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


def ed_solve(q: Any, params: HolsteinParams | None = None, *, dim: int = 2) -> EDResult:
    """Exact forces, densities, free energy and chemical potential of lattice configurations.

    Args:
        q: distortions ``Q_i``, shape ``(L1, …, Ld)`` or ``(B, L1, …, Ld)``; a numpy array (or
            array-like) or a torch tensor (results then come back as tensors of its dtype and device;
            the computation is float64 numpy either way).
        params: model parameters (default :class:`HolsteinParams()`).
        dim: the lattice dimension ``d`` (keyword only; default 2, the square lattice; 3 for the simple
            cubic lattice, where ``(B, L1, L2)`` would otherwise read as one configuration).

    Returns:
        An :class:`EDResult`. Cost: one dense ``N × N`` eigendecomposition per configuration.

    Raises:
        ValueError: ``dim`` is not a positive integer, wrong number of axes, a side shorter than 2,
            non-finite entries, or an elastic energy unbounded below in ``dim`` dimensions
            (``k ≤ 2·dim·|κ|``).
        TypeError: ``q`` is not real-valued, or ``params`` is not a :class:`HolsteinParams`.

    Warns:
        FrustratedLatticeWarning: a lattice side is odd.

    >>> q = 6.0 * (-1.0) ** np.add.outer(np.arange(4), np.arange(4))
    >>> result = ed_solve(q)
    >>> bool(np.all(result.density[q > 0] > 0.95)), abs(float(result.mu)) < 1e-12
    (True, True)
    >>> cube = np.zeros((2, 4, 4, 4))  # a batch of two 4 x 4 x 4 configurations
    >>> ed_solve(cube, HolsteinParams(kappa=0.12), dim=3).forces.shape
    (2, 4, 4, 4)
    """
    if params is None:
        params = HolsteinParams()
    if not isinstance(params, HolsteinParams):
        raise TypeError(f"params must be a HolsteinParams, got {type(params).__name__}")
    dim = check_stable(params, dim)
    q, restore = _to_float64(q)
    sides = lattice_shape(q.shape, dim)
    if not np.all(np.isfinite(q)):
        raise ValueError(f"Q has {int(np.sum(~np.isfinite(q)))} non-finite entries (NaN or inf)")
    batch_shape = q.shape[: q.ndim - dim]
    n_sites = math.prod(sides)
    configs = q.reshape(-1, n_sites)
    hopping = -params.t * _adjacency(sides)
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
    neighbours = _neighbour_sum(q, dim)
    lattice_axes = tuple(range(-dim, 0))
    elastic = 0.5 * params.k * np.sum(configs**2, axis=-1) + 0.5 * params.kappa * np.sum(
        q * neighbours, axis=lattice_axes
    ).reshape(-1)
    free_energy = electronic + 0.5 * params.g * configs.sum(axis=-1) + elastic
    density = density.reshape(q.shape)
    forces = params.g * (density - 0.5) - params.k * q - params.kappa * neighbours
    return EDResult(
        forces=restore(forces),
        density=restore(density),
        free_energy=restore(free_energy.reshape(batch_shape)),
        mu=restore(mu.reshape(batch_shape)),
    )


def ed_forces(q: Any, params: HolsteinParams | None = None, *, dim: int = 2) -> Any:
    """The forces of :func:`ed_solve` alone: same shape and type as ``q``.

    A force callable for ``latsym.dynamics`` is ``lambda q: ed_forces(q, params)`` (add ``dim=3``
    on the simple cubic lattice).

    >>> ed_forces(np.zeros((4, 4))).shape
    (4, 4)
    >>> ed_forces(np.zeros((4, 4, 4)), HolsteinParams(kappa=0.12), dim=3).shape
    (4, 4, 4)
    """
    return ed_solve(q, params, dim=dim).forces
