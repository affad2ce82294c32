"""latsym.electrons.fill_levels: the filling against direct formulas, its limits, and bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latsym.electrons import FilledLevels, fill_levels


def _direct(levels, mu, temperature):
    """Occupations and F = Ω(μ) + μ N_e straight from the Fermi function (fine at moderate T)."""
    x = (levels - mu) / temperature
    f = 1 / (np.exp(x) + 1)
    return f, -temperature * np.log1p(np.exp(-x)).sum() + mu * f.sum()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=2, max_size=12),
       st.floats(0.05, 0.95), st.floats(0.05, 5.0))
def test_the_filling_holds_the_electrons_and_matches_the_fermi_function(levels, fraction, temperature):
    levels = np.array(levels)
    n_electrons = fraction * levels.size
    filled = fill_levels(levels, n_electrons, temperature)
    assert isinstance(filled, FilledLevels)
    assert filled.occupations.sum() == pytest.approx(n_electrons, abs=1e-11)
    shells = filled.shells  # degenerate levels merged: within 1e-9 of the input
    assert np.allclose(shells, levels, atol=1e-8)
    f, free = _direct(shells, filled.mu, temperature)
    assert np.allclose(filled.occupations, f, atol=1e-12)
    assert filled.free_energy() == pytest.approx(free, abs=1e-10)
    assert filled.energy == pytest.approx(float(f @ shells), abs=1e-10)


def test_mu_is_the_derivative_of_the_free_energy_in_the_electron_number():
    levels = np.linspace(-2.0, 2.0, 9) ** 3
    h = 1e-5
    up, down = (fill_levels(levels, 4.3 + s, 0.3).free_energy() for s in (h, -h))
    assert (up - down) / (2 * h) == pytest.approx(fill_levels(levels, 4.3, 0.3).mu, abs=1e-8)


@pytest.mark.parametrize("temperature", [0.0, 5e-324, 1e-300, 1e-16, 1e-12])
def test_a_degenerate_fermi_shell_is_shared_equally_down_to_zero_temperature(temperature):
    filled = fill_levels(np.array([1.0, -1.0, 0.0, 1e-12]), 2, temperature)
    assert np.array_equal(filled.occupations, [0.0, 1.0, 0.5, 0.5])
    assert filled.mu == pytest.approx(0.0, abs=1e-12)
    assert filled.free_energy() == pytest.approx(-1.0, abs=1e-12)


def test_a_full_shell_puts_mu_in_the_gap_and_the_free_energy_is_the_band_energy():
    filled = fill_levels(np.array([-1.0, -1.0, 2.0]), 2, 0.0)
    assert np.array_equal(filled.occupations, [1.0, 1.0, 0.0])
    assert filled.mu == 0.5
    assert filled.free_energy() == filled.energy == -2.0


def test_at_huge_temperatures_every_level_holds_the_filling():
    filled = fill_levels(np.array([-1.0, 0.0, 3.0, 5.0]), 1.0, 1e308)
    assert np.allclose(filled.occupations, 0.25, rtol=0, atol=1e-15)
    assert math.isfinite(filled.mu) or filled.mu == -math.inf


def test_free_energy_in_power_of_two_units():
    filled = fill_levels(np.array([-1.0, 0.5, 2.0]), 1.5, 0.2)
    assert filled.free_energy(3) == pytest.approx(filled.free_energy() / 8, rel=1e-15)


@pytest.mark.parametrize(("energies", "n", "temperature", "error", "match"), [
    (np.zeros((2, 2)), 1, 0.1, ValueError, "1-d"),
    (np.array([]), 1, 0.1, ValueError, "non-empty"),
    (np.array([0.0, np.nan]), 1, 0.1, ValueError, "finite"),
    (np.array([-1e308, 1e308]), 1, 0.1, ValueError, "overflows"),
    (np.array([0.0, 1.0]), 0, 0.1, ValueError, "n_electrons must lie strictly between 0 and 2"),
    (np.array([0.0, 1.0]), 2, 0.1, ValueError, "n_electrons"),
    (np.array([0.0, 1.0]), 1, -0.1, ValueError, "temperature must be >= 0"),
    (np.array([0.0, 1.0]), 1, math.inf, ValueError, "temperature"),
    (np.array([0.0, 1.0]), "1", 0.1, TypeError, "n_electrons must be a real number"),
    (np.array([0.0, 1.0]), 1, True, TypeError, "temperature must be a real number"),
])
def test_bad_input(energies, n, temperature, error, match):
    with pytest.raises(error, match=match):
        fill_levels(energies, n, temperature)
