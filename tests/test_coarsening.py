"""latsym.coarsening: the growth-exponent fit against exact power laws, its error bar, bad input."""

import numpy as np
import pytest

from latsym.coarsening import CoarseningFit, fit_coarsening_exponent, format_estimate


def test_an_exact_power_law_is_recovered_with_zero_error():
    t = np.geomspace(1, 1000, 12)
    fit = fit_coarsening_exponent(t, 0.7 * t**0.25, window=(10, 1000))
    assert isinstance(fit, CoarseningFit)
    assert fit.alpha == pytest.approx(0.25, abs=1e-12)
    assert fit.prefactor == pytest.approx(0.7, rel=1e-12)
    assert fit.alpha_err == pytest.approx(0.0, abs=1e-12)


def test_the_error_bar_is_the_standard_error_of_the_slope():
    rng = np.random.default_rng(0)
    t = np.geomspace(1, 100, 40)
    slopes = [fit_coarsening_exponent(t, t**0.5 * np.exp(0.05 * rng.standard_normal(40)))
              for _ in range(400)]
    alphas = np.array([f.alpha for f in slopes])
    assert alphas.mean() == pytest.approx(0.5, abs=3 * alphas.std() / 20)
    assert np.mean([f.alpha_err for f in slopes]) == pytest.approx(alphas.std(), rel=0.15)


def test_format_estimate():
    assert format_estimate(0.0648804, 0.000316) == "0.06488 ± 0.00032"
    assert format_estimate(0.4, 0.05, " +- ") == "0.400 +- 0.050"


@pytest.mark.parametrize(("t", "length", "window", "match"), [
    (np.ones((2, 2)), np.ones((2, 2)), None, "1-d of equal length"),
    (np.arange(1.0, 5.0), np.ones(3), None, "1-d of equal length"),
    (np.arange(1.0, 5.0), np.ones(4), (3.0, 2.0), "t_min < t_max"),
    (np.arange(1.0, 5.0), np.ones(4), (3.0, 4.0), "at least 3 points"),
    (np.arange(1.0, 5.0), np.array([1.0, 2.0, np.inf, 3.0]), None, "narrow the window"),
    (np.arange(0.0, 4.0), np.ones(4), None, "non-positive"),
])
def test_bad_input(t, length, window, match):
    with pytest.raises(ValueError, match=match):
        fit_coarsening_exponent(t, length, window)
