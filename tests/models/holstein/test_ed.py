"""The exact-diagonalization solver: gradients, symmetries, closed forms and a many-body check."""

import itertools
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from latsym_holstein.ed import (
    EDResult,
    FrustratedLatticeWarning,
    check_stable,
    ed_forces,
    ed_solve,
    hopping_matrix,
    lattice_shape,
    occupations,
)
from latsym_holstein.params import HolsteinParams
from scipy.optimize import brentq


def checkerboard(l1, l2):
    return (-1.0) ** np.add.outer(np.arange(l1), np.arange(l2))


def random_q(rng, shape, scale=2.0):
    return scale * rng.standard_normal(shape)


# -- forces are minus the gradient of the free energy ---------------------------------------------


@pytest.mark.parametrize(
    ("shape", "params", "q_kind"),
    [
        ((4, 4), HolsteinParams(), "random"),
        ((4, 6), HolsteinParams(temperature=0.3, g=2.0), "random"),
        ((2, 4), HolsteinParams(temperature=0.05), "random"),
        ((6, 4), HolsteinParams(temperature=0.01), "cdw"),
        ((4, 4), HolsteinParams(temperature=0.0), "cdw"),
        ((4, 4), HolsteinParams(temperature=1e-3), "random"),
        ((4, 6), HolsteinParams(temperature=1e-12, filling=0.375), "random"),
        ((4, 4), HolsteinParams(temperature=1e-300), "random"),
        ((4, 4), HolsteinParams(filling=0.3, kappa=-0.1), "random"),
    ],
)
def test_forces_are_minus_the_finite_difference_gradient(shape, params, q_kind):
    rng = np.random.default_rng(sum(shape))
    q = random_q(rng, shape, 1.5)
    if q_kind == "cdw":
        q = 2.0 * checkerboard(*shape) + 0.3 * q
    step = 1e-5
    n = q.size
    bumps = step * np.eye(n).reshape(n, *shape)
    plus, minus = ed_solve(q + bumps, params), ed_solve(q - bumps, params)
    gradient = ((plus.free_energy - minus.free_energy) / (2 * step)).reshape(shape)
    forces = ed_forces(q, params)
    np.testing.assert_allclose(forces, -gradient, rtol=0, atol=1e-6 * np.abs(forces).max())


@given(
    l1=st.sampled_from([2, 4, 6]),
    l2=st.sampled_from([2, 4]),
    temperature=st.sampled_from([0.03, 0.2, 1.0]),
    filling=st.sampled_from([0.25, 0.5, 0.75]),
    seed=st.integers(0, 2**16),
)
def test_forces_are_the_free_energy_gradient_for_varied_lattices_and_parameters(
    l1, l2, temperature, filling, seed
):
    params = HolsteinParams(temperature=temperature, filling=filling)
    rng = np.random.default_rng(seed)
    q = random_q(rng, (l1, l2), 1.0)
    direction = rng.standard_normal((l1, l2))
    step = 1e-5
    ends = ed_solve(np.stack([q + step * direction, q - step * direction]), params).free_energy
    slope = (ends[0] - ends[1]) / (2 * step)
    forces = ed_forces(q, params)
    assert -slope == pytest.approx(np.sum(forces * direction), abs=1e-6 * np.abs(forces).sum())


# -- symmetries ---------------------------------------------------------------------------------------

D4_OPERATIONS = [
    lambda a: a,
    lambda a: np.rot90(a, 1, axes=(-2, -1)),
    lambda a: np.rot90(a, 2, axes=(-2, -1)),
    lambda a: np.rot90(a, 3, axes=(-2, -1)),
    lambda a: np.swapaxes(a, -2, -1),
    lambda a: np.rot90(np.swapaxes(a, -2, -1), 2, axes=(-2, -1)),
    lambda a: np.flip(a, -2),
    lambda a: np.flip(a, -1),
]


def test_d4_operations_are_eight_distinct_maps():
    a = np.arange(16.0).reshape(4, 4)
    images = {op(a).tobytes() for op in D4_OPERATIONS}
    assert len(images) == 8


@pytest.mark.parametrize("temperature", [0.1, 0.0])
def test_forces_are_odd_under_q_to_minus_q_at_half_filling(temperature):
    rng = np.random.default_rng(1)
    params = HolsteinParams(temperature=temperature)
    for shape in [(4, 4), (4, 6), (2, 2)]:
        q = random_q(rng, (3, *shape))
        plus, minus = ed_solve(q, params), ed_solve(-q, params)
        np.testing.assert_allclose(minus.forces, -plus.forces, atol=1e-10)
        np.testing.assert_allclose(minus.density, 1 - plus.density, atol=1e-10)
        np.testing.assert_allclose(minus.mu, -plus.mu, atol=1e-10)


def test_forces_are_equivariant_under_d4_and_translations():
    rng = np.random.default_rng(2)
    q = random_q(rng, (2, 6, 6))
    forces = ed_forces(q)
    for op in D4_OPERATIONS:
        np.testing.assert_allclose(ed_forces(op(q)), op(forces), atol=1e-10)
    for shift in [(1, 0), (0, 1), (2, 3), (5, 5)]:
        roll = lambda a, s=shift: np.roll(a, s, axis=(-2, -1))  # noqa: E731
        np.testing.assert_allclose(ed_forces(roll(q)), roll(forces), atol=1e-10)


def test_rectangular_lattice_is_equivariant_under_its_symmetries():
    rng = np.random.default_rng(3)
    q = random_q(rng, (4, 6))
    forces = ed_forces(q)
    for op in [D4_OPERATIONS[2], D4_OPERATIONS[6], D4_OPERATIONS[7], lambda a: np.roll(a, (1, 4), (0, 1))]:
        np.testing.assert_allclose(ed_forces(op(q)), op(forces), atol=1e-10)
    transposed = HolsteinParams()
    np.testing.assert_allclose(ed_forces(q.T, transposed), forces.T, atol=1e-10)


# -- uniform checkerboards: the closed-form two-band spectrum ---------------------------------------


def checkerboard_closed_form(amplitude, shape, params):
    """Sublattice-A density excess and electronic free energy of Q = A(-1)^(x_1+…+x_d), μ = 0.

    h couples the sublattices only: for each k, H_k = [[-gA, ε0(k)], [ε0(k), gA]] with
    ε0(k) = -2t Σ_a cos k_a, levels ±E_k, E_k = sqrt(ε0² + (gA)²); every level appears once
    per pair {k, k + (π, …, π)}, so full-zone sums carry a factor 1/2.
    """
    k = np.meshgrid(*(2 * np.pi * np.arange(side) / side for side in shape), indexing="ij")
    eps0 = -2 * params.t * sum(np.cos(component) for component in k)
    gap = params.g * amplitude
    energy = np.hypot(eps0, gap)
    n_sites = np.prod(shape)
    temperature = params.temperature
    if temperature == 0:
        excess = np.sum(gap / energy) / (2 * n_sites)
        electronic = -0.5 * np.sum(energy)
    else:
        excess = np.sum(gap / energy * np.tanh(energy / (2 * temperature))) / (2 * n_sites)
        electronic = (
            -0.5
            * temperature
            * np.sum(np.logaddexp(0, energy / temperature) + np.logaddexp(0, -energy / temperature))
        )
    return excess, electronic


@pytest.mark.parametrize(
    "params", [HolsteinParams(), HolsteinParams(temperature=0.0), HolsteinParams(g=1.0, temperature=0.5)]
)
@pytest.mark.parametrize("shape", [(4, 4), (6, 8)])
def test_uniform_checkerboard_matches_the_closed_form(params, shape):
    signs = checkerboard(*shape)
    for amplitude in [0.3, 1.0, 6.0]:
        result = ed_solve(amplitude * signs, params)
        excess, electronic = checkerboard_closed_form(amplitude, shape, params)
        np.testing.assert_allclose(result.density, 0.5 + excess * signs, atol=1e-11)
        assert abs(result.mu) < 1e-9
        expected_force = (params.g * excess - (params.k - 4 * params.kappa) * amplitude) * signs
        np.testing.assert_allclose(result.forces, expected_force, atol=1e-10)
        elastic = 0.5 * (params.k - 4 * params.kappa) * amplitude**2 * signs.size
        np.testing.assert_allclose(result.free_energy, electronic + elastic, rtol=1e-12)


def test_perturbed_checkerboard_relaxes_to_the_self_consistent_cdw_amplitude():
    params = HolsteinParams()
    shape = (4, 4)
    stiffness = params.k - 4 * params.kappa

    def residual(amplitude):
        return params.g * checkerboard_closed_form(amplitude, shape, params)[0] - stiffness * amplitude

    amplitude = brentq(residual, 0.1, params.g / stiffness, xtol=1e-14)
    assert amplitude == pytest.approx(params.g / (2 * stiffness), rel=1e-2)  # deep CDW: Q0 ≈ 6.25

    rng = np.random.default_rng(4)
    q = checkerboard(*shape) + 0.3 * rng.standard_normal(shape)
    for _ in range(400):
        forces = ed_forces(q, params)
        if np.abs(forces).max() < 1e-11:
            break
        q = q + 0.5 * forces
    np.testing.assert_allclose(q, amplitude * checkerboard(*shape), atol=1e-9)


# -- occupations against an independent many-body (Fock-space) computation --------------------------


def fock_hamiltonians(h):
    """Many-body matrices of H = Σ_ij h_ij c†_i c_j in each particle-number sector (dict N -> matrix)."""
    n = len(h)
    sectors = {}
    for particles in range(n + 1):
        states = [sum(1 << i for i in occ) for occ in itertools.combinations(range(n), particles)]
        index = {s: a for a, s in enumerate(states)}
        matrix = np.zeros((len(states), len(states)))
        for s in states:
            for i, j in itertools.product(range(n), repeat=2):
                if not (s >> j) & 1 or (i != j and (s >> i) & 1):
                    continue
                strictly_between = ((1 << max(i, j)) - 1) ^ ((1 << (min(i, j) + 1)) - 1)
                between = 0 if i == j else bin(s & strictly_between).count("1")
                target = (s ^ (1 << j)) | (1 << i)
                matrix[index[target], index[s]] += h[i, j] * (-1) ** between
        occupied = np.array([[(s >> i) & 1 for i in range(n)] for s in states], dtype=float).reshape(-1, n)
        sectors[particles] = (matrix, occupied)
    return sectors


def bond_list_matrix(q, params):
    """h from the documented bond list (i, i+x), (i, i+y), independently of hopping_matrix."""
    l1, l2 = q.shape
    h = np.diag(-params.g * q.ravel())
    for x, y in itertools.product(range(l1), range(l2)):
        for j in ((x + 1) % l1 * l2 + y, x * l2 + (y + 1) % l2):
            h[x * l2 + y, j] -= params.t
            h[j, x * l2 + y] -= params.t
    return h


def sector_densities(matrix, occupied, weights_of_energies):
    energies, vectors = np.linalg.eigh(matrix)
    weights = weights_of_energies(energies)
    return weights.sum(), (vectors**2 * weights) @ np.ones(len(weights)) @ occupied


@pytest.mark.parametrize("shape", [(2, 3), (2, 4)])
def test_density_equals_the_grand_canonical_fock_space_average(shape):
    rng = np.random.default_rng(5)
    params = HolsteinParams(temperature=0.4, filling=0.4, g=1.5)
    q = random_q(rng, shape, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrustratedLatticeWarning)
        result = ed_solve(q, params)
    sectors = fock_hamiltonians(bond_list_matrix(q, params))
    beta, mu = 1 / params.temperature, float(result.mu)
    z, numerator = 0.0, 0.0
    for particles, (matrix, occupied) in sectors.items():
        zs, ns = sector_densities(matrix, occupied, lambda e, p=particles: np.exp(-beta * (e - mu * p)))
        z, numerator = z + zs, numerator + ns
    np.testing.assert_allclose(result.density.ravel(), numerator / z, atol=1e-12)
    grand = -np.log(z) / beta
    electronic = float(result.free_energy) - 0.5 * params.g * q.sum() - elastic_energy(q, params)
    assert electronic == pytest.approx(grand + mu * params.filling * q.size, abs=1e-10)


def elastic_energy(q, params):
    l1, l2 = q.shape
    sites = itertools.product(range(l1), range(l2))
    bonds = sum(q[x, y] * (q[(x + 1) % l1, y] + q[x, (y + 1) % l2]) for x, y in sites)
    return 0.5 * params.k * np.sum(q**2) + params.kappa * bonds


def test_ground_state_equals_the_canonical_many_body_ground_state():
    rng = np.random.default_rng(6)
    params = HolsteinParams(temperature=0.0, filling=0.5)
    q = random_q(rng, (2, 4), 1.0)
    result = ed_solve(q, params)
    matrix, occupied = fock_hamiltonians(bond_list_matrix(q, params))[4]
    energies, vectors = np.linalg.eigh(matrix)
    assert energies[1] - energies[0] > 1e-3  # non-degenerate many-body ground state
    np.testing.assert_allclose(result.density.ravel(), vectors[:, 0] ** 2 @ occupied, atol=1e-12)
    electronic = float(result.free_energy) - 0.5 * params.g * q.sum() - elastic_energy(q, params)
    assert electronic == pytest.approx(energies[0], abs=1e-11)


# -- occupations and the chemical potential ----------------------------------------------------------


@pytest.mark.parametrize("temperature", [1e-6, 0.01, 0.1, 10.0, 1e3])
@pytest.mark.parametrize("filling", [0.01, 0.5, 0.93])
def test_occupations_hold_the_requested_number_of_electrons(temperature, filling):
    energies = np.random.default_rng(7).uniform(-30, 30, size=200)
    f, mu = occupations(energies, filling, temperature)
    assert f.sum() == pytest.approx(filling * 200, abs=1e-8)
    assert np.all(np.diff(f[np.argsort(energies)]) <= 0)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(f, 1 / (np.exp((energies - mu) / temperature) + 1), atol=1e-12)


@pytest.mark.parametrize("temperature", [0.0, 1e-8, 0.1, 1e3])
@pytest.mark.parametrize("scale", [0.0, 1e-3, 1e3])
def test_densities_hold_the_electrons_for_extreme_temperatures_and_distortions(temperature, scale):
    q = scale * np.random.default_rng(12).standard_normal((3, 4, 4))
    result = ed_solve(q, HolsteinParams(temperature=temperature, filling=0.375))
    np.testing.assert_allclose(result.density.sum(axis=(-2, -1)), 6.0, atol=1e-9)
    assert np.all((result.density >= 0) & (result.density <= 1))
    assert np.all(np.isfinite(result.forces)) and np.all(np.isfinite(result.free_energy))


def test_zero_temperature_shares_a_degenerate_fermi_shell_equally():
    # Q = 0 on 4x4 at half filling: 5 levels below 0, a 6-fold shell at 0 holding 3 electrons.
    result = ed_solve(np.zeros((4, 4)), HolsteinParams(temperature=0.0))
    np.testing.assert_allclose(result.density, 0.5, atol=1e-12)
    assert abs(float(result.mu)) < 1e-12
    f, mu = occupations(np.array([-1.0, 0.0, 0.0, 2.0, 3.0]), 0.6, 0.0)  # 3 electrons, shell full
    np.testing.assert_array_equal(f, [1, 1, 1, 0, 0])
    assert mu == 1.0
    f, mu = occupations(np.array([-1.0, 0.0, 2.0, 3.0]), 0.3, 0.0)  # 1.2 electrons: fractional level
    np.testing.assert_allclose(f, [1.0, 0.2, 0.0, 0.0])
    assert mu == 0.0


def test_small_temperature_approaches_the_ground_state():
    q = 2.0 * checkerboard(4, 4) + 0.5 * np.random.default_rng(8).standard_normal((4, 4))
    cold, ground = ed_solve(q, HolsteinParams(temperature=1e-3)), ed_solve(q, HolsteinParams(temperature=0))
    np.testing.assert_allclose(cold.forces, ground.forces, atol=1e-12)
    assert cold.free_energy == pytest.approx(ground.free_energy, abs=1e-10)


# -- every temperature: degenerate shells, the T -> 0 and T -> inf limits, continuity ----------------

EXTREME_TEMPERATURES = [0.0, 1e-300, 5e-324, 1e-16, 1e-12, 1e-6, 0.1, 1e3, 1e308]


@pytest.mark.parametrize("temperature", EXTREME_TEMPERATURES)
@pytest.mark.parametrize("shape", [(4, 4), (6, 6)])
def test_degenerate_half_filled_lattice_is_exactly_half_filled_at_every_temperature(temperature, shape):
    # Q = 0 on an even lattice: a degenerate shell of levels at 0 holds half of its electrons at any
    # T, so every density is 1/2 (eigh splits the shell by rounding only).
    result = ed_solve(np.zeros(shape), HolsteinParams(temperature=temperature))
    np.testing.assert_allclose(result.density, 0.5, rtol=0, atol=1e-12)
    assert result.density.sum() == pytest.approx(0.5 * result.density.size, abs=1e-10)
    np.testing.assert_allclose(result.forces, 0.0, atol=1e-11)
    assert abs(float(result.mu)) <= 1e-12 * max(1.0, temperature)
    assert not np.isnan(result.free_energy)


@given(
    temperature=st.one_of(
        st.sampled_from(EXTREME_TEMPERATURES), st.floats(0.0, 1.7e308, allow_subnormal=True)
    ),
    filling=st.sampled_from([0.0625, 0.3, 0.375, 0.5, 0.8125, 0.97]),
    scale=st.sampled_from([0.0, 1e-9, 1.0, 6.0, 1e100]),
    seed=st.integers(0, 2**16),
)
def test_densities_hold_the_electrons_at_every_temperature(temperature, filling, scale, seed):
    q = scale * np.random.default_rng(seed).standard_normal((2, 4, 4))
    result = ed_solve(q, HolsteinParams(temperature=temperature, filling=filling))
    np.testing.assert_allclose(result.density.sum(axis=(-2, -1)), 16 * filling, rtol=0, atol=1e-10)
    assert np.all((result.density >= 0) & (result.density <= 1))
    assert np.all(np.isfinite(result.forces))
    assert not np.any(np.isnan(result.free_energy)) and not np.any(np.isnan(result.mu))


def q_zero_levels():
    """The levels of Q = 0 on 4 x 4 as eigh returns them: shells -4 (1), -2 (4), 0 (6), 2 (4), 4 (1)."""
    return np.linalg.eigvalsh(hopping_matrix(4, 4))


@pytest.mark.parametrize("temperature", [0.0, 5e-324, 1e-300, 1e-12, 1e-6, 1e-2])
def test_low_temperature_mu_follows_the_degeneracies_of_the_fermi_shells(temperature):
    # 5 electrons fill the shells -4 and -2: μ = -1 + (T/2) ln(4/6) (holes below = electrons above);
    # 6 electrons put one in the 6-fold shell at 0: μ = T ln(1/5). Corrections are below e^(-1/T).
    levels = q_zero_levels()
    f, mu = occupations(levels, 5 / 16, temperature)
    assert mu == pytest.approx(-1 + 0.5 * temperature * np.log(4 / 6), abs=1e-15)
    np.testing.assert_allclose(np.sort(f)[::-1][:5], 1.0, atol=1e-15)
    f, mu = occupations(levels, 6 / 16, temperature)
    assert mu == pytest.approx(temperature * np.log(1 / 5), abs=1e-15)
    np.testing.assert_allclose(f[np.abs(levels) < 1], 1 / 6, atol=1e-15)


@pytest.mark.parametrize("filling", [5 / 16, 6 / 16, 0.5, 0.7])
def test_occupations_are_continuous_across_the_low_and_high_temperature_limits(filling):
    """Below T = 1e-11 · spread the occupations take their T -> 0 limit, above 1e8 · spread the
    linear high-T one; on either side of each threshold f, μ and the free energy agree."""
    from latsym.electrons._filling import _COLD_RATIO, _DEGENERACY_RTOL, _HOT_RATIO

    levels = q_zero_levels()
    spread = levels.max() - levels.min()
    for threshold in (_DEGENERACY_RTOL * spread / _COLD_RATIO, _HOT_RATIO * spread):
        # T = threshold (1 + 1e-9 s): two points below the threshold and two above
        steps = threshold * (1 + 1e-9 * np.array([-3.0, -1.0, 1.0, 3.0]))
        solutions = [occupations(levels, filling, t) for t in steps]
        f = np.array([solution[0] for solution in solutions])
        np.testing.assert_allclose(f[1], f[2], rtol=0, atol=1e-14)
        results = [ed_solve(np.zeros((4, 4)), HolsteinParams(temperature=t, filling=filling)) for t in steps]
        np.testing.assert_allclose(results[1].density, results[2].density, rtol=0, atol=1e-14)
        # μ and F change with T: across the threshold they move as much as on either side of it
        mu = np.array([solution[1] for solution in solutions])
        free_energy = np.array([float(r.free_energy) for r in results])
        mu_tolerance, energy_tolerance = 3e-13 * threshold + 1e-15, 1e-12 * abs(free_energy[1])
        for values, tolerance in ((mu, mu_tolerance), (free_energy, energy_tolerance)):
            jumps = np.diff(values)
            assert jumps[1] == pytest.approx(jumps[0], abs=tolerance)
            assert jumps[1] == pytest.approx(jumps[2], abs=tolerance)


def test_high_temperature_occupations_tend_to_the_filling():
    q = 3.0 * np.random.default_rng(16).standard_normal((4, 4))
    for temperature in (1e12, 1e300, 1e308):
        result = ed_solve(q, HolsteinParams(temperature=temperature, filling=0.3))
        np.testing.assert_allclose(result.density, 0.3, rtol=0, atol=1e-10)
        # μ = mean(ε) + T logit(0.3) with mean(ε) = -g mean(Q)
        expected_mu = -3.5 * q.mean() + temperature * np.log(0.3 / 0.7)
        assert float(result.mu) == pytest.approx(expected_mu, rel=1e-14)


# -- free energy: finite while it fits in float64, then +-inf, never NaN ------------------------------


def test_free_energy_is_finite_where_only_intermediate_sums_would_overflow():
    # Q = A(-1)^(x+y) with Σ Q² = 2.4e308 (past float64) but (k - 4κ)/2 Σ Q² = 6.7e307.
    params = HolsteinParams()
    amplitude = np.sqrt(1.5e307)
    signs = checkerboard(4, 4)
    result = ed_solve(amplitude * signs, params)
    excess, electronic = checkerboard_closed_form(amplitude, (4, 4), params)
    elastic = 0.5 * (params.k - 4 * params.kappa) * 16 * amplitude * amplitude
    assert np.isfinite(result.free_energy)
    assert float(result.free_energy) == pytest.approx(electronic + elastic, rel=1e-12)
    np.testing.assert_allclose(result.density, 0.5 + excess * signs, atol=1e-12)


def test_free_energy_at_huge_temperature_is_minus_t_times_the_entropy():
    # T -> inf: f = filling, F_el = -T S with S = -N (p ln p + (1 - p) ln(1 - p)).
    q = np.random.default_rng(17).standard_normal((4, 4))
    for filling in (0.5, 0.25):
        result = ed_solve(q, HolsteinParams(temperature=1e300, filling=filling))
        entropy = -16 * (filling * np.log(filling) + (1 - filling) * np.log(1 - filling))
        assert float(result.free_energy) == pytest.approx(-1e300 * entropy, rel=1e-12)


def test_free_energy_overflows_to_a_signed_inf_never_nan():
    rng = np.random.default_rng(18)
    huge = ed_solve(1e300 * rng.standard_normal((2, 4, 4)))  # elastic energy ~1e600: +inf
    np.testing.assert_array_equal(huge.free_energy, np.inf)
    assert np.all(np.isfinite(huge.forces)) and np.all(np.isfinite(huge.mu))
    hot = ed_solve(np.zeros((4, 4)), HolsteinParams(temperature=1e308))  # -T S = -1.1e309: -inf
    assert hot.free_energy == -np.inf and np.all(np.isfinite(hot.forces))
    # both overflow: the elastic energy (~1e400) outweighs -T S (~1e309)
    both = ed_solve(1e200 * rng.standard_normal((4, 4)), HolsteinParams(temperature=1e308))
    assert both.free_energy == np.inf and np.all(np.isfinite(both.forces))
    torch_result = ed_solve(torch.tensor(1e300 * rng.standard_normal((4, 4))))
    assert torch.isinf(torch_result.free_energy) and torch_result.free_energy > 0


# -- BLAS threads -------------------------------------------------------------------------------------


def test_blas_thread_settings_report_the_environment_at_import():
    import os
    import subprocess
    import sys

    from latsym_holstein.ed import BLAS_THREAD_VARIABLES, blas_thread_settings

    settings = blas_thread_settings()
    assert tuple(settings) == BLAS_THREAD_VARIABLES
    assert all(value is None or isinstance(value, str) for value in settings.values())
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}
    env["OPENBLAS_NUM_THREADS"] = "1"
    script = "from latsym_holstein.ed import blas_thread_settings as s; print(s())"
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "'OPENBLAS_NUM_THREADS': '1'" in output and "'OMP_NUM_THREADS': None" in output


# -- shapes, batching, types --------------------------------------------------------------------------


def test_batch_equals_loop_and_shapes():
    q = random_q(np.random.default_rng(9), (3, 4, 6))
    batch = ed_solve(q)
    assert isinstance(batch, EDResult)
    assert batch.forces.shape == batch.density.shape == (3, 4, 6)
    assert batch.free_energy.shape == batch.mu.shape == (3,)
    for b in range(3):
        single = ed_solve(q[b])
        assert single.free_energy.shape == single.mu.shape == ()
        np.testing.assert_allclose(batch.forces[b], single.forces, atol=1e-12)
        np.testing.assert_allclose(batch.density[b], single.density, atol=1e-12)
        assert batch.free_energy[b] == pytest.approx(single.free_energy, abs=1e-10)
        assert batch.mu[b] == pytest.approx(single.mu, abs=1e-10)


def test_large_batches_are_processed_in_chunks(monkeypatch):
    q = random_q(np.random.default_rng(10), (5, 4, 4))
    whole = ed_solve(q)
    monkeypatch.setattr("latsym_holstein.ed._CHUNK_BYTES", 2 * 8 * 16 * 16)
    np.testing.assert_allclose(ed_solve(q).forces, whole.forces, atol=1e-12)


def test_torch_in_torch_out(dtype):
    q = random_q(np.random.default_rng(11), (2, 4, 4))
    expected = ed_solve(q)
    tensor = torch.tensor(q, dtype=dtype, requires_grad=True)
    result = ed_solve(tensor)
    for name in ("forces", "density", "free_energy", "mu"):
        value = getattr(result, name)
        assert isinstance(value, torch.Tensor) and value.dtype == dtype and value.device == tensor.device
        tolerance = 1e-4 if dtype == torch.float32 else 1e-12
        np.testing.assert_allclose(
            value.numpy(), getattr(ed_solve(tensor.detach().double().numpy()), name), atol=tolerance
        )
    assert ed_forces(tensor).shape == tensor.shape
    np.testing.assert_allclose(ed_forces(torch.tensor(q)).numpy(), expected.forces, atol=1e-12)


def test_hopping_matrix_counts_bonds():
    h = hopping_matrix(4, 4, t=0.5)
    np.testing.assert_array_equal(h, h.T)
    np.testing.assert_array_equal(h.sum(axis=1), -0.5 * 4)
    h2 = hopping_matrix(2, 2)
    np.testing.assert_array_equal(h2, -2 * np.array([[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 0]]))


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(16,), (1, 2, 4, 4)])
def test_wrong_number_of_axes_is_refused(shape):
    with pytest.raises(ValueError, match=r"shape \(L1, L2\) or \(B, L1, L2\)"):
        ed_solve(np.zeros(shape))


def test_short_sides_and_non_finite_values_are_refused():
    with pytest.raises(ValueError, match="sides must be at least 2"):
        ed_solve(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="sides must be at least 2"):
        hopping_matrix(4, 1)
    q = np.zeros((4, 4))
    q[1, 2], q[3, 3] = np.nan, np.inf
    message = r"Q has 2 non-finite entries \(NaN or inf\) among its 16 sites, the first at index \(1, 2\); "
    with pytest.raises(ValueError, match=message + "ED needs finite distortions"):
        ed_solve(q)
    one_bad = r"1 non-finite entries .* among its 32 sites, the first at index \(1, 0, 3\)"
    with pytest.raises(ValueError, match=one_bad):
        ed_solve(torch.tensor(np.where(np.arange(32).reshape(2, 4, 4) == 19, -np.inf, 0.0)))


def test_distortions_whose_energies_overflow_are_refused():
    too_large = r"max \|Q\| = 1e\+308 is too large for ED in float64.*below 2\.\d+e\+307"
    with pytest.raises(ValueError, match=too_large):
        ed_solve(np.full((4, 4), 1e308))
    with pytest.raises(ValueError, match="too large for ED"):
        ed_solve(np.full((4, 4), -3e307))


def test_odd_sides_warn_about_frustration():
    with pytest.warns(FrustratedLatticeWarning, match="3 x 4 has an odd side"):
        forces = ed_forces(np.zeros((3, 4)))
    assert forces.shape == (3, 4)
    with pytest.warns(FrustratedLatticeWarning):
        lattice_shape((2, 4, 5))


@pytest.mark.parametrize(
    ("energies", "filling", "temperature", "message"),
    [
        (np.zeros((2, 2)), 0.5, 0.1, "non-empty 1-d array of finite values"),
        (np.array([]), 0.5, 0.1, "non-empty 1-d array of finite values"),
        (np.array([0.0, np.nan]), 0.5, 0.1, "non-empty 1-d array of finite values"),
        (np.array([0.0, 1.0]), 1.0, 0.1, "filling must lie strictly between 0 and 1"),
        (np.array([0.0, 1.0]), 0.5, -0.1, "temperature must be >= 0"),
        (np.array([0.0, 1.0]), 0.5, np.nan, "temperature must be >= 0"),
        (np.array([0.0, 1.0]), 0.5, np.inf, "temperature must be >= 0 and finite"),
        (np.array([-1e308, 1e308]), 0.5, 0.1, "spread of the energies overflows float64"),
    ],
)
def test_occupations_refuse_bad_input(energies, filling, temperature, message):
    with pytest.raises(ValueError, match=message):
        occupations(energies, filling, temperature)


def test_wrong_types_are_refused():
    with pytest.raises(TypeError, match="real numeric array"):
        ed_solve(np.zeros((4, 4), dtype=complex))
    with pytest.raises(TypeError, match="real numeric array"):
        ed_solve(np.zeros((4, 4), dtype=bool))
    with pytest.raises(TypeError, match="floating-point tensor"):
        ed_solve(torch.zeros(4, 4, dtype=torch.int64))
    with pytest.raises(TypeError, match="params must be a HolsteinParams"):
        ed_solve(np.zeros((4, 4)), {"g": 1.0})


@pytest.mark.parametrize("size", [4, 6])
def test_forces_pass_latsym_equivariance_check(size):
    """The ED force field is equivariant under translations x 4mm x Z2 (Q and F odd scalars), as
    checked by latsym's own testing kit on every element of the 16-element group."""
    from latsym.group import Z2, point_group
    from latsym.lattice import PeriodicLattice, square
    from latsym.testing import assert_equivariant

    report = assert_equivariant(
        lambda q: ed_forces(q, HolsteinParams()),
        "A1:odd",
        "A1:odd",
        group=point_group("4mm", dim=2) * Z2(),
        lattice=PeriodicLattice(square(), (size, size)),
        channel_dim=None,
        backend="numpy",
        translations="all",
    )
    assert len(report.errors) == 16 + size * size - 1


# -- other dimensions: the simple cubic lattice (dim=3) and the chain (dim=1) ------------------------

#: κ with 2·3·κ = 0.72 = 4 × 0.18: the cubic lattice keeps the square lattice's k - 2d|κ|.
CUBIC = HolsteinParams(kappa=0.12)


def staggered(shape):
    """(-1)^(x_1 + … + x_d) on a lattice of ``shape``."""
    return (-1.0) ** np.indices(shape).sum(axis=0)


@pytest.mark.parametrize(
    ("shape", "params"),
    [
        ((4, 4, 4), CUBIC),
        ((2, 4, 6), HolsteinParams(kappa=-0.1, temperature=0.3, g=2.0)),
        ((4, 2, 2), HolsteinParams(kappa=0.1, temperature=0.0)),
    ],
)
def test_cubic_forces_are_minus_the_finite_difference_gradient(shape, params):
    rng = np.random.default_rng(11)
    q = 2.0 * staggered(shape) + random_q(rng, shape, 0.5)
    step = 1e-5
    n = q.size
    bumps = step * np.eye(n).reshape(n, *shape)
    plus, minus = ed_solve(q + bumps, params, dim=3), ed_solve(q - bumps, params, dim=3)
    gradient = ((plus.free_energy - minus.free_energy) / (2 * step)).reshape(shape)
    forces = ed_forces(q, params, dim=3)
    np.testing.assert_allclose(forces, -gradient, rtol=0, atol=1e-6 * np.abs(forces).max())


def test_chain_forces_are_minus_the_finite_difference_gradient():
    q = random_q(np.random.default_rng(12), (10,))
    step = 1e-5
    bumps = step * np.eye(10)
    gradient = (ed_solve(q + bumps, dim=1).free_energy - ed_solve(q - bumps, dim=1).free_energy) / (2 * step)
    forces = ed_forces(q, dim=1)
    np.testing.assert_allclose(forces, -gradient, rtol=0, atol=1e-6 * np.abs(forces).max())


def test_cubic_hopping_is_the_kronecker_sum_of_chains():
    """h_hop of L1 × L2 × L3 = h1 ⊗ 1 ⊗ 1 + 1 ⊗ h2 ⊗ 1 + 1 ⊗ 1 ⊗ h3 with the chains' h_a (C order)."""
    sides = (2, 3, 4)
    chains = [hopping_matrix(side, t=0.7) for side in sides]
    eye = [np.eye(side) for side in sides]
    expected = (
        np.kron(np.kron(chains[0], eye[1]), eye[2])
        + np.kron(np.kron(eye[0], chains[1]), eye[2])
        + np.kron(np.kron(eye[0], eye[1]), chains[2])
    )
    np.testing.assert_array_equal(hopping_matrix(*sides, t=0.7), expected)
    np.testing.assert_array_equal(hopping_matrix(5, t=1.0)[0], [0, -1, 0, 0, -1])


def test_cubic_free_energy_at_q_zero_is_the_tight_binding_band():
    """Q = 0: ⟨n⟩ = 1/2, F = 0, μ = 0 and F_el = -T Σ_k ln(1 + exp(-ε_k/T)), ε_k = -2t Σ_a cos k_a."""
    shape = (4, 6, 4)
    params = HolsteinParams(kappa=0.1, temperature=0.25, t=0.8)
    result = ed_solve(np.zeros(shape), params, dim=3)
    k = np.meshgrid(*(2 * np.pi * np.arange(side) / side for side in shape), indexing="ij")
    band = -2 * params.t * sum(np.cos(component) for component in k)
    expected = -params.temperature * np.sum(np.logaddexp(0.0, -band / params.temperature))
    assert float(result.free_energy) == pytest.approx(expected, rel=1e-12)
    assert abs(float(result.mu)) < 1e-9
    np.testing.assert_allclose(result.density, 0.5, atol=1e-12)
    np.testing.assert_allclose(result.forces, 0.0, atol=1e-12)


@pytest.mark.parametrize("params", [CUBIC, HolsteinParams(kappa=0.12, temperature=0.0)])
def test_cubic_checkerboard_matches_the_closed_form(params):
    shape = (4, 4, 6)
    signs = staggered(shape)
    for amplitude in [0.5, 6.0]:
        result = ed_solve(amplitude * signs, params, dim=3)
        excess, electronic = checkerboard_closed_form(amplitude, shape, params)
        np.testing.assert_allclose(result.density, 0.5 + excess * signs, atol=1e-11)
        expected_force = (params.g * excess - (params.k - 6 * params.kappa) * amplitude) * signs
        np.testing.assert_allclose(result.forces, expected_force, atol=1e-10)
        elastic = 0.5 * (params.k - 6 * params.kappa) * amplitude**2 * signs.size
        np.testing.assert_allclose(result.free_energy, electronic + elastic, rtol=1e-12)


@pytest.mark.parametrize("temperature", [0.1, 0.0])
def test_cubic_forces_are_odd_under_q_to_minus_q(temperature):
    params = HolsteinParams(kappa=0.12, temperature=temperature)
    q = random_q(np.random.default_rng(13), (3, 4, 4, 4))
    plus, minus = ed_solve(q, params, dim=3), ed_solve(-q, params, dim=3)
    np.testing.assert_allclose(minus.forces, -plus.forces, atol=1e-10)
    np.testing.assert_allclose(minus.density, 1 - plus.density, atol=1e-10)


def test_cubic_batch_equals_loop_and_dim_disambiguates_shapes():
    q = random_q(np.random.default_rng(14), (3, 4, 4))
    with pytest.warns(FrustratedLatticeWarning):  # one 3 x 4 x 4 configuration: an odd side
        as_cube = ed_solve(q, CUBIC, dim=3)
    as_batch = ed_solve(q, CUBIC)  # three 4 x 4 configurations
    assert as_cube.free_energy.shape == () and as_batch.free_energy.shape == (3,)
    assert not np.allclose(as_cube.forces, as_batch.forces)
    batch = random_q(np.random.default_rng(15), (2, 4, 2, 4))
    result = ed_solve(batch, CUBIC, dim=3)
    for b in range(2):
        single = ed_solve(batch[b], CUBIC, dim=3)
        np.testing.assert_allclose(result.forces[b], single.forces, atol=1e-12)
        assert result.free_energy[b] == pytest.approx(float(single.free_energy), rel=1e-13)


@pytest.mark.filterwarnings("ignore::latsym_holstein.ed.FrustratedLatticeWarning")
def test_lattice_shape_in_other_dimensions():
    assert lattice_shape((4, 6, 8), dim=3) == (4, 6, 8)
    assert lattice_shape((5, 4, 6, 8), dim=3) == (4, 6, 8)
    assert lattice_shape((5, 4), dim=1) == (4,)
    with pytest.warns(FrustratedLatticeWarning, match="4 x 3 x 4 has an odd side"):
        lattice_shape((4, 3, 4), dim=3)


@pytest.mark.parametrize("size", [4])
def test_cubic_forces_pass_latsym_equivariance_check(size):
    """The ED force field on the simple cubic lattice is equivariant under translations × m-3m × Z2:
    every one of the 96 elements of Oh × Z2 and every translation of the 4 × 4 × 4 lattice."""
    from latsym.group import Z2, point_group
    from latsym.lattice import PeriodicLattice, simple_cubic
    from latsym.testing import assert_equivariant

    group = point_group("m-3m") * Z2()
    assert group.order == 96
    report = assert_equivariant(
        lambda q: ed_forces(q, CUBIC, dim=3),
        "A1g:odd",
        "A1g:odd",
        group=group,
        lattice=PeriodicLattice(simple_cubic(), size),
        channel_dim=None,
        backend="numpy",
        translations="all",
    )
    assert len(report.errors) == 96 + size**3 - 1


def test_cubic_symmetry_check_catches_a_square_lattice_solver():
    """The 2D solver applied plane by plane (no bonds along the first axis) breaks the cubic symmetry."""
    from latsym.group import Z2, point_group
    from latsym.lattice import PeriodicLattice, simple_cubic
    from latsym.testing import assert_equivariant

    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(
            lambda q: ed_forces(q.reshape(-1, 4, 4), CUBIC).reshape(q.shape),
            "A1g:odd",
            "A1g:odd",
            group=point_group("m-3m") * Z2(),
            lattice=PeriodicLattice(simple_cubic(), 4),
            channel_dim=None,
            backend="numpy",
        )


@pytest.mark.parametrize("dim", [0, -1, 2.0, "3", True, None])
def test_bad_dimension_is_refused(dim):
    with pytest.raises(ValueError, match="dimension dim must be a positive integer"):
        ed_solve(np.zeros((4, 4)), dim=dim)
    with pytest.raises(ValueError, match="dimension dim must be a positive integer"):
        lattice_shape((4, 4), dim=dim)


@pytest.mark.parametrize("shape", [(4, 4), (1, 2, 4, 4, 4)])
def test_cubic_shape_with_wrong_axes_is_refused(shape):
    with pytest.raises(ValueError, match=r"shape \(L1, L2, L3\) or \(B, L1, L2, L3\) .* dimension 3"):
        ed_solve(np.zeros(shape), CUBIC, dim=3)


def test_unbounded_elastic_energy_in_three_dimensions_is_refused():
    with pytest.raises(ValueError, match=r"unbounded below on the 3-dimensional .* need k > 6\|kappa\|"):
        ed_forces(np.zeros((4, 4, 4)), HolsteinParams(), dim=3)  # 6 × 0.18 > 1


def test_hopping_matrix_refuses_bad_sides():
    with pytest.raises(ValueError, match="needs the lattice sides"):
        hopping_matrix()
    with pytest.raises(TypeError, match=r"integers, got \(4, 4, 0.5\) \(pass the hopping as t="):
        hopping_matrix(4, 4, 0.5)
    with pytest.raises(ValueError, match="sides must be at least 2, got 4 x 1 x 4"):
        hopping_matrix(4, 1, 4)


def test_check_stable_uses_the_bound_of_the_dimension():
    assert check_stable(HolsteinParams(kappa=0.16), dim=3) == 3
    assert check_stable(HolsteinParams(kappa=-0.16), dim=3) == 3
    assert check_stable(HolsteinParams(), dim=2) == 2
    for kappa in (1 / 6, -0.17):
        with pytest.raises(ValueError, match=r"need k > 6\|kappa\| \(e.g. kappa=0.12 keeps"):
            check_stable(HolsteinParams(kappa=kappa), dim=3)
    with pytest.raises(ValueError, match="dimension dim must be a positive integer"):
        check_stable(HolsteinParams(), dim=0)
