"""Fermi–Dirac filling of single-particle levels at a fixed number of electrons, stable at every ``T > 0``.

With ``s = max(1, ε_max - ε_min)``:

- Sorted levels closer than ``1e-9 s`` to the next form one degenerate shell and are replaced by the
  shell's mean, so a shell is occupied equally at every T: its eigenvalues differ only by rounding,
  and the effective field must not depend on the basis eigh picks inside it. An electron count
  within ``1e-9`` of an integer is that integer.
- ``μ = μ₀ + T y`` with ``μ₀`` the ``T → 0`` chemical potential and ``f_m = expit(y - (ε_m - μ₀)/T)``:
  nothing overflows, and a shell at ``μ₀`` keeps its occupation however small T is.
- ``y`` solves ``ln Σ_{ε ≥ μ₀} f - ln(N_e - n_below + Σ_{ε < μ₀} (1 - f)) = 0``, whose slope stays of
  order one however far the levels lie from μ in units of T (so μ is well defined inside a gap).
- ``T < 1e-11 s`` (every other shell lies ≥ 50 T away): ``y`` takes its ``T → 0⁺`` limit. A partly
  filled Fermi shell of ``d`` levels holding ``n`` electrons gives ``μ₀`` = its energy and
  ``y = ln(n/(d - n))``; a full one gives ``μ₀`` mid-gap and ``y = ln(d_below/d_above)/2``.
- ``T > 1e8 s``: ``f = N_e/M + O(s/T)`` and ``μ = mean(ε) + T logit(N_e/M)`` to ``O(s²/T)``.

The free energy ``F = Ω(μ) + μ N_e`` is summed as
``N_e μ₀ + Σ_{ε<μ} (ε - μ₀) + T [y (N_e - n_<) - Σ_m log1p(exp(-|ε_m - μ|/T))]`` (``n_<`` levels
below μ), which equals ``-T Σ_m ln(1 + e^{-(ε_m - μ)/T}) + μ N_e`` and never forms ``e^{+|ε-μ|/T}``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, log_expit

# Levels closer than this (relative to the spectral spread, at least 1) form one degenerate shell.
_DEGENERACY_RTOL = 1e-9
# Below T = (shell tolerance) / _COLD_RATIO, y takes its T -> 0+ limit (neglected terms < e^-50).
_COLD_RATIO = 100.0
# Electron counts within this of an integer are that integer.
_COUNT_ATOL = 1e-9
# Above T = _HOT_RATIO * spread the occupations are linear in the levels (see the module docstring).
_HOT_RATIO = 1e8
# Absolute tolerance of y = (mu - mu_0)/T: occupations to ~1e-15.
_OFFSET_XTOL = 1e-14


@dataclasses.dataclass(frozen=True)
class Filling:
    """The filled levels of one configuration.

    Attributes:
        occupations: ``f_m`` in ``[0, 1]``, shape ``(M,)``, in the order of the input levels.
        mu: the chemical potential (energy units).
        free_energy: ``F = Ω(μ) + μ N_e`` (energy units).
        energy: the internal energy ``Σ_m f_m ε_m`` (energy units).
    """

    occupations: np.ndarray
    mu: float
    free_energy: float
    energy: float


def fill_levels(energies: np.ndarray, n_electrons: float, temperature: float) -> Filling:
    """Fermi–Dirac filling of the levels ``energies`` (shape ``(M,)``) with ``0 < n_electrons < M``
    electrons at ``temperature > 0``; see the module docstring for the numerics."""
    shells, tolerance = _merge_degenerate_levels(energies)
    n_electrons = _snap_to_integer(n_electrons, energies.size)
    logit_filling = math.log(n_electrons) - math.log(energies.size - n_electrons)
    spread = float(np.ptp(shells))
    if temperature / _HOT_RATIO > spread:
        reference, offset = float(shells.mean()), logit_filling
        distance = shells - reference
        logits = offset - distance / temperature
    else:
        reference, offset = _zero_temperature_level(shells, n_electrons)
        distance = shells - reference
        scaled = distance / temperature
        if temperature >= tolerance / _COLD_RATIO:
            offset = _solve_offset(scaled, distance < 0, n_electrons, logit_filling)
        logits = offset - scaled
    occupations = expit(logits)
    occupied = logits > 0
    excess = n_electrons - np.count_nonzero(occupied)
    entropic = offset * excess - float(np.log1p(np.exp(-np.abs(logits))).sum())
    free_energy = n_electrons * reference + float(distance[occupied].sum()) + temperature * entropic
    energy = float(occupations @ shells)
    return Filling(occupations, reference + temperature * offset, free_energy, energy)


def _merge_degenerate_levels(energies: np.ndarray) -> tuple[np.ndarray, float]:
    """Each level replaced by the mean of its shell, and the shell tolerance."""
    order = np.argsort(energies)
    levels = energies[order]
    tolerance = _DEGENERACY_RTOL * max(1.0, float(levels[-1] - levels[0]))
    shell_ids = np.concatenate([[0], np.cumsum(np.diff(levels) > tolerance)])
    means = np.bincount(shell_ids, levels) / np.bincount(shell_ids)
    shells = np.empty_like(energies)
    shells[order] = means[shell_ids]
    return shells, tolerance


def _snap_to_integer(n_electrons: float, n_levels: int) -> float:
    nearest = round(n_electrons)
    if abs(n_electrons - nearest) <= _COUNT_ATOL and 0 < nearest < n_levels:
        return float(nearest)
    return n_electrons


def _zero_temperature_level(shells: np.ndarray, n_electrons: float) -> tuple[float, float]:
    """``(μ₀, y₀)``: the ``T → 0`` chemical potential and the limit of ``(μ - μ₀)/T``."""
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

    At ``y = min(scaled) + logit`` every ``f ≤ filling`` and at ``max(scaled) + logit`` every
    ``f ≥ filling``: a bracket at any T.
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
