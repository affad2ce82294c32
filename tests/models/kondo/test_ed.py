"""The ED solver: h = -∂F/∂S, known limits, batching, stable filling, and every refusal."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from latsym_kondo import (
    PAULI,
    KondoParams,
    check_spins,
    ed_solve,
    effective_field,
    free_energy,
    hamiltonian,
    hopping_matrix,
    occupations,
    random_spins,
)
from scipy.optimize import brentq
from scipy.special import expit

# ---------------------------------------------------------------------------------------------------
# h = -∂F/∂S


@pytest.mark.parametrize(
    ("size", "params"),
    [
        (4, KondoParams()),
        (6, KondoParams()),
        (6, KondoParams(t=0.8, J=-1.3, filling=1.3, temperature=0.2)),
        (4, KondoParams(filling=1.0, temperature=1e-3)),
    ],
)
def test_field_is_minus_the_gradient_of_the_free_energy(size, params):
    """Central differences of F in every component of every spin (H is linear in S, so the spins may
    leave the sphere); all displaced configurations are solved as one batch."""
    spins = random_spins((3, size, size), seed=size)
    step = 1e-4
    displaced = np.repeat(spins[None], 2 * spins.size, axis=0)
    flat = displaced.reshape(2, spins.size, spins.size)
    flat[0][np.diag_indices(spins.size)] += step
    flat[1][np.diag_indices(spins.size)] -= step
    energies = free_energy(displaced, params, unit_tol=None).reshape(2, spins.size)
    numeric = -(energies[0] - energies[1]) / (2 * step)
    field = effective_field(spins, params)
    assert np.abs(numeric - field.ravel()).max() <= 1e-7
    assert np.abs(field).max() > 0.1  # not a trivial agreement


# ---------------------------------------------------------------------------------------------------
# Known limits


def _band_free_energy(levels: np.ndarray, n_electrons: float, temperature: float) -> tuple[float, float]:
    """F = Ω(μ) + μ N_e of the levels, μ by bisection: an independent reference."""
    mu = brentq(lambda m: expit((m - levels) / temperature).sum() - n_electrons,
                levels.min() - 1, levels.max() + 1, xtol=1e-15, rtol=1e-15)
    omega = -temperature * np.logaddexp(0.0, -(levels - mu) / temperature).sum()
    return omega + mu * n_electrons, mu


def _tight_binding(size: int, t: float) -> np.ndarray:
    """ε(k) = -2t (cos k1 + cos k2 + cos(k1 + k2)) on the size × size grid of k, flattened."""
    k1, k2 = np.meshgrid(*2 * [2 * np.pi * np.arange(size) / size], indexing="ij")
    return (-2 * t * (np.cos(k1) + np.cos(k2) + np.cos(k1 + k2))).ravel()


@pytest.mark.parametrize("size", [4, 6])
def test_zero_coupling_gives_no_field_and_the_free_electron_free_energy(size):
    params = KondoParams(J=0.0, filling=0.7, temperature=0.05)
    result = ed_solve(random_spins((2, 3, size, size), seed=3), params)
    assert np.all(result.field == 0)
    band = _tight_binding(size, params.t)
    expected, mu = _band_free_energy(np.concatenate([band, band]), params.filling * size**2,
                                     params.temperature)
    np.testing.assert_allclose(result.free_energy, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.mu, mu, rtol=0, atol=1e-10)


@pytest.mark.parametrize("params", [KondoParams(), KondoParams(J=-0.7, filling=1.4, temperature=0.3)])
def test_ferromagnet_has_the_spin_split_tight_binding_bands(params):
    size = 6
    direction = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    spins = np.broadcast_to(direction[:, None, None], (3, size, size))
    result = ed_solve(spins, params)
    band = _tight_binding(size, params.t)
    levels = np.concatenate([band - params.J, band + params.J])  # spin along and against S
    expected, mu = _band_free_energy(levels, params.filling * size**2, params.temperature)
    assert abs(float(result.free_energy) - expected) <= 1e-10
    assert abs(float(result.mu) - mu) <= 1e-10
    f = expit((mu - levels) / params.temperature)
    magnetisation = (f[: size**2].sum() - f[size**2 :].sum()) / size**2  # per site, along S
    np.testing.assert_allclose(result.field, params.J * magnetisation * spins, rtol=0, atol=1e-10)


def test_energy_is_the_occupied_level_sum_and_approaches_the_free_energy_at_low_temperature():
    spins = random_spins((3, 4, 4), seed=5)
    params = KondoParams(temperature=0.3)
    levels = np.linalg.eigvalsh(hamiltonian(spins, params))
    f, _ = occupations(levels, params.filling * 16, params.temperature)
    assert abs(float(ed_solve(spins, params).energy) - f @ levels) <= 1e-10
    cold = ed_solve(spins, KondoParams(temperature=1e-6))
    assert abs(float(cold.energy) - float(cold.free_energy)) <= 1e-6


# ---------------------------------------------------------------------------------------------------
# The Hamiltonian, batching, normalising, torch


def test_hamiltonian_is_hermitian_with_the_documented_basis():
    spins = random_spins((3, 3, 4), seed=1)
    h = hamiltonian(spins, KondoParams(t=0.5, J=1.5))
    assert h.shape == (24, 24) and h.dtype == np.complex128
    np.testing.assert_array_equal(h, h.conj().T)
    sx, sy, sz = spins[:, 1, 2]
    site = 1 * 4 + 2
    block = h[2 * site : 2 * site + 2, 2 * site : 2 * site + 2]
    np.testing.assert_allclose(block, -1.5 * np.array([[sz, sx - 1j * sy], [sx + 1j * sy, -sz]]), atol=1e-15)
    np.testing.assert_array_equal(h[0::2, 0::2].real - np.diag(np.diag(h[0::2, 0::2].real)),
                                  hopping_matrix(3, 4, t=0.5))
    assert np.all(h[0::2, 1::2][~np.eye(12, dtype=bool)] == 0)  # no spin flip between sites


def test_pauli_matrices_are_read_only_and_satisfy_the_algebra():
    assert not PAULI.flags.writeable
    np.testing.assert_array_equal(PAULI[0] @ PAULI[1], 1j * PAULI[2])
    for a in range(3):
        np.testing.assert_array_equal(PAULI[a] @ PAULI[a], np.eye(2))


def test_hopping_matrix_has_six_neighbours_per_site_and_doubles_on_sides_of_two():
    h = hopping_matrix(5, 3)
    np.testing.assert_array_equal(h, h.T)
    np.testing.assert_array_equal((h != 0).sum(axis=1), 6)
    np.testing.assert_array_equal(hopping_matrix(2, 2).sum(axis=1), -6.0)


def test_batch_matches_single_configurations():
    spins = random_spins((3, 3, 4, 4), seed=2)
    batch = ed_solve(spins)
    for b in range(3):
        single = ed_solve(spins[b])
        np.testing.assert_allclose(batch.field[b], single.field, rtol=0, atol=1e-12)
        for name in ("free_energy", "energy", "mu"):
            assert abs(getattr(batch, name)[b] - getattr(single, name)) <= 1e-12


def test_normalise_divides_by_the_length():
    spins = random_spins((3, 4, 4), seed=4)
    stretched = spins * np.random.default_rng(0).uniform(0.5, 2.0, (1, 4, 4))
    np.testing.assert_allclose(effective_field(stretched, normalise=True), effective_field(spins), atol=1e-12)


def test_torch_input_comes_back_as_torch():
    torch = pytest.importorskip("torch")
    spins = random_spins((2, 3, 4, 4), seed=6)
    result = ed_solve(torch.tensor(spins, dtype=torch.float32))
    assert isinstance(result.field, torch.Tensor) and result.field.dtype == torch.float32
    assert result.free_energy.shape == (2,)
    np.testing.assert_allclose(result.field.numpy(), effective_field(spins.astype(np.float32)), atol=1e-6)


# ---------------------------------------------------------------------------------------------------
# Filling at fixed electron number


def test_occupations_hold_the_electrons_at_every_temperature():
    levels = np.random.default_rng(0).uniform(-3, 3, 40)
    for temperature in (1e-300, 1e-12, 1e-3, 1.0, 1e3, 1e12, 1e300):
        f, mu = occupations(levels, 13.0, temperature)
        assert np.all((f >= 0) & (f <= 1)) and math.isfinite(mu)
        assert abs(f.sum() - 13.0) <= 1e-9


@given(
    shells=st.lists(st.floats(-5, 5), min_size=2, max_size=12),
    multiplicity=st.lists(st.integers(1, 4), min_size=12, max_size=12),
    fraction=st.floats(0.01, 0.99),
    log_temperature=st.floats(-300, 300),
)
def test_occupations_property(shells, multiplicity, fraction, log_temperature):
    """For any levels (with exact and rounding-level degeneracies), electron count and T in
    [1e-300, 1e300]: the electrons are held, 0 ≤ f ≤ 1, f falls with ε and a shell shares equally."""
    levels = np.repeat(shells, multiplicity[: len(shells)])
    levels = levels * (1 + 1e-15 * (np.arange(levels.size) % 3))  # split shells by rounding only
    n_electrons = fraction * levels.size
    f, mu = occupations(levels, n_electrons, 10.0**log_temperature)
    assert math.isfinite(mu) and np.all((f >= 0) & (f <= 1))
    assert abs(f.sum() - n_electrons) <= 1e-9 * levels.size
    order = np.argsort(levels, kind="stable")
    assert np.all(np.diff(f[order]) <= 1e-12)
    for value in np.unique(np.round(levels, 9)):
        same = np.round(levels, 9) == value
        assert np.ptp(f[same]) <= 1e-12


def test_degenerate_levels_share_their_electrons_and_the_gap_centre_holds_mu_as_t_vanishes():
    levels = np.array([-2.0, -1.0, -1.0 + 1e-14, -1.0, 1.0, 3.0])
    f, mu = occupations(levels, 2.0, 1e-200)
    np.testing.assert_allclose(f, [1, 1 / 3, 1 / 3, 1 / 3, 0, 0], atol=1e-15)
    assert mu == pytest.approx(-1.0)
    f, mu = occupations(levels, 4.0, 1e-200)
    assert mu == pytest.approx(0.0) and f.sum() == pytest.approx(4.0)
    _, mu_cold = occupations(levels, 4.0, 1e-4)
    assert abs(mu_cold - mu) < 1e-3  # continuous as T → 0⁺


def test_ferromagnet_at_a_tiny_temperature_is_finite_and_basis_independent():
    """The tight-binding shells are highly degenerate; a rotated ferromagnet has the same F and h ∥ S."""
    params = KondoParams(temperature=1e-250)
    up = np.zeros((3, 6, 6))
    up[2] = 1.0
    tilted = np.broadcast_to(np.array([0.6, 0.0, 0.8])[:, None, None], (3, 6, 6))
    a, b = ed_solve(up, params), ed_solve(tilted, params)
    assert math.isfinite(float(a.free_energy)) and abs(float(a.free_energy) - float(b.free_energy)) <= 1e-10
    np.testing.assert_allclose(b.field, float(a.field[2, 0, 0]) * tilted, atol=1e-10)


# ---------------------------------------------------------------------------------------------------
# Bad input


def test_spins_that_are_not_unit_vectors_are_refused_naming_the_worst_site():
    spins = random_spins((2, 3, 4, 4), seed=7)
    spins[1, :, 2, 3] *= 1.01
    with pytest.raises(ValueError, match=r"site \[x, y\] = \[2, 3\] of configuration 1, has \|S\| = 1\.01"
                       r".*normalise=True"):
        ed_solve(spins)
    assert np.isfinite(ed_solve(spins, unit_tol=0.02).free_energy).all()


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((4, 4), r"shape \(3, L1, L2\) or \(B, 3, L1, L2\)"),
        ((1, 2, 3, 4, 4), r"shape \(3, L1, L2\) or \(B, 3, L1, L2\)"),
        ((2, 4, 4), "3 components on axis -3"),
        ((4, 4, 3), r"np.moveaxis\(spins, -1, -3\)"),
        ((3, 1, 4), "sides must be at least 2"),
    ],
)
def test_wrong_shapes_are_refused(shape, message):
    with pytest.raises(ValueError, match=message):
        ed_solve(np.ones(shape), unit_tol=None)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_spins_are_refused(bad):
    spins = random_spins((3, 4, 4), seed=8)
    spins[1, 3, 0] = bad
    with pytest.raises(ValueError, match=r"1 non-finite .* component 1, site \[x, y\] = \[3, 0\]"):
        ed_solve(spins)


def test_zero_spin_cannot_be_normalised():
    spins = random_spins((3, 4, 4), seed=9)
    spins[:, 1, 1] = 0
    with pytest.raises(ValueError, match=r"cannot normalise a zero spin: .* \[1, 1\]"):
        ed_solve(spins, normalise=True)


def test_overflowing_spins_are_refused():
    with pytest.raises(ValueError, match="too large for ED"):
        ed_solve(np.full((3, 4, 4), 1e308), unit_tol=None)


@pytest.mark.parametrize("spins", [np.ones((3, 4, 4), dtype=bool), np.ones((3, 4, 4), dtype=complex)])
def test_non_real_spins_are_refused(spins):
    with pytest.raises(TypeError, match="spins must be a real numeric array"):
        check_spins(spins)


def test_integer_tensor_and_wrong_params_are_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="real floating-point tensor"):
        ed_solve(torch.ones(3, 4, 4, dtype=torch.int64))
    with pytest.raises(TypeError, match="params must be a KondoParams"):
        ed_solve(random_spins((3, 4, 4), seed=0), {"J": 2.0})


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((np.zeros((2, 2)), 1, 0.1), ValueError, "1-d array of finite values"),
        ((np.array([0.0, math.nan]), 1, 0.1), ValueError, "1-d array of finite values"),
        ((np.array([-1e308, 1e308]), 1, 0.1), ValueError, "spread"),
        ((np.zeros(4), 4, 0.1), ValueError, "strictly between 0 and 4"),
        ((np.zeros(4), 1, 0.0), ValueError, "positive and finite"),
        ((np.zeros(4), 1, math.inf), ValueError, "positive and finite"),
    ],
)
def test_occupations_refuse_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        occupations(*args)


def test_hopping_matrix_refuses_bad_sides():
    with pytest.raises(TypeError, match="integers"):
        hopping_matrix(4, 4.0)
    with pytest.raises(ValueError, match="at least 2"):
        hopping_matrix(1, 4)
