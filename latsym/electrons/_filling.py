"""Fermi–Dirac filling of single-particle levels at a fixed number of electrons, stable at every T ≥ 0.

With ``s = max(1, ε_max - ε_min)``:

- Sorted levels closer than ``1e-9 s`` to the next form one degenerate shell and are occupied
  equally at every T: eigenvalues of one shell differ only by rounding, and a density must not
  depend on the basis an eigensolver picks inside it. ``N_e`` within 1e-9 of an integer counts as
  that integer.
- ``μ = μ₀ + T y`` with ``μ₀`` its ``T → 0`` value and ``f_m = expit(y - (ε_m - μ₀)/T)``: nothing
  overflows, and a shell at ``μ₀`` keeps its occupation exactly however small T is.
- ``T < 1e-11 s`` (the shell tolerance over 100: every other shell lies ≥ 50 T away, weight
  ``< e^-50``): ``y`` is its ``T → 0⁺`` limit. Levels below the Fermi shell are full, above it
  empty, and the electrons left over share the Fermi shell equally; ``μ₀`` is the shell energy and
  ``y = ln(n/(d - n))`` for ``n`` electrons in ``d`` levels, or, for a full shell, ``μ₀`` is mid-gap
  and ``y = ln(d_below/d_above)/2``. ``T = 0`` gives exactly this limit.
- ``T > 1e8 · (ε_max - ε_min)``: ``f_m = N_e/M + O(spread/T)`` and ``μ = mean(ε) + T logit(N_e/M)``
  to ``O(spread²/T)``, below what a root solve can resolve.
- In between, ``y`` solves ``Σ_m f_m = N_e`` (``scipy.optimize.brentq`` on a balance in log space
  that keeps a slope of order one near its root, so μ stays well defined inside a gap).

The results are continuous in T across both thresholds; μ is resolved to about ``1e-14 T``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, log_expit

# Levels closer than this (relative to the spectral spread, at least 1) form one degenerate shell.
_DEGENERACY_RTOL = 1e-9
# Below T = (shell tolerance) / _COLD_RATIO the occupations take their T -> 0+ limit: every other
# shell lies at least _COLD_RATIO / 2 temperatures away, so the neglected terms are below e^-50.
_COLD_RATIO = 100.0
# Electron counts within this of an integer are that integer (a full shell).
_COUNT_ATOL = 1e-9
# Above T = _HOT_RATIO * (spectral spread), f = filling + O(spread/T) is linear in the levels and
# mu = mean(levels) + T logit(filling) to O(spread^2/T), below the resolution eps*T of a root solve.
_HOT_RATIO = 1e8
# Absolute tolerance of y = (mu - mu_0)/T, in units of T: occupations to ~1e-15.
_OFFSET_XTOL = 1e-14


@dataclasses.dataclass(frozen=True)
class FilledLevels:
    """Levels filled by :func:`fill_levels`: ``f_m = expit(u_m)``, ``u_m = (μ - ε̃_m)/T =
    offset - (ε̃_m - reference)/T``.

    Attributes:
        shells: the levels ``ε̃_m``, shape ``(M,)`` in the input order, each replaced by the mean of
            its degenerate shell (energy units).
        logits: ``u_m``, shape ``(M,)`` (``±inf`` off the Fermi shell at ``T = 0``).
        reference: an energy ``μ₀`` (the ``T → 0`` chemical potential, or the mean level when T
            dwarfs the spread).
        offset: ``y = (μ - μ₀)/T``.
        n_electrons: the number of electrons ``N_e`` (snapped to an integer within 1e-9).
        temperature: ``T ≥ 0`` (energy units, ``k_B = 1``).
    """

    shells: np.ndarray
    logits: np.ndarray
    reference: float
    offset: float
    n_electrons: float
    temperature: float

    @property
    def occupations(self) -> np.ndarray:
        """``f_m`` in ``[0, 1]``, shape ``(M,)``, in the order of the input levels."""
        return expit(self.logits)

    @property
    def mu(self) -> float:
        """The chemical potential μ (energy units)."""
        with np.errstate(over="ignore"):
            return float(self.reference + self.temperature * self.offset)

    @property
    def energy(self) -> float:
        """The internal energy ``Σ_m f_m ε̃_m`` (energy units)."""
        return float(self.occupations @ self.shells)

    def free_energy(self, exponent: int = 0) -> float:
        """The electronic free energy ``F = Ω(μ) + μ N_e`` in units of ``2**exponent``.

        ``T ln(1 + e^u) = max(μ - ε̃, 0) + T log1p(e^-|u|)`` gives ``F_el = Σ_{u>0} ε̃_m + μ(N_e - n₊)
        - T Σ_m log1p(e^-|u_m|)`` (``n₊`` levels with ``u > 0``): no exponential, no inf - inf, exact
        at ``T = 0`` (``Σ_m f_m ε̃_m``), and the power-of-two units keep every term finite.
        """
        occupied = self.logits > 0
        excess = self.n_electrons - np.count_nonzero(occupied)
        band = np.ldexp(self.shells[occupied], -exponent).sum()
        entropic = self.offset * excess - np.log1p(np.exp(-np.abs(self.logits))).sum()
        return float(
            band
            + np.ldexp(self.reference, -exponent) * excess
            + np.ldexp(self.temperature, -exponent) * entropic
        )


def fill_levels(energies: np.ndarray, n_electrons: float, temperature: float) -> FilledLevels:
    """The Fermi–Dirac filling of single-particle levels with a fixed number of electrons.

    Args:
        energies: level energies ``ε_m``, a non-empty finite array of shape ``(M,)``, any order.
        n_electrons: ``0 < N_e < M`` (not necessarily an integer).
        temperature: ``T ≥ 0``, finite (subnormal values included), in the units of the energies.

    Returns:
        the :class:`FilledLevels`: occupations, μ, energy and free energy. The numerics are those
        of the module :mod:`latsym.electrons._filling` (stable at every T).

    Raises:
        ValueError: ``energies`` is not a non-empty finite 1-d array (or its spread
            overflows float64), or ``n_electrons`` or ``temperature`` is out of range.

    >>> import numpy as np
    >>> filled = fill_levels(np.array([1.0, -1.0, 0.0, 0.0]), 2, 1e-300)  # a degenerate Fermi shell
    >>> filled.occupations, filled.mu
    (array([0. , 1. , 0.5, 0.5]), 0.0)
    """
    energies = _check_levels(energies, n_electrons, temperature)
    shells, tolerance = _merge_degenerate_levels(energies)
    n_electrons = _snap_to_integer(n_electrons, energies.size)
    logit_filling = math.log(n_electrons) - math.log(energies.size - n_electrons)
    if temperature / _HOT_RATIO > np.ptp(shells):
        # f_m = filling + O(spread/T), so μ = mean(ε̃) + T·logit(filling) up to O(spread²/T).
        reference, offset = float(shells.mean()), logit_filling
        return FilledLevels(shells, offset - (shells - reference) / temperature, reference, offset,
                             n_electrons, temperature)
    reference, offset = _zero_temperature_level(shells, n_electrons)
    distance = shells - reference
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        scaled = np.where(distance == 0, 0.0, distance / temperature)
    if temperature >= tolerance / _COLD_RATIO:
        offset = _solve_offset(scaled, distance < 0, n_electrons, logit_filling)
    return FilledLevels(shells, offset - scaled, reference, offset, n_electrons, temperature)


def _merge_degenerate_levels(energies: np.ndarray) -> tuple[np.ndarray, float]:
    """Each level replaced by the mean of its shell (sorted neighbours closer than the tolerance),
    and the tolerance ``_DEGENERACY_RTOL · max(1, spread)``."""
    order = np.argsort(energies)
    levels = energies[order]
    tolerance = _DEGENERACY_RTOL * max(1.0, float(levels[-1] - levels[0]))
    shell_ids = np.concatenate([[0], np.cumsum(np.diff(levels) > tolerance)])
    means = np.bincount(shell_ids, levels) / np.bincount(shell_ids)
    shells = np.empty_like(energies)
    shells[order] = means[shell_ids]
    return shells, tolerance


def _snap_to_integer(n_electrons: float, n_levels: int) -> float:
    """``n_electrons``, rounded when within ``_COUNT_ATOL`` of an integer in ``(0, n_levels)``."""
    nearest = round(n_electrons)
    if abs(n_electrons - nearest) <= _COUNT_ATOL and 0 < nearest < n_levels:
        return float(nearest)
    return n_electrons


def _zero_temperature_level(shells: np.ndarray, n_electrons: float) -> tuple[float, float]:
    """``(μ₀, y₀)``: the ``T → 0`` chemical potential and the limit of ``(μ - μ₀)/T``.

    A partly filled shell of ``d`` levels holding ``n`` electrons: ``μ₀`` is its energy and
    ``y₀ = ln(n/(d - n))``. A full shell: ``μ₀`` is mid-gap and ``y₀ = ln(d_below/d_above)/2``, which
    balances the holes below against the electrons above.
    """
    energies, counts = np.unique(shells, return_counts=True)
    filled = np.cumsum(counts)
    fermi = int(np.searchsorted(filled, n_electrons))
    if filled[fermi] == n_electrons:
        gap_centre = (energies[fermi] + energies[fermi + 1]) / 2
        return float(gap_centre), 0.5 * math.log(counts[fermi] / counts[fermi + 1])
    extra = n_electrons - (filled[fermi] - counts[fermi])
    return float(energies[fermi]), math.log(extra) - math.log(counts[fermi] - extra)


def _solve_offset(scaled: np.ndarray, below: np.ndarray, n_electrons: float, logit_filling: float) -> float:
    """``y`` with ``Σ_m expit(y - scaled_m) = n_electrons``; ``below`` marks the levels under μ₀.

    The balance ``ln Σ_{not below} f - ln(n_e - n_below + Σ_below (1 - f))`` increases with ``y`` and
    keeps a slope of order one near its root however far the levels lie from μ in units of T, so
    μ stays well defined inside a gap. At ``y = min(scaled) + L`` every ``f ≤ filling`` and at
    ``max(scaled) + L`` every ``f ≥ filling`` (``L = logit(filling)``): a bracket at any T.
    """
    rest = n_electrons - np.count_nonzero(below)
    log_rest = math.log(rest) if rest > 0 else -math.inf

    def balance(y: float) -> float:
        logits = y - scaled
        return _log_sum_expit(logits[~below]) - np.logaddexp(log_rest, _log_sum_expit(-logits[below]))

    low, high = float(scaled.min()) + logit_filling, float(scaled.max()) + logit_filling
    if balance(low) >= 0:
        return low
    if balance(high) <= 0:
        return high
    return brentq(balance, low, high, xtol=_OFFSET_XTOL, rtol=4 * np.finfo(float).eps, maxiter=400)


def _log_sum_expit(logits: np.ndarray) -> float:
    """``ln Σ expit(logits)`` without underflow (``-inf`` for no levels); a plain log-sum-exp, since
    scipy's ``logsumexp`` costs more than the rest of the fill on a few hundred levels."""
    if not logits.size:
        return -math.inf
    terms = log_expit(logits)
    largest = float(terms.max())
    return largest + math.log(float(np.exp(terms - largest).sum()))


def _check_levels(energies, n_electrons, temperature) -> np.ndarray:
    """``energies`` as float64, after checking the arguments of :func:`fill_levels`."""
    energies = np.asarray(energies, dtype=np.float64)
    if energies.ndim != 1 or energies.size == 0 or not np.all(np.isfinite(energies)):
        raise ValueError(
            f"energies must be a non-empty 1-d array of finite values, got shape {energies.shape}"
        )
    with np.errstate(over="ignore"):
        if not np.isfinite(np.ptp(energies)):
            raise ValueError("the spread of the energies overflows float64; rescale them")
    for name, value in (("n_electrons", n_electrons), ("temperature", temperature)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not 0 < n_electrons < energies.size:
        raise ValueError(f"n_electrons must lie strictly between 0 and {energies.size} (the number of "
                         f"levels), got {n_electrons}")
    if not 0 <= temperature < math.inf:
        raise ValueError(f"temperature must be >= 0 and finite, got {temperature}")
    return energies


