"""Chirality, structure factor, the ordered states, noisy tetrahedral domains and free energies at the
defaults."""

import math

import numpy as np
import pytest
from latsym_kondo import (
    TETRAHEDRON,
    chiral_domains,
    chirality,
    energy_per_site,
    m_point_intensities,
    m_points,
    ordered_state,
    random_spins,
    structure_factor,
)

TETRAHEDRAL_CHIRALITY = 4 / (3 * math.sqrt(3))


def test_tetrahedral_state_has_the_same_chirality_on_every_triangle():
    spins = ordered_state("tetrahedral", 6)
    chi = chirality(spins)
    assert chi.shape == (2, 6, 6)
    assert TETRAHEDRAL_CHIRALITY == pytest.approx(0.7698, abs=1e-4)
    np.testing.assert_allclose(np.abs(chi), TETRAHEDRAL_CHIRALITY, rtol=0, atol=1e-12)
    assert len(np.unique(np.sign(chi))) == 1
    mirrored = TETRAHEDRON[[1, 0, 2, 3]]  # two corners swapped: the other handedness
    x, y = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    other = chirality(mirrored[2 * (x % 2) + y % 2].transpose(2, 0, 1))
    np.testing.assert_allclose(other, -chi, rtol=0, atol=1e-12)


def test_chirality_of_one_triangle_by_hand():
    """Three orthogonal spins on the up triangle at [0, 0] (sites [0,0], [1,0], [1,1]): χ = x·(y × z) = 1;
    on the down triangle at [0, 0] (sites [0,0], [1,1], [0,1]) with [0,1] along y: χ = x·(z × y) = -1."""
    spins = np.zeros((1, 3, 3, 3))
    spins[0, :, :, :] = np.array([0.0, 0.0, 1.0])[:, None, None]
    spins[0, :, 0, 0] = [1, 0, 0]
    spins[0, :, 1, 0] = [0, 1, 0]
    spins[0, :, 0, 1] = [0, 1, 0]
    chi = chirality(spins)
    assert chi.shape == (1, 2, 3, 3)
    assert chi[0, 0, 0, 0] == 1.0 and chi[0, 1, 0, 0] == -1.0


def test_random_spins_have_mean_absolute_chirality_pi_over_eight():
    """E|S1·(S2 × S3)| = E|cos| · E sin θ = (1/2)(π/4) for independent uniform spins."""
    chi = chirality(random_spins((3, 24, 24), seed=0))
    assert abs(np.abs(chi).mean() - math.pi / 8) < 0.03


def test_structure_factor_of_the_tetrahedral_state_peaks_equally_at_the_three_m_points():
    size = 12
    factor = structure_factor(ordered_state("tetrahedral", size))
    assert factor.shape == (size, size)
    assert factor.sum() == pytest.approx(size**2)
    peaks = m_point_intensities(ordered_state("tetrahedral", size))
    np.testing.assert_allclose(peaks, size**2 / 3, rtol=1e-12)
    rest = factor.copy()
    for k in m_points(size):
        rest[k] = 0
    assert np.abs(rest).max() < 1e-12


def test_structure_factor_of_the_stripe_and_the_ferromagnet():
    np.testing.assert_allclose(m_point_intensities(ordered_state("stripe", 6)), [36, 0, 0], atol=1e-12)
    batch = np.stack([ordered_state("ferromagnet", 4), ordered_state("tetrahedral", 4)])
    factor = structure_factor(batch)
    assert factor.shape == (2, 4, 4) and factor[0, 0, 0] == pytest.approx(16) and factor[1, 0, 0] < 1e-12


def test_free_energies_of_the_ordered_states_at_the_defaults():
    """The reference numbers of kondo.md on 12 × 12: the tetrahedral state has F/N = -2.2517 and lies
    below the stripe, 120° and ferromagnetic states."""
    energies = {name: float(energy_per_site(ordered_state(name, 12)))
                for name in ("tetrahedral", "stripe", "120", "ferromagnet")}
    assert abs(energies["tetrahedral"] - (-2.2517)) < 5e-5
    assert energies["tetrahedral"] < energies["stripe"] < energies["120"] < energies["ferromagnet"]


def test_chiral_domains_are_rotated_and_reversed_tetrahedral_states():
    """Without noise every triangle inside a domain has |χ| = 4/(3√3); the two chiralities both occur,
    the spins of one domain are a rotation of the tetrahedron (their Gram matrix is the tetrahedron's),
    and the same seed gives the same spins."""
    signs = set()
    for seed in range(12):
        spins = chiral_domains((12, 12), seed, max_domains=4)
        np.testing.assert_allclose(np.linalg.norm(spins, axis=0), 1, atol=1e-14)
        chi = chirality(spins)
        inside = np.isclose(np.abs(chi), TETRAHEDRAL_CHIRALITY, atol=1e-12)
        assert inside.mean() > 0.4  # walls are thin
        signs |= set(np.sign(chi[inside]).astype(int).tolist())
        single = chiral_domains((6, 6), seed, max_domains=1)
        corners = single[:, :2, :2].reshape(3, 4).T
        np.testing.assert_allclose(corners @ corners.T, TETRAHEDRON @ TETRAHEDRON.T, atol=1e-12)
    assert signs == {-1, 1}
    np.testing.assert_array_equal(chiral_domains((8, 8), 5, noise=0.3), chiral_domains((8, 8), 5, noise=0.3))
    noisy = [np.abs(chirality(chiral_domains((12, 12), s, noise=0.5))).mean() for s in range(6)]
    assert 0.39 < np.mean(noisy) < 0.6  # between random spins and the perfect domains


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: chirality(np.zeros((4, 4))), r"shape \(3, L1, L2\)"),
        (lambda: structure_factor(np.zeros((2, 4, 4))), r"shape \(3, L1, L2\)"),
        (lambda: m_points(5), "even sides"),
        (lambda: m_point_intensities(np.zeros((3, 4, 3))), "even sides"),
        (lambda: ordered_state("120", 4), "divisible by 3"),
        (lambda: ordered_state("skyrmion", 4), "unknown ordered state"),
        (lambda: random_spins((4, 4, 3)), r"shape \(3, L1, L2\)"),
        (lambda: chiral_domains((4, 4, 4)), r"two positive side lengths"),
        (lambda: chiral_domains((4, 4), noise=-0.1), "noise must be a finite number >= 0"),
        (lambda: chiral_domains((4, 4), max_domains=0), "max_domains must be an integer >= 1"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
