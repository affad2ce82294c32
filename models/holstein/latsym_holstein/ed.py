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

Numerics: every finite ``T ≥ 0`` is handled. Levels within ``1e-9`` of the spectral spread of each
other form one shell and share its electrons equally at every T (so the density does not depend on
the basis eigh picks inside a degenerate shell); below ``T ≈ 1e-11 ×`` spread and above ``1e8 ×``
spread the occupations take their ``T → 0⁺`` and ``T → ∞`` limits, continuously (:func:`occupations`).
``F_el`` is summed as ``Σ_{ε_m<μ} ε_m + μ (N_e - n_<) - T Σ_m log1p(exp(-|ε_m - μ|/T))`` (``n_<``
levels below μ) in power-of-two units, so ``free_energy`` is ``±inf``, never NaN, when its value
overflows float64. The rounding of ``numpy.linalg.eigh`` depends on the number of BLAS threads:
record :func:`blas_thread_settings` with results that must be reproduced bitwise.

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
import os
import sys
import warnings
from typing import Any

import numpy as np

from latsym.electrons import fill_levels
from latsym_holstein.params import HolsteinParams

#: The environment variables that set the number of BLAS/LAPACK threads when numpy loads its library.
BLAS_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
# Their values at import (numpy, imported above, has loaded BLAS by now).
_BLAS_THREAD_SETTINGS = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
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
            It is summed without intermediate overflow, so it is finite whenever its value fits in
            float64, and ``+inf`` or ``-inf`` (never NaN) when it does not: ``+inf`` once the elastic
            energy passes ~1.8e308 (``|Q| ≳ 1e154``), ``-inf`` once ``-T S`` does (``T ≳ 1e307``
            on small lattices). The forces and densities stay finite in both cases.
        mu: chemical potential of each configuration, shape ``batch``; resolved to about ``1e-14 T``
            (it is ``±inf`` only where ``T · logit(filling)`` overflows).
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
        temperature: ``T ≥ 0``, finite (any float64, subnormal ones included).

    Returns:
        ``(f, mu)``: occupations of shape ``(N,)`` in the order of ``energies``, and μ.

    Raises:
        ValueError: ``energies`` is not a finite 1-d array (or its spread overflows float64), or
            ``filling``/``temperature`` is out of range.

    Stable at every T, degenerate shells occupied equally: the filling is
    :func:`latsym.electrons.fill_levels` (its module describes the numerics).

    >>> f, mu = occupations(np.array([1.0, -1.0, 0.0, 0.0]), 0.5, 0.0)
    >>> f, float(mu)
    (array([0. , 1. , 0.5, 0.5]), 0.0)
    >>> f, mu = occupations(np.array([1.0, -1.0, 0.0, 0.0]), 0.5, 1e-300)
    >>> f, float(mu)
    (array([0. , 1. , 0.5, 0.5]), 0.0)
    """
    energies = np.asarray(energies, dtype=np.float64)  # checked by fill_levels
    if not 0 < filling < 1:
        raise ValueError(f"filling must lie strictly between 0 and 1, got {filling}")
    if not 0 <= temperature < math.inf:
        raise ValueError(f"temperature must be >= 0 and finite, got {temperature}")
    state = fill_levels(energies, filling * energies.size, float(temperature))
    return state.occupations, state.mu


def blas_thread_settings() -> dict[str, str | None]:
    """The BLAS thread settings that ED results depend on, to record with results or checkpoints.

    ``numpy.linalg.eigh`` runs LAPACK on a threaded BLAS whose rounding depends on the number of
    threads: ED results computed with one and with two threads differ by about 1e-15 to 1e-13, so a
    run resumed under another setting is not bitwise identical to an uninterrupted one. The thread
    count is fixed when numpy loads its BLAS library, from the variables of
    :data:`BLAS_THREAD_VARIABLES` (unset: the library's default, usually one thread per core), and
    cannot be changed afterwards without a package such as ``threadpoolctl``, which this plugin does
    not depend on. Set them (e.g. ``OMP_NUM_THREADS=1``) before Python starts to reproduce a run.

    Returns:
        ``{variable: value or None}`` as the environment held them when this module was imported,
        which is what BLAS read unless they were changed between importing numpy and this module.

    >>> sorted(blas_thread_settings()) == sorted(BLAS_THREAD_VARIABLES)
    True
    """
    return dict(_BLAS_THREAD_SETTINGS)


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
    _check_finite(q)
    _check_magnitude(q, params, dim)
    batch_shape = q.shape[: q.ndim - dim]
    n_sites = math.prod(sides)
    configs = q.reshape(-1, n_sites)
    exponents = _energy_exponents(configs, params, dim)
    density, mu, electronic = _electronic_solve(configs, sides, params, exponents)
    neighbours = _neighbour_sum(q, dim)
    with np.errstate(over="ignore"):
        lattice = _lattice_energy(configs, q.shape, params, dim, exponents)
        free_energy = np.ldexp(electronic + lattice, exponents)
    density = density.reshape(q.shape)
    forces = params.g * (density - 0.5) - params.k * q - params.kappa * neighbours
    return EDResult(
        forces=restore(forces),
        density=restore(density),
        free_energy=restore(free_energy.reshape(batch_shape)),
        mu=restore(mu.reshape(batch_shape)),
    )


def _check_finite(q: np.ndarray) -> None:
    """Refuse NaN and inf distortions, naming how many and where the first is."""
    bad = ~np.isfinite(q)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"Q has {int(bad.sum())} non-finite entries (NaN or inf) among its {q.size} sites, the first "
            f"at index {where}; ED needs finite distortions"
        )


def _check_magnitude(q: np.ndarray, params: HolsteinParams, dim: int) -> None:
    """Refuse distortions so large that the level energies, their spread or the forces overflow."""
    largest = float(np.max(np.abs(q), initial=0.0))
    rate = 2 * abs(params.g) + params.k + 2 * dim * abs(params.kappa)
    if not math.isfinite(largest * rate + 4 * dim * abs(params.t) + abs(params.g)):
        raise ValueError(
            f"max |Q| = {largest:.3g} is too large for ED in float64: the level energies or the forces "
            f"overflow; ED needs finite distortions with max |Q| below {sys.float_info.max / rate:.3g}"
        )


def _energy_exponents(configs: np.ndarray, params: HolsteinParams, dim: int) -> np.ndarray:
    """Even ``e`` per configuration with ``Q_i², T, |ε_m| < 2**e``: the free energy is summed in units
    of ``2**e`` (exact power-of-two scaling), so only the final value can overflow, to ±inf."""
    largest = np.max(np.abs(configs), axis=-1)
    levels = abs(params.g) * largest + 2 * dim * abs(params.t)
    bound = np.maximum(np.maximum(largest, 1.0), np.maximum(np.sqrt(levels), math.sqrt(params.temperature)))
    return 2 * np.frexp(bound)[1]


def _lattice_energy(
    configs: np.ndarray, shape: tuple[int, ...], params: HolsteinParams, dim: int, exponents: np.ndarray
) -> np.ndarray:
    """``(g/2) Σ Q_i + (k/2) Σ Q_i² + κ Σ_<ij> Q_i Q_j`` of each configuration, in units of ``2**e``."""
    scaled = np.ldexp(configs, -(exponents // 2)[:, None])
    bonds = np.sum(scaled * _neighbour_sum(scaled.reshape(shape), dim).reshape(scaled.shape), axis=-1)
    linear = 0.5 * params.g * np.ldexp(configs, -exponents[:, None]).sum(axis=-1)
    return linear + 0.5 * params.k * np.sum(scaled**2, axis=-1) + 0.5 * params.kappa * bonds


def _electronic_solve(
    configs: np.ndarray, sides: tuple[int, ...], params: HolsteinParams, exponents: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Densities ``(C, N)``, μ ``(C,)`` and ``F_el`` in units of ``2**exponents`` ``(C,)`` of the
    configurations ``configs`` ``(C, N)``, diagonalized in stacks of at most ``_CHUNK_BYTES``."""
    n_sites = configs.shape[1]
    hopping = -params.t * _adjacency(sides)
    density = np.empty_like(configs)
    mu = np.empty(len(configs))
    electronic = np.empty(len(configs))
    diagonal = np.arange(n_sites)
    chunk = max(1, _CHUNK_BYTES // (8 * n_sites * n_sites))
    for start in range(0, len(configs), chunk):
        block = configs[start : start + chunk]
        h = np.repeat(hopping[None], len(block), axis=0)
        h[:, diagonal, diagonal] = -params.g * block
        energies, vectors = np.linalg.eigh(h)
        f = np.empty_like(energies)
        for b, levels in enumerate(energies):
            state = fill_levels(levels, params.filling * n_sites, params.temperature)
            f[b], mu[start + b] = state.occupations, state.mu
            electronic[start + b] = state.free_energy(int(exponents[start + b]))
        # Clipped: Σ_m f_m |φ_m(i)|² can exceed 1 (or fall below 0) by rounding.
        density[start : start + chunk] = np.clip(np.einsum("bim,bim,bm->bi", vectors, vectors, f), 0, 1)
    return density, mu, electronic


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
