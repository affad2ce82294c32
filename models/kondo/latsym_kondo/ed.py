"""Exact-diagonalization (ED) effective fields of the Kondo-lattice model with classical spins.

For a configuration ``S`` of classical spins on the periodic ``L1 × L2`` triangular lattice
(latsym's ``triangular()``: ``a1 = (1, 0)``, ``a2 = (-1/2, √3/2)``; the array index ``[x, y]`` is the
site ``x·a1 + y·a2``), the electrons see the ``2N × 2N`` complex Hermitian single-particle matrix

    H = -t Σ_<ij>,s (c†_is c_js + h.c.) - J Σ_i S_i · (c†_i σ c_i)

with on-site blocks ``-J (S^x σ^x + S^y σ^y + S^z σ^z)`` (Pauli ``σ``). Diagonalizing
``H = Σ_m ε_m φ_m φ_m†`` and filling the levels with Fermi–Dirac occupations ``f_m`` at the μ that
holds ``N_e = n N`` electrons (``n``: the filling, electrons per site) gives

    F = Ω(μ) + μ N_e,    Ω(μ) = -T Σ_m ln(1 + exp(-(ε_m - μ)/T)),

the free energy at fixed electron number, and the effective fields (Hellmann–Feynman)

    h_i = -∂F/∂S_i = J ⟨c†_i σ c_i⟩ = J Σ_m f_m φ_m(i)† σ φ_m(i).

Because ``∂Ω/∂μ = -N_e`` at that μ, the dependence of μ on ``S`` drops out of the derivative. ``H``
is linear in ``S``, so ``F`` and ``h`` are defined for vectors of any length; the solver insists on
unit spins unless told otherwise (``unit_tol=None``), since a non-unit spin is usually a bug.

Basis of the single-particle matrix (site-major): row ``2 i + s`` is site ``i`` with spin ``s``
(``s = 0``: up, ``σ^z = +1``; ``s = 1``: down), and ``i = x · L2 + y`` is the C-order flat index
of ``[x, y]`` (latsym's ``PeriodicLattice`` numbering).

Bond convention: each site has the six neighbours ``[x±1, y]``, ``[x, y±1]``, ``[x+1, y+1]``,
``[x-1, y-1]`` (``±a1``, ``±a2``, ``±(a1 + a2)``), read from the nearest-neighbour shell of latsym's
``triangular()`` lattice. On a side of length 2, ``+a`` and ``-a`` reach the same site and that pair
is counted twice (its hopping doubles), which keeps the model the restriction of the infinite lattice
to periodic configurations. Sides shorter than 2 are refused.

Numerics: the occupations and μ are solved stably at every ``T > 0`` (degenerate levels share their
electrons equally, nothing overflows at small T; see :func:`occupations`). Spin arrays are
``(3, L1, L2)`` for one configuration or ``(B, 3, L1, L2)`` for a batch, components first; numpy or
torch (results come back in the input's type, dtype and device; the computation is float64 numpy).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
from typing import Any

import numpy as np

from latsym.electrons import fill_levels
from latsym.lattice import PeriodicLattice, triangular
from latsym_kondo.params import KondoParams

#: Largest tolerated ``| |S_i| - 1 |`` of a spin by default.
UNIT_TOL = 1e-6
# Upper bound on the memory of one stack of matrices handed to eigh, in bytes.
_CHUNK_BYTES = 2**27
#: The Pauli matrices ``σ^x, σ^y, σ^z``, shape ``(3, 2, 2)``, complex128.
PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=np.complex128)
PAULI.flags.writeable = False


@dataclasses.dataclass(frozen=True)
class KondoResult:
    """The outcome of :func:`ed_solve` for a configuration or a batch of them.

    Arrays are numpy float64, or torch tensors of the input's dtype and device when the spins were a
    tensor. ``batch`` is ``()`` for spins ``(3, L1, L2)`` and ``(B,)`` for ``(B, 3, L1, L2)``.

    Attributes:
        field: the effective fields ``h_i = -∂F/∂S_i = J ⟨c†_i σ c_i⟩``, the shape of the spins
            (energy per unit spin).
        free_energy: ``F = Ω(μ) + μ N_e`` of the whole lattice (energy units), shape ``batch``.
        energy: the internal energy ``⟨H⟩ = Σ_m f_m ε_m`` of the whole lattice, shape ``batch``.
        mu: the chemical potential μ, shape ``batch``.
    """

    field: Any
    free_energy: Any
    energy: Any
    mu: Any


@functools.lru_cache(maxsize=16)
def _adjacency(sides: tuple[int, int]) -> np.ndarray:
    """Bond-count matrix of the periodic triangular lattice ``sides`` (read-only, ``(N, N)``)."""
    stencil = triangular().stencil(1.0)
    table = PeriodicLattice(triangular(), sides).neighbour_table(stencil, check=False)
    centre = stencil.shells[0][0]
    neighbours = np.delete(table, centre, axis=1)  # (N, 6): the sites at ±a1, ±a2, ±(a1 + a2)
    adjacency = np.zeros((len(table), len(table)))
    np.add.at(adjacency, (np.repeat(table[:, centre], 6), neighbours.ravel()), 1.0)
    adjacency.flags.writeable = False
    return adjacency


def _check_sides(sides: tuple[int, ...]) -> None:
    if min(sides) < 2:
        raise ValueError(
            f"lattice sides must be at least 2, got {sides[0]} x {sides[1]}; a side of 1 would make a site "
            f"its own neighbour"
        )


def hopping_matrix(l1: int, l2: int, t: float = 1.0) -> np.ndarray:
    """The spin-independent hopping ``-t`` times the bond count between sites, shape ``(N, N)``.

    Sites are numbered ``i = x · l2 + y``; on a side of length 2 a pair is counted twice (see the
    module docstring).

    Raises:
        TypeError: a side is not an integer.
        ValueError: a side is shorter than 2.

    >>> h = hopping_matrix(4, 4)
    >>> sorted(np.flatnonzero(h[0]).tolist())  # [0, 1], [0, 3], [1, 0], [1, 1], [3, 0], [3, 3]
    [1, 3, 4, 5, 12, 15]
    >>> float(hopping_matrix(2, 4)[0, 4])
    -2.0
    """
    sides = (l1, l2)
    if any(isinstance(s, bool) or not isinstance(s, int | np.integer) for s in sides):
        raise TypeError(f"lattice sides must be integers, got {sides!r} (pass the hopping as t=...)")
    sides = (int(l1), int(l2))
    _check_sides(sides)
    return -t * _adjacency(sides)


def _to_float64(spins: Any) -> tuple[np.ndarray, Any]:
    """``spins`` as a float64 numpy array, and a function giving outputs back in the input's type."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(spins, torch.Tensor):
        if not spins.dtype.is_floating_point:
            raise TypeError(f"spins must be a real floating-point tensor, got dtype {spins.dtype}")
        return spins.detach().to("cpu", torch.float64).numpy(), lambda a: torch.as_tensor(
            a, dtype=spins.dtype, device=spins.device
        )
    array = np.asarray(spins)
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise TypeError(f"spins must be a real numeric array, got dtype {array.dtype}")
    return array.astype(np.float64), np.asarray


def check_spins(spins: Any, *, normalise: bool = False, unit_tol: float | None = UNIT_TOL) -> np.ndarray:
    """Validate a spin configuration and return it as a float64 numpy array ``(B, 3, L1, L2)``.

    Args:
        spins: shape ``(3, L1, L2)`` or ``(B, 3, L1, L2)``, components first; numpy or torch.
        normalise: divide every spin by its length first (a zero spin is refused).
        unit_tol: the largest tolerated ``| |S_i| - 1 |``; ``None`` accepts spins of any length
            (``H`` is linear in ``S``, e.g. for finite-difference checks off the unit sphere).

    Raises:
        TypeError: the spins are not real numbers.
        ValueError: the wrong number of axes or of components, a side shorter than 2, non-finite
            entries, a zero spin with ``normalise=True``, or a spin whose length is off by more than
            ``unit_tol`` (the message names the worst site and its length).

    >>> check_spins(np.ones((3, 4, 4)) / np.sqrt(3)).shape
    (1, 3, 4, 4)
    >>> check_spins(np.ones((3, 4, 4)))
    Traceback (most recent call last):
        ...
    ValueError: spins must have unit length: the worst, at site [x, y] = [0, 0], has |S| = 1.73205 ...
    """
    array, _ = _to_float64(spins)
    return _validate(array, normalise, unit_tol)


def _validate(spins: np.ndarray, normalise: bool, unit_tol: float | None) -> np.ndarray:
    if spins.ndim not in (3, 4):
        raise ValueError(
            f"expected spins of shape (3, L1, L2) or (B, 3, L1, L2), components first, got shape "
            f"{tuple(spins.shape)}"
        )
    if spins.shape[-3] != 3:
        hint = ("; move the components to the front, e.g. np.moveaxis(spins, -1, -3)"
                if spins.shape[-1] == 3 else "")
        raise ValueError(
            f"spins need 3 components on axis -3 (shape (3, L1, L2) or (B, 3, L1, L2)), got "
            f"{spins.shape[-3]} in shape {tuple(spins.shape)}{hint}"
        )
    _check_sides(spins.shape[-2:])
    batch = spins.reshape(-1, *spins.shape[-3:])
    bad = ~np.isfinite(batch)
    if bad.any():
        b, a, x, y = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"spins have {int(bad.sum())} non-finite entries (NaN or inf), the first in configuration {b}, "
            f"component {a}, site [x, y] = [{x}, {y}]; ED needs finite spins"
        )
    lengths = np.sqrt(np.einsum("bcxy,bcxy->bxy", batch, batch))
    if normalise:
        if np.any(lengths == 0):
            b, x, y = (int(i) for i in np.argwhere(lengths == 0)[0])
            raise ValueError(
                f"cannot normalise a zero spin: configuration {b}, site [x, y] = [{x}, {y}] has |S| = 0"
            )
        return batch / lengths[:, None]
    if unit_tol is not None:
        deviation = np.abs(lengths - 1)
        worst = np.unravel_index(int(np.argmax(deviation)), deviation.shape)
        if deviation[worst] > unit_tol:
            b, x, y = (int(i) for i in worst)
            where = f"site [x, y] = [{x}, {y}]" + (f" of configuration {b}" if spins.ndim == 4 else "")
            raise ValueError(
                f"spins must have unit length: the worst, at {where}, has |S| = {lengths[worst]:.6g} "
                f"(off by {deviation[worst]:.3g}, tolerance {unit_tol:g}); pass normalise=True to divide "
                f"every spin by its length, or unit_tol=None to accept any length"
            )
    return batch


def _check_params(params: KondoParams | None) -> KondoParams:
    if params is None:
        return KondoParams()
    if not isinstance(params, KondoParams):
        raise TypeError(f"params must be a KondoParams, got {type(params).__name__}")
    return params


def _check_magnitude(batch: np.ndarray, params: KondoParams) -> None:
    """Refuse spins so long that the level energies overflow float64 (only with ``unit_tol=None``)."""
    largest = float(np.max(np.abs(batch), initial=0.0))
    if not math.isfinite(abs(params.J) * largest * 3 + 6 * abs(params.t)):
        raise ValueError(
            f"max |S^a| = {largest:.3g} is too large for ED in float64: the level energies overflow"
        )


def _hamiltonians(batch: np.ndarray, params: KondoParams) -> np.ndarray:
    """The single-particle matrices ``(C, 2N, 2N)`` of validated spins ``(C, 3, L1, L2)``."""
    n_configs, sides = len(batch), batch.shape[-2:]
    n_sites = sides[0] * sides[1]
    h = np.zeros((n_configs, n_sites, 2, n_sites, 2), dtype=np.complex128)
    h[:, :, 0, :, 0] = h[:, :, 1, :, 1] = -params.t * _adjacency(tuple(sides))
    sites = np.arange(n_sites)
    onsite = -params.J * np.einsum("cai,ast->cist", batch.reshape(n_configs, 3, n_sites), PAULI)
    h[:, sites, :, sites, :] = np.moveaxis(onsite, 1, 0)
    return h.reshape(n_configs, 2 * n_sites, 2 * n_sites)


def hamiltonian(spins: Any, params: KondoParams | None = None, *, normalise: bool = False,
                unit_tol: float | None = UNIT_TOL) -> np.ndarray:
    """The single-particle matrix of each configuration: numpy complex128, Hermitian.

    Args:
        spins: ``(3, L1, L2)`` or ``(B, 3, L1, L2)``; see :func:`check_spins` for ``normalise`` and
            ``unit_tol``.
        params: model parameters (default :class:`KondoParams()`).

    Returns:
        Shape ``(2N, 2N)`` or ``(B, 2N, 2N)``, site-major: row ``2 i + s`` is site ``i = x · L2 + y``
        with spin ``s`` (0 up, 1 down). Energy units.

    >>> up = np.zeros((3, 3, 3)); up[2] = 1.0
    >>> H = hamiltonian(up)
    >>> H.shape, H[0, 0].real, H[1, 1].real, H[0, 2].real  # -J for up, +J for down, -t to [0, 1]
    ((18, 18), -2.0, 2.0, -1.0)
    """
    params = _check_params(params)
    array, _ = _to_float64(spins)
    batch = _validate(array, normalise, unit_tol)
    _check_magnitude(batch, params)
    h = _hamiltonians(batch, params)
    return h if array.ndim == 4 else h[0]


def occupations(energies: np.ndarray, n_electrons: float, temperature: float) -> tuple[np.ndarray, float]:
    """Fermi–Dirac occupations of single-particle levels holding ``n_electrons`` electrons.

    Args:
        energies: level energies ``ε_m``, shape ``(M,)``, any order, finite.
        n_electrons: the number of electrons, strictly between 0 and ``M``.
        temperature: ``T > 0``, finite.

    Returns:
        ``(f, mu)``: occupations of shape ``(M,)`` in the order of ``energies``, and μ.

    The filling is :func:`latsym.electrons.fill_levels` (stable at every T; degenerate shells share
    their electrons equally; μ lies mid-gap when the electrons fill whole shells).

    Raises:
        ValueError: ``energies`` is not a finite 1-d array, or ``n_electrons``/``temperature`` is out
            of range.

    >>> f, mu = occupations(np.array([-1.0, -1.0, 1.0, 1.0]), 2, 1e-300)
    >>> f.tolist(), mu
    ([1.0, 1.0, 0.0, 0.0], 0.0)
    >>> f, mu = occupations(np.array([-1.0, 0.0, 0.0, 1.0]), 2, 1e-300)  # a shell of two holds one
    >>> f.tolist()
    [1.0, 0.5, 0.5, 0.0]
    """
    if not (isinstance(temperature, int | float) and math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be positive and finite, got {temperature}")
    filled = fill_levels(energies, n_electrons, float(temperature))
    return filled.occupations, filled.mu


def ed_solve(spins: Any, params: KondoParams | None = None, *, normalise: bool = False,
             unit_tol: float | None = UNIT_TOL) -> KondoResult:
    """Exact effective fields, free energy, energy and chemical potential of spin configurations.

    Args:
        spins: classical spins, shape ``(3, L1, L2)`` or ``(B, 3, L1, L2)``, components first; numpy
            (or array-like) or torch.
        params: model parameters (default :class:`KondoParams()`: ``t = 1, J = 2, n = 0.5,
            T = 0.01``).
        normalise: divide every spin by its length first; the fields are then those of the
            normalised spins.
        unit_tol: the largest tolerated ``| |S_i| - 1 |`` (default :data:`UNIT_TOL`); ``None`` accepts
            any length.

    Returns:
        A :class:`KondoResult`. Cost: one dense complex ``2N × 2N`` eigendecomposition per
        configuration.

    Raises:
        TypeError: the spins are not real numbers, or ``params`` is not a :class:`KondoParams`.
        ValueError: see :func:`check_spins`; also spins so long that the energies overflow.

    >>> tetra = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3)
    >>> x, y = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
    >>> spins = tetra[2 * (x % 2) + y % 2].transpose(2, 0, 1)  # (3, 4, 4)
    >>> result = ed_solve(spins)
    >>> result.field.shape, result.free_energy.shape
    ((3, 4, 4), ())
    >>> bool(np.allclose(np.cross(result.field, spins, axis=0), 0, atol=1e-10))  # h ∥ S: a fixed point
    True
    """
    params = _check_params(params)
    array, restore = _to_float64(spins)
    batch = _validate(array, normalise, unit_tol)
    _check_magnitude(batch, params)
    n_configs, n_sites = len(batch), batch.shape[-2] * batch.shape[-1]
    n_electrons = params.filling * n_sites
    field = np.empty((n_configs, 3, n_sites))
    free_energy, energy, mu = np.empty(n_configs), np.empty(n_configs), np.empty(n_configs)
    chunk = max(1, _CHUNK_BYTES // (16 * (2 * n_sites) ** 2))
    for start in range(0, n_configs, chunk):
        levels, vectors = np.linalg.eigh(_hamiltonians(batch[start : start + chunk], params))
        for b in range(len(levels)):
            filled = fill_levels(levels[b], n_electrons, params.temperature)
            c = start + b
            free_energy[c], energy[c], mu[c] = filled.free_energy(), filled.energy, filled.mu
            field[c] = params.J * _spin_density(vectors[b], filled.occupations)
    batch_shape = array.shape[:-3]
    return KondoResult(
        field=restore(field.reshape(array.shape)),
        free_energy=restore(free_energy.reshape(batch_shape)),
        energy=restore(energy.reshape(batch_shape)),
        mu=restore(mu.reshape(batch_shape)),
    )


def _spin_density(vectors: np.ndarray, f: np.ndarray) -> np.ndarray:
    """``⟨c†_i σ c_i⟩ = Σ_m f_m φ_m(i)† σ φ_m(i)``, shape ``(3, N)``, from eigenvectors ``(2N, 2N)``
    (columns) and occupations ``(2N,)``."""
    up, down = vectors[0::2], vectors[1::2]
    mixed = (up.conj() * down) @ f  # Σ_m f_m u_m* d_m
    polar = (up.real**2 + up.imag**2 - down.real**2 - down.imag**2) @ f
    return np.stack([2 * mixed.real, 2 * mixed.imag, polar])


def effective_field(spins: Any, params: KondoParams | None = None, **options: Any) -> Any:
    """The fields ``h = -∂F/∂S`` of :func:`ed_solve` alone: same shape and type as ``spins``.

    A field callable for spin dynamics is ``lambda s: effective_field(s, params)``.

    >>> effective_field(np.tile([[[0.0]], [[0.0]], [[1.0]]], (1, 4, 4))).shape
    (3, 4, 4)
    """
    return ed_solve(spins, params, **options).field


def free_energy(spins: Any, params: KondoParams | None = None, **options: Any) -> Any:
    """The free energy ``F = Ω(μ) + μ N_e`` of :func:`ed_solve` alone (whole lattice, energy units):
    shape ``()`` or ``(B,)``."""
    return ed_solve(spins, params, **options).free_energy
