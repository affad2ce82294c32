"""Coarsening: the growth exponent of a domain size, ``L(t) = a t^α``, fitted in log–log.

Every ordering model's analysis ends here (charge-density-wave domains of the Holstein model,
chirality domains of the Kondo lattice …): :func:`fit_coarsening_exponent` fits the exponent with
its standard error, :func:`format_estimate` prints it. Pure numpy; no torch.

>>> import numpy as np
>>> t = np.array([10.0, 20.0, 40.0, 80.0])
>>> fit = fit_coarsening_exponent(t, 3.0 * t**0.5)
>>> print(format_estimate(fit.alpha, fit.alpha_err))
0.500 ± 0.000
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["CoarseningFit", "fit_coarsening_exponent", "format_estimate"]


class CoarseningFit(NamedTuple):
    """``L(t) = prefactor · t^alpha`` fitted in log–log; ``alpha_err`` is the standard error."""

    alpha: float
    alpha_err: float
    prefactor: float


def format_estimate(value: float, error: float, separator: str = " ± ") -> str:
    """``value`` and its standard ``error`` to the decimal place of the error's second significant
    digit (at least three decimals), e.g. a fitted exponent.

    >>> format_estimate(0.0648804, 0.000316), format_estimate(0.4, 0.05, " +- ")
    ('0.06488 ± 0.00032', '0.400 +- 0.050')
    """
    decimals = 3
    if np.isfinite(error) and error > 0:
        decimals = max(3, 1 - int(np.floor(np.log10(error))))
    return f"{value:.{decimals}f}{separator}{error:.{decimals}f}"


def fit_coarsening_exponent(t: Any, length: Any, window: tuple[float, float] | None = None) -> CoarseningFit:
    """Fit ``L(t) = a t^α`` by least squares on ``(ln t, ln L)`` within ``window``.

    Args:
        t: times, shape ``(n,)``.
        length: domain sizes ``L(t)``, shape ``(n,)``.
        window: ``(t_min, t_max)``, inclusive; ``None`` uses every point. The points inside must be
            positive and finite, and at least 3.

    Returns:
        ``CoarseningFit(alpha, alpha_err, prefactor)``: ``alpha_err = sqrt(s² / Σ (ln t - mean)²)``
        with ``s² = Σ residual² / (n - 2)``, the usual standard error of a least-squares slope.

    >>> t = np.array([10.0, 20.0, 40.0, 80.0])
    >>> fit = fit_coarsening_exponent(t, 3.0 * t**0.5)
    >>> round(fit.alpha, 12), round(fit.alpha_err, 12), round(fit.prefactor, 12)
    (0.5, 0.0, 3.0)
    """
    t = np.asarray(t, dtype=np.float64)
    length = np.asarray(length, dtype=np.float64)
    if t.ndim != 1 or t.shape != length.shape:
        raise ValueError(f"t and length must be 1-d of equal length, got shapes {t.shape} and {length.shape}")
    selected = np.ones(len(t), dtype=bool)
    if window is not None:
        t_min, t_max = window
        if not t_min < t_max:
            raise ValueError(f"window must be (t_min, t_max) with t_min < t_max, got {window}")
        selected = (t >= t_min) & (t <= t_max)
    t, length = t[selected], length[selected]
    if len(t) < 3:
        raise ValueError(f"the fit needs at least 3 points in the window {window}, got {len(t)}")
    bad = ~(np.isfinite(t) & np.isfinite(length) & (t > 0) & (length > 0))
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} point(s) in the window have non-positive or non-finite t or L "
            f"(e.g. t={t[bad][0]}, L={length[bad][0]}); narrow the window"
        )
    log_t, log_l = np.log(t), np.log(length)
    centred = log_t - log_t.mean()
    alpha = centred @ (log_l - log_l.mean()) / (centred @ centred)
    intercept = log_l.mean() - alpha * log_t.mean()
    residuals = log_l - intercept - alpha * log_t
    alpha_err = np.sqrt(residuals @ residuals / (len(t) - 2) / (centred @ centred))
    return CoarseningFit(float(alpha), float(alpha_err), float(np.exp(intercept)))
