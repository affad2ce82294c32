"""F is invariant and h covariant under global spin rotations, time reversal, every element of the
site group 6mm and every lattice translation; the chirality transforms as a pseudoscalar."""

import numpy as np
import pytest
from latsym_kondo import KondoParams, chirality, ed_solve, random_spins
from scipy.spatial.transform import Rotation

from latsym.group import point_group
from latsym.lattice import PeriodicLattice, triangular

SIZE = 6
PARAMS = [KondoParams(), KondoParams(t=1.0, J=-1.1, filling=1.2, temperature=0.1)]
ATOL = 1e-10


def _axis_rotations() -> list[np.ndarray]:
    """A deterministic set: quarter and half turns about the axes, a third turn about (1, 1, 1)."""
    turns = [(axis, angle) for axis in np.eye(3) for angle in (np.pi / 2, np.pi)]
    turns.append((np.ones(3) / np.sqrt(3), 2 * np.pi / 3))
    return [Rotation.from_rotvec(angle * axis).as_matrix() for axis, angle in turns]


ROTATIONS = _axis_rotations() + list(Rotation.random(4, random_state=11).as_matrix())


def _permute(spins: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Move the spin of site i to site perm[i] (site index x · L + y)."""
    flat = spins.reshape(*spins.shape[:-2], -1)
    out = np.empty_like(flat)
    out[..., perm] = flat
    return out.reshape(spins.shape)


@pytest.fixture(scope="module")
def reference():
    spins = random_spins((3, SIZE, SIZE), seed=21)
    return spins, [ed_solve(spins, p) for p in PARAMS]


@pytest.mark.parametrize("which", range(len(PARAMS)))
def test_global_spin_rotations(reference, which):
    spins, results = reference
    rotated = np.stack([np.einsum("ab,bxy->axy", r, spins) for r in ROTATIONS])
    out = ed_solve(rotated, PARAMS[which])
    np.testing.assert_allclose(out.free_energy, results[which].free_energy, rtol=0, atol=ATOL)
    expected = np.stack([np.einsum("ab,bxy->axy", r, results[which].field) for r in ROTATIONS])
    np.testing.assert_allclose(out.field, expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("which", range(len(PARAMS)))
def test_time_reversal(reference, which):
    spins, results = reference
    out = ed_solve(-spins, PARAMS[which])
    assert abs(float(out.free_energy) - float(results[which].free_energy)) <= ATOL
    np.testing.assert_allclose(out.field, -results[which].field, rtol=0, atol=ATOL)


def _site_group_permutations() -> tuple[list[str], np.ndarray]:
    group = point_group("6mm", dim=2)
    return group.names, PeriodicLattice(triangular(), SIZE).site_permutations(group)


def _translations() -> np.ndarray:
    lattice = PeriodicLattice(triangular(), SIZE)
    return np.stack([lattice.translation(np.array([a, b])) for a in range(SIZE) for b in range(SIZE)])


@pytest.mark.parametrize("which", range(len(PARAMS)))
@pytest.mark.parametrize("kind", ["6mm", "translations"])
def test_lattice_symmetries_move_the_fields_with_the_sites(reference, which, kind):
    """Every element of 6mm about site [0, 0] and every one of the 36 translations (the spins are
    axial vectors in spin space, untouched by the spatial operation: there is no spin–orbit term)."""
    spins, results = reference
    names, perms = _site_group_permutations() if kind == "6mm" else (None, _translations())
    if kind == "6mm":
        assert len(perms) == 12 and names[0] == "E"
    moved = np.stack([_permute(spins, perm) for perm in perms])
    out = ed_solve(moved, PARAMS[which])
    np.testing.assert_allclose(out.free_energy, results[which].free_energy, rtol=0, atol=ATOL)
    expected = np.stack([_permute(results[which].field, perm) for perm in perms])
    np.testing.assert_allclose(out.field, expected, rtol=0, atol=ATOL)


def test_sixfold_rotation_is_the_documented_index_map():
    """C6 sends a1 → a1 + a2 and a2 → -a1: index (x, y) → (x - y, x)."""
    names, perms = _site_group_permutations()
    x, y = np.meshgrid(np.arange(SIZE), np.arange(SIZE), indexing="ij")
    expected = (((x - y) % SIZE) * SIZE + x % SIZE).ravel()
    np.testing.assert_array_equal(perms[names.index("C6")], expected)


def test_chirality_is_a_pseudoscalar_of_the_lattice_and_odd_under_time_reversal():
    """The total chirality is kept by rotations and translations and flips sign under mirrors (they
    reverse the orientation of every triangle) and under S → -S; spin rotations keep each χ."""
    spins = random_spins((3, SIZE, SIZE), seed=22)
    total = chirality(spins).sum()
    assert abs(total) > 0.5
    group = point_group("6mm", dim=2)
    _, perms = _site_group_permutations()
    for g, perm in enumerate(perms):
        sign = round(np.linalg.det(group.matrices[g]))
        assert abs(chirality(_permute(spins, perm)).sum() - sign * total) <= ATOL
    for perm in _translations():
        assert abs(chirality(_permute(spins, perm)).sum() - total) <= ATOL
    np.testing.assert_allclose(chirality(-spins), -chirality(spins), rtol=0, atol=ATOL)
    for r in ROTATIONS:
        np.testing.assert_allclose(chirality(np.einsum("ab,bxy->axy", r, spins)), chirality(spins),
                                   rtol=0, atol=ATOL)
