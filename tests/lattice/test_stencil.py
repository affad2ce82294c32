"""Stencils: shells, G-orbits, the permutation action of the site group, pair orbits."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from latsym.group import Group, character_table, point_group, real_irreps
from latsym.lattice import (
    LatticeError,
    Stencil,
    bcc,
    fcc,
    honeycomb,
    kagome,
    rectangular,
    simple_cubic,
    square,
    triangular,
)

LATTICES = {
    "square": square,
    "rectangular": lambda: rectangular(1.0, 1.5),
    "triangular": triangular,
    "honeycomb": honeycomb,
    "kagome": kagome,
    "simple_cubic": simple_cubic,
    "bcc": lambda: bcc(2.0),
    "fcc": lambda: fcc(2.0),
}
RADII = {"square": 2.3, "rectangular": 2.1, "triangular": 2.7, "honeycomb": 1.8, "kagome": 1.4,
         "simple_cubic": 2.0, "bcc": 3.0, "fcc": 2.9}


def _d4_multiplicities(stencil):
    """A1, A2, B1, B2, E multiplicities of the permutation representation from the character table
    of 4mm written out by hand (classes E, C2, 2C4, 2σv (normals x, y), 2σd (diagonal normals))."""
    table = {"A1": [1, 1, 1, 1, 1], "A2": [1, 1, 1, -1, -1], "B1": [1, 1, -1, 1, -1],
             "B2": [1, 1, -1, -1, 1], "E": [2, -2, 0, 0, 0]}

    def cls(m):
        if np.linalg.det(m) > 0:
            return {2: 0, -2: 1, 0: 2}[round(np.trace(m))]
        return 3 if np.isclose(m[0, 1], 0) else 4

    classes = [cls(m) for m in stencil.group.matrices]
    fixed = [int((stencil.action[g] == np.arange(stencil.n_points)).sum()) for g in range(8)]
    return {k: sum(fixed[g] * v[classes[g]] for g in range(8)) / 8 for k, v in table.items()}


def test_square_sqrt13_shells_and_the_d4_decomposition():
    st_ = square().stencil(np.sqrt(13))
    assert st_.n_points == 45
    assert np.allclose(st_.shell_radii**2, [0, 1, 2, 4, 5, 8, 9, 10, 13])
    assert [len(s) for s in st_.shells] == [1, 4, 4, 4, 8, 4, 4, 8, 8]
    expected = {"A1": 9, "A2": 3, "B1": 6, "B2": 5, "E": 11}
    assert _d4_multiplicities(st_) == expected
    # character inner products with the group core's table and real irreps
    table = character_table(st_.group)
    chi = st_.character()
    on_classes = np.array([chi[c[0]] for c in table.classes])
    from_table = table.characters.conj() @ (table.class_sizes * on_classes) / st_.group.order
    assert np.allclose(from_table, np.round(from_table.real))
    assert dict(zip(table.labels, np.round(from_table.real).astype(int).tolist(), strict=True)) == expected
    irreps = real_irreps(st_.group)
    assert {ir.label: round(ir.character @ chi / 8) for ir in irreps} == expected
    assert st_.representation().decompose().multiplicities == expected
    assert st_.character().tolist() == [
        int((st_.action[g] == np.arange(45)).sum()) for g in range(8)
    ]


@pytest.mark.parametrize(
    ("lattice", "radius", "sizes"),
    [
        (triangular(), np.sqrt(7), [1, 6, 6, 6, 12]),
        (honeycomb(), 2 / np.sqrt(3), [1, 3, 6, 3]),
        (fcc(2.0), np.sqrt(6), [1, 12, 6, 24]),
        (bcc(2.0), np.sqrt(8), [1, 8, 6, 12]),
        (simple_cubic(), np.sqrt(3), [1, 6, 12, 8]),
    ],
)
def test_first_shells(lattice, radius, sizes):
    assert [len(s) for s in lattice.stencil(radius).shells] == sizes


@pytest.mark.parametrize("name", list(LATTICES))
def test_representation_is_the_permutation_matrices_of_the_action(name):
    st_ = LATTICES[name]().stencil(RADII[name] * 0.6)
    rho = st_.representation()
    assert rho.group is st_.group and rho.dim == st_.n_points
    eye = np.eye(st_.n_points)
    for g in range(st_.group.order):
        assert np.array_equal(rho.matrices[g], eye[:, st_.action[g]])
    dec = rho.decompose()
    assert sum(ir.dim * m for ir, m in dec.terms) == st_.n_points


def test_radius_is_inclusive_and_zero_radius_is_the_centre():
    assert square().stencil(1.0).n_points == 5
    assert square().stencil(1.0 - 1e-3).n_points == 1
    centre = square().stencil(0)
    assert centre.n_points == 1 and centre.action.shape == (8, 1)


def test_a_shell_can_split_into_orbits():
    st_ = square().stencil(5.0)
    last = st_.shells[-1]  # r = 5: (±5, 0), (0, ±5) and the 8 points (±3, ±4), (±4, ±3)
    assert len(last) == 12 and sorted(np.bincount(st_.orbit[last])[np.unique(st_.orbit[last])]) == [4, 8]
    kag = kagome().stencil(1.0)
    assert sorted(len(o) for o in kag.orbits if kag.shell[o[0]] == 3) == [2, 4]


@pytest.mark.parametrize("name", list(LATTICES))
def test_sorting_is_by_distance_then_orbit_then_position(name):
    lat = LATTICES[name]()
    for s in range(lat.n_basis):
        st_ = lat.stencil(RADII[name], sublattice=s)
        assert st_.orbit[0] == 0 and st_.shell[0] == 0 and np.allclose(st_.displacements[0], 0)
        assert np.all(np.diff(st_.distances) >= -1e-12)
        assert np.all(np.diff(st_.shell) >= 0) and np.all(np.diff(st_.orbit) >= 0)  # contiguous
        for orbit in st_.orbits:
            assert len(np.unique(st_.shell[orbit])) == 1
            keys = [tuple(np.round(st_.displacements[p], 8)) for p in orbit]
            assert keys == sorted(keys)
        again = lat.stencil(RADII[name], sublattice=s)
        assert np.array_equal(again.offsets, st_.offsets) and np.array_equal(again.action, st_.action)


@pytest.mark.parametrize("name", list(LATTICES))
def test_the_action_moves_points_like_the_matrices_and_is_a_group_action(name):
    lat = LATTICES[name]()
    for s in range(lat.n_basis):
        st_ = lat.stencil(RADII[name], sublattice=s)
        G = st_.group
        disp = st_.displacements
        for g in range(G.order):
            assert np.allclose(disp[st_.action[g]], disp @ G.matrices[g].T)
        assert np.array_equal(st_.action[G.table], st_.action[:, st_.action])
        # points are (cell, sublattice) pairs at the displacements
        assert np.allclose(lat.positions(st_.offsets, st_.sublattices) - lat.basis[s], disp)
        assert np.allclose(np.linalg.norm(disp, axis=1), st_.distances)


@pytest.mark.parametrize("name", list(LATTICES))
def test_orbits_stabilisers_and_transporters(name):
    st_ = LATTICES[name]().stencil(RADII[name])
    G = st_.group
    for k, orbit in enumerate(st_.orbits):
        rep = st_.representatives[k]
        assert set(st_.action[:, rep].tolist()) == set(orbit.tolist())
        for p in orbit:
            assert len(orbit) * len(st_.stabiliser(int(p))) == G.order
            assert st_.action[st_.transporters[p], rep] == p
            assert np.all(st_.action[st_.stabiliser(int(p)), p] == p)


@pytest.mark.parametrize("name", list(LATTICES))
def test_pair_orbits_agree_with_burnside(name):
    """Number of orbits on pairs = mean over G of (fixed points)², and labels are G-invariant."""
    st_ = LATTICES[name]().stencil(RADII[name] * 0.75)
    chi = st_.character()
    assert st_.n_pair_orbits * st_.group.order == int((chi**2).sum())
    for g in range(st_.group.order):
        a = st_.action[g]
        assert np.array_equal(st_.pair_orbit[np.ix_(a, a)], st_.pair_orbit)


@pytest.mark.parametrize("name", ["square", "honeycomb", "kagome", "fcc"])
def test_pair_orbits_match_a_brute_force_closure(name):
    st_ = LATTICES[name]().stencil(RADII[name] * 0.6)
    n = st_.n_points
    label = -np.ones((n, n), dtype=int)
    count = 0
    for p in range(n):
        for q in range(n):
            if label[p, q] < 0:
                label[st_.action[:, p], st_.action[:, q]] = count
                count += 1
    assert np.array_equal(st_.pair_orbit, label)  # same partition, same first-appearance numbering


def test_span():
    assert square().stencil(2.0).span.tolist() == [5, 5]
    assert honeycomb().stencil(0.6).span.tolist() == [2, 2]


def test_d2q9_has_15_pair_orbits():
    st_ = square().stencil(np.sqrt(2))
    assert st_.n_points == 9 and st_.n_pair_orbits == 15


def test_a_subgroup_of_the_site_group():
    lat = square()
    c4, _ = lat.group.subgroup([next(g for g in range(8) if lat.group.names[g] == "C4")])
    st_ = lat.stencil(np.sqrt(2), group=c4)
    assert st_.group.order == 4 and [len(o) for o in st_.orbits] == [1, 4, 4]
    assert st_.n_pair_orbits == (81 + 1 + 1 + 1) // 4  # Burnside: χ = 9, 1, 1, 1


def test_honeycomb_neighbours_sit_on_the_other_sublattice():
    for s in (0, 1):
        st_ = honeycomb().stencil(0.6, sublattice=s)
        assert st_.sublattices.tolist() == [s, 1 - s, 1 - s, 1 - s]


BUILT = {name: make() for name, make in LATTICES.items()}  # lattices are immutable: build once


@given(st.sampled_from(sorted(LATTICES)), st.floats(0.0, 2.5), st.data())
def test_stencil_points_match_a_brute_force_search(name, radius, data):
    lat = BUILT[name]
    s = data.draw(st.integers(0, lat.n_basis - 1))
    r = np.arange(-6, 7)
    cells = np.stack(np.meshgrid(*[r] * lat.dim, indexing="ij"), -1).reshape(-1, lat.dim)
    pos = ((cells @ lat.vectors)[:, None, :] + lat.basis - lat.basis[s]).reshape(-1, lat.dim)
    dist = np.sort(np.linalg.norm(pos, axis=1))
    dist = dist[dist <= radius + 1e-9]
    st_ = lat.stencil(radius, sublattice=s)
    assert st_.n_points == len(dist) and np.allclose(st_.distances, dist)


def test_repr():
    assert "n_points=9" in repr(square().stencil(1.5))


# -- bad input ------------------------------------------------------------------------------------


def test_bad_radius_lattice_group_and_point():
    with pytest.raises(LatticeError, match="non-negative"):
        square().stencil(-1.0)
    with pytest.raises(LatticeError, match="non-negative"):
        square().stencil(float("nan"))
    with pytest.raises(TypeError, match="radius must be a number"):
        square().stencil("2")
    with pytest.raises(TypeError, match="expected a Lattice"):
        Stencil(np.eye(2), 1.0)
    with pytest.raises(LatticeError, match="does not map the square lattice"):
        square().stencil(1.0, group=point_group("6mm", dim=2))
    with pytest.raises(LatticeError, match="out of range"):
        honeycomb().stencil(1.0, sublattice=2)
    st_ = square().stencil(1.0)
    with pytest.raises(LatticeError, match="out of range"):
        st_.stabiliser(5)
    with pytest.raises(TypeError, match="int index"):
        st_.stabiliser(1.0)


def test_a_wrong_group_for_a_sublattice():
    lat = kagome()
    with pytest.raises(LatticeError, match="sublattice 1"):
        lat.stencil(1.0, sublattice=1, group=lat.site_group(0))
    trivial = Group.from_generators([np.eye(2)])
    assert lat.stencil(1.0, sublattice=1, group=trivial).n_points == 15
