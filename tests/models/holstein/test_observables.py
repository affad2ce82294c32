"""Observables: hand-checkable patterns, independent brute-force sums, invariances, the exponent fit."""

import itertools

import numpy as np
import pytest
from latsym_holstein.ed import FrustratedLatticeWarning
from latsym_holstein.observables import (
    CoarseningFit,
    circular_average,
    correlation,
    domain_size_correlation,
    domain_size_structure_factor,
    fit_coarsening_exponent,
    format_estimate,
    order_parameter,
    order_parameter_field,
    radial_average,
    structure_factor,
    wavevectors,
)


def checkerboard(l1, l2):
    return (-1.0) ** np.add.outer(np.arange(l1), np.arange(l2))


# -- a perfect checkerboard ----------------------------------------------------------------------


def test_perfect_checkerboard_is_one_domain():
    n = 0.5 + 0.3 * checkerboard(6, 8)
    phi = order_parameter_field(n)
    np.testing.assert_allclose(phi, 0.3)
    assert order_parameter(phi) == pytest.approx(0.3)
    assert order_parameter(phi, absolute=True) == pytest.approx(0.3)
    s = structure_factor(n - 0.5)
    expected = np.zeros((6, 8))
    expected[3, 4] = 0.09 * 48  # |Σ 0.3|² / N at (π, π), zero elsewhere
    np.testing.assert_allclose(s, expected, atol=1e-12)
    np.testing.assert_allclose(correlation(phi), 0.09)
    assert domain_size_structure_factor(s) > 1e12  # inf up to the FFT's rounding (~1e-32 off the peak)
    assert domain_size_correlation(correlation(phi)) == np.inf


def test_distortion_field_and_sign_convention():
    q = np.array([[2.0, -1.0], [-3.0, 0.5]])
    np.testing.assert_array_equal(order_parameter_field(q, field="distortion"), [[2.0, 1.0], [3.0, 0.5]])
    n = np.array([[0.9, 0.1], [0.2, 0.6]])
    np.testing.assert_allclose(order_parameter_field(n), [[0.4, 0.4], [0.3, 0.1]])


def test_two_opposite_domains():
    phi = np.ones((8, 8))
    phi[:, 4:] = -0.5
    assert order_parameter(phi) == pytest.approx(0.25)
    assert order_parameter(phi, absolute=True) == pytest.approx(0.75)
    np.testing.assert_allclose(order_parameter(np.stack([phi, -phi])), [0.25, -0.25])


# -- independent brute-force sums -------------------------------------------------------------------


def test_structure_factor_and_correlation_equal_direct_sums():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5))
    l1, l2 = x.shape
    kx, ky = wavevectors(l1, l2)
    s = structure_factor(x)
    c = correlation(x)
    for m1, m2 in itertools.product(range(l1), range(l2)):
        amplitude = sum(
            x[i, j] * np.exp(1j * (kx[m1, m2] * i + ky[m1, m2] * j))
            for i, j in itertools.product(range(l1), range(l2))
        )
        assert s[m1, m2] == pytest.approx(abs(amplitude) ** 2 / x.size, abs=1e-12)
        sites = itertools.product(range(l1), range(l2))
        direct = np.mean([x[i, j] * x[(i + m1) % l1, (j + m2) % l2] for i, j in sites])
        assert c[m1, m2] == pytest.approx(direct, abs=1e-12)


def test_shell_averages_equal_a_direct_grouping():
    rng = np.random.default_rng(1)
    values = rng.standard_normal((2, 8, 8))
    shells = {}
    for dx, dy in itertools.product(range(8), repeat=2):
        r = np.hypot(min(dx, 8 - dx), min(dy, 8 - dy))
        if r <= 4:
            shells.setdefault(round(r), []).append((r, values[:, dx, dy]))
    r, c_r = radial_average(values)
    assert len(r) == len(shells)
    for index, key in enumerate(sorted(shells)):
        assert r[index] == pytest.approx(np.mean([m[0] for m in shells[key]]))
        np.testing.assert_allclose(c_r[:, index], np.mean([m[1] for m in shells[key]], axis=0))
    q, s_q = circular_average(values)
    assert q[0] == 0 and s_q.shape == (2, len(q))
    np.testing.assert_allclose(s_q[:, 0], values[:, 4, 4])  # the (π, π) point alone
    np.testing.assert_allclose(q[1], (4 * np.pi / 4 + 4 * np.pi / 4 * np.sqrt(2)) / 8)  # |q| = Δq, √2 Δq


# -- patterns of known size ----------------------------------------------------------------------


@pytest.mark.parametrize(("wavelength", "axis"), [(8, 0), (16, 1), (32, 0)])
def test_sinusoidal_modulation_has_structure_factor_size_equal_to_its_wavelength(wavelength, axis):
    x = np.arange(32)
    modulation = np.cos(2 * np.pi * x / wavelength)
    phi = np.outer(modulation, np.ones(32)) if axis == 0 else np.outer(np.ones(32), modulation)
    n = 0.5 + 0.2 * checkerboard(32, 32) * phi
    assert domain_size_structure_factor(structure_factor(n)) == pytest.approx(wavelength, rel=1e-12)


def test_stripe_domains_have_the_half_height_of_their_triangular_correlation():
    # Square-wave stripes of width w: C(dx, dy) = 1 - 2|dx|/w for |dx| <= w, whose circular average
    # 1 - 4r/(πw) (the mean of |cos θ| is 2/π) falls to 1/2 at r = πw/8.
    w = 16
    stripes = np.where((np.arange(64) // w) % 2 == 0, 1.0, -1.0)
    phi = np.outer(stripes, np.ones(64))
    assert domain_size_correlation(correlation(phi)) == pytest.approx(np.pi * w / 8, rel=1e-2)
    assert domain_size_correlation(correlation(np.rot90(phi))) == pytest.approx(np.pi * w / 8, rel=1e-2)


def test_half_height_of_a_synthetic_linear_profile_is_exact():
    r = np.hypot(*np.meshgrid(*2 * [np.minimum(np.arange(20), 20 - np.arange(20))], indexing="ij"))
    profiles = np.stack([2.0 * np.maximum(0.0, 1.0 - r / 5.0), np.maximum(0.0, 1.0 - r / 9.0)])
    np.testing.assert_allclose(domain_size_correlation(profiles), [2.5, 4.5], rtol=1e-12)


def test_zero_field_has_no_domain_size():
    zero = np.zeros((4, 4))
    assert np.isnan(domain_size_correlation(correlation(zero)))
    assert np.isnan(domain_size_structure_factor(structure_factor(zero)))


def test_q_max_restricts_the_first_moment():
    # Two modulations, λ = 8 and λ = 32 with equal weight: q_max between them keeps only the long one.
    x = np.arange(32)[:, None] * np.ones(32)
    phi = np.cos(2 * np.pi * x / 8) + np.cos(2 * np.pi * x / 32)
    s = structure_factor(0.5 + 0.1 * checkerboard(32, 32) * phi)
    assert domain_size_structure_factor(s) == pytest.approx(2 * 2 * np.pi / (2 * np.pi / 8 + 2 * np.pi / 32))
    assert domain_size_structure_factor(s, q_max=0.5) == pytest.approx(32)


# -- invariances -------------------------------------------------------------------------------------


def test_translations_leave_structure_factor_and_correlation_unchanged():
    rng = np.random.default_rng(2)
    phi = rng.standard_normal((3, 8, 6))
    for shift in [(1, 0), (3, 5), (7, 2)]:
        moved = np.roll(phi, shift, axis=(-2, -1))
        np.testing.assert_allclose(structure_factor(moved), structure_factor(phi), atol=1e-12)
        np.testing.assert_allclose(correlation(moved), correlation(phi), atol=1e-12)


def test_rotations_leave_radial_and_circular_averages_unchanged():
    rng = np.random.default_rng(3)
    phi = rng.standard_normal((8, 8))
    for op in [np.rot90, np.transpose, np.fliplr]:
        np.testing.assert_allclose(
            radial_average(correlation(op(phi)))[1], radial_average(correlation(phi))[1]
        )
        np.testing.assert_allclose(
            circular_average(structure_factor(op(phi)))[1], circular_average(structure_factor(phi))[1]
        )


def test_batches_equal_loops():
    phi = np.random.default_rng(4).standard_normal((3, 8, 8))
    c = correlation(phi)
    sizes = domain_size_correlation(c)
    widths = domain_size_structure_factor(structure_factor(phi))
    assert sizes.shape == widths.shape == (3,)
    for b in range(3):
        np.testing.assert_allclose(c[b], correlation(phi[b]))
        assert sizes[b] == pytest.approx(domain_size_correlation(c[b]))
        assert widths[b] == pytest.approx(domain_size_structure_factor(structure_factor(phi[b])))


# -- coarsening-exponent fit --------------------------------------------------------------------------


def test_fit_recovers_a_noisy_power_law_with_its_standard_error():
    rng = np.random.default_rng(5)
    t = np.geomspace(10, 1000, 30)
    alphas, errors = [], []
    for _ in range(400):
        length = 2.0 * t**0.4 * np.exp(0.05 * rng.standard_normal(t.size))
        fit = fit_coarsening_exponent(t, length)
        alphas.append(fit.alpha)
        errors.append(fit.alpha_err)
    assert np.mean(alphas) == pytest.approx(0.4, abs=3 * np.std(alphas) / np.sqrt(400))
    assert np.std(alphas) == pytest.approx(np.mean(errors), rel=0.1)  # the error is the scatter
    slope_cov = np.polyfit(np.log(t), np.log(length), 1, cov=True)[1]
    assert fit.alpha_err == pytest.approx(np.sqrt(slope_cov[0, 0]), rel=1e-10)


def test_fit_uses_only_the_window():
    t = np.arange(1.0, 101.0)
    length = 5.0 * t ** (1 / 3)
    length[:10] = np.nan  # early transient, outside the window
    length[80:] = 1.0  # finite-size saturation, outside the window
    fit = fit_coarsening_exponent(t, length, window=(20, 80))
    assert isinstance(fit, CoarseningFit)
    alpha, alpha_err, prefactor = fit
    assert alpha == pytest.approx(1 / 3, abs=1e-12) and alpha_err < 1e-12 and prefactor == pytest.approx(5.0)


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function", [order_parameter, structure_factor, correlation, radial_average, circular_average]
)
def test_field_functions_refuse_bad_arrays(function):
    with pytest.raises(ValueError, match=r"shape \(L1, L2\) or \(B, L1, L2\)"):
        function(np.zeros(16))
    with pytest.raises(ValueError, match=r"shape \(L1, L2\) or \(B, L1, L2\)"):
        function(np.zeros((2, 2, 4, 4)))
    with pytest.raises(ValueError, match="1 non-finite"):
        function(np.array([[0.0, np.nan], [1.0, 0.0]]))
    with pytest.raises(TypeError, match="real numeric array"):
        function(np.zeros((4, 4), dtype=complex))


def test_order_parameter_field_refuses_unknown_fields_and_warns_on_odd_sides():
    with pytest.raises(ValueError, match=r"field must be one of \('density', 'distortion'\)"):
        order_parameter_field(np.zeros((4, 4)), field="spin")
    with pytest.warns(FrustratedLatticeWarning):
        order_parameter_field(np.zeros((5, 4)))


def test_domain_size_functions_refuse_bad_input():
    with pytest.raises(ValueError, match="q_max must be positive"):
        domain_size_structure_factor(np.ones((4, 4)), q_max=0.0)
    with pytest.raises(ValueError, match="non-finite"):
        domain_size_correlation(np.full((4, 4), np.inf))


@pytest.mark.parametrize(
    ("t", "length", "window", "message"),
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0], None, "equal length"),
        ([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], (3.0, 1.0), "t_min < t_max"),
        ([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], (1.5, 3.5), "at least 3 points"),
        ([1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 3.0, 4.0], None, "non-positive or non-finite"),
        ([0.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], None, "non-positive or non-finite"),
        ([1.0, 2.0, 3.0, 4.0], [1.0, np.inf, 3.0, 4.0], None, "narrow the window"),
    ],
)
def test_fit_refuses_bad_input(t, length, window, message):
    with pytest.raises(ValueError, match=message):
        fit_coarsening_exponent(t, length, window)


# -- the simple cubic lattice (dim=3) -----------------------------------------------------------------


def checkerboard3(l1, l2, l3):
    return (-1.0) ** np.indices((l1, l2, l3)).sum(axis=0)


def test_cubic_checkerboard_is_one_domain_peaked_at_pi_pi_pi():
    n = 0.5 + 0.3 * checkerboard3(4, 6, 4)
    phi = order_parameter_field(n, dim=3)
    np.testing.assert_allclose(phi, 0.3)
    assert order_parameter(phi, dim=3) == pytest.approx(0.3)
    s = structure_factor(n - 0.5, dim=3)
    expected = np.zeros((4, 6, 4))
    expected[2, 3, 2] = 0.09 * 96
    np.testing.assert_allclose(s, expected, atol=1e-12)
    np.testing.assert_allclose(correlation(phi, dim=3), 0.09)
    assert domain_size_correlation(correlation(phi, dim=3), dim=3) == np.inf


def test_cubic_structure_factor_and_correlation_equal_direct_sums():
    x = np.random.default_rng(2).standard_normal((3, 4, 2))
    sides = x.shape
    k = wavevectors(*sides)
    s, c = structure_factor(x, dim=3), correlation(x, dim=3)
    sites = list(itertools.product(*(range(side) for side in sides)))
    for m in sites:
        amplitude = sum(x[r] * np.exp(1j * sum(k[a][m] * r[a] for a in range(3))) for r in sites)
        assert s[m] == pytest.approx(abs(amplitude) ** 2 / x.size, abs=1e-12)
        direct = np.mean([x[r] * x[tuple((r[a] + m[a]) % sides[a] for a in range(3))] for r in sites])
        assert c[m] == pytest.approx(direct, abs=1e-12)


def test_cubic_shell_averages_equal_a_direct_grouping():
    values = np.random.default_rng(3).standard_normal((2, 6, 6, 6))
    shells = {}
    for d in itertools.product(range(6), repeat=3):
        r = np.sqrt(sum(min(a, 6 - a) ** 2 for a in d))
        if r <= 3:
            shells.setdefault(round(r), []).append((r, values[(slice(None), *d)]))
    r, c_r = radial_average(values, dim=3)
    assert len(r) == len(shells)
    for index, key in enumerate(sorted(shells)):
        assert r[index] == pytest.approx(np.mean([m[0] for m in shells[key]]))
        np.testing.assert_allclose(c_r[:, index], np.mean([m[1] for m in shells[key]], axis=0))
    q, s_q = circular_average(values, dim=3)
    np.testing.assert_allclose(s_q[:, 0], values[:, 3, 3, 3])  # (π, π, π) alone
    # the next shell: the 6 face neighbours of the peak (|q| = Δq); 12 edge ones round to 1 as well
    assert q[1] == pytest.approx((6 * 1 + 12 * np.sqrt(2)) / 18 * 2 * np.pi / 6)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_cubic_sinusoidal_modulation_has_structure_factor_size_equal_to_its_wavelength(axis):
    shape = [16, 16, 16]
    modulation = np.cos(2 * np.pi * np.arange(16) / 8).reshape([16 if a == axis else 1 for a in range(3)])
    n = 0.5 + 0.2 * checkerboard3(*shape) * np.broadcast_to(modulation, shape)
    assert domain_size_structure_factor(structure_factor(n, dim=3), dim=3) == pytest.approx(8, rel=1e-12)


def test_cubic_half_height_of_a_synthetic_linear_profile_is_exact():
    steps = np.minimum(np.arange(14), 14 - np.arange(14))
    r = np.sqrt(sum(d**2 for d in np.meshgrid(steps, steps, steps, indexing="ij")))
    assert domain_size_correlation(np.maximum(0.0, 1.0 - r / 5.0), dim=3) == pytest.approx(2.5, rel=1e-12)


def test_cubic_observables_are_invariant_under_translations_and_axis_permutations():
    phi = np.random.default_rng(4).standard_normal((6, 6, 6))
    moved = np.roll(np.transpose(phi, (2, 0, 1)), (1, 3, 2), axis=(0, 1, 2))
    for average, field in ((radial_average, correlation), (circular_average, structure_factor)):
        np.testing.assert_allclose(average(field(moved, dim=3), dim=3)[1],
                                   average(field(phi, dim=3), dim=3)[1])
    assert domain_size_correlation(correlation(moved, dim=3), dim=3) == pytest.approx(
        domain_size_correlation(correlation(phi, dim=3), dim=3))


def test_a_batch_of_cubic_fields_equals_a_loop():
    phi = np.random.default_rng(5).standard_normal((3, 4, 4, 4))
    together = domain_size_structure_factor(structure_factor(phi, dim=3), dim=3)
    np.testing.assert_allclose(together, [domain_size_structure_factor(structure_factor(p, dim=3), dim=3)
                                          for p in phi])
    np.testing.assert_allclose(order_parameter(phi, absolute=True, dim=3), np.abs(phi).mean(axis=(1, 2, 3)))


@pytest.mark.parametrize("dim", [1, 4, 2.0, True, "3"])
def test_observables_refuse_a_bad_dim(dim):
    with pytest.raises(ValueError, match=r"dim must be 2 \(square lattice\) or 3"):
        structure_factor(np.zeros((4, 4, 4)), dim=dim)


def test_cubic_shapes_are_checked_and_named():
    with pytest.raises(ValueError, match=r"shape \(L1, L2, L3\) or \(B, L1, L2, L3\)"):
        correlation(np.zeros((4, 4)), dim=3)
    with pytest.raises(ValueError, match="pass dim=3 for simple cubic fields"):
        correlation(np.zeros((2, 4, 4, 4)))
    with pytest.warns(FrustratedLatticeWarning):
        order_parameter_field(np.zeros((4, 4, 5)), dim=3)


@pytest.mark.parametrize(
    ("value", "error", "text"),
    [(0.0648804, 0.000316, "0.06488 ± 0.00032"), (0.4, 0.05, "0.400 ± 0.050"),
     (0.079, 0.001, "0.0790 ± 0.0010"), (0.5, 0.0, "0.500 ± 0.000"), (1.23456, 0.3, "1.235 ± 0.300")],
)
def test_format_estimate_keeps_two_significant_digits_of_the_error(value, error, text):
    assert format_estimate(value, error) == text
